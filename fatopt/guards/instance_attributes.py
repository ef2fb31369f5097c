"""``GuardInstanceAttrsAbsent``: instances of a module's class that code checked at its entry
gain no instance attribute of the given names, so that code may call the class's methods of
those names on them directly (``C.m(obj)`` for ``obj.m()``)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.guards._base import ClassNamesGuard


class GuardInstanceAttrsAbsent(ClassNamesGuard):
    """The global ``class_name`` stays bound to the class it held at registration, a class whose
    metaclass is ``type``, and no instance of it that passed the runtime's entry check
    ``fatopt._guards.unshadowed(obj, names)`` gains one of ``names`` as an instance attribute.
    No watcher sees instance attributes by itself: the entry check makes (3.13: at no cost to
    later loads) and watches the instance's dict, and a write of one of the names there fails
    the guard for good (the function keeps its original code; its validity flag tells running
    frames). A write of the name into any watched instance's dict fails the guards on that name
    of every class (conservative: the runtime keeps one watch per name, not per class). An
    instance the entry check never saw is not watched: the check runs before code relies on the
    object. If at registration the name is not such a class, it never holds.

    On CPython 3.13.0, whose watchers miss stores into an object's inline values (gh-125608),
    the entry check first closes the class's shared keys (no store of a name they lack can go to
    inline values after that) and refuses a name they hold. Replacing an instance's whole
    ``__dict__`` (``obj.__dict__ = {...}``) sends no event at all: a frame that checked the
    object before does not see it, the next entry check does (docs/optimizer.md,
    ``specialize_receivers``: what a pass that relies on this guard must allow for).

    Recipe ``("instance_attrs_absent", class_name, *names)``, e.g.
    ``("instance_attrs_absent", "Grid", "_idx")``."""

    kind = "instance_attrs_absent"
    watches = "the global name (the same class), the names written into instance dicts the entry check watches"
