"""``python -X fatopt app.py``: run the main script optimized.

The import system never sees the main script: the interpreter compiles it itself. CPython raises
the audit event ``cpython.run_file`` just before; an audit hook (installed at start-up) catches
it, runs the script's optimized code in the real ``__main__`` module, and ends the process with
the script's outcome by raising ``SystemExit``, which the interpreter handles as if the script
had raised it. Tracebacks are cut to the user's frames and printed through ``sys.excepthook``,
as plain Python prints them. Anything this does not handle (``-i``, an unreadable file, an
internal error) returns from the hook and lets CPython run the file as usual.

``-m`` needs nothing of this: runpy loads the module through the import hook.
"""

from __future__ import annotations

from fatopt._support import PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt._support

import sys

__all__ = ["install", "run_main"]

_installed = False
_interrupted = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    import atexit

    # Registered first, so it runs after every handler the program registers (LIFO).
    atexit.register(_exit_like_sigint)
    sys.addaudithook(_audit_hook)


def _audit_hook(event: str, args: tuple) -> None:
    global _installed
    if event != "cpython.run_file" or _installed is not True:
        return
    _installed = None  # once: the script itself may raise the event again (runpy, exec of files)
    if sys.flags.inspect:
        return  # -i: plain CPython keeps control for the interactive prompt afterwards
    run_main(args[0])


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
