"""``GuardBuiltins``: names used as builtins still are the original builtins (for folding
``len("abc")``, ``range(3)``)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import ORIGINAL_BUILTINS, Guard, check_names


class GuardBuiltins(Guard):
    """The names are the original builtins in the function's ``__builtins__`` and are not shadowed
    by a global of the same name.

    Recipe ``("builtins", *names)``, e.g. ``("builtins", "len", "range")``."""

    kind = "builtins"
    watches = "each name in the function's builtins (the original builtin) and globals (unbound)"
    __slots__ = ("names",)

    def __init__(self, *names: str) -> None:
        super().__init__()
        self.names = check_names(names, "GuardBuiltins")
        for name in self.names:
            if name not in ORIGINAL_BUILTINS:
                raise ValueError(f"GuardBuiltins: {name!r} is not a builtin")
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, *self.names)

    @classmethod
    def merge(cls, requests: list[tuple]) -> list[tuple]:
        """``Unit.require(GuardBuiltins, name)``: one recipe naming them all."""
        return [(cls.kind, *sorted(name for (name,) in requests))]
