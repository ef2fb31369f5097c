"""``GuardStaticCallee``: a class's staticmethod stays the same, unchanged function (for inlining
``Cls.helper(x)``)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import Guard, check_names


class GuardStaticCallee(Guard):
    """The global ``class_name`` stays bound to the class it held at registration, a class whose
    metaclass is ``type``; ``attribute`` resolves along its MRO to a ``staticmethod`` (exactly)
    of the same function (the same object or another one: a call through the class gets the
    function either way; the staticmethod itself is not weakly referenceable, and held strongly
    it would keep its module alive), a Python function whose ``__code__``, ``__defaults__`` and
    ``__kwdefaults__`` stay unchanged. If at registration the name is not such a class, or the
    attribute is not exactly a ``staticmethod`` of a Python function whose code is named
    ``class_name.attribute`` (what the class body's ``def`` made), the guard never holds: the
    function keeps its original code.

    Recipe ``("static_callee", class_name, attribute)``, e.g. ``("static_callee", "Vec",
    "dot")``."""

    kind = "static_callee"
    watches = "the global name (the same class), the attribute along the MRO (the same staticmethod), its function's code and defaults"
    __slots__ = ("class_name", "attribute")

    def __init__(self, class_name: str, attribute: str) -> None:
        super().__init__()
        (self.class_name, self.attribute) = check_names((class_name, attribute), "GuardStaticCallee")
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.class_name, self.attribute)
