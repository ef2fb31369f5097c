"""Type specialization: where the exact class of an object is known or checked once at the
function's entry, its subscripts call the class's dunder directly, so that the inlining pass can
inline it (issue 17, DESIGN.md §5b).

``v[i]`` on an instance of a Python class with ``__getitem__`` costs a full call through the
type's slot (~740 instructions on 3.13, against ~310 for a plain Python call); where
``type(v) is C`` holds and ``C.__getitem__`` is a ``def`` of the module, ``v[i]`` is
``C.__getitem__(v, i)``, which :mod:`fatopt.passes.inline_functions` inlines when the method is
small (:mod:`fatopt.analyses.method_callees`)::

    def LU_factor(A, pivot):            def LU_factor(A, pivot):
        t = abs(A[j][j])          ->        if type(A) is ArrayList:
                                                t = abs((A[j] if not FLAG
                                                         else ArrayList.__getitem__(A, j))[j])
                                            else:
                                                t = abs(A[j][j])

Which names have a known class: :mod:`fatopt.analyses.exact_types` (``self`` of a method, an
annotated parameter: checked at entry, one check for all sites; a local built by ``C(...)``:
known). Rewritten: ``v[i]`` loads (``i`` not a slice) and ``v[i] = x`` statements (one
target: ``x`` is first bound to a fresh local, so that it is still evaluated first), where the
class resolves the dunder to a plain ``def``. With checked names, the body becomes ``if type(a)
is A and ...: <rewritten body> else: <body as written>``; the general branch is the original.

Exactness: a dunder is looked up on the type, never the instance, so under ``type(v) is C`` and
*C's attribute unchanged* (``GuardClass``, which also keeps the function's code and defaults),
``C.__getitem__(v, i)`` is what ``v[i]`` calls, with the arguments evaluated in the same
order. What may change while a frame runs: the class (the type watcher), or the object's class
(``v.__class__ = D``, seen by ``GuardInstanceClass``'s audit hook): either empties the
specialization's validity flag, which each rewritten site tests first (``v[i] if not FLAG else
...``), so the site then does what plain Python does. Exceptions raised in the dunder keep
their traceback: the call stays a call, or its inlined copy carries the inlining pass's handler.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Callable

from fatopt.analyses.exact_types import ExactTypes, TypedName
from fatopt.analyses.inlinable import inlined_expression, unpacked_return
from fatopt.analyses.int_locals import IntLocals, pure_int
from fatopt.analyses.method_callees import ModuleMethodCallees, defined_before
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.guards.class_attributes import GuardClass
from fatopt.guards.instance_class import GuardInstanceClass
from fatopt.nodes import walk
from fatopt.analyses.scopes import resolve
from fatopt.passes._bound_locals import bound_by, captured_locals, deletable_locals, target_names
from fatopt.passes._linearize import Linearizer
from fatopt.passes._rewrite import LoopCountingTransformer, Pass, Unit, clone
from fatopt.passes.inline_functions import (
    LOCAL_FLAG, _bind_local_flag, _blocks, _is_check, _not_valid, reads_of,
)

__all__ = ["SpecializeTypes"]

_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.copy_location(node, like)


def _dunder_call(class_name: str, dunder: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    """``Class.dunder(*args)`` at the position of ``like``."""
    cls = _at(ast.Name(id=class_name, ctx=ast.Load()), like)
    func = _at(ast.Attribute(value=cls, attr=dunder, ctx=ast.Load()), like)
    return _at(ast.Call(func=func, args=args, keywords=[]), like)  # type: ignore[return-value]


class _Sites(LoopCountingTransformer):
    """Rewrites the subscripts of typed names in the function's own code."""

    def __init__(self, unit: Unit, typed: dict[str, TypedName], flag: str) -> None:
        super().__init__(unit)
        self.typed = typed
        self.flag = flag
        self.methods = unit.module.fact(ModuleMethodCallees)  # type: ignore[union-attr]
        #: (class name, dunder) of each rewrite; names whose sites were rewritten
        self.dunders: set[tuple[str, str]] = set()
        self.used: set[str] = set()
        #: names with a site that runs at every call or in a loop
        self.hot: set[str] = set()
        self.branches = 0
        self.counter = 0
        self.taken = {n.id for n in walk(unit.node) if type(n) is ast.Name} | {
            n.arg for n in walk(unit.node) if type(n) is ast.arg}

    def _class_of(self, node: ast.expr, dunder: str) -> str | None:
        """The class ``node`` (a typed name) has, if it resolves ``dunder`` to a plain def."""
        if type(node) is not ast.Name or node.id not in self.typed or self.is_shadowed(node.id):
            return None
        class_name = self.typed[node.id].class_name
        # inlinable or not, a plain def the class resolves it to is what the slot calls
        if not self.methods.resolves_to_def(class_name, dunder):
            return None
        return class_name

    def _test(self, like: ast.AST) -> ast.expr:
        flag = LOCAL_FLAG if self.loops or self.comprehensions else self.flag
        return _not_valid(flag, like)

    def fresh(self) -> str:
        while True:
            self.counter += 1
            name = f"_fatopt_t_{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if type(node.ctx) is not ast.Load or type(node.slice) is ast.Slice:
            return node
        class_name = self._class_of(node.value, "__getitem__")
        if class_name is None:
            return node
        self._record(class_name, "__getitem__", node.value)
        call = _dunder_call(class_name, "__getitem__", [clone(node.value), clone(node.slice)], node)  # type: ignore[list-item]
        return _at(ast.IfExp(test=self._test(node), body=node, orelse=call), node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        target = node.targets[0]
        if (len(node.targets) != 1 or type(target) is not ast.Subscript or type(target.slice) is ast.Slice
                or self._class_of(target.value, "__setitem__") is None):
            return self.generic_visit(node)
        node.value = self.visit(node.value)
        target.slice = self.visit(target.slice)
        class_name = self._class_of(target.value, "__setitem__")
        assert class_name is not None
        self._record(class_name, "__setitem__", target.value)
        # the value first, as plain Python evaluates it
        temp = self.fresh()
        bind = _at(ast.Assign(targets=[_at(ast.Name(id=temp, ctx=ast.Store()), node.value)], value=node.value), node)
        value: ast.expr = ast.copy_location(ast.Name(id=temp, ctx=ast.Load()), node.value)
        store = _at(ast.Assign(targets=[target], value=value), node)
        call = _dunder_call(class_name, "__setitem__", [clone(target.value), clone(target.slice), clone(value)], target)  # type: ignore[list-item]
        fast = _at(ast.Expr(value=call), node)
        return [bind, _at(ast.If(test=self._test(node), body=[store], orelse=[fast]), node)]  # type: ignore[list-item]

    def _record(self, class_name: str, dunder: str, name: ast.expr) -> None:
        self.dunders.add((class_name, dunder))
        self.used.add(name.id)  # type: ignore[attr-defined]
        if self.loops or self.comprehensions or not self.branches:
            self.hot.add(name.id)  # type: ignore[attr-defined]
        self.changed = True

    # a site that may not run (under an if, try, with or match, outside loops) pays for the
    # entry check (~160 instructions) at every call it does not run in
    def _branch(self, node: ast.AST) -> ast.AST:
        self.branches += 1
        try:
            return self.generic_visit(node)
        finally:
            self.branches -= 1

    visit_If = visit_Try = visit_With = visit_Match = _branch  # type: ignore[assignment]


def _site_dunder(node: ast.AST) -> tuple[str, str] | None:
    """(class, dunder) of a rewritten site ``v[i] if not FLAG else C.dunder(v, i)``."""
    if type(node) is not ast.IfExp or not _is_check(node.test) or type(node.orelse) is not ast.Call:
        return None
    func = node.orelse.func
    if type(func) is not ast.Attribute or type(func.value) is not ast.Name:
        return None
    return func.value.id, func.attr


def _hoist_index(
    index: ast.expr, fresh: Callable[[], str], pre: list[ast.stmt], split: bool, stays: Callable[[str], bool],
) -> ast.expr:
    """The index as the site will use it, first bound to locals of its own: with ``split``, a
    tuple display ``(x, y - 1)`` part by part, in order (each part but constants and locals
    that loading later gives the same, ``stays``: ``(x, t2)``, which the inlining substitutes
    for a parameter the dunder reads once, so that no tuple is built and unpacked), anything
    else whole."""

    def bind(value: ast.expr) -> ast.expr:
        temp = fresh()
        pre.append(_at(ast.Assign(targets=[_at(ast.Name(id=temp, ctx=ast.Store()), value)], value=value), value))  # type: ignore[arg-type]
        return _at(ast.Name(id=temp, ctx=ast.Load()), value)  # type: ignore[return-value]

    if split and type(index) is ast.Tuple and not any(type(e) is ast.Starred for e in index.elts):
        parts = [e if type(e) is ast.Constant or (type(e) is ast.Name and stays(e.id)) else bind(e)
                 for e in index.elts]
        return _at(ast.Tuple(elts=parts, ctx=ast.Load()), index)  # type: ignore[return-value]
    return bind(index)


def _site_statements(
    fresh: Callable[[], str], receivers: set[str], reads_index_once: Callable[[str, str], bool],
    stays: Callable[[str], bool],
) -> Callable[[str, ast.expr, list[ast.stmt]], None]:
    """What binds a local to a site's value: ``if not FLAG: name = v[i] else: name =
    C.dunder(v, i)`` (the inlining pass splices a dunder of several statements where a
    statement's whole value is its call), the index first bound to locals of its own
    (:func:`_hoist_index`; a tuple display part by part where the dunder reads its index
    parameter once) when it is not a name or constant and ``v`` is a parameter (loading it
    cannot fail, so evaluating the index first changes nothing): the inlining then substitutes
    them."""

    def statements(name: str, site: ast.expr, pre: list[ast.stmt]) -> None:
        assert type(site) is ast.IfExp and type(site.orelse) is ast.Call and type(site.body) is ast.Subscript
        call, subscript = site.orelse, site.body
        index = call.args[1]
        if type(index) not in (ast.Name, ast.Constant) and subscript.value.id in receivers:  # type: ignore[attr-defined]
            found = _site_dunder(site)
            split = found is not None and reads_index_once(*found)
            hoisted = _hoist_index(index, fresh, pre, split, stays)  # type: ignore[arg-type]
            call.args[1] = hoisted  # type: ignore[call-overload]
            subscript.slice = clone(hoisted)  # type: ignore[assignment]

        def assign(value: ast.expr) -> ast.stmt:
            return _at(ast.Assign(targets=[_at(ast.Name(id=name, ctx=ast.Store()), site)], value=value), site)  # type: ignore[return-value]

        pre.append(_at(ast.If(test=site.test, body=[assign(site.body)], orelse=[assign(call)]), site))  # type: ignore[arg-type]

    return statements


def _own_parts(stmt: ast.stmt) -> list[ast.AST]:
    """The statement's own expressions (targets included), not its blocks."""
    parts: list[ast.AST] = []
    for _field, value in ast.iter_fields(stmt):
        if isinstance(value, ast.AST):
            parts.append(value)
        elif type(value) is list and not (value and isinstance(value[0], ast.stmt)):
            parts.extend(v for v in value if isinstance(v, ast.AST))
    return parts


class _Linearize:
    """Statements whose sites the inlining could not all inline as they are (two sites of one
    dunder whose copies the runtime could not tell apart, or a dunder of several statements) made linear (:mod:`fatopt.passes._linearize`).
    It knows which locals are certainly bound at each statement: an index part that is such a
    local (a parameter, a loop variable; never deleted, not seen by a nested scope) is left in
    place, since loading it later, where the dunder reads it, gives the same value."""

    def __init__(
        self, several: Callable[[str, str], bool], apart: Callable[[str, str], bool], fresh: Callable[[], str],
        receivers: set[str], reads_index_once: Callable[[str, str], bool], stable: Callable[[str], bool],
        params: set[str], unpacks: Callable[[str, str, ast.expr, Callable[[str], bool]], bool],
    ) -> None:
        self.several = several
        self.apart = apart
        self._unpacks = unpacks
        self.stable = stable
        #: the locals certainly bound at the statement being made linear
        self.bound: set[str] = set(params)
        stays = lambda name: name in self.bound and stable(name)  # noqa: E731
        self.linearizer = Linearizer(
            lambda n: _site_dunder(n) is not None, fresh, _site_statements(fresh, receivers, reads_index_once, stays),
            stays)

    def _needed(self, stmt: ast.stmt) -> bool:
        own = [value for field, value in ast.iter_fields(stmt)
               if not (type(value) is list and value and isinstance(value[0], ast.stmt))]
        sites = [(d, n) for part in own if isinstance(part, ast.AST) for n in walk(part)
                 if (d := _site_dunder(n)) is not None]
        dunders = [d for d, _site in sites]
        # two sites of a dunder the inlining inlines as one expression each (its copies told
        # apart by their positions, fatopt.passes.inline_functions) can stay where they are
        twice = {d for d in dunders if dunders.count(d) > 1}
        return any(not self.apart(*d) for d in twice) or any(
            self.several(*d) and not self.unpacks(*d, site.orelse.args[1]) for d, site in sites)  # type: ignore[attr-defined]

    def unpacks(self, class_name: str, dunder: str, index: ast.expr) -> bool:
        """Whether the dunder is ``x, y = p; return E`` called with a tuple display that the
        inlining reads in place (constants, locals certainly bound here, int expressions of
        them): then one expression, where the site is."""
        return self._unpacks(class_name, dunder, index, lambda name: name in self.bound and self.stable(name))

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        outer = self.bound
        out: list[ast.stmt] = []
        try:
            for stmt in stmts:
                if type(stmt) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                    out.append(stmt)
                    self.bound = self.bound | bound_by(stmt)
                    continue
                for block in _blocks(stmt):
                    inner = target_names(stmt.target) if type(stmt) is ast.For and block is stmt.body else set()
                    before = self.bound
                    self.bound = before | inner
                    block[:] = self.block(block)
                    self.bound = before
                linear = None
                if self._needed(stmt):
                    before = self.bound
                    # a name the statement itself binds (`:=`) may change between its parts
                    self.bound = before - {n.id for part in _own_parts(stmt) for n in walk(part)
                                           if type(n) is ast.Name and type(n.ctx) is ast.Store}
                    linear = self.linearizer.statement(stmt)
                    self.bound = before
                out.extend(linear if linear is not None else [stmt])
                self.bound = self.bound | bound_by(stmt)
        finally:
            self.bound = outer
        return out


def _check(typed: list[TypedName], like: ast.AST) -> ast.expr:
    """``type(a) is A and type(b) is B ...``"""
    tests = []
    for entry in typed:
        arg = _at(ast.Name(id=entry.name, ctx=ast.Load()), like)
        call = _at(ast.Call(func=_at(ast.Name(id="type", ctx=ast.Load()), like), args=[arg], keywords=[]), like)
        cls = _at(ast.Name(id=entry.class_name, ctx=ast.Load()), like)
        tests.append(_at(ast.Compare(left=call, ops=[ast.Is()], comparators=[cls]), like))
    return tests[0] if len(tests) == 1 else _at(ast.BoolOp(op=ast.And(), values=tests), like)  # type: ignore[return-value]


class SpecializeTypes(Pass):
    """Subscripts of objects of a known class call the class's dunder (a body chosen by an
    exact-type check at entry where the class is speculated)."""

    name = "specialize_types"
    switch = "specialize_types"
    guarded = True
    makes = frozenset({"type_specialized"})
    requires = (ExactTypes, IntLocals)

    def may_apply(self, unit: Unit) -> bool:
        if unit.started:
            return "type_specialized" not in unit.made and type(self) not in unit.ran
        if unit.module is None or type(unit.node) not in (ast.FunctionDef, ast.AsyncFunctionDef):
            return False
        typed = unit.fact(ExactTypes)
        return bool(typed) and any(
            type(n) is ast.Subscript and type(n.value) is ast.Name and n.value.id in typed for n in walk(unit.node))

    def run(self, unit: Unit) -> bool:
        if "type_specialized" in unit.made:
            return False
        node: ast.FunctionDef = unit.node  # type: ignore[assignment]
        typed = unit.fact(ExactTypes)
        if not typed or unit.scope.declared_global or unit.scope.declared_nonlocal:
            return False  # (a global statement cannot be in both branches of the body)
        first = node.body[0] if node.body else None
        docstring = type(first) is ast.Expr and type(first.value) is ast.Constant and type(first.value.value) is str
        start = 1 if docstring else 0
        body: list[ast.stmt] = node.body[start:]
        if not body:
            return False
        # the module's class must exist when the function is born, or it is the function's own
        own = {t.class_name for t in typed.values() if t.source == "self"}
        usable = {name: t for name, t in typed.items() if t.class_name in own or defined_before(unit.module, t.class_name, unit.node)}  # type: ignore[arg-type]
        if not usable:
            return False
        sites = _Sites(unit, usable, unit.validity_flag())
        fast: list[ast.stmt] = sites.visit_statements([clone(s) for s in body])  # type: ignore[misc]
        if not sites.changed:
            return False

        def several(class_name: str, dunder: str) -> bool:
            found = sites.methods.get(class_name, dunder)
            return found is not None and found.entry.expression is None

        def in_place(class_name: str, expression: ast.expr, receiver: str | None) -> bool:
            """Whether each method ``expression`` calls on its receiver is inlinable in place
            (a method of several statements is spliced only where a statement's whole value is
            its call: a statement of its own, as the linear form gives)."""
            for call in walk(expression):
                if type(call) is ast.Call and type(call.func) is ast.Attribute and type(call.func.value) is ast.Name \
                        and call.func.value.id == receiver:
                    method = sites.methods.get(class_name, call.func.attr)
                    if method is None or method.entry.expression is None:
                        return False
            return True

        def apart(class_name: str, dunder: str) -> bool:
            found = sites.methods.get(class_name, dunder)
            expression = inlined_expression(found.entry) if found is not None else None
            return expression is not None and in_place(class_name, expression, found.entry.receiver)  # type: ignore[union-attr]

        def reads_index_once(class_name: str, dunder: str) -> bool:
            found = sites.methods.get(class_name, dunder)
            if found is None or len(found.entry.positional) < 2:
                return False
            index = found.entry.positional[1]
            return index not in found.entry.assigned and reads_of(found.entry, index) == 1

        params = {a.arg for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]}
        captured, deletable = captured_locals(unit), deletable_locals(unit)

        def stable(name: str) -> bool:
            return resolve(unit.scope, name) == "local" and name not in captured and name not in deletable

        ints = unit.fact(IntLocals)

        def unpacks(class_name: str, dunder: str, index: ast.expr, stays: Callable[[str], bool]) -> bool:
            found = sites.methods.get(class_name, dunder)
            unpacked = unpacked_return(found.entry) if found is not None else None
            if unpacked is None or type(index) is not ast.Tuple:
                return False
            if not in_place(class_name, unpacked[2], found.entry.receiver):  # type: ignore[union-attr]
                return False
            return all(type(item) is ast.Constant or (type(item) is ast.Name and stays(item.id))
                       or pure_int(item, lambda name: name in ints.names and stays(name)) for item in index.elts)

        fast = _Linearize(several, apart, sites.fresh, params, reads_index_once, stable, params, unpacks).block(fast)
        checked = [usable[name] for name in sorted(sites.used) if usable[name].checked]
        if checked and not any(t.name in sites.hot for t in checked):
            return False  # no site worth the entry check
        if checked and not unit.builtin("type"):
            return False  # `type` is not the builtin here (a parameter `type`, a global)
        if checked:
            general = body
            test = _check(checked, body[0])
            node.body[start:] = [_at(ast.If(test=test, body=fast, orelse=general), body[0])]  # type: ignore[list-item]
            unit.require(GuardBuiltins, "type")
        else:
            node.body[start:] = fast
        _bind_local_flag(node.body, unit.validity_flag())
        by_class: dict[str, set[str]] = {}
        for class_name, dunder in sites.dunders:
            by_class.setdefault(class_name, set()).add(dunder)
        for name in sites.used:
            if usable[name].source == "constructor":
                by_class.setdefault(usable[name].class_name, set()).add("__new__")
        for class_name, dunders in sorted(by_class.items()):
            unit.require_of_class(GuardClass, class_name, *sorted(dunders), own=class_name in own)
            unit.require_of_class(GuardInstanceClass, class_name, own=class_name in own)
        return True
