"""``-X fatopt=stats`` / ``PYTHONFATOPT=stats``: one summary line on stderr at exit (modules from
the cache / optimized now / left plain, functions specialized and active, invalidations and
revalidations), for this process only; it shares the cache of a bare ``-X fatopt``, and a start
without it never loads the code that makes it."""

from __future__ import annotations

import re

from .helpers import python, write

MOD = """
LIMIT = 3

def under(n):
    return n < LIMIT

def size():
    return len("abcd")
"""

APP = """
import sys
import mod

print(mod.under(2), mod.size())
mod.LIMIT = 1      # under's guard breaks: invalidated
print(mod.under(2))
mod.LIMIT = 3      # and holds again: revalidated
print(mod.under(2))
print("loaded", sorted(m for m in ("fatopt.optimizer", "fatopt.run_stats") if m in sys.modules))
"""

SUMMARY = re.compile(
    r"^fatopt: stats: modules: (\d+) from the cache, (\d+) optimized now, (\d+) left plain; "
    r"(\d+) functions? specialized, (\d+) active now; (\d+) invalidations?, (\d+) revalidations?$"
)


def _summary(stderr: str) -> tuple[int, ...]:
    lines = [line for line in stderr.splitlines() if line.startswith("fatopt: stats:")]
    assert len(lines) == 1, stderr
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    return tuple(int(group) for group in match.groups())


def _project(tmp_path):
    write(tmp_path, "mod.py", MOD)
    write(tmp_path, "app.py", APP)
    return tmp_path


def test_cold_then_warm_summary(tmp_path):
    _project(tmp_path)
    cold = python("app.py", cwd=tmp_path, fatopt="stats")
    assert cold.returncode == 0, cold.stderr
    cached, optimized, _plain, specialized, active, invalidations, revalidations = _summary(cold.stderr)
    assert cached == 0 and optimized >= 2  # app.py and mod.py at least
    assert specialized == 2 and active == 2
    assert invalidations == 1 and revalidations == 1
    warm = python("app.py", cwd=tmp_path, fatopt="stats")
    cached, optimized, plain, specialized, active, invalidations, revalidations = _summary(warm.stderr)
    assert cached >= 2 and optimized == 0 and plain == 0
    assert (specialized, active, invalidations, revalidations) == (2, 2, 1, 1)
    assert warm.stdout.splitlines()[:3] == cold.stdout.splitlines()[:3] == ["True 4", "False", "True"]
    assert "loaded ['fatopt.run_stats']" in warm.stdout  # a warm start: no optimizer, even with stats


def test_environment_variable_and_same_cache_as_bare_option(tmp_path):
    _project(tmp_path)
    python("app.py", cwd=tmp_path, fatopt="")  # cold: writes the cache
    bare = python("app.py", cwd=tmp_path, fatopt="")
    assert bare.stderr == "" and "loaded []" in bare.stdout  # warm, without stats: nothing of it loaded
    proc = python("app.py", cwd=tmp_path, fatopt=None, env={"PYTHONFATOPT": "stats"})
    cached, optimized, *_ = _summary(proc.stderr)
    assert cached >= 2 and optimized == 0  # the cache -X fatopt wrote: stats is not in the cache tag


def test_children_do_not_inherit_it(tmp_path):
    _project(tmp_path)
    write(tmp_path, "parent.py", """
        import subprocess, sys
        subprocess.run([sys.executable, "app.py"], check=True)
    """)
    proc = python("parent.py", cwd=tmp_path, fatopt=None, env={"PYTHONFATOPT": "stats"})
    assert proc.returncode == 0, proc.stderr
    _summary(proc.stderr)  # exactly one line: the parent's
    assert "[True]" not in proc.stdout  # (sanity: the child ran)
    assert proc.stdout.count("True 4") == 1


def test_program_exit_status_and_output_unchanged(tmp_path):
    write(tmp_path, "fail.py", "import sys\nprint('out')\nsys.exit(7)\n")
    plain = python("fail.py", cwd=tmp_path, fatopt=None)
    proc = python("fail.py", cwd=tmp_path, fatopt="stats")
    assert proc.returncode == plain.returncode == 7
    assert proc.stdout == plain.stdout
    _summary(proc.stderr)


def test_a_forked_child_says_nothing(tmp_path):
    _project(tmp_path)
    write(tmp_path, "forks.py", """
        import os, sys
        import mod
        pid = os.fork()
        if pid == 0:
            print("child", mod.size(), flush=True)
            sys.exit(0)  # runs the atexit handlers it inherited
        os.waitpid(pid, 0)
        print("parent", mod.size())
    """)
    proc = python("forks.py", cwd=tmp_path, fatopt="stats")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "child 4\nparent 4\n"
    _summary(proc.stderr)  # one line: the parent's
