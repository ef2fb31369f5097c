"""Guards: the assumptions a specialized function relies on.

A guard describes an assumption ("``len`` is the builtin", "``DEBUG`` is ``False``"). Registering
a specialization *binds* each guard to the function and builds the low-level conditions that the
C runtime (``fatopt._guards``) watches. Nothing is checked per call: a write that breaks an
assumption swaps the function back to its original code on the spot.

Each kind of guard is one class in one module of this package (see
:mod:`fatopt.guards._base`); this package imports them all, so adding a kind is adding a module
(with its C builder in the runtime, and its tests). A guard is data: its *recipe*
``(kind, *args)`` is what optimized modules pass to ``born``.

``check()`` answers FAT Python's question: 0 the guard holds, 1 it fails now (it may hold again),
2 it fails for good. An unbound guard checks against the namespace of the code that created it;
a bound one (from ``fatopt.get_specialized``) against its function's namespace.

Names follow FAT Python's ``fat`` module where they overlap.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import importlib
import os

from fatopt.guards._base import (
    FAILS,
    FAILS_FOREVER,
    HOLDS,
    KINDS,
    ORIGINAL_BUILTINS,
    Guard,
    from_recipe,
    guard_class,
    source,
)


def _kind_modules() -> list[str]:
    """The modules of this package that declare a kind: every public module in its folder."""
    folder = os.path.dirname(__file__)
    names = {entry.partition(".")[0] for entry in os.listdir(folder) if entry.endswith((".py", ".pyc"))}
    return sorted(name for name in names if not name.startswith("_"))


for _name in _kind_modules():
    importlib.import_module(f"{__name__}.{_name}")
del _name

globals().update({cls.__name__: cls for cls in KINDS.values()})

__all__ = [
    "Guard",
    *sorted(cls.__name__ for cls in KINDS.values()),
    "HOLDS",
    "FAILS",
    "FAILS_FOREVER",
    "ORIGINAL_BUILTINS",
    "KINDS",
    "from_recipe",
    "guard_class",
    "source",
]
