"""Which node kinds an expression contains (a pass that must not copy or drop code holding a
``yield``, ``await`` or ``:=`` asks here).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

__all__ = ["contains"]


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
