"""Helpers shared by the unrolling passes: the items of a constant iterable, the names of a
simple target, and copying code with some names replaced by constants."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Any

from fatopt.folding import NOT_FOLDED, constant_value, make_constant
from fatopt.nodes import walk
from fatopt.passes._rewrite import clone

__all__ = ["constant_items", "target_names", "bind_target", "replace_names", "node_count"]


def constant_items(node: ast.expr) -> tuple | None:
    """The items iterated over, if ``node`` is a constant tuple/str/bytes or a list or tuple
    display of constants."""
    if type(node) in (ast.List, ast.Tuple) and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
        values = tuple(constant_value(e) for e in node.elts)  # type: ignore[attr-defined]
        return None if any(v is NOT_FOLDED for v in values) else values
    value = constant_value(node)
    if type(value) is tuple:
        return value
    if type(value) in (str, bytes):
        return tuple(value)
    return None


def target_names(target: ast.expr) -> list[str] | None:
    """Names assigned by a target made only of names (``x`` or ``a, (b, c)``), else None."""
    if type(target) is ast.Name:
        return [target.id]
    if type(target) in (ast.Tuple, ast.List):
        names: list[str] = []
        for elt in target.elts:  # type: ignore[attr-defined]
            inner = target_names(elt)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


def bind_target(target: ast.expr, value: Any) -> dict[str, Any] | None:
    """name -> value when ``value`` unpacks into ``target`` exactly, else None (the unpacking
    would raise, or the target is not made of names)."""
    if type(target) is ast.Name:
        return {target.id: value}
    if type(target) in (ast.Tuple, ast.List):
        elts = target.elts  # type: ignore[attr-defined]
        if type(value) not in (tuple, str, bytes) or len(value) != len(elts):
            return None
        out: dict[str, Any] = {}
        for elt, item in zip(elts, value, strict=False):
            inner = bind_target(elt, item)
            if inner is None:
                return None
            out.update(inner)
        return out
    return None


class _Replace(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, Any]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if type(node.ctx) is ast.Load and node.id in self.mapping:
            return make_constant(self.mapping[node.id], node)
        return node


def replace_names(node: ast.AST, mapping: dict[str, Any]) -> ast.AST:
    """A copy of ``node`` (an expression without nested scopes) with loads of the names in
    ``mapping`` replaced by constants."""
    return _Replace(mapping).visit(clone(node))


def node_count(nodes: list[ast.AST]) -> int:
    return sum(1 for n in nodes for _ in walk(n))
