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
what is tried. The first call itself runs the code it had.

How, and what it costs:

- ``sys.monitoring``'s PY_START event on the watched code objects only (local events: no other
  code is instrumented; on 3.12, which runs a code object that was once instrumented ~3% slower
  for good, on a copy of the function's code, whose own code is given back at the first call
  (the first call itself runs the copy); methods, functions the runtime already specialized at
  import, and any function when a profile is in use, are not watched there), on the tool id CPython reserves for optimizers
  (``sys.monitoring.OPTIMIZER_ID``), claimed on the first watch and kept; when another tool
  holds it, nothing is watched. The callback reads the parameters' types from the frame
  (``PyFrame_GetVar``: no copy of the locals) and returns ``DISABLE``: later calls run with no
  instrumentation at all. Callbacks run with tracing and monitoring of their own code off.
- The module's source is read again and must be the text optimized at import (its SHA-256 is
  in the watch statement); otherwise nothing changes. The guards of the specialization made
  then must capture what the source bound when the function was defined
  (:mod:`fatopt.definition_state`, recorded by :func:`watch`): a class, function or global the
  program changed since leaves the function as it was. Optimizing it again takes what the
  import took (scimark's 400 lines: ~45 ms, once per process).
- Warnings the optimizer's compiles would repeat (``SyntaxWarning`` for an invalid escape)
  are not shown again; an internal failure is an :class:`~fatopt.optimizer.OptimizerWarning`
  naming the function, and the function keeps the code it had.

:func:`outcome` says what became of a function's watch (for tests, and for users asking why).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys
from types import CodeType, FunctionType

from _weakref import ref

__all__ = ["watch", "outcome", "source_digest", "TOOL_ID"]

#: sys.monitoring.OPTIMIZER_ID (CPython reserves it for optimizers)
TOOL_ID = 5

#: code object -> (weak reference to its function, watched parameters, candidate classes, digest,
#: the module's definitions when the function was defined, the function's own code on 3.12)
_watched: dict[CodeType, tuple] = {}
#: (file, qualname, first line) -> what became of the watch
_outcomes: dict[tuple[str, str, int], str] = {}
_claimed = False

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


def _claim() -> bool:
    """Whether this process holds the optimizer's monitoring tool id (claimed now if free)."""
    global _claimed
    if _claimed:
        return True
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    try:
        monitoring.use_tool_id(TOOL_ID, "fatopt")
    except ValueError:  # another tool holds it: watch nothing
        return False
    monitoring.register_callback(TOOL_ID, monitoring.events.PY_START, _started)
    _claimed = True
    return True


def watch(func: object, parameters: tuple[str, ...], classes: tuple[str, ...], digest: str) -> None:
    """Watch ``func``'s first call (see the module docstring); emitted after the ``def``.
    Does nothing when ``func`` is not a plain function or the tool id is taken."""
    if type(func) is not FunctionType or not parameters or not _claim():
        return
    code = func.__code__  # type: ignore[attr-defined]
    if code in _watched:
        return
    restore = None
    if sys.version_info < (3, 13):
        # 3.12 runs an instrumented code object ~3% slower for good, even once its events are
        # off: instrument a copy, and give the function its own code back at the first call
        # (a method's code may be held by its callers' guards, which the copy would fail)
        from fatopt import _guards as runtime
        from fatopt.importer import installed_options

        if runtime.get(func) is not None or "." in code.co_qualname:
            return  # its code is the runtime's to swap, or a method's
        options = installed_options()
        if options is not None and options.profile is not None:
            # the first call runs the instrumented copy, ~3% slower: with a profile, which types
            # what the recorded run called, that costs more than it is likely to find
            return
        restore, code = code, code.replace()
        func.__code__ = code  # type: ignore[attr-defined]
    from fatopt.definition_state import snapshot

    state = snapshot(func.__globals__)  # type: ignore[attr-defined]
    _watched[code] = (ref(func, _forgetting(code)), tuple(parameters), tuple(classes), digest, state, restore)
    try:
        sys.monitoring.set_local_events(TOOL_ID, code, sys.monitoring.events.PY_START)
    except Exception:  # e.g. a code object monitoring cannot instrument: no watch
        _watched.pop(code, None)
        if restore is not None:
            func.__code__ = restore  # type: ignore[attr-defined]
        return
    _outcomes[_key(code)] = WATCHING


def _forgetting(code: CodeType):
    """The callback of the weak reference to a watched function."""
    return lambda _ref: _forget(code)


def _forget(code: CodeType) -> None:
    """The watched function died before its first call."""
    if _watched.pop(code, None) is not None:
        _outcomes.pop(_key(code), None)
        try:
            sys.monitoring.set_local_events(TOOL_ID, code, 0)
        except Exception:
            pass


def _started(code: CodeType, _offset: int) -> object:
    """PY_START of a watched code object: learn from this call, once."""
    entry = _watched.pop(code, None)
    if entry is not None:
        func, restore = entry[0](), entry[-1]
        if restore is not None and func is not None and func.__code__ is code:
            func.__code__ = restore  # this call runs the copy; the next ones the function's own
        try:
            result = _learn(code, entry, sys._getframe(1))
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
    return sys.monitoring.DISABLE


_type_qualname = type.__dict__["__qualname__"]


def _learn(code: CodeType, entry: tuple, frame) -> str:
    """Specialize the function of ``code`` for the types its call in ``frame`` has, if a
    watched parameter holds an instance of a candidate class; the outcome."""
    func_ref, watched, classes, digest, state, restore = entry
    func = func_ref()
    if func is None or func.__code__ is not (restore or code):
        return "function changed"
    code = func.__code__
    from fatopt import _guards as runtime

    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    types = runtime.argument_types(frame, names)
    namespace = func.__globals__
    found = False
    for name, t in zip(names, types, strict=True):
        if name in watched:
            qualname = _type_qualname.__get__(t)
            found = found or (qualname in classes and namespace.get(qualname) is t)
    if not found:
        return "no class of the module"
    from fatopt.respecialize import specialize_for_types

    return specialize_for_types(func, code, types, digest, state)
