"""The Python face of the guard runtime: register, inspect and drop specializations.

``fatopt._guards`` (C) does the watching and swapping; this module turns guards into its
conditions, keeps the documented API stable, and reports what happened.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

# Optimized modules import the C runtime (fatopt._guards) directly, not this module; it is still
# kept light: guard objects (fatopt.guards) are built only when asked for. No `from __future__
# import annotations`: that imports the __future__ module; annotations naming types that are not
# imported are strings.
from fatopt import unavailable_reason

UNAVAILABLE_REASON = unavailable_reason()
AVAILABLE = UNAVAILABLE_REASON is None

TYPE_CHECKING = False  # not `from typing import TYPE_CHECKING`: that alone imports typing

if TYPE_CHECKING:  # typing costs milliseconds at import; every optimized module imports this one
    import types
    from typing import Callable, Iterable, Sequence, TypedDict

    class FunctionStats(TypedDict):
        function: str
        active: bool
        guards: int
        invalidations: int
        revalidations: int

    class FirstCallStats(TypedDict):
        function: str
        file: str
        line: int
        outcome: str

    from fatopt.guards import Guard

    class Stats(TypedDict):
        available: bool
        registered: int
        live: int
        active: int
        invalidated: int
        invalidations: int
        revalidations: int
        functions: list[FunctionStats]
        first_calls: list[FirstCallStats]


if AVAILABLE:
    from fatopt import _guards
else:  # pragma: no cover - exercised on interpreters older than 3.12
    _guards = None  # type: ignore[assignment]

__all__ = ["specialize", "register", "specialized", "born", "unspecialize", "get_specialized", "stats"]

def __getattr__(name: str):
    # The guard classes, re-exported (code emitted by earlier versions names them here).
    if name.startswith("Guard"):
        from fatopt import guards

        if name == "Guard" or name in guards.__all__:
            return getattr(guards, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _require() -> None:
    if not AVAILABLE:
        raise RuntimeError(UNAVAILABLE_REASON)


_FunctionType: "type[types.FunctionType]" = type(lambda: None)  # type: ignore[assignment]  # types.FunctionType/CodeType, without importing types
_CodeType = type((lambda: None).__code__)


def _prepare(func: "types.FunctionType", guards: "Iterable[Guard]", fresh: bool = False) -> "tuple[tuple[tuple, ...], list]":
    """The guards' recipes (what the runtime keeps, for get_specialized: a bound guard holds its
    conditions, so its function's namespace, and the runtime's registry must not hold that),
    and their conditions bound to ``func``."""
    from fatopt.guards import Guard

    if not isinstance(func, _FunctionType):
        raise TypeError(f"expected a Python function, got {type(func).__name__}")
    guards = tuple(guards)
    if not guards:
        raise ValueError("a specialization needs at least one guard")
    for guard in guards:
        if not isinstance(guard, Guard):
            raise TypeError(f"not a guard: {guard!r}")
    bound = tuple(guard._bind_in_place(func) if fresh else guard.bind(func) for guard in guards)
    conditions = [c for guard in bound for c in guard.conditions(func)]
    return tuple(guard.recipe() for guard in bound), conditions


def specialize(func: "types.FunctionType", code: "types.CodeType", guards: "Sequence[Guard]") -> bool:
    """Install ``code`` on ``func`` while ``guards`` hold (PEP 510's ``specialize``).

    The function's current code becomes the fallback. Returns True if the specialized code is in
    place now, False if a guard fails now (it is installed as soon as all guards hold). Raises
    ``ValueError`` if the two codes are not interchangeable (arguments, free variables, kind).

    On 3.13 assigning code to an existing function costs each call a few ns for good (calls to it
    are no longer specialized by the interpreter); functions emitted by fatopt's optimizer are
    born holding their specialized code and use :func:`register` instead.
    """
    _require()
    if not isinstance(code, _CodeType):
        raise TypeError(f"code must be a code object, got {type(code).__name__}")
    recipes, conditions = _prepare(func, guards)
    return _guards.specialize(func, code, recipes, conditions)


def register(
    func: "types.FunctionType",
    original: "types.CodeType | types.FunctionType",
    guards: "Sequence[Guard]",
) -> bool:
    """Guard ``func``, which already holds its specialized code, with ``original`` as fallback.

    ``original`` may be a function, whose code is taken and renamed after ``func`` so tracebacks
    name the right function. Returns as :func:`specialize` does; if a guard fails now, the
    original code is installed at once.
    """
    return _register(func, original, guards, fresh=False)


def _register(func, original, guards, fresh: bool) -> bool:
    _require()
    code = _fallback_code(func, original)
    recipes, conditions = _prepare(func, guards, fresh)
    return _guards.register(func, code, recipes, conditions)


def _fallback_code(func, original) -> "types.CodeType":
    if type(original) is _FunctionType:
        code = original.__code__
        target = func.__code__ if type(func) is _FunctionType else None
        if target is not None and (code.co_qualname != target.co_qualname or code.co_name != target.co_name):
            code = code.replace(co_name=target.co_name, co_qualname=target.co_qualname)
        return code
    if not isinstance(original, _CodeType):
        raise TypeError(f"original must be a code object or a function, got {type(original).__name__}")
    return original


_METADATA = ("__module__", "__name__", "__qualname__", "__doc__", "__defaults__", "__kwdefaults__",
             "__annotations__", "__type_params__")


def _dress_original(func: "types.FunctionType", original: "types.FunctionType") -> "types.FunctionType":
    """The original function, carrying func's name, defaults, annotations and attributes."""
    for attr in _METADATA:
        if hasattr(func, attr):
            setattr(original, attr, getattr(func, attr))
    original.__dict__.update(func.__dict__)
    return original


def _unoptimized(func: "types.FunctionType", original: "types.FunctionType", exc: Exception) -> "types.FunctionType":
    """Registration failed: the function must not run unguarded specialized code. A warning
    names it, and the original function, dressed as ``func``, takes its place."""
    import warnings

    code = func.__code__
    warnings.warn(
        f"fatopt: {code.co_filename}:{code.co_firstlineno}: {code.co_qualname} runs "
        f"unoptimized (registration failed: {exc})",
        RuntimeWarning,
        stacklevel=3,
    )
    return _dress_original(func, original)


def specialized(original: "types.FunctionType", *guards: "Guard") -> "Callable[[types.FunctionType], types.FunctionType]":
    """Decorator: ``@specialized(original_function, *guards)`` on the ``def`` holding the
    specialized body; the function is born specialized (the fast path on 3.13, see
    :func:`register`).

    ``original`` is a function defined from the original body in the same scope (so free
    variables match) with no defaults, annotations or decorators; only its code is used. If
    registration fails for any reason, a warning names the function, and the original
    function, dressed with the specialized one's name, defaults and attributes, is returned
    instead. Code emitted by the optimizer uses :func:`born`, the same with guards as data.
    """

    def install(func: "types.FunctionType") -> "types.FunctionType":
        try:
            _register(func, original, guards, fresh=True)  # the guards were built for this def
            return func
        except Exception as exc:  # never break an import: fall back to the original code
            return _unoptimized(func, original, exc)

    return install


if AVAILABLE:
    #: The decorator the optimizer emits (``@__fatopt_runtime__.born(f, ("builtins", "len"),
    #: ("globals", ("DEBUG", False)))``, one recipe per guard): in C, see ``fatopt/_guards.c``.
    #: Optimized modules import it from ``fatopt._guards`` directly; it is here for the API.
    born = _guards.born


def _guard_objects(func: "types.FunctionType", recipes: tuple) -> "list[Guard]":
    """The guards of a specialization, kept as recipes until now, as guard objects bound to
    ``func``."""
    from fatopt.guards import from_recipe

    return [from_recipe(recipe, func) for recipe in recipes]


def unspecialize(func: "types.FunctionType") -> bool:
    """Drop ``func``'s specialization and restore its original code. False if it had none."""
    if not AVAILABLE:
        return False
    return _guards.unregister(func)


_MethodType = type((lambda self: None).__get__(0))  # types.MethodType, without importing types

#: How many wrappers :func:`_function_of` goes through before giving up (a loop of ``__wrapped__``
#: attributes must not hang it).
_MAX_UNWRAP = 100


def _function_of(obj: object, caller: str = "get_specialized") -> "types.FunctionType":
    """The Python function ``obj`` is or runs: itself, the function of a bound method, of a
    ``classmethod`` or ``staticmethod`` object, or the function a C wrapper such as
    ``functools.lru_cache`` wraps (``__wrapped__``). Raises TypeError for anything else."""
    current = obj
    for _ in range(_MAX_UNWRAP):
        if isinstance(current, _FunctionType):
            return current
        if isinstance(current, (_MethodType, classmethod, staticmethod)):
            current = current.__func__
            continue
        try:
            current = current.__wrapped__  # type: ignore[attr-defined,union-attr]
        except AttributeError:
            break
    what = type(obj).__name__
    name = getattr(obj, "__qualname__", None)
    raise TypeError(
        f"{caller}() needs a Python function (or a method, classmethod or staticmethod of one), "
        f"got {what}" + (f" {name!r}" if isinstance(name, str) else "")
    )


def get_specialized(func: object) -> "list[tuple[types.CodeType, list[Guard]]]":
    """``[(specialized_code, guards)]`` while ``func`` runs specialized code, else ``[]``.

    ``func`` is a function, a bound method, a ``classmethod`` or ``staticmethod`` (as in
    ``vars(cls)``), or a wrapper that names its function in ``__wrapped__``
    (``functools.lru_cache``): what counts is the function it runs. Anything else raises
    ``TypeError``. Like FAT Python's ``fat.get_specialized``, a specialization whose guards
    fail right now is not listed (it comes back when they hold again).
    """
    function = _function_of(func)
    if not AVAILABLE:
        return []
    info = _guards.get(function)
    if info is None or not info[3]:
        return []
    return [(info[0], _guard_objects(function, info[2]))]


def _first_calls() -> "list[FirstCallStats]":
    """The functions watched until their first call (Config.first_call_types) and what became
    of each watch, if the watch's module is loaded at all."""
    import sys

    watches = sys.modules.get("fatopt.first_call_types")
    if watches is None:
        return []
    return [{"function": qualname, "file": file, "line": line, "outcome": found}
            for file, qualname, line, found in watches.outcomes()]


def stats() -> "Stats":
    """Counts of specializations: registered ever, live now, active vs invalidated, and how often
    guards broke (invalidations) and came back (revalidations), per function; and the functions
    watched until their first call (``first_calls``: ``"watching"``, ``"specialized"``, or why
    not)."""
    if not AVAILABLE:
        return {"available": False, "registered": 0, "live": 0, "active": 0, "invalidated": 0,
                "invalidations": 0, "revalidations": 0, "functions": [], "first_calls": []}
    rows = _guards.specializations()
    functions: "list[FunctionStats]" = [
        {
            "function": f"{func.__module__}.{func.__qualname__}",
            "active": active,
            "guards": len(guards),
            "invalidations": inv,
            "revalidations": rev,
        }
        for func, _spec, _orig, guards, active, inv, rev in rows
    ]
    functions.sort(key=lambda row: row["function"])
    active = sum(row["active"] for row in functions)
    return {
        "available": True,
        "registered": _guards.runtime_info()["total_registered"],
        "live": len(functions),
        "active": active,
        "invalidated": len(functions) - active,
        "invalidations": sum(row["invalidations"] for row in functions),
        "revalidations": sum(row["revalidations"] for row in functions),
        "functions": functions,
        "first_calls": _first_calls(),
    }
