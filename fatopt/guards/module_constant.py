"""``GuardModuleConstant``: an attribute of a module the function reads through a global name
keeps its constant value (for substituting ``config.DEBUG`` after ``import config``)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from fatopt.guards._base import Guard, check_names


class GuardModuleConstant(Guard):
    """The global ``module_name`` stays bound to the module object it held at registration
    (exactly a module, not an instance of a subclass), and that module's ``__dict__`` binds
    ``attribute`` to the same constant as ``value`` (same type and value). If at registration
    the name is not a module, the guard never holds; if the attribute is missing or has another
    value, it waits for it.

    Recipe ``("module_constant", module_name, attribute, value)``, e.g.
    ``("module_constant", "config", "DEBUG", False)``."""

    kind = "module_constant"
    watches = "the global name (the same module) and the attribute's constant in the module's dict"
    __slots__ = ("module_name", "attribute", "value")

    def __init__(self, module_name: str, attribute: str, value: Any) -> None:
        super().__init__()
        (self.module_name, self.attribute) = check_names((module_name, attribute), "GuardModuleConstant")
        self.value = value
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.module_name, self.attribute, self.value)

    @classmethod
    def request_key(cls, args: tuple) -> Any:
        return args[:2]
