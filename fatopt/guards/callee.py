"""``GuardCallee``: a global name still holds the same, unchanged function (for inlining a call
of a module function)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import Guard, check_names


class GuardCallee(Guard):
    """The global ``name`` stays bound to the function it held at registration, whose
    ``__code__``, ``__defaults__`` and ``__kwdefaults__`` stay unchanged (``__globals__`` and
    ``__closure__`` are read-only). A callee that is itself specialized swapping between its two
    codes is no change. If ``name`` is not bound to a Python function at registration, the
    guard never holds: the function keeps its original code.

    Recipe ``("callee", name)``, e.g. ``("callee", "helper")``."""

    kind = "callee"
    watches = "the global name (the same function) and that function's code and defaults"
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        super().__init__()
        (self.name,) = check_names((name,), "GuardCallee")
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.name)
