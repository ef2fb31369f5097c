"""``GuardClass``: what attributes of a module's class resolve to, along its MRO (for inlining
methods and operators of a known class)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import ClassNamesGuard


class GuardClass(ClassNamesGuard):
    """The global ``class_name`` stays bound to the class it held at registration, a class whose
    metaclass is ``type`` (``__class__`` of such a class cannot be assigned); each attribute
    resolves along its MRO to the object it resolved to at registration (a Python function's
    ``__code__``, ``__defaults__`` and ``__kwdefaults__`` stay unchanged), ``__getattribute__``
    stays ``object``'s and no class of the MRO gains ``__getattr__``. A data descriptor gained in
    the way changes what an attribute resolves to; a change of ``__bases__`` anywhere in the MRO
    fails it for good. If at registration the name is not such a class or an attribute is
    missing, the guard never holds: the function keeps its original code.

    Recipe ``("class_attrs", class_name, *attributes)``, e.g.
    ``("class_attrs", "Vector", "__add__", "norm")``."""

    kind = "class_attrs"
    watches = "the global name (the same class), each attribute along the MRO, no __getattribute__ or __getattr__ added"

