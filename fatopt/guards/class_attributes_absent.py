"""``GuardClassAttrsAbsent``: names a module's class does not have along its MRO, so that loading
them from an instance runs no Python code (code that tested the validity flag and ran nothing
since need not test it again)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import ClassNamesGuard


class GuardClassAttrsAbsent(ClassNamesGuard):
    """The global ``class_name`` stays bound to the class it held at registration, a class whose
    metaclass is ``type``; no class of its MRO gains one of ``names``, ``__getattribute__`` stays
    ``object``'s and no class of the MRO gains ``__getattr__``. Loading such a name from an
    instance then runs no Python code (no descriptor can be in the way): it gives the instance's
    own value or raises ``AttributeError``. Code that knows it ran nothing since it tested the
    validity flag need not test it again (``fatopt.passes.drop_covered_checks``). If at
    registration the name is not such a class or a name is found along the MRO, the guard never
    holds.

    Recipe ``("class_attrs_absent", class_name, *names)``, e.g.
    ``("class_attrs_absent", "Grid", "data")``."""

    kind = "class_attrs_absent"
    watches = "the global name (the same class), each name along the MRO, no __getattribute__ or __getattr__ added"
