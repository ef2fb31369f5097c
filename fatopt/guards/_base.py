"""What every guard kind shares: the ``Guard`` base class, its recipe, and the registry of kinds.

A guard kind is one class, in one module of this package. Everything
about a guard derives from its *recipe*, ``(kind, *args)``: its ``repr`` (``describe``), its
equality, what the optimizer emits (``born(f, recipe, ...)``) and, through the C runtime's one
builder per kind (``fatopt._guards.conditions``), the low-level conditions the runtime watches.
The class itself only validates arguments, says how the optimizer's requests of that kind merge
into one recipe, and how its arguments read.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys
from _weakref import ref as _weakref_ref  # not `weakref`: optimized modules import this module

TYPE_CHECKING = False  # not `from typing import TYPE_CHECKING`: that alone imports typing

if TYPE_CHECKING:  # typing costs milliseconds at import
    import types
    import weakref
    from typing import Any, Callable, ClassVar, Hashable, Iterable, Mapping

from fatopt import _ORIGINAL_BUILTINS, unavailable_reason

try:
    from fatopt import _guards
except ImportError:  # pragma: no cover - exercised on interpreters older than 3.12
    _guards = None  # type: ignore[assignment]

HOLDS = 0
FAILS = 1
FAILS_FOREVER = 2

_MappingProxyType = type(type.__dict__)

#: The builtins as they were when fatopt was activated at start-up (from fatopt.pth, before
#: sitecustomize), or else when fatopt was first imported. "``len`` is the builtin" means: is
#: this object. Later patches of the builtins module are what guards detect, so they cannot be
#: the reference.
ORIGINAL_BUILTINS: Mapping[str, Any] = _MappingProxyType(_ORIGINAL_BUILTINS)

Condition = tuple  # (kind, target, ...) as understood by fatopt._guards

#: kind name -> guard class, filled as the kind modules are imported (see fatopt/guards/__init__.py)
KINDS: dict[str, type[Guard]] = {}


def _runtime() -> Any:
    if _guards is None:
        raise RuntimeError(unavailable_reason())
    return _guards


def check_names(names: Iterable[str], what: str) -> tuple[str, ...]:
    """``names`` as a tuple, if it is a non-empty sequence of identifiers."""
    names = tuple(names)
    if not names:
        raise ValueError(f"{what} needs at least one name")
    for name in names:
        if type(name) is not str or not name.isidentifier():
            raise TypeError(f"{what}: names must be identifiers, got {name!r}")
    return names


def _creating_namespace() -> tuple[dict, dict]:
    """globals and builtins of the code that constructs a guard (the first frame outside this
    package: subclasses call up through each other)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(__package__):
        frame = frame.f_back
    return frame.f_globals, frame.f_builtins


def _key(value: Any) -> Hashable:
    """What a recipe argument compares by: constants by type and value (``1`` is not ``True``),
    anything else (a dict, a function, a type) by identity."""
    kind = type(value)
    if kind is tuple:
        return (tuple, tuple(map(_key, value)))
    if value is None or kind in (bool, int, float, complex, str, bytes):
        return (kind, repr(value))
    return (object, id(value))


