"""fatopt: guarded function specialization for CPython 3.12+.

Functions get specialized code (constants folded, pure builtin calls replaced by their result,
...) that stays in place only while its assumptions hold; a C runtime watches the assumptions and
puts the original code back the instant one breaks. See README.md and docs/.
"""

from fatopt._support import PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt._support

from fatopt._support import AVAILABLE, UNAVAILABLE_REASON
from fatopt._version import __version__

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
    "Config",
    "Report",
]

# Everything is imported on first use: this package is imported at start-up by every
# `python -X fatopt` run (fatopt._activate), and optimized modules import fatopt.runtime (and so
# this package) at run time; neither must pay for the optimizer.
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


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fatopt' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
