"""Whole-interpreter behaviour, each in a fresh subprocess: shutdown with live specializations,
no free watcher id, and an interpreter too old for the runtime."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A script that registers specializations and then does things at shutdown. With FATOPT=0 it
# skips registration, so its output is the plain-Python reference.
SHUTDOWN_SCRIPTS = {
    "patched-builtins-at-exit": """
        import builtins
        builtins.len = lambda s: "patched"
        print(fast())
    """,
    "del-at-module-teardown": """
        class Reporter:
            def __del__(self):
                try:
                    print("del:", fast())
                except Exception as exc:
                    print("del:", type(exc).__name__)
        reporter = Reporter()
    """,
    "atexit-shadows-len": """
        import atexit
        def late():
            globals()["len"] = lambda s: "late"
            print("atexit:", fast())
        atexit.register(late)
    """,
    "unhandled-exception": """
        len = lambda s: 1 / 0
        fast()
    """,
    "sys-exit-code": """
        import sys
        sys.exit(fast())
    """,
    "daemon-thread-calling": """
        import threading
        def spin():
            while True:
                fast()
        threading.Thread(target=spin, daemon=True).start()
        print("main done")
    """,
    "cycle-with-globals": """
        import gc
        ns = {}
        exec("def plain():\\n    return len('ab')\\ndef fast():\\n    return 2\\n", ns)
        if FATOPT:
            fatopt.register(ns["fast"], ns["plain"], [GuardBuiltins("len")])
        ns["self"] = ns
        del ns
        gc.collect()
        print("collected")
    """,
}

PRELUDE = """
import os
FATOPT = os.environ["FATOPT"] == "1"
import fatopt
from fatopt.guards import GuardBuiltins
def plain():
    return len("abc")
def fast():
    return 3
if FATOPT:
    fatopt.register(fast, plain, [GuardBuiltins("len")])
else:
    fast = plain
"""


def run(code: str, *, fatopt_on: bool = True, python: str = sys.executable, env_extra=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, FATOPT="1" if fatopt_on else "0", **(env_extra or {}))
    return subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("body", SHUTDOWN_SCRIPTS.values(), ids=SHUTDOWN_SCRIPTS.keys())
def test_shutdown_matches_plain_python(body):
    code = PRELUDE + textwrap.dedent(body)
    plain = run(code, fatopt_on=False)
    optimized = run(code, fatopt_on=True)
    assert optimized.returncode == plain.returncode, optimized.stderr
    assert optimized.stdout == plain.stdout
    assert optimized.stderr.replace("fast", "plain") == plain.stderr.replace("fast", "plain")
    assert optimized.returncode >= 0  # not killed by a signal


def test_no_free_dict_watcher_warns_once_and_runs_unoptimized():
    pytest.importorskip("_testcapi")
    code = textwrap.dedent(
        """
        import _testcapi, warnings
        try:
            while True:
                _testcapi.add_dict_watcher(0)
        except RuntimeError:
            pass
        import fatopt
        from fatopt.guards import GuardBuiltins
        def plain(): return len("abc")
        def fast(): return 3
        def plain2(): return len("abcd")
        def fast2(): return 4
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            print(fatopt.register(fast, plain, [GuardBuiltins("len")]))
            print(fatopt.register(fast2, plain2, [GuardBuiltins("len")]))
        print(len(caught), caught[0].category.__name__, "no free" in str(caught[0].message))
        len = lambda s: "shadow"
        print(fast(), fast2(), fatopt.get_specialized(fast))
        """
    )
    proc = run(code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:3] == ["False", "False", "1 RuntimeWarning True"]
    assert proc.stdout.split("\n")[3] == "shadow shadow []"


def find_old_python() -> str | None:
    for candidate in ("python3.11", "python3.10"):
        path = shutil.which(candidate)
        if path and subprocess.run([path, "-c", "pass"], capture_output=True).returncode == 0:
            return path
    return None


def test_import_on_an_interpreter_older_than_3_12():
    old = find_old_python()
    if old is None:
        pytest.skip("no Python < 3.12 on this machine")
    code = textwrap.dedent(
        """
        import fatopt
        from fatopt.guards import GuardBuiltins
        print(fatopt.AVAILABLE)
        print(fatopt.UNAVAILABLE_REASON)
        print(fatopt.get_specialized(lambda: 0), fatopt.stats()["available"], fatopt.unspecialize(lambda: 0))
        try:
            fatopt.get_specialized(print)
        except TypeError as exc:
            print("TypeError:", exc)
        try:
            fatopt.specialize(lambda: 0, (lambda: 1).__code__, [GuardBuiltins("len")])
        except RuntimeError as exc:
            print("RuntimeError:", exc)
        """
    )
    env = {"PYTHONPATH": str(ROOT), "PYENV_VERSION": "3.11.7"}
    proc = run(code, python=old, env_extra=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "False"
    assert "needs CPython 3.12+" in lines[1]
    assert lines[2] == "[] False False"
    assert lines[3].startswith("TypeError: get_specialized() needs a Python function")
    assert lines[4].startswith("RuntimeError: fatopt needs CPython 3.12+")


FUNCTIONS_DYING_IN_CYCLES = """
import gc
import fatopt.runtime as rt