class Guard:
    """Base class of all guards.

    A guard is its recipe plus the conditions built from it: when it is bound to a function
    (:meth:`bind`, or ``fatopt.get_specialized``) against that function's namespace, otherwise
    when it is created, against the namespace of the code creating it. Kinds that read the
    namespace (``namespaced``) capture what a name is bound to at that moment; the others
    capture the state of the object they are given when they are created.
    """

    #: the kind's name in recipes and in the C runtime (``fatopt._guards.GUARD_KINDS``)
    kind: ClassVar[str]
    #: what it watches, in a few words (as docs/runtime.md's table says it)
    watches: ClassVar[str]
    #: True if its conditions depend on the function's globals or builtins
    namespaced: ClassVar[bool] = True

    __slots__ = ("_func_ref", "_conditions")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is not None:
            if kind in KINDS:
                raise TypeError(f"guard kind {kind!r} is declared twice: {KINDS[kind].__name__}, {cls.__name__}")
            KINDS[kind] = cls

    def __init__(self) -> None:
        self._func_ref: weakref.ref | None = None
        self._conditions: list[Condition] | None = None

    def _capture(self) -> None:
        """Build the conditions now, in the namespace of the code creating the guard (the last
        step of each kind's ``__init__``)."""
        if _guards is not None:
            self._conditions = _guards.conditions(self.recipe(), *_creating_namespace())

    # -- what a kind provides ---------------------------------------------------------------------
    def recipe(self) -> tuple:
        """``(kind, *args)``: the guard as data."""
        raise NotImplementedError

    @classmethod
    def from_recipe(cls, *args: Any) -> Guard:
        """The guard whose recipe is ``(cls.kind, *args)``."""
        return cls(*args)

    @classmethod
    def describe(cls, args: tuple, fmt: Callable[[Any], str] = repr) -> str:
        """The arguments of the recipe ``(cls.kind, *args)`` as they read in a call of the
        class, each value formatted by ``fmt``."""
        return ", ".join(map(fmt, args))

    @classmethod
    def request_key(cls, args: tuple) -> Hashable:
        """Requests of the optimizer (``Unit.require(cls, *args)``) with the same key are one."""
        return args

    @classmethod
    def merge(cls, requests: list[tuple]) -> list[tuple]:
        """The recipes that cover these requests (each a tuple of arguments, one per key), in a
        deterministic order: by default one recipe per request, sorted."""
        return sorted((cls.kind, *args) for args in requests)

    def _validate(self, func: types.FunctionType) -> None:
        """Raise ValueError if the guard cannot apply to func."""

    # -- shared behaviour -------------------------------------------------------------------------
    def conditions(self, func: types.FunctionType) -> list[Condition]:
        """The conditions this guard stands for when bound to ``func``."""
        bound = self._func_ref() if self._func_ref is not None else None
        if bound is func and self._conditions is not None:
            return self._conditions
        if self.namespaced or self._conditions is None:
            return _runtime().conditions(self.recipe(), func.__globals__, func.__builtins__)  # type: ignore[attr-defined]  # typeshed: 3.13+
        return self._conditions

    def bind(self, func: types.FunctionType) -> Guard:
        """A copy of this guard tied to ``func`` (held weakly), whose ``check()`` uses func's namespace."""
        self._validate(func)
        bound = object.__new__(type(self))
        for cls in type(self).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(self, slot):
                    object.__setattr__(bound, slot, getattr(self, slot))
        bound._func_ref = None
        return bound._attach(func)

    def _bind_in_place(self, func: types.FunctionType) -> Guard:
        """:meth:`bind` without the copy, for guards nobody else holds (those built by a
        decorator of an optimized function, or from a recipe)."""
        if self._func_ref is not None:
            return self.bind(func)
        self._validate(func)
        return self._attach(func)

    def _attach(self, func: types.FunctionType) -> Guard:
        self._conditions = self.conditions(func)
        self._func_ref = _weakref_ref(func)
        return self

    def check(self) -> int:
        """0 if the guard holds, 1 if it fails now, 2 if it can never hold again."""
        if self._func_ref is not None and self._func_ref() is None:
            return FAILS_FOREVER
        runtime = _runtime()  # raises where it is unavailable (no conditions were built)
        return HOLDS if runtime.check(self._conditions) else FAILS

    def __repr__(self) -> str:
        recipe = self.recipe()
        return f"{type(self).__name__}({type(self).describe(recipe[1:])})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return _key(self.recipe()) == _key(other.recipe())  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), _key(self.recipe())))


def guard_class(recipe: tuple) -> type[Guard]:
    """The guard class of a recipe's kind."""
    if type(recipe) is not tuple or not recipe or recipe[0] not in KINDS:
        raise ValueError(f"not a guard recipe: {recipe!r}")
    return KINDS[recipe[0]]


def from_recipe(recipe: tuple, func: types.FunctionType | None = None) -> Guard:
    """The guard object of a recipe, bound to ``func`` if given."""
    guard = guard_class(recipe).from_recipe(*recipe[1:])
    return guard._bind_in_place(func) if func is not None else guard


def source(recipe: tuple, fmt: Callable[[Any], str] = repr) -> str:
    """How the guard of ``recipe`` reads as a call (``GuardBuiltins('len')``), without building it."""
    cls = guard_class(recipe)
    return f"{cls.__name__}({cls.describe(recipe[1:], fmt)})"


class ClassNamesGuard(Guard):
    """A kind whose recipe is ``(kind, class_name, *names)``: names of one of the module's
    classes (its attributes, its instances' attributes); the optimizer's requests of a class
    merge into one recipe."""

    __slots__ = ("class_name", "names")

    def __init__(self, class_name: str, *names: str) -> None:
        super().__init__()
        (self.class_name,) = check_names((class_name,), type(self).__name__)
        self.names = check_names(names, type(self).__name__)
        self._capture()

    def recipe(self) -> tuple:
        return (self.kind, self.class_name, *self.names)

    @classmethod
    def merge(cls, requests: list[tuple]) -> list[tuple]:
        """``Unit.require(cls, class_name, *names)``: one recipe per class."""
        by_class: dict[str, set[str]] = {}
        for class_name, *names in requests:
            by_class.setdefault(class_name, set()).update(names)
        return [(cls.kind, name, *sorted(names)) for name, names in sorted(by_class.items())]
