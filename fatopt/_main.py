"""``python -X fatopt app.py``: run the main script optimized.

The import system never sees the main script: the interpreter compiles and runs it itself. A hook
catches the moment it starts (a sys.monitoring PY_START callback on the script's module code, or,
when no monitoring tool id is free, a C audit hook on ``cpython.run_file``) and only prepares:
it gets the optimized code, arms ``fatopt._guards.main_trampoline`` with it, makes that
``sys.excepthook`` and raises. The plain frame unwinds before running an instruction, the
interpreter hands the exception to ``sys.excepthook``, and the trampoline (C, so no frame of ours
sits under the script's) puts the real hook back and runs the optimized module code in the real
``__main__``. The script does not run inside the hook: code run inside a monitoring callback is
never traced, so ``breakpoint()``, ``sys.settrace``, profilers and coverage would see nothing.
The outcome ends the process as the interpreter ends it: exit status 0, the script's own
``SystemExit``, or an unhandled exception printed through ``sys.excepthook`` (after the
``sys.excepthook`` audit event) and status 1; after ``KeyboardInterrupt``, SIGINT. Anything this
does not handle (``-i``, an unreadable file, an internal error) returns from the hook and lets
CPython run the file as usual.

``-m`` needs nothing of this: runpy loads the module through the import hook.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys

__all__ = ["install", "start"]

_installed = False
_interrupted = False


def install() -> None:
    """Arrange for the main script to run optimized (_fatopt_importhook.activate calls this when
    the process runs one: not -c, -m, the prompt or -i)."""
    global _installed
    if _installed:
        return
    _installed = True
    import atexit

    # Registered first, so it runs after every handler the program registers (LIFO).
    atexit.register(_exit_like_sigint)
    if not _watch_main_start():
        from fatopt import _guards

        _guards.install_main_hook(lambda args: start(args[0]))


# -- catching the main script ------------------------------------------------------------------
# Preferred: sys.monitoring. A PY_START callback, active only from start-up until the main
# module's code starts; then the tool is freed and nothing stays installed. (An audit hook
# would stay for the whole process and cost every audited event - each id() and
# sys._getframe() call - for good.)

_tool: int | None = None


def _watch_main_start() -> bool:
    global _tool
    monitoring = getattr(sys, "monitoring", None)
    if monitoring is None:
        return False
    for tool in (monitoring.OPTIMIZER_ID, 4, 3):
        try:
            monitoring.use_tool_id(tool, "fatopt")
        except ValueError:
            continue  # taken
        _tool = tool
        monitoring.register_callback(tool, monitoring.events.PY_START, _on_py_start)
        monitoring.set_events(tool, monitoring.events.PY_START)
        return True
    return False


def _release_tool() -> None:
    global _tool
    if _tool is not None:
        sys.monitoring.set_events(_tool, 0)
        sys.monitoring.register_callback(_tool, sys.monitoring.events.PY_START, None)
        sys.monitoring.free_tool_id(_tool)
        _tool = None


def _on_py_start(code, offset):
    if code.co_name != "<module>":
        return None
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or code.co_filename != path or sys._getframe(1).f_globals is not main.__dict__:
        return sys.monitoring.DISABLE if code.co_filename != path else None  # never this code again
    _release_tool()
    # The interpreter compiled the script (a syntax error was reported as usual) and is about
    # to run its first instruction.
    start(path)
    return None


class _StartOptimized(BaseException):
    """Raised by the hook that caught the script's start; only main_trampoline sees it."""


def start(path: str) -> None:
    """Arrange for the optimized code of ``path`` to run as ``__main__`` and raise
    _StartOptimized; or return (CPython then runs the file itself) if it cannot be had."""
    try:
        from _frozen_importlib_external import SourceFileLoader

        import _fatopt_importhook

        from fatopt import _guards

        loader = _fatopt_importhook.register(SourceFileLoader("__main__", path))
        code = loader.get_code("__main__")
    except Exception:
        return  # a syntax error included: CPython reports it, as plain Python does
    # A fresh __main__ module, as runpy makes for -m: the plain module frame that unwinds holds
    # its globals until the process ends (the interpreter keeps that exception while it runs
    # the trampoline); the script's objects must be freed when __main__ is, as plain.
    plain_main = sys.modules["__main__"]
    main = type(sys)("__main__")
    namespace = main.__dict__
    namespace.update(plain_main.__dict__)
    namespace["__cached__"] = None
    namespace["__loader__"] = loader
    sys.modules["__main__"] = main
    _guards.arm_main(code, namespace, sys.excepthook, _report_unhandled)
    sys.excepthook = _guards.main_trampoline
    # This frame stays alive with the exception (see above): it must not hold the new module.
    del main, namespace, code, loader, plain_main
    raise _StartOptimized


def _report_unhandled(exc: BaseException) -> None:
    """What the interpreter does with the main script's unhandled exception: remember it, raise
    the ``sys.excepthook`` audit event, print it through ``sys.excepthook``."""
    global _interrupted
    if isinstance(exc, KeyboardInterrupt):
        _interrupted = True
    sys.last_exc = exc
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
    hook = getattr(sys, "excepthook", None)
    try:
        sys.audit("sys.excepthook", hook, type(exc), exc, exc.__traceback__)
    except RuntimeError:
        return  # as CPython: an audit hook's RuntimeError means the hook is not called
    except Exception:
        pass
    try:
        if hook is None:
            raise RuntimeError("lost sys.excepthook")
        hook(type(exc), exc, exc.__traceback__)
    except BaseException as hook_exc:
        import traceback

        sys.stderr.write("Error in sys.excepthook:\n")
        traceback.print_exception(hook_exc)
        sys.stderr.write("\nOriginal exception was:\n")
        traceback.print_exception(exc)


def _exit_like_sigint() -> None:
    """Plain CPython ends with SIGINT after an unhandled KeyboardInterrupt; so do we."""
    if _interrupted:
        import os
        import signal

        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
