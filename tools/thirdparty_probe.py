"""A pytest plugin for tools/thirdparty_check.py: records, at the end of a test session, which
modules ran optimized by fatopt and how many functions it specialized in each.

thirdparty_check.py copies this file into the test venv's site-packages as
``fatopt_thirdparty_probe`` and runs ``pytest -p fatopt_thirdparty_probe``. It writes JSON to the
file named by the environment variable FATOPT_THIRDPARTY_PROBE: for every module loaded from a
``.py`` file, its name, file, loader class and whether a fatopt cache file exists for it and whether it ran from one; and
``fatopt.stats()`` counts per module when fatopt is on. It never changes a test's outcome.

Two loaders run fatopt's code: importlib's ``SourceFileLoader``, which fatopt's import hook serves
from fatopt's cache file (``mod.cpython-313.opt-fatoptXXXXXXXX.pyc``), and pytest's assertion
rewriting, which fatopt's pytest plugin serves from pytest's cache file under fatopt's tag
(``test_x.cpython-313-pytest-9.2.0.opt-fatoptXXXXXXXX.pyc``).
"""

from __future__ import annotations

__fatopt__ = {"enabled": False}  # the probe itself stays plain: it must not count itself

import glob
import importlib.util
import json
import os
import sys

OUTPUT_VARIABLE = "FATOPT_THIRDPARTY_PROBE"
SOURCE_LOADER = "_frozen_importlib_external.SourceFileLoader"
REWRITE_LOADER = "_pytest.assertion.rewrite.AssertionRewritingHook"


def fatopt_cache_files(source: str) -> list[str]:
    """fatopt's cache files for ``source``: beside the normal .pyc (or under sys.pycache_prefix),
    named ``<stem>.<tag>.opt-fatopt<hash>.pyc``."""
    try:
        normal = importlib.util.cache_from_source(source)
    except (NotImplementedError, ValueError):
        return []
    stem = normal[: -len(".pyc")]
    return sorted(glob.glob(glob.escape(stem) + ".opt-fatopt*.pyc"))


def rewrite_cache_files(source: str) -> list[str]:
    """fatopt's cache files for ``source`` loaded by pytest's assertion rewriting: pytest's own
    cache file name (``get_cache_dir`` and ``PYC_TAIL``) with fatopt's tag before the extension."""
    try:
        from pathlib import Path

        from _pytest.assertion import rewrite
    except ImportError:
        return []
    path = Path(source)
    stem = path.name[:-3] + rewrite.PYC_TAIL[: -len(".pyc")]
    directory = rewrite.get_cache_dir(path)
    return sorted(glob.glob(glob.escape(str(directory / stem)) + ".opt-fatopt*.py[co]"))


def loaded_modules() -> list[dict]:
    """Every module in sys.modules that came from a .py file."""
    rows = []
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if not isinstance(source, str) or not source.endswith(".py"):
            continue
        spec = getattr(module, "__spec__", None)
        loader = getattr(spec, "loader", None) or getattr(module, "__loader__", None)
        rows.append({
            "name": name,
            "file": os.path.realpath(source),
            "loader": f"{type(loader).__module__}.{type(loader).__qualname__}",
            "fatopt_cached": bool(fatopt_cache_files(source)),
        })
        # a module ran optimized if the loader that ran it has a fatopt cache file for it: a cache
        # file of the other loader (fatopt compileall writes fatopt's for test modules too) proves nothing
        row = rows[-1]
        if row["loader"] == REWRITE_LOADER:
            row["fatopt_cached"] = bool(rewrite_cache_files(source))
        row["optimized"] = row["fatopt_cached"] and row["loader"] in (SOURCE_LOADER, REWRITE_LOADER)
    return rows


def specialized_per_module() -> dict[str, int] | None:
    """Live specialized functions per module name, or None when fatopt is off."""
    if "fatopt" not in sys.modules and "_fatopt_importhook" not in sys.modules:
        return None
    import fatopt

    if fatopt.get_config() is None:
        return None
    counts: dict[str, int] = {}
    for row in fatopt.stats()["functions"]:
        module = row["function"].rsplit(".", 1)[0]
        # qualnames hold dots too ("mod.Class.method"): the longest loaded module name wins
        while module and module not in sys.modules:
            module = module.rpartition(".")[0]
        counts[module] = counts.get(module, 0) + 1
    return counts


def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ARG001 - pytest's hook signature
    """Write the probe's JSON once all tests ran (modules imported by tests are loaded by now)."""
    output = os.environ.get(OUTPUT_VARIABLE)
    if not output:
        return
    data = {"modules": loaded_modules(), "specialized": specialized_per_module()}
    with open(output, "w", encoding="utf-8") as file:
        json.dump(data, file)
