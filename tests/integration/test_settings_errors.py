"""A bad setting is never silent, and costs nothing: wherever it is given (``-X fatopt=``,
``PYTHONFATOPT``, ``fatopt run --config``), one line on stderr names it and the valid choices,
and the program runs exactly as with fatopt off (no optimizer loaded, no file plain Python would
not write). A malformed module ``__fatopt__`` is reported once and leaves that module plain. On an
interpreter fatopt cannot serve (3.11), one line says why."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import _caches, python, write

APP = """
import sys
import fatopt, mod

def f():
    return 2 * 3 + len("abc")

print("result", f(), mod.g())
print("specialized", fatopt.get_specialized(f), fatopt.get_specialized(mod.g))
print("optimizer loaded", "fatopt.optimizer" in sys.modules or "fatopt.cache_miss" in sys.modules)
"""

MOD = """
def g():
    return len("abcd") * 10
"""

#: (the setting, what its one line must name: the item and part of the valid choices)
BAD_SETTINGS = [
    pytest.param("unroll_loop=4", ["'unroll_loop'", "did you mean 'unroll_loops'?", "unroll_loops=N"], id="typo"),
    pytest.param("nosuchkey=1", ["'nosuchkey'", "constant_folding=on|off", "unroll_loops=N"], id="unknown-key"),
    pytest.param("unroll_loops=abc", ["'unroll_loops=abc'", "whole number >= 0"], id="not-a-number"),
    pytest.param("unroll_loops=-1", ["'unroll_loops=-1'", "whole number >= 0"], id="negative"),
    pytest.param("constant_folding=2", ["'constant_folding=2'", "on or off"], id="not-a-switch"),
    pytest.param("verbose,bogus", ["'bogus'", "verbose"], id="unknown-word"),
    pytest.param("stat", ["'stat'", "did you mean 'stats'?"], id="stats-typo"),
    pytest.param("stats=maybe", ["'stats=maybe'", "on or off"], id="stats-not-a-switch"),
    pytest.param("verbose=al", ["'verbose=al'", "did you mean 'all'?", "all:inherit"], id="verbose-value"),
]

SOURCES = ["X", "env", "run"]


def _run(tmp_path: Path, setting: str | None, source: str) -> subprocess.CompletedProcess:
    if setting is None:
        return python("app.py", cwd=tmp_path, fatopt=None)
    if source == "X":
        return python("app.py", cwd=tmp_path, fatopt=setting)
    if source == "env":
        return python("app.py", cwd=tmp_path, fatopt=None, env={"PYTHONFATOPT": setting})
    return python("-m", "fatopt", "run", "--config", setting, "app.py", cwd=tmp_path, fatopt=None)


def _cache_files(directory: Path) -> list[str]:
    """The .pyc files written for the sources in ``directory`` (not the standard library's)."""
    return sorted(p.name for p in _caches(directory))


def _fresh(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name
    write(directory, "app.py", APP)
    write(directory, "mod.py", MOD)
    return directory


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("setting, named", BAD_SETTINGS)
def test_bad_setting_is_one_line_and_runs_as_plain(tmp_path, setting, named, source):
    plain_dir, bad_dir = _fresh(tmp_path, "plain"), _fresh(tmp_path, "bad")
    plain = _run(plain_dir, None, source)
    bad = _run(bad_dir, setting, source)
    assert plain.returncode == bad.returncode == 0, bad.stderr
    # the program's own output unchanged, nothing specialized, the optimizer never imported
    assert bad.stdout == plain.stdout
    assert "specialized [] []" in bad.stdout and "optimizer loaded False" in bad.stdout
    # exactly one line, naming the item, the choices and where it was given
    lines = bad.stderr.splitlines()
    assert len(lines) == 1, bad.stderr
    for text in named:
        assert text in lines[0]
    assert lines[0].startswith("fatopt: ") and "running unoptimized" in lines[0]
    assert ("PYTHONFATOPT=" if source == "env" else "-X fatopt=") in lines[0]
    # nothing written that plain Python does not write (no .pyc of the main script, no fatopt cache)
    assert _cache_files(bad_dir) == _cache_files(plain_dir) == ["mod.cpython-%d%d.pyc" % sys.version_info[:2]]


def test_good_setting_still_optimizes(tmp_path):
    """The counterpart: the same program with valid settings is optimized (the checks above can fail)."""
    directory = _fresh(tmp_path, "good")
    proc = _run(directory, "unroll_loops=4,constant_folding=ON", "X")
    assert proc.returncode == 0 and proc.stderr == ""
    assert "specialized [] []" not in proc.stdout and "optimizer loaded True" in proc.stdout


def test_bad_setting_in_compileall_is_one_line_and_writes_nothing(tmp_path):
    directory = _fresh(tmp_path, "tree")
    proc = python("-m", "fatopt", "compileall", "-c", "unroll_loop=4", ".", cwd=directory, fatopt=None)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "'unroll_loop'" in lines[0] and "did you mean 'unroll_loops'?" in lines[0]
    assert _cache_files(directory) == []


@pytest.mark.parametrize(
    "declaration, named",
    [
        pytest.param('{"enable": False}', ["'enable'", "did you mean 'enabled'?"], id="typo"),
        pytest.param('{"enabled": 0}', ["'enabled'", "True or False"], id="not-a-bool"),
        pytest.param('{"enabled": "no"}', ["'enabled'", "True or False"], id="a-string"),
        pytest.param("dict(enabled=False)", ["literal dict", "'enabled'"], id="not-a-literal"),
    ],
)
def test_malformed_module_settings_are_reported_and_leave_it_plain(tmp_path, declaration, named):
    directory = _fresh(tmp_path, "app")
    write(directory, "mod.py", f"__fatopt__ = {declaration}\n" + MOD)
    proc = python("app.py", cwd=directory)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "mod.py" in lines[0] and "__fatopt__" in lines[0] and "runs unoptimized" in lines[0]
    for text in named:
        assert text in lines[0]
    # the module with the bad declaration stays plain; the rest of the program is optimized
    assert "optimizer loaded True" in proc.stdout and proc.stdout.splitlines()[1].endswith(")])] []")
    assert "specialized []" not in proc.stdout


def test_malformed_module_settings_are_reported_once_per_process(capfd):
    from fatopt.compiler import compile_source

    source = '__fatopt__ = {"enable": False}\ndef g():\n    return len("ab")\n'
    for _ in range(3):
        result = compile_source(source, "/nowhere/once.py")
        assert result.report is None and "__fatopt__" in result.skipped
    assert len(capfd.readouterr().err.splitlines()) == 1


# -- an interpreter fatopt cannot serve --------------------------------------------------------


def _python311() -> str | None:
    found = sorted(glob.glob("/root/.pyenv/versions/3.11*/bin/python3.11"))
    for candidate in found + [shutil.which("python3.11") or ""]:
        if candidate and os.access(candidate, os.X_OK):
            try:
                out = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 11))"],
                                     capture_output=True, text=True, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if out.stdout.strip() == "True":
                return candidate
    return None


