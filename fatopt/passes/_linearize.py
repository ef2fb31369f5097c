"""Linearizing a statement around call sites: what is evaluated before a site is bound to fresh
locals in statements of its own, in evaluation order, so that each site becomes a statement
``t = SITE`` of its own (used by :mod:`fatopt.passes.specialize_types`).

The inlining pass inlines one copy of a callee per statement (two copies' lines could not be
told apart in a traceback) and splices a callee of several statements only where a statement's
whole value is its call. ``A[i][k] -= A[i][j] * A[j][k]`` holds three ``__getitem__`` sites;
linearized, it is::

    _fatopt_t_1 = A[i]             # the target's container, its index, its item: plain
    _fatopt_t_2 = k                #   Python evaluates these first
    _fatopt_t_3 = _fatopt_t_1[_fatopt_t_2]
    _fatopt_t_4 = A[i]             # each site a statement of its own
    _fatopt_t_5 = _fatopt_t_4[j]   # what comes before the next site, evaluated before it
    _fatopt_t_6 = A[j]
    _fatopt_t_3 -= _fatopt_t_5 * _fatopt_t_6[k]
    _fatopt_t_1[_fatopt_t_2] = _fatopt_t_3

A caller may say what a method call's method is known to be (``unbound_method``: on an object
fresh_receivers follows, ``v.scale`` is ``Vector.scale``): where the method must be evaluated
before an argument that holds a site, that function is bound instead of a bound method object,
and the object passed first (``_t = Vector.scale`` ... ``_t(v, x)``).

Exactness: every operation runs once, in the order plain Python runs it, each keeping its
node's position (a traceback shows the same line and carets); ``x[i] op= v`` is ``t = x[i];
t op= v; x[i] = t`` on the same objects (the same in-place operator). Parts that may not run
(``and``/``or``, conditional expressions, comparison chains, comprehensions, lambdas) and
parts that bind (``:=``) or suspend (``await``, ``yield``) are evaluated whole, never entered.
The fresh locals are visible in ``locals()`` (documented in docs/semantics.md with the other
``_fatopt_`` locals).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Callable

from fatopt.nodes import walk
from fatopt.passes._rewrite import clone

__all__ = ["Linearizer"]

#: expressions evaluated whole (their parts may not all run, or run in another order or scope)
_OPAQUE = (
    ast.BoolOp, ast.IfExp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom, ast.JoinedStr, ast.FormattedValue, ast.Starred,
)


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.copy_location(node, like)


def _parts(node: ast.expr) -> list[str] | None:
    """The fields of ``node`` holding its operands, in evaluation order (None: evaluate whole)."""
    kind = type(node)
    if kind is ast.BinOp:
        return ["left", "right"]
    if kind is ast.UnaryOp:
        return ["operand"]
    if kind is ast.Subscript or kind is ast.Attribute:
        return ["value", "slice"] if kind is ast.Subscript else ["value"]
    if kind is ast.Compare:
        return ["left", "comparators"] if len(node.ops) == 1 else None  # type: ignore[attr-defined]
    if kind is ast.Call:
        if any(type(a) is ast.Starred for a in node.args) or any(k.arg is None for k in node.keywords):  # type: ignore[attr-defined]
            return None
        return ["func", "args", "keywords"]
    if kind in (ast.Tuple, ast.List, ast.Set):
        return None if any(type(e) is ast.Starred for e in node.elts) else ["elts"]  # type: ignore[attr-defined]
    if kind is ast.Slice:
        return ["lower", "upper", "step"]
    return None


class Linearizer:
    """Binds what precedes each site (``is_site``) of a statement to fresh locals.

    ``fresh()`` gives a new local's name; ``site_statements(name, site, pre)`` appends to
    ``pre`` the statements that bind ``name`` to the value of ``site``. ``stays(name)``: the
    local is certainly bound and only the function's own code binds it, so loading it later
    gives the same value; such a name evaluated before a site stays in place unless the
    statement itself binds it (``:=``)."""

    def __init__(
        self, is_site: Callable[[ast.AST], bool], fresh: Callable[[], str],
        site_statements: Callable[[str, ast.expr, list[ast.stmt]], None],
        stays: Callable[[str], bool] | None = None,
        unbound_method: Callable[[ast.Attribute], ast.expr | None] | None = None,
    ) -> None:
        self.is_site = is_site
        self.fresh = fresh
        self.site_statements = site_statements
        self.stays = stays
        #: for ``obj.m`` called with a site among its arguments, the function ``obj.m`` is
        #: known to call (``C.m``, with ``obj`` then passed first), or None: bound instead of
        #: a bound method object
        self.unbound_method = unbound_method
        #: the names the statement being made linear binds itself
        self.rebound: set[str] = set()

    def _stays(self, node: ast.expr) -> bool:
        return (type(node) is ast.Constant or type(node) is ast.Name and self.stays is not None
                and node.id not in self.rebound and self.stays(node.id))  # type: ignore[attr-defined]

    def _has_site(self, node: ast.AST | None) -> bool:
        return node is not None and any(self.is_site(n) for n in walk(node))

    def _bind(self, value: ast.expr, pre: list[ast.stmt]) -> ast.expr:
        name = self.fresh()
        pre.append(_at(ast.Assign(targets=[_at(ast.Name(id=name, ctx=ast.Store()), value)], value=value), value))  # type: ignore[list-item]
        return _at(ast.Name(id=name, ctx=ast.Load()), value)  # type: ignore[return-value]

    def expression(self, node: ast.expr, pre: list[ast.stmt], whole: bool) -> ast.expr:
        """``node`` with what its last site needs evaluated first moved into ``pre``; with
        ``whole`` (something after it holds a site), all of it: a fresh local is returned."""
        if not self._has_site(node):
            return self._bind(node, pre) if whole and not self._stays(node) else node
        if self.is_site(node):
            name = self.fresh()
            self.site_statements(name, node, pre)
            return _at(ast.Name(id=name, ctx=ast.Load()), node)  # type: ignore[return-value]
        if type(node) is ast.Call and self.unbound_method is not None and type(node.func) is ast.Attribute \
                and not self._has_site(node.func) and self._stays(node.func.value):  # type: ignore[attr-defined]
            function = self.unbound_method(node.func)  # type: ignore[attr-defined]
            if function is not None:
                node.args.insert(0, node.func.value)  # type: ignore[attr-defined]
                node.func = function  # type: ignore[attr-defined]
        fields = _parts(node)
        if fields is None:  # evaluated whole, in place or before what follows
            return self._bind(node, pre) if whole else node
        slots: list[tuple[str, int | None, ast.expr]] = []  # (field, index in a list, operand)
        for name in fields:
            value = getattr(node, name)
            if type(value) is list:
                for index, item in enumerate(value):
                    slots.append((name, index, item.value if type(item) is ast.keyword else item))
            elif value is not None:
                slots.append((name, None, value))
        last = max((i for i, (_f, _x, operand) in enumerate(slots) if self._has_site(operand)), default=-1)
        for i, (name, index, operand) in enumerate(slots[:last + 1]):
            new = self.expression(operand, pre, whole=i < last)
            if index is None:
                setattr(node, name, new)
            else:
                holder = getattr(node, name)
                if type(holder[index]) is ast.keyword:
                    holder[index].value = new
                else:
                    holder[index] = new
        return self._bind(node, pre) if whole else node

    def statement(self, stmt: ast.stmt) -> list[ast.stmt] | None:
        """``stmt`` as statements, each site a statement of its own; None if it is not one of
        the statements handled (expression, return, assignment, augmented assignment, the test
        of an ``if``, the iterable of a ``for``)."""
        self.rebound = {n.id for n in walk(stmt) if type(n) is ast.Name and type(n.ctx) is ast.Store}
        pre: list[ast.stmt] = []
        kind = type(stmt)
        if kind in (ast.Expr, ast.Return) and stmt.value is not None:  # type: ignore[attr-defined]
            stmt.value = self.expression(stmt.value, pre, whole=False)  # type: ignore[attr-defined]
            return pre + [stmt]
        if kind is ast.If:
            stmt.test = self.expression(stmt.test, pre, whole=False)  # type: ignore[attr-defined]
            return pre + [stmt]
        if kind is ast.For:
            stmt.iter = self.expression(stmt.iter, pre, whole=False)  # type: ignore[attr-defined]
            return pre + [stmt]
        if kind is ast.Assign and len(stmt.targets) == 1:  # type: ignore[attr-defined]
            target = stmt.targets[0]  # type: ignore[attr-defined]
            if not self._has_site(target):
                stmt.value = self.expression(stmt.value, pre, whole=False)  # type: ignore[attr-defined]
                return pre + [stmt]
            if type(target) not in (ast.Subscript, ast.Attribute):
                return None
            # the value, then the target's operands (then the store)
            stmt.value = self.expression(stmt.value, pre, whole=True)  # type: ignore[attr-defined]
            self._target(target, pre, whole_last=False)
            return pre + [stmt]
        if kind is ast.AugAssign:
            return self._augmented(stmt, pre)  # type: ignore[arg-type]
        return None

    def _target(self, target: ast.expr, pre: list[ast.stmt], whole_last: bool) -> None:
        """The operands of a subscript or attribute target moved into ``pre`` as needed."""
        if type(target) is ast.Subscript:
            later = self._has_site(target.slice) or whole_last
            target.value = self.expression(target.value, pre, whole=later)
            target.slice = self.expression(target.slice, pre, whole=whole_last)
        else:
            target.value = self.expression(target.value, pre, whole=whole_last)  # type: ignore[attr-defined]

    def _augmented(self, stmt: ast.AugAssign, pre: list[ast.stmt]) -> list[ast.stmt] | None:
        target = stmt.target
        if type(target) not in (ast.Name, ast.Subscript, ast.Attribute):
            return None
        if type(target) is not ast.Name:
            self._target(target, pre, whole_last=True)  # (target: fresh locals now)
        # the current value, as the augmented assignment loads it before the value
        load = clone(target)
        load.ctx = ast.Load()  # type: ignore[attr-defined]
        current = self._bind(load, pre)  # type: ignore[arg-type]
        value = self.expression(stmt.value, pre, whole=False)
        name = current.id  # type: ignore[attr-defined]
        op = _at(ast.AugAssign(target=_at(ast.Name(id=name, ctx=ast.Store()), stmt), op=stmt.op, value=value), stmt)
        load: ast.expr = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), stmt)
        store = _at(ast.Assign(targets=[target], value=load), stmt)  # type: ignore[call-overload]
        return pre + [op, store]  # type: ignore[list-item]
