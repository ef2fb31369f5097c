"""Argument types learned at a function's first call: type specialization without a profile.

A function's parameters often get their class from the caller (scimark's ``LU_factor(A,
pivot)``), so without a recorded profile (:mod:`fatopt.profile`) the optimizer cannot know that
``A[i][j]`` calls ``ArrayList.__getitem__``. Where that would pay
(:mod:`fatopt.analyses.typed_parameters`: a parameter subscripted in a loop, a class of the
module with ``__getitem__``/``__setitem__``), the optimized module calls :func:`watch` right
after the ``def``. The function's first call then shows the exact types of its parameters; if a
watched one is an instance of one of those classes, its module is optimized again with those
types as a one-call profile, and the function's specialization is replaced by the one made
(``_guards.respecialize``): from its next call on, it runs the code a profile would have given,
behind the same entry check (``type(A) is ArrayList``, else the general body) and guards.

Exactness does not depend on the first call: the types are speculation, checked at every
entry, and the guards are those of any specialization. What the first call decides is only
what is tried.

How, and what it costs:

- Until its first call, the function is called through a hook of the runtime (its vectorcall:
  ``_guards.watch_first_call``), which hands :func:`_called` the exact types the call binds to
  the parameters, then makes the call; later calls are plain. Nothing is instrumented and no
  ``sys.monitoring`` tool id is taken; the first call itself runs what its types gave. The
  watch's code runs with tracing and monitoring off (a debugger or profiler of the program does
  not see it). On 3.13 a function named ``__init__`` is not watched (the interpreter enters
  it straight from a class's call site, past the hook).
- The module's source is read again and must be the text optimized at import (its SHA-256 is
  in the watch statement); otherwise nothing changes. The guards of the specialization made
  then must capture what the source bound when the function was defined
  (:mod:`fatopt.definition_state`, recorded by :func:`watch`): a class, function or global the
  program changed since leaves the function as it was. Optimizing it again takes what the
  import took (scimark's 400 lines: ~45 ms); what it made is kept for later runs, which
  install it without the optimizer (:mod:`fatopt.first_call_cache`).
- Warnings the optimizer's compiles would repeat (``SyntaxWarning`` for an invalid escape)
  are not shown again; an internal failure is an :class:`~fatopt.optimizer.OptimizerWarning`
  naming the function, and the function keeps the code it had.

:func:`outcome` says what became of a function's watch (for tests, and for users asking why).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from types import CodeType, FunctionType

from _weakref import ref

__all__ = ["watch", "outcome", "outcomes", "source_digest", "install", "type_names"]

#: id(function) -> (weak reference to it, watched parameters, candidate classes, digest, the
#: module's definitions when the function was defined, its code then)
_watched: dict[int, tuple] = {}
#: (file, qualname, first line) -> what became of the watch
_outcomes: dict[tuple[str, str, int], str] = {}

WATCHING = "watching"
SPECIALIZED = "specialized"


def source_digest(text: str) -> str:
    """What names a module's source text in its watch statements."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key(code: CodeType) -> tuple[str, str, int]:
    return (code.co_filename, code.co_qualname, code.co_firstlineno)


def outcome(func: FunctionType) -> str | None:
    """What became of ``func``'s watch: ``"watching"`` (not called yet), ``"specialized"``, or
    why not (``"no class of the module"``, ``"source changed"``, ...); None if never watched."""
    code = getattr(func, "__code__", None)
    if not isinstance(code, CodeType):
        return None
    found = _outcomes.get(_key(code))
    if found is None:
        from fatopt import _guards as runtime

        info = runtime.get(func)  # a specialization's original code is the one watched
        if info is not None:
            found = _outcomes.get(_key(info[1]))
    return found


def outcomes() -> list[tuple[str, str, int, str]]:
    """Every watch of this process still known, as (file, qualname, first line, outcome): what
    :func:`fatopt.runtime.stats` and ``-X fatopt=stats`` report."""
    return sorted((*key, found) for key, found in _outcomes.items())


