"""``GuardClassConstant``: a class attribute of a module's class keeps its constant value (for
substituting ``Direction.FORWARD``)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from fatopt.guards._base import Guard, check_names


class GuardClassConstant(Guard):
    """The global ``class_name`` stays bound to the class it held at registration, a class whose
    metaclass is ``type``, and ``attribute`` resolves along its MRO to the same constant as
    ``value`` (same type and value: ``0.0`` is not ``-0.0``, ``1`` is not ``True``). If at
    registration the name is not such a class, the guard never holds.

    Recipe ``("class_constant", class_name, attribute, value)``, e.g.
    ``("class_constant", "Direction", "FORWARD", 1)``."""

    kind = "class_constant"
    watches = "the global name (the same class) and the attribute's constant along the MRO"
    __slots__ = ("class_name", "attribute", "value")

    def __init__(self, class_name: str, attribute: str, value: Any) -> None:
        super().__init__()
        (self.class_name, self.attribute) = check_names((class_name, attribute), "GuardClassConstant")
        self.value = value
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.class_name, self.attribute, self.value)

    @classmethod
    def request_key(cls, args: tuple) -> Any:
        return args[:2]
