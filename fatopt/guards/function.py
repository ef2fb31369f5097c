"""``GuardFunc``: a given function keeps its code and defaults (for inlining it)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    import types
    from typing import Any, Callable

from fatopt.guards._base import Guard

_FunctionType = type(lambda: None)  # types.FunctionType, without importing types


class GuardFunc(Guard):
    """A function's ``__code__``, ``__defaults__`` and ``__kwdefaults__`` stay as they were when
    the guard was created (``__globals__`` and ``__closure__`` cannot change). A specialized
    function swapping between its own codes does not count as a change.

    Recipe ``("func", function)``: the state is taken when the conditions are built."""

    kind = "func"
    watches = "the function's __code__, __defaults__ and __kwdefaults__"
    namespaced = False
    __slots__ = ("func",)

    def __init__(self, func: types.FunctionType) -> None:
        super().__init__()
        if not isinstance(func, _FunctionType):
            raise TypeError(f"GuardFunc needs a Python function, got {type(func).__name__}")
        self.func = func
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.func)

    @classmethod
    def describe(cls, args: tuple, fmt: Callable[[Any], str] = repr) -> str:
        return args[0].__qualname__
