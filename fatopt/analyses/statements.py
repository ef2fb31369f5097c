"""Facts about statement lists of a function's code: which names they bind, which
``break``/``continue`` leave a loop, whether deleting them is invisible, which names are
compared by identity.

Passes ask these questions about pieces of the tree they are rewriting (a loop body, the rest
of a block); the answers are pure functions of the nodes. The function-wide ones are also
managed analyses (:class:`LocalBindings`, :class:`IdentityCompared`), cached per function and
recomputed after a rewrite.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import TYPE_CHECKING

from fatopt.analyses.manager import Analysis
from fatopt.nodes import CHILD_FIELDS, child_nodes, walk

if TYPE_CHECKING:
    from fatopt.passes._rewrite import Unit

__all__ = [
    "names_bound_in", "loop_exits", "deletable", "identity_compared", "LocalBindings",
    "IdentityCompared",
]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
#: statements whose presence, even never run, changes what a function is
_MUST_KEEP = (ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal)


def names_bound_in(nodes: list[ast.AST]) -> dict[str, int]:
    """name -> number of binding sites in ``nodes`` (function code only: nested function and
    class bodies are skipped, their names are theirs; ``nonlocal`` writes there are counted)."""
    counts: dict[str, int] = {}

    def bind(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    stack = list(nodes)
    push = stack.append
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
                bind(node.id)  # type: ignore[attr-defined]
            continue
        if kind in _BINDING_KINDS:
            if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                bind(node.name)  # type: ignore[attr-defined]
                for inner in walk(node):
                    if type(inner) is ast.Nonlocal:
                        for name in inner.names:
                            bind(name)
                stack.extend(node.decorator_list)  # type: ignore[attr-defined]
                if kind is not ast.ClassDef:
                    stack.extend(node.args.defaults)  # type: ignore[attr-defined]
                    stack.extend(d for d in node.args.kw_defaults if d is not None)  # type: ignore[attr-defined]
                else:
                    stack.extend(node.bases)  # type: ignore[attr-defined]
                continue
            if kind is ast.Lambda:
                continue
            if kind in (ast.Import, ast.ImportFrom):
                for alias in node.names:  # type: ignore[attr-defined]
                    bind(alias.asname or alias.name.partition(".")[0])
                continue
            if kind is ast.ExceptHandler and node.name:  # type: ignore[attr-defined]
                bind(node.name)  # type: ignore[attr-defined]
            elif kind in (ast.Global, ast.Nonlocal):
                for name in node.names:  # type: ignore[attr-defined]
                    bind(name)
            elif kind in (ast.MatchAs, ast.MatchStar) and node.name:  # type: ignore[attr-defined]
                bind(node.name)  # type: ignore[attr-defined]
            elif kind is ast.MatchMapping and node.rest:  # type: ignore[attr-defined]
                bind(node.rest)  # type: ignore[attr-defined]
        # the children, in ast.iter_child_nodes order, from the fields that can hold nodes;
        # constants bind nothing and are not pushed
        fields = node.__dict__
        for field in CHILD_FIELDS[kind]:
            value = fields.get(field)
            if type(value) is list:
                for item in value:
                    if item is not None and type(item) is not ast.Constant:
                        push(item)
            elif value is not None and type(value) is not ast.Constant:
                push(value)
    return counts


#: the kinds :func:`names_bound_in` looks at (besides ``Name``); the others only hold children
_BINDING_KINDS = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Import, ast.ImportFrom,
    ast.ExceptHandler, ast.Global, ast.Nonlocal, ast.MatchAs, ast.MatchStar, ast.MatchMapping,
})


def loop_exits(body: list[ast.stmt]) -> list[ast.stmt]:
    """``break``/``continue`` statements of a loop whose body is ``body`` (not those of a
    nested loop; the ``else`` clause of a nested loop still belongs to this one)."""
    found: list[ast.stmt] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Break, ast.Continue)):
            found.append(node)
        elif isinstance(node, _LOOPS):
            stack.extend(node.orelse)
        elif not isinstance(node, _SCOPES) and isinstance(node, ast.stmt):
            stack.extend(n for n in child_nodes(node) if isinstance(n, (ast.stmt, ast.excepthandler, ast.match_case)))
        elif isinstance(node, (ast.excepthandler, ast.match_case)):
            stack.extend(node.body)
    return found


def deletable(stmts: list[ast.stmt], in_loop: bool) -> bool:
    """True if deleting ``stmts`` changes neither the function's kind (generator, coroutine),
    its scoping (``global``/``nonlocal``), nor which syntax errors the compiler reports
    (``break`` outside a loop); ``in_loop``: the statements are inside a loop's body."""
    stack: list[tuple[ast.AST, bool]] = [(s, in_loop) for s in stmts]
    while stack:
        node, looping = stack.pop()
        if isinstance(node, _MUST_KEEP):
            return False
        if isinstance(node, (ast.Break, ast.Continue)) and not looping:
            return False
        if isinstance(node, _SCOPES):
            # a nested scope's body is its own; only what runs here (decorators, defaults) counts
            parts = list(getattr(node, "decorator_list", []))
            if not isinstance(node, ast.ClassDef):
                parts += node.args.defaults + [d for d in node.args.kw_defaults if d]
            else:
                parts += node.bases + [k.value for k in node.keywords]
            stack.extend((p, looping) for p in parts)
            continue
        is_loop = isinstance(node, _LOOPS)
        for child in child_nodes(node):
            # inside a loop's body break/continue are fine; its else clause is outside the loop
            in_else = is_loop and any(child is s for s in node.orelse)  # type: ignore[attr-defined]
            stack.append((child, looping if (not is_loop or in_else) else True))
    return True


def identity_compared(node: ast.AST) -> set[str]:
    """Names used anywhere inside an operand of ``is``/``is not`` in ``node``."""
    names: set[str] = set()
    for compare in walk(node):
        if isinstance(compare, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot)) for op in compare.ops):
            for operand in (compare.left, *compare.comparators):
                names.update(n.id for n in walk(operand) if isinstance(n, ast.Name))
    return names


class LocalBindings(Analysis["dict[str, int]"]):
    """name -> binding sites in the function's current body (:func:`names_bound_in`)."""

    @classmethod
    def compute(cls, unit: Unit) -> dict[str, int]:
        return names_bound_in(unit.body)  # type: ignore[arg-type]


class IdentityCompared(Analysis["set[str]"]):
    """Names the function's current code compares by identity (:func:`identity_compared`)."""

    @classmethod
    def compute(cls, unit: Unit) -> set[str]:
        return identity_compared(unit.node)
