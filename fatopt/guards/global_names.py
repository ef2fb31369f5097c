"""``GuardGlobals``: global names keep their values (for substituting module constants)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Callable, Hashable, Mapping

from fatopt.guards._base import Guard, check_names

#: marks a recipe entry compared as a constant (type and value), not by identity
CONSTANT = "constant"


class GuardGlobals(Guard):
    """The global names keep their values: the object bound when the specialization is registered
    (an unbound guard: when it was created, in the creating code's globals); for names given in
    ``objects``, that very object; for names given in ``values``, the same constant (same type
    and value; ``0.0`` is not ``-0.0``). A name unbound at that moment is expected to stay unbound.

    The optimizer uses ``objects``: a substituted module constant must be the very object the
    global holds, or identity (``f() is NAME``) would change. CPython makes the constant in the
    recipe, the module's own binding and the function's constant one object (it merges equal
    constants of a module, also inside tuples).

    Recipe ``("globals", *entries)``, one entry per name, in order: ``name`` (the binding when
    the conditions are built), ``(name, object)`` or ``(name, constant, "constant")``; e.g.
    ``("globals", ("DEBUG", False), ("WIDTH", 80))``."""

    kind = "globals"
    watches = "each name in the function's globals: the same object, the same constant, or unbound"
    __slots__ = ("names", "_entries")

    def __init__(
        self, *names: str, values: Mapping[str, Any] | None = None, objects: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        values = dict(values or {})
        objects = dict(objects or {})
        if set(values) & set(objects):
            raise ValueError("GuardGlobals: a name is given both in values and in objects")
        extra = [n for n in (*values, *objects) if n not in names]
        self.names = check_names(tuple(names) + tuple(extra), "GuardGlobals")
        self._entries = tuple(
            (n, values[n], CONSTANT) if n in values else (n, objects[n]) if n in objects else n for n in self.names
        )
        self._capture()

    @classmethod
    def from_recipe(cls, *entries: Any) -> GuardGlobals:
        names = [e if type(e) is str else e[0] for e in entries]
        return cls(*names, values={e[0]: e[1] for e in entries if type(e) is tuple and len(e) == 3},
                   objects={e[0]: e[1] for e in entries if type(e) is tuple and len(e) == 2})

    def recipe(self) -> tuple:
        return (self.kind, *self._entries)

    @property
    def expected(self) -> dict[str, Any]:
        """Name -> the value the guard expects (names expected unbound are left out)."""
        return {c[2]: c[3] for c in self._conditions or () if len(c) == 4}

    @classmethod
    def describe(cls, args: tuple, fmt: Callable[[Any], str] = repr) -> str:
        parts = [fmt(e) for e in args if type(e) is str]
        for keyword, size in (("objects", 2), ("values", 3)):
            chosen = [e for e in args if type(e) is tuple and len(e) == size]
            if chosen:
                parts.append(f"{keyword}={{%s}}" % ", ".join(f"{fmt(e[0])}: {fmt(e[1])}" for e in chosen))
        return ", ".join(parts)

    @classmethod
    def request_key(cls, args: tuple) -> Hashable:
        return args[0]  # one value per name

    @classmethod
    def merge(cls, requests: list[tuple]) -> list[tuple]:
        """``Unit.require(GuardGlobals, name, value)``: ``name`` is that very object;
        ``Unit.require(GuardGlobals, name)``: ``name`` keeps its binding at registration (or
        stays unbound). One recipe naming them all, by name."""
        entries = [args[0] if len(args) == 1 else (args[0], args[1]) for args in requests]
        return [(cls.kind, *sorted(entries, key=lambda entry: entry if type(entry) is str else entry[0]))]
