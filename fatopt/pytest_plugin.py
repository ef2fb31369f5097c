"""fatopt's pytest plugin (entry point ``pytest11``, name ``fatopt``): under fatopt, the modules
pytest's assertion rewriting compiles itself (test modules, ``conftest.py`` files) run optimized
too, and from a cache.

pytest loads every installed plugin in every run, so this module does nothing and imports nothing
unless fatopt is on in the process (``-X fatopt`` or ``PYTHONFATOPT``); the work is in
:mod:`fatopt.pytest_rewrite`. ``-p no:fatopt`` turns it off.

PYTEST_DONT_REWRITE: pytest marks every package of a plugin's distribution for assertion
rewriting; fatopt's own modules have no asserts for pytest to explain.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys

import pytest

__all__ = ["pytest_load_initial_conftests", "pytest_configure", "pytest_unconfigure"]

_installed: dict = {}  # id(config) -> the RewriteOptimizer installed for that pytest session
_not_installed: dict = {}  # id(config) -> why the modules pytest rewrites run plain


def _fatopt_on() -> bool:
    hook = sys.modules.get("_fatopt_importhook")  # loaded at start-up by fatopt.pth when fatopt is on
    return hook is not None and hook.options() is not None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config) -> None:
    """Before the first conftest.py is imported: hook fatopt's optimizer into pytest's rewriting."""
    if not _fatopt_on():
        return
    from fatopt import pytest_rewrite

    installed, reason = pytest_rewrite.install(getattr(early_config.pluginmanager, "rewrite_hook", None))
    if installed is not None:
        _installed[id(early_config)] = installed
    elif reason is not None:
        _not_installed[id(early_config)] = reason


def pytest_configure(config) -> None:
    """Say why the modules pytest rewrites run plain, in verbose mode: said here, because pytest
    captures the output of the hook above."""
    reason = _not_installed.pop(id(config), None)
    if reason is not None:
        from fatopt import importer

        options = importer.installed_options()
        if options is not None and options.verbose:
            print(f"fatopt: pytest: {reason}; the modules pytest's assertion rewriting loads run unoptimized",
                  file=sys.stderr)


def pytest_unconfigure(config) -> None:
    installed = _installed.pop(id(config), None)
    if installed is not None:
        installed.uninstall()
