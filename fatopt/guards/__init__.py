"""Guards: the assumptions a specialized function relies on.

A guard describes an assumption ("``len`` is the builtin", "``DEBUG`` is ``False``"). Registering
a specialization *binds* each guard to the function and compiles it to low-level conditions that
the C runtime (``fatopt._guards``) watches. Nothing is checked per call: a write that breaks an
assumption swaps the function back to its original code on the spot.

``check()`` answers FAT Python's question: 0 the guard holds, 1 it fails now (it may hold again),
2 it fails for good. An unbound guard checks against the namespace of the code calling ``check()``;
a bound one (from ``fatopt.get_specialized``) against its function's namespace.

Names follow FAT Python's ``fat`` module where they overlap.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys
from _weakref import ref as _weakref_ref  # not `weakref`: optimized modules import this module

TYPE_CHECKING = False  # not `from typing import TYPE_CHECKING`: that alone imports typing

if TYPE_CHECKING:  # typing costs milliseconds at import; optimized modules import this one
    import types
    import weakref
    from typing import Any, Iterable, Mapping

from fatopt import _ORIGINAL_BUILTINS, unavailable_reason

try:
    from fatopt import _guards
except ImportError:  # pragma: no cover - exercised on interpreters older than 3.12
    _guards = None  # type: ignore[assignment]

__all__ = [
    "Guard",
    "GuardBuiltins",
    "GuardGlobals",
    "GuardDict",
    "GuardFunc",
    "GuardTypeAttr",
    "GuardArgType",
    "HOLDS",
    "FAILS",
    "FAILS_FOREVER",
    "ORIGINAL_BUILTINS",
]

HOLDS = 0
FAILS = 1
FAILS_FOREVER = 2

#: The builtins as they were when fatopt was activated at start-up (from fatopt.pth, before
#: sitecustomize), or else when this module was first imported. "``len`` is the builtin" means:
#: is this object. Later patches of the builtins module are what guards detect, so they cannot be
#: the reference.
_FunctionType = type(lambda: None)  # types.FunctionType, without importing types
_MappingProxyType = type(type.__dict__)

ORIGINAL_BUILTINS: Mapping[str, Any] = _MappingProxyType(_ORIGINAL_BUILTINS)

Condition = tuple  # (kind, target, ...) as understood by fatopt._guards

_ABSENT = object()  # marks "expected to be unbound" in captured values


def _runtime() -> Any:
    if _guards is None:
        raise RuntimeError(unavailable_reason())
    return _guards


def _check_names(names: Iterable[str], what: str) -> tuple[str, ...]:
    names = tuple(names)
    if not names:
        raise ValueError(f"{what} needs at least one name")
    for name in names:
        if type(name) is not str or not name.isidentifier():
            raise TypeError(f"{what}: names must be identifiers, got {name!r}")
    return names


def _dict_conditions(mapping: dict, expected: Mapping[str, Any], const: frozenset = frozenset()) -> list:
    g = _runtime()
    out: list = []
    for key, value in expected.items():
        if value is _ABSENT:
            out.append((g.COND_DICT_ABSENT, mapping, key))
        elif key in const:
            out.append((g.COND_DICT_CONST, mapping, key, value))
        else:
            out.append((g.COND_DICT_IS, mapping, key, value))
    return out


def _caller_namespace(depth: int = 2) -> tuple[dict, dict]:
    frame = sys._getframe(depth)
    return frame.f_globals, frame.f_builtins


class Guard:
    """Base class of all guards."""

    __slots__ = ("_func_ref",)

    def __init__(self) -> None:
        self._func_ref: weakref.ref | None = None

    # -- what subclasses provide ---------------------------------------------------------------
    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        """Low-level conditions against the given namespace."""
        raise NotImplementedError

    def _args(self) -> str:
        raise NotImplementedError

    def _key(self) -> tuple:
        raise NotImplementedError

    def _validate(self, func: types.FunctionType) -> None:
        """Raise ValueError if the guard cannot apply to func."""

    def _bound_to(self, func: types.FunctionType) -> None:
        """Adjust a freshly bound copy to func (e.g. capture func's namespace)."""

    # -- shared behaviour ---------------------------------------------------------------------
    def conditions(self, func: types.FunctionType) -> list[Condition]:
        """The conditions this guard stands for when bound to ``func``."""
        return self._conditions_for(func.__globals__, func.__builtins__)

    def bind(self, func: types.FunctionType) -> "Guard":
        """A copy of this guard tied to ``func`` (held weakly), whose ``check()`` uses func's namespace."""
        self._validate(func)
        bound = object.__new__(type(self))
        for cls in type(self).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(self, slot):
                    object.__setattr__(bound, slot, getattr(self, slot))
        bound._func_ref = _weakref_ref(func)
        bound._bound_to(func)
        return bound

    def _bind_in_place(self, func: types.FunctionType) -> "Guard":
        """:meth:`bind` without the copy, for guards nobody else holds (those built by the
        decorator of an optimized function: registration runs at import, speed counts)."""
        if self._func_ref is not None:
            return self.bind(func)
        self._validate(func)
        self._func_ref = _weakref_ref(func)
        self._bound_to(func)
        return self

    def check(self) -> int:
        """0 if the guard holds, 1 if it fails now, 2 if it can never hold again."""
        if self._func_ref is not None:
            func = self._func_ref()
            if func is None:
                return FAILS_FOREVER
            conditions = self.conditions(func)
        else:
            conditions = self._conditions_for(*_caller_namespace())
        return HOLDS if _runtime().check(conditions) else FAILS

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._args()})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key()))


