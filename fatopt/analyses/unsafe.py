"""Unsafe constructs: why a function's names cannot be reasoned about.

``exec``, ``eval``, ``locals()``, ``vars()``, ``globals()``, ``__builtins__``, ``breakpoint()``,
``import *`` and frame access (``sys._getframe``) let code read or rebind names the optimizer
would assume; a function using one, directly or in a nested scope, is left as it is.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.analyses.scopes import Scope

__all__ = ["unsafe_reasons"]


def unsafe_reasons(scope: Scope) -> list[str]:
    """Sorted reasons (``"uses exec (line 3)"``) found in ``scope`` or any scope nested in it."""
    found = {
        f"{reason} (line {line})" if line else reason
        for inner in scope.walk()
        for reason, line in inner.unsafe
    }
    return sorted(found)
