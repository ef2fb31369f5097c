"""``GuardTypeAttr``: attributes of a given type, looked up along its MRO, keep their objects."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Callable

from fatopt.guards._base import Guard, check_names


class GuardTypeAttr(Guard):
    """Attributes looked up on a type (along its MRO, as ``type.__getattribute__`` finds them) stay
    the objects they were when the guard was created. A change of the MRO fails it for good.

    Recipe ``("type_attr", type, *names)``: the objects are taken when the conditions are built
    (a name the type lacks is an error)."""

    kind = "type_attr"
    watches = "each attribute of the type, looked up along its MRO (every class of it is watched)"
    namespaced = False
    __slots__ = ("type", "names")

    def __init__(self, type_: type, *names: str) -> None:
        super().__init__()
        if not isinstance(type_, type):
            raise TypeError(f"GuardTypeAttr needs a type, got {type(type_).__name__}")
        self.type = type_
        self.names = check_names(names, "GuardTypeAttr")
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.type, *self.names)

    @classmethod
    def describe(cls, args: tuple, fmt: Callable[[Any], str] = repr) -> str:
        type_, *names = args
        return ", ".join([type_.__qualname__, *map(fmt, names)])
