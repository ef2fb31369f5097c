"""``python -X fatopt app.py``: run the main script optimized.

The import system never sees the main script: the interpreter compiles it itself. CPython raises
the audit event ``cpython.run_file`` just before; an audit hook installed at start-up, in C (a
Python hook would cost every audited event of the process, such as each ``id()`` call, a Python
call), catches it, runs the script's optimized code in the real ``__main__`` module, and ends the process with
the script's outcome by raising ``SystemExit``, which the interpreter handles as if the script
had raised it. Tracebacks are cut to the user's frames and printed through ``sys.excepthook``,
as plain Python prints them. Anything this does not handle (``-i``, an unreadable file, an
internal error) returns from the hook and lets CPython run the file as usual.

``-m`` needs nothing of this: runpy loads the module through the import hook.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys

__all__ = ["install", "run_main"]

_installed = False
_interrupted = False


def install() -> None:
    """Arrange for the main script to run optimized, if this process runs one."""
    global _installed
    if _installed or not sys.argv or sys.argv[0] in ("", "-c", "-m") or sys.flags.inspect:
        return  # -c, -m (runpy uses the import hook), the prompt and -i need nothing here
    _installed = True
    import atexit

    # Registered first, so it runs after every handler the program registers (LIFO).
    atexit.register(_exit_like_sigint)
    if not _watch_main_start():
        from fatopt import _guards

        _guards.install_main_hook(lambda args: run_main(args[0]))


# -- catching the main script ------------------------------------------------------------------
# Preferred: sys.monitoring. A PY_START callback, active only from start-up until the main
# module's code starts, runs the optimized module instead and ends the process; then the tool is
# freed and nothing stays installed. (An audit hook would stay for the whole process and cost
# every audited event - each id() and sys._getframe() call - for good.)

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
    # to run its first instruction: run the optimized module instead, then end the process
    # with its outcome (the plain frame never executes an instruction).
    run_main(path)
    return None


def run_main(path: str) -> None:
    """Run ``path`` as ``__main__``, optimized; always ends by raising SystemExit, unless the
    script cannot be handled here (then it returns and CPython runs it plainly)."""
    try:
        from fatopt.importer import OptimizingLoader

        loader = OptimizingLoader("__main__", path)
        code = loader.get_code("__main__")
    except SyntaxError as exc:
        exc.__traceback__ = None  # plain CPython shows no traceback for a script's syntax error
        _report(exc)
        raise SystemExit(1) from None
    except Exception:
        return  # not ours to handle: CPython compiles and runs the file itself
    namespace = sys.modules["__main__"].__dict__
    namespace["__file__"] = path
    namespace["__cached__"] = None
    namespace["__loader__"] = loader
    try:
        exec(code, namespace)
    except SystemExit:
        raise
    except BaseException as exc:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code is not code:
            tb = tb.tb_next  # drop fatopt's own frames
        exc.__traceback__ = tb
        _report(exc)
        if isinstance(exc, KeyboardInterrupt):
            global _interrupted
            _interrupted = True
        raise SystemExit(1) from None
    raise SystemExit(0)


def _report(exc: BaseException) -> None:
    """What the interpreter does with an unhandled exception: remember it, print it."""
    sys.last_exc = exc
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
    try:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    except BaseException:
        import traceback

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
