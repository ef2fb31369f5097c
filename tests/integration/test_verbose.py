"""Verbose mode on the realistic-app shape (tests/fixtures/realistic_app): it logs the user's own
modules only (``verbose=all``: every module), each function's outcome with the reason it was
not specialized, and on a warm start one line per module loaded from the cache, without the
optimizer."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .helpers import python

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "realistic_app"
#: the modules `python -m inventory items.csv` imports from the package
APP_MODULES = ["__init__.py", "__main__.py", "cli.py", "config.py", "models.py", "report.py"]
RUN = ("-m", "inventory", "items.csv")


@pytest.fixture
def app(tmp_path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "app"


def logged_files(stderr: str) -> set[str]:
    return set(re.findall(r"^fatopt: (\S+?): ", stderr, re.M))


def test_verbose_logs_the_users_modules_cold_then_from_the_cache(app):
    plain = python(*RUN, cwd=app, fatopt=None)
    cold = python(*RUN, cwd=app, fatopt="verbose")
    assert cold.returncode == plain.returncode == 0, cold.stderr
    assert cold.stdout == plain.stdout
    package = app / "inventory"
    # only the app's modules, though argparse, dataclasses... were optimized too
    assert logged_files(cold.stderr) == {str(package / name) for name in APP_MODULES}
    assert f"fatopt: {package / 'report.py'}: optimized, 2 function(s) specialized" in cold.stderr
    assert (f"fatopt: {package / 'report.py'}: specialize log (line 12): imported_constants, remove_dead_code"
            in cold.stderr)
    assert (f"fatopt: {package / 'report.py'}: keep money (line 21): `config.CURRENCY` is read from the module "
            "`.config` (imported at line 4)" in cold.stderr.splitlines())
    assert f"fatopt: {package / 'cli.py'}: specialize build_parser (line 12): module_constants" in cold.stderr
    # warm: one line per module, from the cache, and the optimizer never imported
    warm = python(*RUN, cwd=app, fatopt="verbose")
    assert warm.stdout == plain.stdout
    assert sorted(warm.stderr.splitlines()) == sorted(
        f"fatopt: {package / name}: from cache, "
        + ("with specialized functions" if name in ("cli.py", "report.py") else "no function specialized")
        for name in APP_MODULES
    )
    check = python("-c", "import sys, inventory.report; print('fatopt.optimizer' in sys.modules)", cwd=app,
                   fatopt="verbose")
    assert check.stdout.strip() == "False"


def test_verbose_all_logs_the_standard_library_too(app):
    python(*RUN, cwd=app, fatopt="1")  # warm the cache
    everything = python(*RUN, cwd=app, fatopt="verbose=all")
    user = python(*RUN, cwd=app, fatopt="verbose")
    assert everything.stdout == user.stdout
    library = logged_files(everything.stderr) - logged_files(user.stderr)
    assert any(path.endswith("/argparse.py") for path in library), everything.stderr
    assert all(line.endswith(("from cache, no function specialized", "from cache, with specialized functions"))
               for line in everything.stderr.splitlines())


def test_not_verbose_says_nothing(app):
    cold = python(*RUN, cwd=app, fatopt="1")
    warm = python(*RUN, cwd=app, fatopt="1")
    assert cold.stderr == warm.stderr == ""