def watch(func: object, parameters: tuple[str, ...], classes: tuple[str, ...], digest: str) -> None:
    """Watch ``func``'s first call (see the module docstring); emitted after the ``def``.
    Does nothing when ``func`` is not a plain function or cannot be watched."""
    if type(func) is not FunctionType or not parameters or id(func) in _watched:
        return
    from fatopt import _guards as runtime
    from fatopt.definition_state import snapshot

    code = func.__code__  # type: ignore[attr-defined]
    state = snapshot(func.__globals__)  # type: ignore[attr-defined]
    entry = (ref(func, _forgetting(id(func))), tuple(parameters), tuple(classes), digest, state, code)
    if runtime.watch_first_call(func, _called):
        _watched[id(func)] = entry
        _outcomes[_key(code)] = WATCHING


def _forgetting(key: int):
    """The callback of the weak reference to a watched function."""
    return lambda _ref: _forget(key)


def _forget(key: int) -> None:
    """The watched function died before its first call."""
    entry = _watched.pop(key, None)
    if entry is not None:
        _outcomes.pop(_key(entry[-1]), None)


def _called(func: FunctionType, types: tuple[type, ...] | None) -> bool:
    """The runtime's hook, at a first call of ``func`` that binds ``types`` to its named
    parameters (None: the call cannot bind, and raises); whether to watch the next call too."""
    entry = _watched.get(id(func))
    if entry is None or entry[0]() is not func:
        return False
    if types is None:
        return True  # this call raises TypeError before the function runs: learn from the next
    del _watched[id(func)]
    code = entry[-1]
    try:
        result = _learn(func, entry, types)
    except (RecursionError, MemoryError) as exc:
        # the program's state, not a fault of fatopt's (the first call came deep in a
        # recursion): the function keeps its code, and the program sees nothing
        result = f"failed: {type(exc).__name__}"
    except Exception as exc:
        result = f"failed: {type(exc).__name__}: {exc}"
        from fatopt.optimizer import _warn

        _warn(code.co_filename, code.co_firstlineno,
              f"specializing {code.co_qualname} for its first call's types failed: {type(exc).__name__}: {exc}")
    _outcomes[_key(code)] = result
    return False


_type_module = type.__dict__["__module__"]
_type_qualname = type.__dict__["__qualname__"]


def type_names(types: tuple[type, ...], namespace: dict) -> tuple[tuple[str, str, bool], ...]:
    """``types`` named as a profile names them (module, qualified name, reachable: the module's
    namespace binds the qualified name to the type, so optimized code can name it through a
    guarded global)."""
    named = []
    for t in types:
        module = _type_module.__get__(t)
        qualname = _type_qualname.__get__(t)
        named.append((module if isinstance(module, str) else "?", qualname, namespace.get(qualname) is t))
    return tuple(named)


def _learn(func: FunctionType, entry: tuple, types: tuple[type, ...]) -> str:
    """Specialize ``func`` for ``types`` (those of its named parameters at its first call), if
    a watched parameter holds an instance of a candidate class; the outcome. What the optimizer
    makes of the types is kept for later runs (:mod:`fatopt.first_call_cache`), which then
    install it without the optimizer."""
    _func_ref, watched, classes, digest, state, code = entry
    if func.__code__ is not code:
        return "function changed"
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    named = type_names(types, func.__globals__)
    if not any(name in watched and qualname in classes and reachable
               for name, (_module, qualname, reachable) in zip(names, named, strict=True)):
        return "no class of the module"
    from fatopt import first_call_cache

    key = first_call_cache.key(digest, code.co_qualname, code.co_firstlineno, named)
    made = first_call_cache.load(code.co_filename, key)
    if made is None:
        from fatopt.respecialize import LASTING, make_for_types

        made = make_for_types(code, named, digest)
        if type(made) is tuple or made in LASTING:
            first_call_cache.store(code.co_filename, key, made)
    if isinstance(made, str):
        return made
    new_code, recipes, valid = made
    return install(func, new_code, recipes, valid, state)


def install(func: FunctionType, code: CodeType, recipes: tuple, valid: str | None, state) -> str:
    """Put ``code`` in place of ``func``'s specialization, under the guards of ``recipes`` and
    the validity flag ``valid``, if each object the guards capture is the one ``state`` (a
    :class:`fatopt.definition_state.DefinitionState`) recorded; the outcome."""
    from fatopt import _guards as runtime

    builtins = func.__builtins__  # type: ignore[attr-defined]
    conditions = [c for recipe in recipes for c in runtime.conditions(recipe, func.__globals__, builtins)]
    if not state.matches(conditions, func.__globals__, builtins):
        return "a definition changed since the function's"
    runtime.respecialize(func, code, recipes, valid)
    return SPECIALIZED
