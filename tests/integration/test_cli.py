"""The fatopt command: compileall (mirroring python -m compileall), show, diff, run, --version,
usage errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .helpers import fatopt_caches, normal_caches, python, write

SOURCE = 'DEBUG = False\ndef f():\n    if DEBUG:\n        print("debug")\n    return len("abc")\n'


def fatopt_cmd(*args, **kwargs):
    return python("-m", "fatopt", *args, fatopt=None, **kwargs)


@pytest.fixture
def tree(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/a.py", SOURCE)
    write(tmp_path, "pkg/sub/b.py", SOURCE)
    write(tmp_path, "pkg/skipme.py", SOURCE)
    write(tmp_path, "pkg/broken.py", "def (:\n")
    return tmp_path


def test_version_and_help(tmp_path):
    proc = fatopt_cmd("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("fatopt ")
    for command in ("", "compileall", "show", "diff", "run"):
        proc = fatopt_cmd(*([command] if command else []), "--help", cwd=tmp_path)
        assert proc.returncode == 0 and "usage: fatopt" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [pytest.param([], id="no-command"), pytest.param(["frobnicate"], id="unknown-command"),
     pytest.param(["compileall", "-j", "two"], id="bad-int"), pytest.param(["show"], id="missing-file"),
     pytest.param(["run"], id="run-nothing"), pytest.param(["compileall", "-c", "no_such_option=1", "."], id="bad-config")],
)
def test_usage_errors_are_one_line_and_exit_2(args, tmp_path):
    proc = fatopt_cmd(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "error" in proc.stderr


def test_compileall_writes_fatopt_caches_and_summary(tree):
    proc = fatopt_cmd("compileall", "-q", "pkg", cwd=tree)
    assert proc.returncode == 1  # broken.py, as python -m compileall
    assert "broken.py" in proc.stderr
    summary = proc.stdout.strip().splitlines()[-1]
    assert "5 files" in summary and "1 syntax-error" in summary and "functions specialized" in summary
    assert {n.split(".")[0] for n in fatopt_caches(tree)} == {"__init__", "a", "b", "skipme"}
    assert normal_caches(tree) == []


def test_compileall_options(tree):
    proc = fatopt_cmd("compileall", "-q", "-l", "-x", "skipme|broken", "pkg", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert {n.split(".")[0] for n in fatopt_caches(tree)} == {"__init__", "a"}
    again = fatopt_cmd("compileall", "-q", "-l", "-x", "skipme|broken", "pkg", cwd=tree)
    assert "2 up-to-date" in again.stdout
    forced = fatopt_cmd("compileall", "-q", "-f", "-l", "-x", "skipme|broken", "-j", "0", "pkg", cwd=tree)
    assert "2 compiled" in forced.stdout


def test_compileall_display_path_and_hash_mode(tree):
    proc = fatopt_cmd("compileall", "-q", "-d", "/installed", "--invalidation-mode", "checked-hash", "pkg/a.py", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    [cache] = [p for p in tree.rglob("a.*.opt-fatopt*.pyc")]
    import marshal

    data = cache.read_bytes()
    assert int.from_bytes(data[4:8], "little") == 0b11  # hash-based, checked
    assert marshal.loads(data[16:]).co_filename == "/installed/a.py"


def test_compileall_input_list(tree):
    listing = tree / "files.txt"
    listing.write_text("pkg/a.py\npkg/sub\n")
    proc = fatopt_cmd("compileall", "-q", "-i", str(listing), cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert {n.split(".")[0] for n in fatopt_caches(tree)} == {"a", "b"}


def test_precompiled_cache_is_used_by_the_import_hook(tree):
    assert fatopt_cmd("compileall", "-q", "-x", "broken", "pkg", cwd=tree).returncode == 0
    out = python("-c", "import fatopt, pkg.a; print(pkg.a.f(), bool(fatopt.get_specialized(pkg.a.f)))", cwd=tree, fatopt="verbose")
    assert out.stdout.split() == ["3", "True"], out.stderr
    # not optimized again: verbose says each came from the cache
    assert f"{tree / 'pkg/a.py'}: from cache, with specialized functions" in out.stderr
    assert f"{tree / 'pkg/__init__.py'}: from cache" in out.stderr
    assert ": optimized" not in out.stderr


def test_show_and_diff(tree):
    show = fatopt_cmd("show", "pkg/a.py", cwd=tree)
    assert show.returncode == 0, show.stderr
    assert show.stdout.startswith("# fatopt show pkg/a.py")
    assert "GuardBuiltins('len')" in show.stdout
    compile(show.stdout, "shown", "exec")
    diff = fatopt_cmd("diff", "pkg/a.py", cwd=tree)
    assert diff.returncode == 1  # differences, as diff(1)
    assert diff.stdout.startswith("--- pkg/a.py\n+++ pkg/a.py (fatopt)\n")
    broken = fatopt_cmd("show", "pkg/broken.py", cwd=tree)
    assert broken.returncode == 2 and "SyntaxError" in broken.stderr  # trouble, as diff(1)
    missing = fatopt_cmd("show", "nope.py", cwd=tree)
    assert missing.returncode == 2 and "cannot read nope.py" in missing.stderr


def test_run_script_and_module(tree):
    write(tree, "app.py", "import sys, fatopt, pkg.a\nprint(pkg.a.f(), bool(fatopt.get_specialized(pkg.a.f)), sys.argv[1:])\nsys.exit(4)\n")
    proc = fatopt_cmd("run", "app.py", "x", "--flag", cwd=tree)
    assert proc.returncode == 4
    assert proc.stdout.split("\n")[0] == "3 True ['x', '--flag']"
    proc = fatopt_cmd("run", "-m", "app", "y", cwd=tree)
    assert proc.stdout.split("\n")[0] == "3 True ['y']"


@pytest.mark.parametrize("args", [["pkg", "pkg/sub"], ["pkg", "./pkg/sub/b.py", "pkg/a.py"], ["pkg/sub", "pkg"]])
def test_compileall_counts_a_file_found_under_two_arguments_once(tree, args):
    # a package and its own tests folder, say: the folder's files are compiled and counted once
    proc = fatopt_cmd("compileall", "-q", "-x", "broken", *args, cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert "4 files (4 compiled)" in proc.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("command", ["show", "diff"])
def test_output_cut_short_by_a_closed_pipe_ends_quietly(tmp_path, command):
    # far more than a pipe's buffer (64 KiB on Linux), so the writer is still writing when the
    # reader goes away, as in `fatopt diff FILE | head`
    write(tmp_path, "big.py", "".join(f"def f_{i}():\n    return len('{i} {'padding ' * 4}')\n" for i in range(1000)))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONFATOPT", "PYTHONUNBUFFERED")}
    proc = subprocess.Popen([sys.executable, "-m", "fatopt", command, "big.py"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after its line
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141, stderr  # 128 + SIGPIPE, what a shell shows for `yes | head`
    assert first and stderr == ""


def test_compileall_finds_a_file_behind_a_linked_directory_once_but_keeps_a_linked_file(tree):
    from fatopt.compileall import find_sources

    (tree / "alias").symlink_to(tree / "pkg" / "sub")  # the same directory: the same cache files
    (tree / "pkg" / "sub" / "c.py").symlink_to(tree / "pkg" / "sub" / "b.py")  # imported as c: its own cache file
    found = [path for path, _root in find_sources([str(tree / "pkg" / "sub"), str(tree / "alias")], None, None)]
    assert [os.path.basename(p) for p in found] == ["b.py", "c.py"]


def test_run_module_passes_everything_after_the_module_through(tree):
    # like `python -m MOD -n 2`: options after the module name are the module's, even those
    # spelt like fatopt's own (-c, -m, --help)
    write(tree, "app.py", "import sys, fatopt, pkg.a\nprint(pkg.a.f(), bool(fatopt.get_specialized(pkg.a.f)), sys.argv[1:])\n")
    passed = ["-n", "2", "-c", "unroll_loops=9", "-m", "x", "--help", "--", "rest"]
    proc = fatopt_cmd("run", "-m", "app", *passed, cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == f"3 True {passed!r}"
    proc = fatopt_cmd("run", "-c", "unroll_loops=4", "-m", "app", "-n", "2", cwd=tree)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == "3 True ['-n', '2']"
    proc = fatopt_cmd("run", "app.py", "-m", "y", "-c", "z", cwd=tree)
    assert proc.stdout.split("\n")[0] == "3 True ['-m', 'y', '-c', 'z']"


APP = '''"""A module with comments, blank lines and methods."""
import os

# settings
DEBUG = False
UNITS = ("B", "KiB")


def log(message):
    # say it only when debugging
    if DEBUG:
        print("debug:", message)
    return message


class Table:
    """A table."""

    width = 3

    @staticmethod
    def header():
        """Three."""
        return len("abc")  # three

    def other(self):
        return os.sep


def plain(x):
    return x + 1
'''


def _spans_of_changed_functions(source):
    """(first line, last line) of `log` and `Table.header`, decorators included."""
    import ast

    tree = ast.parse(source)
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in ("log", "header")]
    return [(min([n.lineno] + [d.lineno for d in n.decorator_list]), n.end_lineno) for n in nodes]


def _removed_line_numbers(diff_text):
    """The line numbers (in the original file) of the lines a unified diff removes."""
    import re

    removed, number = [], 0
    for line in diff_text.splitlines()[2:]:
        hunk = re.match(r"@@ -(\d+)", line)
        if hunk:
            number = int(hunk.group(1))
        elif line.startswith("-"):
            removed.append(number)
            number += 1
        elif line.startswith(" "):
            number += 1
    return removed


def test_diff_shows_only_the_changed_functions(tmp_path):
    write(tmp_path, "app.py", APP)
    proc = fatopt_cmd("diff", "app.py", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # differences, as diff(1) says
    lines = APP.splitlines()
    spans = _spans_of_changed_functions(APP)
    removed = _removed_line_numbers(proc.stdout)
    assert removed, proc.stdout
    for number in removed:  # every removed line is a line of a changed function, at its place
        assert any(first <= number <= last for first, last in spans), (number, proc.stdout)
    minus = [line[1:] for line in proc.stdout.splitlines()[2:] if line.startswith("-")]
    assert minus == [lines[n - 1] for n in removed]  # the line numbers match the file
    added = [line[1:] for line in proc.stdout.splitlines()[2:] if line.startswith("+")]
    for kept in ("# settings", "    # say it only when debugging", '    """A table."""', "    def other(self):"):
        assert kept not in added and kept not in minus


def test_show_keeps_the_files_text_outside_changed_functions(tmp_path):
    write(tmp_path, "app.py", APP)
    proc = fatopt_cmd("show", "app.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, _, shown = proc.stdout.partition("\n\n")
    assert "specialize log" in header and "specialize Table.header" in header
    spans = _spans_of_changed_functions(APP)
    unchanged = [line for number, line in enumerate(APP.splitlines(), 1)
                 if not any(first <= number <= last for first, last in spans)]
    kept = [line for line in shown.splitlines() if line in unchanged]
    assert kept == unchanged  # in order, each once, as written
    assert '        print("debug:", message)' in shown  # the fallback is the function as written
    namespace: dict = {}
    exec(compile(shown, "shown", "exec"), namespace)  # the text runs, and does the same
    assert namespace["Table"].header() == 3 and namespace["log"]("x") == "x"


def test_diff_exits_0_without_changes(tmp_path):
    write(tmp_path, "plain.py", "def f(x):\n    return x + 1\n")
    proc = fatopt_cmd("diff", "plain.py", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


@pytest.mark.parametrize(
    "optout",
    [pytest.param('__fatopt__ = {"enabled": False}\n', id="module"),
     pytest.param(None, id="pragma")],
)
def test_show_and_diff_honour_opt_outs(tmp_path, optout):
    source = SOURCE.replace("def f():", "def f():  # fatopt: off") if optout is None else optout + SOURCE
    write(tmp_path, "m.py", source)
    show = fatopt_cmd("show", "m.py", cwd=tmp_path)
    assert show.returncode == 0, show.stderr
    header, _, shown = show.stdout.partition("\n\n")
    assert shown == source  # what would really run: the file as written
    assert "enabled" in header if optout else "fatopt: off" in header
    diff = fatopt_cmd("diff", "m.py", cwd=tmp_path)
    assert (diff.returncode, diff.stdout) == (0, "")


@pytest.mark.parametrize("command", ["show", "diff"])
@pytest.mark.parametrize(
    "content, message",
    [pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\xff", "not Python source", id="binary"),
     pytest.param("x = 'caf\u00e9'\n".encode("latin-1"), "not valid UTF-8", id="latin-1"),
     pytest.param(b"# -*- coding: nosuch -*-\nx = 1\n", "nosuch", id="unknown-coding"),
     pytest.param(None, "is a directory", id="directory"),
     pytest.param(b"def (:\n", "SyntaxError", id="syntax-error")],
)
def test_show_and_diff_errors_are_one_line_and_exit_2(tmp_path, command, content, message):
    if content is None:
        (tmp_path / "m.py").mkdir()
    else:
        (tmp_path / "m.py").write_bytes(content)
    proc = fatopt_cmd(command, "m.py", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    if message != "SyntaxError":  # CPython's own report of a syntax error is several lines
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message in proc.stderr and "m.py" in proc.stderr