def make(kind):
    ns = {}
    exec("def f():\\n    return len('a')\\n", ns)
    original = ns["f"]
    exec("def f():\\n    return 1\\n", ns)
    if kind == "born":
        ns["f"] = rt.born(original, ("builtins", "len"))(ns["f"])
    else:
        from fatopt.guards import GuardBuiltins
        rt.register(ns["f"], original, [GuardBuiltins("len")])
    assert rt.get_specialized(ns["f"])  # ns -> f -> ns: only the cyclic GC frees them

for i in range(50):
    make("born" if i % 2 else "register")
gc.collect()
print("live", rt.stats()["live"])
"""


@pytest.mark.parametrize("when", ["gc.collect", "shutdown"])
def test_functions_freed_by_the_gc_under_the_debug_allocator(when):
    # The weakref callback of a dying function used to read its specialization after dropping
    # the registry's reference to it, the last one: a use after free that only the debug
    # allocator (PYTHONMALLOC=malloc_debug, as test_os.ForkTests runs) turned into a crash.
    code = FUNCTIONS_DYING_IN_CYCLES
    if when == "shutdown":
        code = code.replace("gc.collect()\n", "").replace('print("live", rt.stats()["live"])', 'print("live", 0)')
    proc = run(code, env_extra={"PYTHONMALLOC": "malloc_debug"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["live", "0"]


KEPT_TO_THE_LAST_COLLECTION = {
    "m.py": """
        DEBUG = False


        class K:
            def method(self, *args):
                if DEBUG:
                    print("debugging")
                return len("abc")
    """,
    # A monitoring callback (as coverage's sysmon core registers its own) keeps the specialized
    # method, its class and its module's namespace alive past the modules' teardown, to the last
    # collection, where the registry's weakrefs are garbage too: their callbacks do not run.
    "app.py": """
        import sys
        import m

        keep = m.K()
        keep.cycle = keep
        sys.monitoring.use_tool_id(3, "keep")
        sys.monitoring.register_callback(3, sys.monitoring.events.PY_START, keep.method)
    """,
}


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_a_specialized_function_freed_in_the_last_collection_is_not_touched(tmp_path):
    """The module namespace the function's guards watch dies in the same collection, after the
    function: the runtime must not read the freed function (valgrind sees the read; the process
    itself survives it most of the time, or aborts at exit: "corrupted double-linked list")."""
    for name, source in KEPT_TO_THE_LAST_COLLECTION.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    # (a cold start: the optimizer runs in the process, as the first run of a program does)
    env = dict(os.environ, PYTHONMALLOC="malloc", PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONFATOPT", None)
    check = [sys.executable, "-X", "fatopt", "-c", "import fatopt, m; print(bool(fatopt.get_specialized(m.K.method)))"]
    specialized = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert specialized.stdout == "True\n", specialized.stderr
    result = subprocess.run(["valgrind", "-q", "--error-exitcode=99", sys.executable, "-X", "fatopt", "app.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    invalid = [line for line in result.stderr.splitlines() if "Invalid read" in line or "Invalid write" in line]
    assert invalid == [] and result.returncode == 0, result.stderr[-3000:]
