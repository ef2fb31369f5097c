"""``GuardInstanceClass``: instances of a module's class keep their class (no ``__class__``
assignment), so code that chose its body by ``type(x) is Class`` at entry may rely on it."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import Guard, check_names


class GuardInstanceClass(Guard):
    """The global ``class_name`` stays bound to the class it held at registration, a class whose
    metaclass is ``type``, and no instance of that class has its ``__class__`` assigned. No
    watcher sees ``obj.__class__ = D``; object's ``__class__`` setter raises the audit event
    ``object.__setattr__`` before it assigns, which a hook of the runtime sees (added once, the
    first time such a guard is registered; audit hooks stay for the life of the process). The
    first such assignment on an instance of the class fails the guard for good: the function
    keeps its original code, and its validity flag tells running frames. If at registration the
    name is not such a class, or another audit hook refuses the runtime's, it never holds.

    Recipe ``("instance_class", class_name)``, e.g. ``("instance_class", "Vector")``."""

    kind = "instance_class"
    watches = "the global name (the same class), __class__ assignments to the class's instances (an audit hook)"
    __slots__ = ("class_name",)

    def __init__(self, class_name: str) -> None:
        super().__init__()
        (self.class_name,) = check_names((class_name,), "GuardInstanceClass")
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.class_name)