class GuardBuiltins(Guard):
    """The names are the original builtins in the function's ``__builtins__`` and are not shadowed
    by a global of the same name."""

    __slots__ = ("names",)

    def __init__(self, *names: str) -> None:
        super().__init__()
        self.names = _check_names(names, "GuardBuiltins")
        for name in self.names:
            if name not in ORIGINAL_BUILTINS:
                raise ValueError(f"GuardBuiltins: {name!r} is not a builtin")

    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        g = _runtime()
        out: list[Condition] = []
        for name in self.names:
            out.append((g.COND_DICT_IS, builtins_, name, ORIGINAL_BUILTINS[name]))
            out.append((g.COND_DICT_ABSENT, globals_, name))
        return out

    def _args(self) -> str:
        return ", ".join(map(repr, self.names))

    def _key(self) -> tuple:
        return self.names


class GuardGlobals(Guard):
    """The global names keep their values: the object bound when the specialization is registered
    (an unbound guard: when it was created, in the creating code's globals); for names given in
    ``objects``, that very object; for names given in ``values``, the same constant (same type
    and value; ``0.0`` is not ``-0.0``). A name unbound at that moment is expected to stay unbound.

    The optimizer uses ``objects``: a substituted module constant must be the very object the
    global holds, or identity (``f() is NAME``) would change. CPython makes the literal in the
    guard, the module's own binding and the function's constant one object (it merges equal
    constants of a module)."""

    __slots__ = ("names", "_expected", "_constants", "_fixed")

    def __init__(
        self, *names: str, values: Mapping[str, Any] | None = None, objects: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        values = dict(values or {})
        objects = dict(objects or {})
        if set(values) & set(objects):
            raise ValueError("GuardGlobals: a name is given both in values and in objects")
        extra = [n for n in (*values, *objects) if n not in names]
        self.names = _check_names(tuple(names) + tuple(extra), "GuardGlobals")
        captured, _ = _caller_namespace()
        fixed = {**values, **objects}
        self._expected = {n: fixed[n] if n in fixed else captured.get(n, _ABSENT) for n in self.names}
        self._constants = frozenset(values)
        self._fixed = frozenset(fixed)

    def _bound_to(self, func: types.FunctionType) -> None:
        namespace = func.__globals__
        self._expected = {
            n: v if n in self._fixed else namespace.get(n, _ABSENT) for n, v in self._expected.items()
        }

    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        return _dict_conditions(globals_, self._expected, self._constants)

    @property
    def expected(self) -> dict[str, Any]:
        """Name -> the value the guard expects (names expected unbound are left out)."""
        return {k: v for k, v in self._expected.items() if v is not _ABSENT}

    def _args(self) -> str:
        args = [repr(n) for n in self.names if n not in self._fixed]
        for keyword, chosen in (("objects", self._fixed - self._constants), ("values", self._constants)):
            if chosen:
                args.append(f"{keyword}={{%s}}" % ", ".join(f"{n!r}: {self._expected[n]!r}" for n in self.names if n in chosen))
        return ", ".join(args)

    def _key(self) -> tuple:
        return self.names, self._constants, tuple((n, type(v), repr(v)) for n, v in self._expected.items())


class GuardDict(Guard):
    """Keys of a dict (e.g. ``math.__dict__``) stay bound to the objects they had when the guard
    was created (or stay unbound)."""

    __slots__ = ("mapping", "keys", "_expected")

    def __init__(self, mapping: dict, *keys: str) -> None:
        super().__init__()
        if type(mapping) is not dict:
            raise TypeError(f"GuardDict needs a dict, got {type(mapping).__name__}")
        self.mapping = mapping
        self.keys = _check_names(keys, "GuardDict")
        self._expected = {k: mapping.get(k, _ABSENT) for k in self.keys}

    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        return _dict_conditions(self.mapping, self._expected)

    def _args(self) -> str:
        name = self.mapping.get("__name__") if isinstance(self.mapping.get("__name__"), str) else None
        where = f"<dict of {name}>" if name else f"<dict at {id(self.mapping):#x}>"
        return ", ".join([where, *map(repr, self.keys)])

    def _key(self) -> tuple:
        return id(self.mapping), self.keys


class GuardFunc(Guard):
    """A function's ``__code__``, ``__defaults__`` and ``__kwdefaults__`` stay as they are (for
    inlining). A specialized function swapping between its own codes does not count as a change."""

    __slots__ = ("func", "_code", "_defaults", "_kwdefaults")

    def __init__(self, func: types.FunctionType) -> None:
        super().__init__()
        if not isinstance(func, _FunctionType):
            raise TypeError(f"GuardFunc needs a Python function, got {type(func).__name__}")
        self.func = func
        self._code = func.__code__
        self._defaults = func.__defaults__
        self._kwdefaults = func.__kwdefaults__

    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        return [(_runtime().COND_FUNC, self.func, self._code, self._defaults, self._kwdefaults)]

    def _args(self) -> str:
        return self.func.__qualname__

    def _key(self) -> tuple:
        return (id(self.func),)


class GuardTypeAttr(Guard):
    """Attributes looked up on a type (along its MRO, as ``type.__getattribute__`` finds them) stay
    the objects they were when the guard was created."""

    __slots__ = ("type", "names", "_expected")

    def __init__(self, type_: type, *names: str) -> None:
        super().__init__()
        if not isinstance(type_, type):
            raise TypeError(f"GuardTypeAttr needs a type, got {type(type_).__name__}")
        self.type = type_
        self.names = _check_names(names, "GuardTypeAttr")
        self._expected = {}
        for name in self.names:
            for base in type_.__mro__:
                if name in base.__dict__:
                    self._expected[name] = base.__dict__[name]
                    break
            else:
                raise ValueError(f"GuardTypeAttr: {type_.__qualname__} has no attribute {name!r}")

    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        g = _runtime()
        return [(g.COND_TYPE_ATTR, self.type, n, v) for n, v in self._expected.items()]

    def _args(self) -> str:
        return ", ".join([self.type.__qualname__, *map(repr, self.names)])

    def _key(self) -> tuple:
        return id(self.type), self.names


class GuardArgType(Guard):
    """Argument ``index`` has one of ``types`` (exact type). Argument types change per call, so the
    runtime does not watch this guard: the specialized code checks it inline
    (``if type(x) is int: <fast> else: <original>``). It is recorded so ``get_specialized`` shows
    what the code assumes, and validated against the function at registration."""

    __slots__ = ("index", "types")

    def __init__(self, index: int, types: Iterable[type] | type) -> None:
        super().__init__()
        if type(index) is not int or index < 0:
            raise ValueError(f"GuardArgType: index must be a non-negative int, got {index!r}")
        types_ = (types,) if isinstance(types, type) else tuple(types)
        if not types_ or not all(isinstance(t, type) for t in types_):
            raise TypeError("GuardArgType: types must be one or more types")
        self.index = index
        self.types = types_

    def _validate(self, func: types.FunctionType) -> None:
        code = func.__code__
        nargs = code.co_argcount + code.co_kwonlyargcount
        if self.index >= nargs:
            raise ValueError(f"GuardArgType: {func.__qualname__} has no argument {self.index}")

    def _conditions_for(self, globals_: dict, builtins_: dict) -> list[Condition]:
        return []

    def _args(self) -> str:
        names = ", ".join(t.__qualname__ for t in self.types)
        return f"{self.index}, ({names},)" if len(self.types) == 1 else f"{self.index}, ({names})"

    def _key(self) -> tuple:
        return self.index, self.types
