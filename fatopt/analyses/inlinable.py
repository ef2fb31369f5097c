"""Which module-level functions can be inlined into their callers, and why not.

A function is inlinable when its body is one ``return EXPR`` (after an optional docstring) and
nothing in it can tell that it runs in its caller's frame:

- a plain ``def`` at module level, bound once by the module (the global name is what the callers
  call), without decorators, ``*args``, ``**kwargs`` or type parameters; its defaults are small
  constants (``None``, a bool, ``...``, an int in -5..256: one object whatever code holds it, so
  ``is`` answers the same inlined);
- ``EXPR`` has at most ``Config.max_inline_size`` expression nodes, made of operators,
  comparisons, conditional expressions, names, constants, attribute and subscript loads,
  displays and calls; no lambda, comprehension, generator expression, ``:=``, ``yield``,
  ``await``, f-string or starred item (a lambda or comprehension would capture names the
  substitution of parameters changes), and no name the compiler mangles in a class (``__x``);
- it calls only pure builtins (guarded by the caller) and other inlinable functions of the
  module, by name (so nothing it calls looks at the stack and finds the caller instead); calls
  of ``super``, ``locals``, ``vars``, ``globals``, ``eval``, ``exec`` or ``sys._getframe`` are
  not among them, and a function in a call cycle is never inlinable.

An inlinable function has no ``try``, ``with``, closure, ``global`` or ``nonlocal``: its body is
an expression. The inlining pass (:mod:`fatopt.passes.inline_functions`) reads this table.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule, ModuleFacts
from fatopt.nodes import walk

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["Inlinable", "InlinableTable", "ModuleInlinable", "SHARED_SMALL_INTS"]

#: builtins an inlinable function may call (the pure builtins constant folding knows)
CALLABLE_BUILTINS = frozenset({
    "len", "abs", "chr", "ord", "min", "max", "int", "float", "str", "repr", "bool", "divmod",
    "pow", "round", "hex", "oct", "bin",
})

#: ints CPython keeps one object of: a default among them is the same object wherever it is used
SHARED_SMALL_INTS = range(-5, 257)

_ALLOWED = (
    ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Name, ast.Constant,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.Load, ast.keyword,
)


@dataclass(frozen=True)
class Inlinable:
    """An inlinable function: its def, the expression it returns, its parameters."""

    node: ast.FunctionDef
    #: the returned expression (the def's own node: copy it before use)
    expression: ast.expr
    #: positional parameters (positional-only first), then keyword-only ones
    positional: tuple[str, ...]
    positional_only: int
    keyword_only: tuple[str, ...]
    #: parameter -> its default (an ``ast.Constant``)
    defaults: dict
    #: the module functions it calls, by name (each inlinable too)
    calls: frozenset[str]
    #: the builtins it calls (the caller guards them)
    builtins: frozenset[str]

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def lines(self) -> tuple[int, int]:
        """(first, last) line of the def: where its code is."""
        return (self.node.lineno, self.node.end_lineno or self.node.lineno)


@dataclass
class InlinableTable:
    """Module function name -> :class:`Inlinable`, or the reason it is not inlinable."""

    entries: dict[str, Union[Inlinable, str]]

    def get(self, name: str) -> Inlinable | None:
        found = self.entries.get(name)
        return found if type(found) is Inlinable else None

    def why_not(self, name: str) -> str | None:
        """Why the module function ``name`` is not inlinable (None if it is, or is unknown)."""
        found = self.entries.get(name)
        return found if type(found) is str else None

    def closure(self, name: str) -> set[str]:
        """``name`` and every module function its inlined code may call, transitively."""
        out: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in out:
                continue
            out.add(current)
            found = self.get(current)
            if found is not None:
                pending.extend(found.calls)
        return out


def _returned_expression(node: ast.FunctionDef) -> ast.expr | str:
    body = node.body
    if body and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and type(body[0].value.value) is str:
        body = body[1:]
    if len(body) != 1 or type(body[0]) is not ast.Return or body[0].value is None:
        return "its body is not a single `return EXPR`"
    return body[0].value


def _small_constant(node: ast.AST) -> bool:
    if type(node) is not ast.Constant:
        return False
    value = node.value
    return value is None or value is Ellipsis or type(value) is bool or (type(value) is int and value in SHARED_SMALL_INTS)


def _examine(node: ast.AST, facts: ModuleFacts, max_size: int) -> tuple[Inlinable | None, str, set[str]]:
    """(the entry, or None and why not; the module names it calls)."""
    if type(node) is not ast.FunctionDef:
        return None, "not a plain def", set()
    if node.decorator_list:
        return None, "decorated", set()
    if getattr(node, "type_params", None):
        return None, "type parameters", set()
    args = node.args
    if args.vararg is not None or args.kwarg is not None:
        return None, "*args or **kwargs", set()
    expression = _returned_expression(node)
    if type(expression) is str:
        return None, expression, set()
    positional = [a.arg for a in args.posonlyargs + args.args]
    defaults: dict[str, ast.Constant] = {}
    for name, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        defaults[name] = default
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        if default is not None:
            defaults[arg.arg] = default
    if not all(_small_constant(d) for d in defaults.values()):
        return None, "a default that is not a small constant", set()
    params = set(positional) | {a.arg for a in args.kwonlyargs}
    size = 0
    calls: set[str] = set()
    builtins: set[str] = set()
    for sub in walk(expression):
        if not isinstance(sub, _ALLOWED):
            return None, f"uses {type(sub).__name__}", set()
        if isinstance(sub, ast.expr):
            size += 1
        kind = type(sub)
        if kind is ast.Name or kind is ast.Attribute:
            name = sub.id if kind is ast.Name else sub.attr  # type: ignore[attr-defined]
            if name.startswith("__") and not name.endswith("__"):
                return None, "a name mangled in a class", set()
        elif kind is ast.Call:
            func = sub.func  # type: ignore[attr-defined]
            if type(func) is not ast.Name or func.id in params:
                return None, "calls something that is not a module function or builtin by name", set()
            if any(type(a) is ast.Starred for a in sub.args) or any(k.arg is None for k in sub.keywords):  # type: ignore[attr-defined]
                return None, "a call with *args or **kwargs", set()
            if facts.binding_count(func.id):
                calls.add(func.id)
            elif func.id in CALLABLE_BUILTINS and facts.assumable_builtin(func.id) and not sub.keywords:  # type: ignore[attr-defined]
                builtins.add(func.id)
            else:
                return None, f"calls {func.id}, not a pure builtin", set()
    if size > max_size:
        return None, f"{size} expression nodes (max_inline_size is {max_size})", set()
    entry = Inlinable(
        node, expression, tuple(positional), len(args.posonlyargs), tuple(a.arg for a in args.kwonlyargs),
        defaults, frozenset(calls), frozenset(builtins),
    )
    return entry, "", calls


def inlinable_table(tree: ast.Module, facts: ModuleFacts, max_size: int) -> InlinableTable:
    """The :class:`InlinableTable` of a module."""
    entries: dict[str, Union[Inlinable, str]] = {}
    calls_of: dict[str, set[str]] = {}
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if facts.binding_count(stmt.name) != 1:
            entries[stmt.name] = "its global name is bound more than once"
            continue
        entry, why, calls = _examine(stmt, facts, max_size)
        entries[stmt.name] = entry if entry is not None else why
        calls_of[stmt.name] = calls
    # a cycle (f calls g calls f) is never inlinable
    for name in list(entries):
        if type(entries[name]) is not Inlinable:
            continue
        seen: set[str] = set()
        pending = list(calls_of[name])
        while pending:
            current = pending.pop()
            if current == name:
                entries[name] = "it is part of a call cycle"
                break
            if current not in seen:
                seen.add(current)
                pending.extend(calls_of.get(current, ()))
    # what it calls must be inlinable too: drop until nothing changes
    changed = True
    while changed:
        changed = False
        for name, calls in calls_of.items():
            if type(entries.get(name)) is not Inlinable:
                continue
            for callee in sorted(calls):
                if type(entries.get(callee)) is not Inlinable:
                    entries[name] = f"calls {callee}, which is not inlinable"
                    changed = True
                    break
    return InlinableTable(entries)


class ModuleInlinable(Analysis[InlinableTable]):
    """The :class:`InlinableTable` of a :class:`fatopt.module_unit.ModuleUnit` (stable: it
    describes the module's original functions, which are what the callers call)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> InlinableTable:
        return inlinable_table(module.tree, module.fact(FactsOfModule), module.config.max_inline_size)
