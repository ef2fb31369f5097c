"""What a module's definitions were when one of its functions was defined, so that guards
registered later can be told to capture the same.

A guard registered by ``born()`` at import captures the objects the module's source just bound
("``ArrayList.__getitem__`` is this function, with this code and these defaults"): at that
moment they *are* what the source says, which is what the specialized code was made from. A
specialization made later (:mod:`fatopt.first_call_types`) is made from the same source, but
its guards capture the objects bound *then*, which the program may have changed since
(``Grid.__getitem__ = other``, ``helper.__defaults__ = (5,)``, ``Grid = Other``): guarding those
would make the source's code run for objects it was not made from. So the function's watch
takes a :class:`DefinitionState` when the function is defined (where ``born()`` would have
registered it), and :meth:`DefinitionState.matches` accepts the later guards' conditions only
where each captured object is the one recorded then.

Recorded: the module's global bindings, and for each class the module defines (its
``__module__``), its MRO and namespace; for each function among those, its code and defaults.
Objects are held by weak reference where they allow it, constants of builtin types by value;
anything else is not held (a condition on it is not accepted), so a snapshot never keeps an
object alive that the program let go.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from types import FunctionType

from _weakref import ref

__all__ = ["DefinitionState", "snapshot"]

_CONSTANT_TYPES = (int, float, complex, str, bytes, bool, type(None))
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
_type_dict = type.__dict__["__dict__"]
_type_mro = type.__dict__["__mro__"]
_type_module = type.__dict__["__module__"]
_type_flags = type.__dict__["__flags__"]
_function_code = FunctionType.__dict__["__code__"]
_function_defaults = FunctionType.__dict__["__defaults__"]
_function_kwdefaults = FunctionType.__dict__["__kwdefaults__"]

#: a value the snapshot did not keep: no condition on it is accepted
_UNKNOWN = object()


class _Value:
    """A constant of a builtin type, kept by value (compared by identity, as conditions are)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _held(value: object) -> object:
    if type(value) in _CONSTANT_TYPES:
        return _Value(value)
    try:
        return ref(value)
    except TypeError:
        return _UNKNOWN


def _constants_or_unknown(values, kept: object) -> object:
    """``kept`` (a copy of ``values``) when ``values`` is None or holds only constants, which are
    compared by value later; else ``_UNKNOWN``: defaults holding other objects cannot be checked
    without keeping them alive."""
    items = values.values() if type(values) is dict else values or ()
    return kept if all(type(v) in _CONSTANT_TYPES for v in items) else _UNKNOWN


def _same(held: object, obj: object) -> bool:
    if type(held) is _Value:
        return held.value is obj  # type: ignore[attr-defined]
    return type(held) is ref and held() is obj  # type: ignore[operator]


def _function_of(value: object) -> FunctionType | None:
    if type(value) is FunctionType:
        return value
    inner = getattr(value, "__func__", None) if type(value) in (staticmethod, classmethod) else None
    return inner if type(inner) is FunctionType else None


def _is_heap_type(cls: type) -> bool:
    return bool(_type_flags.__get__(cls) & _HEAPTYPE)


class DefinitionState:
    """The module's definitions at one moment (see the module docstring)."""

    __slots__ = ("bindings", "classes", "functions")

    def __init__(self) -> None:
        #: global name -> held value
        self.bindings: dict[str, object] = {}
        #: id(class) -> (held class, held MRO classes, {name: held value})
        self.classes: dict[int, tuple] = {}
        #: id(function) -> (held function, code, held defaults, held kwdefaults)
        self.functions: dict[int, tuple] = {}

    def _record_function(self, func: FunctionType) -> None:
        if id(func) in self.functions:
            return
        defaults = _function_defaults.__get__(func)
        kwdefaults = _function_kwdefaults.__get__(func)
        # defaults made only of constants are kept by value; others cannot be checked
        held_defaults = _constants_or_unknown(defaults, defaults)
        held_kwdefaults = _constants_or_unknown(kwdefaults, dict(kwdefaults) if kwdefaults is not None else None)
        self.functions[id(func)] = (ref(func), _function_code.__get__(func), held_defaults, held_kwdefaults)

    def _record_class(self, cls: type) -> None:
        if id(cls) in self.classes:
            return
        members = {}
        for name, value in _type_dict.__get__(cls).items():
            members[name] = _held(value)
            func = _function_of(value)
            if func is not None:
                self._record_function(func)
        self.classes[id(cls)] = (ref(cls), tuple(ref(c) if _is_heap_type(c) else c for c in _type_mro.__get__(cls)), members)

    def matches(self, conditions: list[tuple], globals_: dict, builtins: dict) -> bool:
        """Whether each object ``conditions`` (``_guards.conditions`` of a specialization's
        recipes, against ``globals_`` and ``builtins``) capture is the one recorded: what the
        source bound when the function was defined."""
        from fatopt import _guards as runtime

        for condition in conditions:
            kind = condition[0]
            if kind == runtime.COND_DICT_IS:
                _, mapping, key, expected = condition
                if mapping is builtins:
                    continue  # builtins conditions name the original builtins
                if mapping is not globals_ or not _same(self.bindings.get(key, _UNKNOWN), expected):
                    return False
            elif kind == runtime.COND_FUNC:
                _, func, code, defaults, kwdefaults = condition
                recorded = self.functions.get(id(func))
                if recorded is None or not _same(recorded[0], func) or recorded[1] is not code:
                    return False
                if recorded[2] is _UNKNOWN or recorded[2] != defaults or recorded[3] is _UNKNOWN or recorded[3] != kwdefaults:
                    return False
            elif kind == runtime.COND_TYPE_ATTR:
                _, cls, name, expected = condition
                if not self._resolves(cls, name, expected):
                    return False
            # the other kinds compare with constants, with the original builtins, or with
            # absence, evaluated as the program runs: nothing captured
        return True

    def _resolves(self, cls: type, name: str, expected: object) -> bool:
        """Whether ``name`` resolved to ``expected`` along ``cls``'s MRO as recorded."""
        recorded = self.classes.get(id(cls))
        if recorded is None:
            return not _is_heap_type(cls)  # a static type's attributes cannot change
        held, mro, _members = recorded
        if not _same(held, cls) or len(mro) != len(_type_mro.__get__(cls)):
            return False
        for was, klass in zip(mro, _type_mro.__get__(cls), strict=True):
            if type(was) is ref:
                if was() is not klass:
                    return False
                entry = self.classes.get(id(klass))
                if entry is None:
                    return False
                members = entry[2]
                if name in members:
                    return _same(members[name], expected)
            else:
                if was is not klass:
                    return False
                found = _type_dict.__get__(klass).get(name, _UNKNOWN)
                if found is not _UNKNOWN:
                    return found is expected
        return False


def snapshot(namespace: dict) -> DefinitionState:
    """The definitions of the module whose globals are ``namespace``, now."""
    state = DefinitionState()
    module = namespace.get("__name__")
    for name, value in list(namespace.items()):
        state.bindings[name] = _held(value)
        func = _function_of(value)
        if func is not None:
            state._record_function(func)
        elif isinstance(value, type) and _is_heap_type(value) and _type_module.__get__(value) == module:
            for klass in _type_mro.__get__(value):
                if _is_heap_type(klass) and _type_module.__get__(klass) == module:
                    state._record_class(klass)
    return state