PYTHON311 = _python311()
CHECKOUT = str(Path(__file__).resolve().parents[2])  # the source tree (fatopt/, pyproject.toml)


def _run311(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    full_env.update(PYTHONPATH=CHECKOUT, PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    return subprocess.run([PYTHON311, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(PYTHON311 is None, reason="no Python 3.11 on this machine")
@pytest.mark.parametrize(
    "args, env, status, output",
    [
        pytest.param(["-X", "fatopt", "app.py"], {}, 0, "available False", id="X-fatopt"),
        pytest.param(["app.py"], {"PYTHONFATOPT": "1"}, 0, "available False", id="env"),
        pytest.param(["-m", "fatopt", "run", "app.py"], {}, 0, "available False", id="fatopt-run"),
        pytest.param(["-m", "fatopt", "compileall", "."], {}, 2, "", id="fatopt-compileall"),
    ],
)
def test_python311_says_why_in_one_line(tmp_path, args, env, status, output):
    write(tmp_path, "app.py", "import fatopt\nprint('available', fatopt.AVAILABLE)\n")
    proc = _run311(*args, cwd=tmp_path, env=env)
    assert proc.returncode == status, proc.stderr
    assert proc.stdout.strip() == output
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "3.12" in lines[0] and "3.11" in lines[0] and "Traceback" not in proc.stderr
    assert not list(tmp_path.rglob("*.pyc"))


@pytest.mark.skipif(PYTHON311 is None, reason="no Python 3.11 on this machine")
def test_python311_is_silent_when_fatopt_is_not_asked_for(tmp_path):
    write(tmp_path, "app.py", "import fatopt\nprint('available', fatopt.AVAILABLE)\n")
    for env in ({}, {"PYTHONFATOPT": "0"}):
        proc = _run311("app.py", cwd=tmp_path, env=env)
        assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "available False", "")


def test_install_refuses_old_interpreters():
    import tomllib

    with open(Path(CHECKOUT) / "pyproject.toml", "rb") as f:
        assert tomllib.load(f)["project"]["requires-python"] == ">=3.12"
