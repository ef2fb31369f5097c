"""The Makefile, as a newcomer meets it (README's `make demo`/`make test`): it finds a CPython >= 3.12
on PATH or among pyenv's versions and says which, and the demo installs nothing but fatopt. Dry
runs (`make -n`): nothing is built."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
#: the real interpreter behind this test run (not its venv's)
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))

pytestmark = pytest.mark.skipif(MAKE is None, reason="no make")


def dry_run(*args, env=None):
    # --no-print-directory: run from within make (CI's `make test`), a sub-make would print
    # "make[1]: Entering/Leaving directory" lines around its output
    return subprocess.run([MAKE, "-n", "-B", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def link(directory: Path, name: str, target: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).symlink_to(target)


def test_finds_a_pyenv_python_that_is_not_on_path_and_says_so(tmp_path):
    # PATH holds only the tools the Makefile's search runs (ls, sort): no Python at all; pyenv's
    # versions are where PYENV_ROOT says, as a pyenv install leaves them; an older one is passed over
    bin_dir = tmp_path / "bin"
    for tool in ("ls", "sort"):
        link(bin_dir, tool, shutil.which(tool))
    versions = tmp_path / "pyenv" / "versions"
    major_minor = "%d.%d" % sys.version_info[:2]
    link(versions / f"{major_minor}.0" / "bin", f"python{major_minor}", BASE_PYTHON)
    old = shutil.which("python3.11")
    if old:
        link(versions / "3.11.0" / "bin", "python3.11", old)
    env = {"PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "pyenv"), "HOME": str(tmp_path)}
    proc = dry_run("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    picked = str(versions / f"{major_minor}.0" / "bin" / f"python{major_minor}")
    assert f"make: using {picked} (CPython {sys.version.split()[0]}" in proc.stdout
    assert f"{picked} -m venv .venv-{major_minor}" in proc.stdout


def test_says_clearly_when_there_is_no_python_to_use(tmp_path):
    env = {"PATH": str(tmp_path), "PYENV_ROOT": str(tmp_path / "none"), "HOME": str(tmp_path)}
    proc = dry_run("demo", env=env)
    assert proc.returncode != 0
    assert "no CPython >= 3.12 found on PATH or in" in proc.stderr
    proc = dry_run("demo", f"PYTHON={tmp_path / 'nope'}")
    assert proc.returncode != 0 and "is not CPython >= 3.12" in proc.stderr


def test_demo_installs_fatopt_alone_and_test_only_the_test_extra():
    demo = dry_run("demo", f"PYTHON={BASE_PYTHON}")
    assert demo.returncode == 0, demo.stderr
    installs = [line for line in demo.stdout.splitlines() if "pip install" in line]
    assert any(line.endswith("-e .") for line in installs), installs
    assert not any("[" in line or "-r " in line or "bench" in line or "pyperformance" in line for line in installs)
    assert demo.stdout.splitlines()[-1].endswith("-X fatopt examples/demo.py")
    test = dry_run("test", f"PYTHON={BASE_PYTHON}")
    assert test.returncode == 0, test.stderr
    assert "optional-dependencies" in test.stdout and ".extra-test" in test.stdout
    assert ".extra-bench" not in test.stdout
