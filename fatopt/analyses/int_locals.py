"""Locals of a function that always hold an exact ``int`` where they are bound.

``isinstance(i, tuple)`` costs ~500 instructions on 3.13 when it is false (after the type
check, ``isinstance`` looks ``i.__class__`` up in case it lies), and it is what a subscript dunder
inlined with an ``int`` index typically starts with (``scimark``'s ``ArrayList.__getitem__``).
Knowing ``type(i) is int`` answers it (:mod:`fatopt.passes.fold_type_tests`).

A local qualifies when it is not a parameter, nothing deletes it or declares it ``global`` or
``nonlocal`` (here or in a nested function), and every binding of it in the function's own code
is one of:

- the target of ``for i in range(...)`` (the builtin ``range``: the pass guards it), whose items
  are exact ints;
- ``i = E`` or ``i op= E`` where ``E`` (``i op E``) is an int by these rules: an ``int`` constant
  (not a ``bool``), another such local, ``len(...)`` (the builtin), ``+``, ``-``, ``*``, ``//``,
  ``%``, ``<<``, ``>>``, ``&``, ``|``, ``^`` of two ints, unary ``-``, ``+``, ``~`` of an int.

Locals are assumed ints and dropped until nothing changes (``j = i`` and ``i = j + 1`` keep each
other). The builtins the answer relies on are returned with it, for the pass to guard.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from fatopt.analyses.manager import Analysis
from fatopt.analyses.scopes import resolve

if TYPE_CHECKING:
    from fatopt.passes._rewrite import Unit

__all__ = ["IntLocals", "int_locals", "pure_int"]

_INT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod, ast.LShift, ast.RShift, ast.BitAnd, ast.BitOr, ast.BitXor)
_INT_UNARY = (ast.USub, ast.UAdd, ast.Invert)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class IntLocalsResult:
    names: frozenset[str]
    #: builtins the answer relies on (``range``, ``len``)
    builtins: frozenset[str]


#: operators of two ints that give an int and cannot fail (no division, modulo or shift by a
#: negative count)
_PURE_OPS = (ast.Add, ast.Sub, ast.Mult)


def pure_int(expr: ast.AST, int_name: Callable[[str], bool]) -> bool:
    """Whether ``expr`` gives an exact ``int``, cannot fail and runs no code, so that evaluating
    it again later gives the same: an ``int`` constant, a name ``int_name`` accepts (a local
    of :func:`int_locals`, certainly bound and rebound by nothing meanwhile: the caller's
    answer), ``+``, ``-``, ``*`` of two such, unary ``-``, ``+``, ``~`` of one."""
    kind = type(expr)
    if kind is ast.Constant:
        return type(expr.value) is int  # type: ignore[attr-defined]
    if kind is ast.Name:
        return int_name(expr.id)  # type: ignore[attr-defined]
    if kind is ast.BinOp:
        return (type(expr.op) in _PURE_OPS and pure_int(expr.left, int_name)  # type: ignore[attr-defined]
                and pure_int(expr.right, int_name))  # type: ignore[attr-defined]
    if kind is ast.UnaryOp:
        return type(expr.op) in _INT_UNARY and pure_int(expr.operand, int_name)  # type: ignore[attr-defined]
    return False


def _own_nodes(node: ast.AST):
    """The nodes of the function's own code (not nested scopes, comprehensions included only
    for their first iterable)."""
    stack = list(ast.iter_child_nodes(node)) if not isinstance(node, ast.Lambda) else []
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, _SCOPES):
            continue
        stack.extend(ast.iter_child_nodes(current))


def _is_int(expr: ast.AST, names: set[str], unit: Unit, used: set[str]) -> bool:
    """Whether ``expr`` is an int by the rules above, if ``names`` are; the builtins it relies on
    go to ``used``. (A function of the module: a nested recursive one would be a reference cycle.)"""
    kind = type(expr)
    if kind is ast.Constant:
        return type(expr.value) is int  # type: ignore[attr-defined]
    if kind is ast.Name:
        return expr.id in names  # type: ignore[attr-defined]
    if kind is ast.BinOp:
        return (type(expr.op) in _INT_OPS and _is_int(expr.left, names, unit, used)  # type: ignore[attr-defined]
                and _is_int(expr.right, names, unit, used))  # type: ignore[attr-defined]
    if kind is ast.UnaryOp:
        return type(expr.op) in _INT_UNARY and _is_int(expr.operand, names, unit, used)  # type: ignore[attr-defined]
    if kind is ast.Call and type(expr.func) is ast.Name and expr.func.id == "len" and len(expr.args) == 1 \
            and not expr.keywords and type(expr.args[0]) is not ast.Starred and unit.builtin("len"):  # type: ignore[attr-defined]
        used.add("len")
        return True
    return False


def int_locals(unit: Unit) -> IntLocalsResult:
    node = unit.node
    if isinstance(node, ast.Lambda):
        return IntLocalsResult(frozenset(), frozenset())
    args = node.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a is not None}
    excluded = set(params) | set(unit.scope.declared_global) | set(unit.scope.declared_nonlocal)
    for scope in unit.scope.walk():
        excluded |= scope.deleted
        if scope is not unit.scope:
            excluded |= scope.declared_nonlocal
    # every binding of each name: ("range", None) | ("value", expr) | ("aug", (op, expr))
    bindings: dict[str, list[tuple[str, object]]] = {}
    stores: dict[str, int] = {}  # Name nodes that store, per name
    for sub in _own_nodes(node):
        if type(sub) is ast.Name and type(sub.ctx) is ast.Store:
            stores[sub.id] = stores.get(sub.id, 0) + 1
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            excluded.add(sub.name)
        kind = type(sub)
        if kind is ast.For and type(sub.target) is ast.Name:
            it = sub.iter
            ok = type(it) is ast.Call and type(it.func) is ast.Name and it.func.id == "range" and not it.keywords
            bindings.setdefault(sub.target.id, []).append(("range", None) if ok else ("other", None))
        elif kind is ast.Assign and len(sub.targets) == 1 and type(sub.targets[0]) is ast.Name:
            bindings.setdefault(sub.targets[0].id, []).append(("value", sub.value))
        elif kind is ast.AugAssign and type(sub.target) is ast.Name:
            bindings.setdefault(sub.target.id, []).append(("aug", (sub.op, sub.value)))
    # names bound without a Name node (except ... as, import, match captures), and by := in a
    # comprehension (which binds in the function), are no ints either
    for sub in ast.walk(node):
        kind = type(sub)
        if kind is ast.ExceptHandler and sub.name:
            excluded.add(sub.name)
        elif kind in (ast.Import, ast.ImportFrom):
            excluded.update((alias.asname or alias.name).split(".")[0] for alias in sub.names)
        elif kind in (ast.MatchAs, ast.MatchStar) and sub.name:
            excluded.add(sub.name)
        elif kind is ast.MatchMapping and sub.rest:
            excluded.add(sub.rest)
        elif kind is ast.NamedExpr and type(sub.target) is ast.Name:
            excluded.add(sub.target.id)
    # a name stored some other way (tuple targets, with, :=...) is no int
    counted: dict[str, int] = {name: len(b) for name, b in bindings.items()}
    candidates = {
        name for name in bindings
        if name not in excluded and stores.get(name) == counted[name] and resolve(unit.scope, name) == "local"
    }
    used: set[str] = set()

    names = set(candidates)
    changed = True
    while changed:
        changed = False
        for name in sorted(names):
            ok = True
            for kind, data in bindings[name]:
                if kind == "range":
                    ok = unit.builtin("range")
                    used.add("range")
                elif kind == "value":
                    ok = _is_int(data, names, unit, used)  # type: ignore[arg-type]
                elif kind == "aug":
                    op_and_value: tuple[ast.operator, ast.expr] = data  # type: ignore[assignment]
                    ok = type(op_and_value[0]) in _INT_OPS and _is_int(op_and_value[1], names, unit, used)
                else:
                    ok = False
                if not ok:
                    break
            if not ok:
                names.discard(name)
                changed = True
    return IntLocalsResult(frozenset(names), frozenset(used))


class IntLocals(Analysis[IntLocalsResult]):
    """:func:`int_locals` of a function unit (about the current code)."""

    @classmethod
    def compute(cls, unit: Unit) -> IntLocalsResult:  # type: ignore[override]
        return int_locals(unit)
