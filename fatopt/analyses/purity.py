"""Purity of expressions: can evaluating this node do anything observable (run user code,
raise, bind a name)?

Dead-code removal and loop unrolling may only drop or duplicate what is pure. The answer is
conservative: a name load is impure (it can raise ``NameError``), any call or attribute access is
impure (it can run user code), only constants and displays of pure items are pure.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

__all__ = ["is_pure", "contains"]


def is_pure(node: ast.AST) -> bool:
    """True if evaluating ``node`` cannot raise, run user code or bind anything."""
    kind = type(node)
    if kind is ast.Constant:
        return True
    if kind in (ast.Tuple, ast.List):
        return type(node.ctx) is ast.Load and all(  # type: ignore[attr-defined]
            type(elt) is not ast.Starred and is_pure(elt) for elt in node.elts  # type: ignore[attr-defined]
        )
    if kind is ast.Lambda:
        return not node.args.defaults and not node.args.kw_defaults  # type: ignore[attr-defined]
    return False


def contains(node: ast.AST, kinds: tuple[type, ...], into_scopes: bool = True) -> bool:
    """True if ``node`` or a descendant is one of ``kinds``; with ``into_scopes=False``, nested
    functions, lambdas and classes are not searched (their bodies are not this code)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, kinds):
            return True
        if not into_scopes and current is not node and isinstance(
            current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
        ):
            continue
        stack.extend(ast.iter_child_nodes(current))
    return False
