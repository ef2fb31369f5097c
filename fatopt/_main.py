"""``python -X fatopt app.py``: what the main script's end needs, in Python.

The main script is caught and started by the C import hook (``fatopt/_importhook.c``, "the main
script"): a sys.monitoring PY_START callback (or, when no monitoring tool id is free, a C audit
hook on ``cpython.run_file``) gets the optimized code, arms the hook's ``_main_trampoline``
with it, makes that ``sys.excepthook`` and raises; the trampoline runs the code at top level in a
fresh ``__main__``. This module is imported only when the script ends with an unhandled
exception: it reports it as the interpreter does (``sys.last_*``, the ``sys.excepthook`` audit
event, ``sys.excepthook``), and after ``KeyboardInterrupt`` ends the process with SIGINT, as
plain CPython does (an atexit handler the hook registered first, so it runs last).

``-m`` needs nothing of this: runpy loads the module through the import hook.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys

__all__: list[str] = []

_interrupted = False


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
