"""fatopt: guarded function specialization for CPython 3.12+.

Functions get specialized code (constants folded, pure builtin calls replaced by their result,
...) that stays in place only while its assumptions hold; a C runtime watches the assumptions and
puts the original code back the instant one breaks. See README.md and docs/.

``python -X fatopt`` starts with the C import hook alone (``fatopt.pth`` ->
``_fatopt_importhook.activate``); this package is imported by the first optimized module with
specialized functions, or by the program. It imports nothing: the API below is loaded on first use, and
even ``AVAILABLE``, which means loading the C extension, is computed when first asked for.

PYTEST_DONT_REWRITE: fatopt registers a pytest plugin (:mod:`fatopt.pytest_plugin`), so pytest
marks this package for assertion rewriting, and warns ("Module already imported so cannot be
rewritten") when it was imported before, as it is under fatopt; this word in the docstring tells
pytest to leave it alone.
"""

import sys

__version__ = "0.1.0"  # the single place the version is written (pyproject reads it)

__all__ = [
    "__version__",
    "AVAILABLE",
    "UNAVAILABLE_REASON",
    "specialize",
    "register",
    "unspecialize",
    "get_specialized",
    "stats",
    "optimize_ast",
    "optimize_source",
    "get_config",
    "tracing_active",
    "Config",
    "Report",
]

#: The builtins as they were at activation (the C import hook takes them when fatopt.pth loads
#: it, before sitecustomize and the program can patch anything), or else when fatopt was first
#: imported. What the optimizer calls to fold ``len("abc")`` and what ``GuardBuiltins`` requires, so
#: the two always agree.
_ORIGINAL_BUILTINS: dict = (
    sys.modules["_fatopt_importhook"].original_builtins()  # taken at start-up, by fatopt.pth
    if "_fatopt_importhook" in sys.modules
    else dict(__builtins__ if isinstance(__builtins__, dict) else __builtins__.__dict__)
)

#: The ``__builtins__`` of every fatopt module (``from fatopt import _PRIVATE_BUILTINS as
#: __builtins__``): functions take their builtins from their module's ``__builtins__`` when they
#: are created, so fatopt's code keeps the real builtins while the program it runs in patches
#: ``builtins.len`` or ``builtins.tuple`` (the optimizer and the registration of specialized
#: functions run inside the user's program). A copy: the optimizer may not mutate what it folds
#: with, nor the program what fatopt runs on.
_PRIVATE_BUILTINS: dict = dict(_ORIGINAL_BUILTINS)
__builtins__ = _PRIVATE_BUILTINS  # this module's own functions, defined below, too

_unavailable: "str | None | bool" = False  # False: not computed yet


def unavailable_reason() -> "str | None":
    """Why specialization cannot run here, or None when it can (computed once)."""
    global _unavailable
    if _unavailable is False:
        if sys.implementation.name != "cpython":
            _unavailable = f"fatopt needs CPython 3.12+, this is {sys.implementation.name}"
        elif sys.version_info < (3, 12):
            _unavailable = (
                "fatopt needs CPython 3.12+ (dict, function and type watchers); "
                f"this is {sys.version.split()[0]}"
            )
        else:
            try:
                from fatopt import _guards  # noqa: F401
            except ImportError as exc:  # pragma: no cover - a broken build
                _unavailable = f"fatopt's C extension fatopt._guards could not be imported: {exc}"
            else:
                _unavailable = None
    return _unavailable


_told_unavailable = False


def tell_unavailable(consequence: str) -> None:
    """One line on stderr, once per process: why fatopt cannot serve this interpreter, and
    ``consequence`` (what happens instead)."""
    global _told_unavailable
    if not _told_unavailable:
        _told_unavailable = True
        sys.stderr.write(f"{unavailable_reason()}; {consequence}\n")  # (the reason starts "fatopt ...")


def _asked_for() -> bool:
    """-X fatopt or PYTHONFATOPT (as the interpreter reads it) asks for fatopt on."""
    off = ("0", "off", "no", "false", "")
    value = sys._xoptions.get("fatopt")
    if value is None and not sys.flags.ignore_environment:
        import os  # (site imported it already)

        value = os.environ.get("PYTHONFATOPT")
    return value is not None and (value is True or str(value).strip().lower() not in off)


if sys.version_info < (3, 12) and _asked_for():
    # No start-up hook serves this interpreter (fatopt.pth has none, or fatopt is on the path
    # without it): the program importing fatopt is the first chance to say so.
    tell_unavailable("running unoptimized")

# Everything else is imported on first use: optimized modules import fatopt.runtime (and so
# this package) at run time, and must not pay for the optimizer.
_LAZY = {
    "specialize": "fatopt.runtime",
    "register": "fatopt.runtime",
    "unspecialize": "fatopt.runtime",
    "get_specialized": "fatopt.runtime",
    "stats": "fatopt.runtime",
    "optimize_ast": "fatopt.optimizer",
    "optimize_source": "fatopt.optimizer",
    "Config": "fatopt.config",
    "Report": "fatopt.results",
}


def get_config():
    """The optimizer ``Config`` in force in this process (from ``-X fatopt=...`` /
    ``PYTHONFATOPT``), or None when fatopt is not on."""
    from fatopt.importer import installed_options

    options = installed_options()
    if options is None:
        return None
    from fatopt.compiler import config_for

    return config_for(options)


def tracing_active() -> "str | None":
    """Which tracer, profiler or ``sys.monitoring`` tool is active, if one is: modules imported
    now load unoptimized, so that debuggers, profilers and coverage see plain code (for example
    ``"sys.settrace: bdb.Bdb.trace_dispatch"``, ``"sys.monitoring tool 2: 'cProfile'"``), else
    None. Asks about this thread's trace and profile functions and tools 0-5 (not fatopt's own
    watcher for the main script's start), as the import hook does for each module."""
    import _fatopt_importhook

    return _fatopt_importhook.tracing_active()


def __getattr__(name: str):
    if name == "UNAVAILABLE_REASON":
        return unavailable_reason()
    if name == "AVAILABLE":
        return unavailable_reason() is None
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fatopt' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
