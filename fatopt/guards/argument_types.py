"""``GuardArgType``: what the specialized code assumes of an argument's type (checked inline)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    import types
    from typing import Any, Callable, Iterable

from fatopt.guards._base import Guard


class GuardArgType(Guard):
    """Argument ``index`` has one of ``types`` (exact type). Argument types change per call, so the
    runtime does not watch this guard: the specialized code checks it inline
    (``if type(x) is int: <fast> else: <original>``). It is recorded so ``get_specialized`` shows
    what the code assumes, and validated against the function at registration.

    Recipe ``("arg_type", index, types)``; it has no conditions."""

    kind = "arg_type"
    watches = "nothing: the specialized code checks the argument's type itself"
    namespaced = False
    __slots__ = ("index", "types")

    def __init__(self, index: int, types: Iterable[type] | type) -> None:
        super().__init__()
        if type(index) is not int or index < 0:
            raise ValueError(f"GuardArgType: index must be a non-negative int, got {index!r}")
        types_ = (types,) if isinstance(types, type) else tuple(types)
        if not types_ or not all(isinstance(t, type) for t in types_):
            raise TypeError("GuardArgType: types must be one or more types")
        self.index = index
        self.types = types_
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.index, self.types)

    def _validate(self, func: types.FunctionType) -> None:
        code = func.__code__
        nargs = code.co_argcount + code.co_kwonlyargcount
        if self.index >= nargs:
            raise ValueError(f"GuardArgType: {func.__qualname__} has no argument {self.index}")

    @classmethod
    def describe(cls, args: tuple, fmt: Callable[[Any], str] = repr) -> str:
        index, types_ = args
        names = ", ".join(t.__qualname__ for t in types_)
        return f"{index}, ({names},)" if len(types_) == 1 else f"{index}, ({names})"
