"""``GuardDict``: keys of a given dict (a module's ``__dict__``) keep their objects."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Callable

from fatopt.guards._base import Guard, check_names


class GuardDict(Guard):
    """Keys of a dict (e.g. ``math.__dict__``) stay bound to the objects they had when the guard
    was created (or stay unbound).

    Recipe ``("dict", mapping, *keys)``: the objects are taken when the conditions are built."""

    kind = "dict"
    watches = "each key of the dict: the object it had when the guard was created, or unbound"
    namespaced = False
    __slots__ = ("mapping", "keys")

    def __init__(self, mapping: dict, *keys: str) -> None:
        super().__init__()
        if type(mapping) is not dict:
            raise TypeError(f"GuardDict needs a dict, got {type(mapping).__name__}")
        self.mapping = mapping
        self.keys = check_names(keys, "GuardDict")
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.mapping, *self.keys)

    @classmethod
    def describe(cls, args: tuple, fmt: Callable[[Any], str] = repr) -> str:
        mapping, *keys = args
        name = mapping.get("__name__")
        where = f"<dict of {name}>" if isinstance(name, str) else f"<dict at {id(mapping):#x}>"
        return ", ".join([where, *map(fmt, keys)])
