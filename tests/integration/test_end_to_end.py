"""python -X fatopt end to end: activation, the main script, the import hook and its cache."""

from __future__ import annotations

import marshal
import os
import re
import signal
import sys
import time
from importlib._bootstrap_external import _code_to_timestamp_pyc
from pathlib import Path

import pytest

import fatopt

from .helpers import fatopt_caches, normal_caches, python, write

LIB = """
def three():
    return len("abc")
"""

APP = """
import sys
import fatopt
import lib

def local_three():
    return len("abc")

print(lib.three(), local_three(), bool(fatopt.get_specialized(lib.three)), bool(fatopt.get_specialized(local_three)))
import builtins
original = builtins.len
builtins.len = lambda s: -1
print(lib.three(), local_three(), bool(fatopt.get_specialized(lib.three)), bool(fatopt.get_specialized(local_three)))
builtins.len = original
print(lib.three(), local_three(), bool(fatopt.get_specialized(lib.three)))
print("optimizer imported:", "fatopt.optimizer" in sys.modules)
"""


@pytest.fixture
def project(tmp_path):
    write(tmp_path, "lib.py", LIB)
    write(tmp_path, "app.py", APP)
    return tmp_path


def lines(proc):
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_folds_and_follows_shadowing(project):
    out = lines(python("app.py", cwd=project))
    assert out[:3] == ["3 3 True True", "-1 -1 False False", "3 3 True"]
    plain = lines(python("app.py", cwd=project, fatopt=None))
    assert plain[:3] == ["3 3 False False", "-1 -1 False False", "3 3 False"]


def test_environment_variable_turns_it_on(project):
    out = lines(python("app.py", cwd=project, fatopt=None, env={"PYTHONFATOPT": "1"}))
    assert out[0] == "3 3 True True"


def test_environment_variable_is_ignored_under_dash_E(project):
    # -E (and -I) make Python ignore every PYTHON* variable: PYTHONFATOPT too. An explicit
    # -X fatopt still counts. (-X pycache_prefix: -E ignores PYTHONPYCACHEPREFIX as well.)
    prefix = f"pycache_prefix={project / '.prefix'}"
    out = lines(python("-E", "-X", prefix, "app.py", cwd=project, fatopt=None, env={"PYTHONFATOPT": "1"}))
    assert out[0] == "3 3 False False"
    out = lines(python("-E", "-X", prefix, "app.py", cwd=project, env={"PYTHONFATOPT": "0"}))
    assert out[0] == "3 3 True True"


FATOPT_MODULES = (
    "import sys; print(sorted(n for n in sys.modules if n == 'fatopt' or n.startswith(('fatopt.', '_fatopt_'))))"
)
# An installed fatopt knows its cache tag from the stamp its build wrote; an editable install
# (this test suite's) computes it in fatopt.importer, so its start-up loads that too.
STAMPED = (Path(fatopt.__file__).parent / "_build_stamp.txt").exists()


@pytest.mark.parametrize(
    "args, env, loaded",
    [
        ((), {}, []),  # installed, not enabled: fatopt.pth imports nothing
        (("-E",), {"PYTHONFATOPT": "1"}, ["_fatopt_importhook"]),  # loads; stays off (test above)
        (("-X", "fatopt"), {}, ["_fatopt_importhook"] + ([] if STAMPED else ["fatopt", "fatopt.importer"])),
    ],
)
def test_what_start_up_loads(tmp_path, args, env, loaded):
    # -c with a warm cache (3.13's -c imports linecache): no optimizer, no guard runtime
    python(*args, "-c", "pass", cwd=tmp_path, fatopt=None, env=env)
    proc = python(*args, "-c", FATOPT_MODULES, cwd=tmp_path, fatopt=None, env=env)
    assert lines(proc) == [repr(loaded)]


def test_second_run_loads_the_cache_without_the_optimizer(project):
    first = python("app.py", cwd=project, fatopt="verbose")
    assert lines(first)[-1] == "optimizer imported: True"
    assert "lib.py: optimized" in first.stderr and "app.py: optimized" in first.stderr
    assert [name.split(".")[0] for name in fatopt_caches(project)] == ["app", "lib"]
    second = python("app.py", cwd=project, fatopt="verbose")
    assert lines(second)[:3] == lines(first)[:3]
    # Every module came from the cache: nothing was optimized, the optimizer never imported.
    assert lines(second)[-1] == "optimizer imported: False"
    # verbose says so, one line per module of the user's (none for the standard library's)
    assert second.stderr.splitlines() == [
        f"fatopt: {project / name}: from cache, with specialized functions" for name in ("app.py", "lib.py")
    ]


def test_normal_pyc_is_what_plain_python_writes(project):
    # fatopt's code goes to its own .pyc; the normal one is left exactly as plain Python leaves
    # it (code that imports a module and then uses its .pyc finds it), and none for the script.
    lines(python("app.py", cwd=project))
    assert normal_caches(project) == ["lib.cpython-313.pyc".replace("313", "%d%d" % sys.version_info[:2])]
    assert len(fatopt_caches(project)) == 2  # lib and the main script
    [ours] = [p.read_bytes() for p in project.rglob("lib.cpython-*.pyc") if ".opt-" not in p.name]
    st = (project / "lib.py").stat()
    code = compile((project / "lib.py").read_bytes(), str(project / "lib.py"), "exec", dont_inherit=True)
    plain = _code_to_timestamp_pyc(code, st.st_mtime, st.st_size)
    assert ours[:16] == plain[:16]  # magic, flags, mtime, size
    assert marshal.loads(ours[16:]) == code  # the plain code (marshal's bytes vary with refcounts)


def test_editing_the_source_invalidates(project):
    lines(python("app.py", cwd=project))
    time.sleep(0.01)
    write(project, "lib.py", LIB.replace('"abc"', '"abcd"'))
    os.utime(project / "lib.py", (time.time() + 5, time.time() + 5))
    out = lines(python("app.py", cwd=project))
    assert out[0] == "4 3 True True"
    assert out[-1] == "optimizer imported: True"


def test_main_script_rewritten_within_the_same_second(tmp_path):
    # Same size, same mtime second: a timestamp .pyc cannot tell; plain Python caches no main
    # script, so fatopt's cache of it is checked against a hash of the source.
    script = write(tmp_path, "app.py", "print('first')\n")
    assert lines(python("app.py", cwd=tmp_path)) == ["first"]
    stat = script.stat()
    script.write_text("print('other')\n")
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert lines(python("app.py", cwd=tmp_path)) == ["other"]


def test_dont_write_bytecode(project):
    out = lines(python("app.py", cwd=project, write_bytecode=False))
    assert out[0] == "3 3 True True"
    assert fatopt_caches(project) == [] and normal_caches(project) == []


def test_unwritable_cache_directory(project):
    blocker = project / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    proc = python("app.py", cwd=project, env={"PYTHONPYCACHEPREFIX": str(blocker)})
    assert lines(proc)[0] == "3 3 True True"
    assert proc.stderr == ""


def test_pycache_prefix(project, tmp_path_factory):
    prefix = tmp_path_factory.mktemp("prefix")
    lines(python("app.py", cwd=project, env={"PYTHONPYCACHEPREFIX": str(prefix)}))
    assert fatopt_caches(project) == []
    mirrored = prefix / str(project.resolve()).lstrip("/")
    assert sorted(p.name.split(".")[0] for p in mirrored.rglob("*.opt-fatopt*.pyc")) == ["app", "lib"]
    assert not (project / "__pycache__").exists()


@pytest.mark.parametrize("damage", [b"", b"garbage", None], ids=["empty", "garbage", "truncated"])
def test_corrupted_cache_is_rebuilt(project, damage):
    lines(python("app.py", cwd=project))
    for path in (project / ".prefix").rglob("*.opt-fatopt*.pyc"):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if damage is None else damage)
    proc = python("app.py", cwd=project)
    assert lines(proc)[0] == "3 3 True True"
    assert proc.stderr == ""
    assert lines(python("app.py", cwd=project))[-1] == "optimizer imported: False"


@pytest.mark.parametrize(
    "name, source",
    [
        pytest.param("app.py", "x = (\n", id="main-parse-error"),
        pytest.param("app.py", "def f():\n    return 1\nreturn 2\n", id="main-compile-error"),
        pytest.param("lib.py", "def three(:\n    pass\n", id="imported-parse-error"),
        pytest.param("lib.py", "nonlocal x\n", id="imported-compile-error"),
    ],
)
def test_syntax_errors_as_plain_python(project, name, source):
    write(project, name, source)
    plain = python("app.py", cwd=project, fatopt=None)
    optimized = python("app.py", cwd=project)
    assert optimized.returncode == plain.returncode == 1
    assert optimized.stderr == plain.stderr


MAIN_FACTS = """
import sys, linecache, inspect, importlib, importlib.resources, importlib.machinery
import pkg.mod
print(__name__, __file__, __spec__, __cached__, sys.argv)
print(pkg.mod.__spec__.name, pkg.mod.__spec__.origin, pkg.mod.__cached__, pkg.mod.__file__)
print(inspect.getsource(pkg.mod.f).strip())
print(linecache.getline(pkg.mod.__file__, 2).strip())
print(importlib.resources.files("pkg").joinpath("data.txt").read_text().strip())
importlib.reload(pkg.mod)
print(pkg.mod.f())
print(type(__loader__).__name__, type(pkg.mod.__loader__).__name__, len(inspect.stack()))
print("spec found again is equal:", importlib.machinery.PathFinder.find_spec("pkg.mod", pkg.__path__) == pkg.mod.__spec__)
calls = []
sys.settrace(lambda frame, event, arg: calls.append(frame.f_code.co_name) if event == "call" else None)
def traced():
    return 1
traced()
sys.settrace(None)
print("traced:", calls)
def fail():
    return pkg.mod.boom()
if "--fail" in sys.argv:
    sys.addaudithook(lambda event, args: print("audit:", event, type(args[2]).__name__) if event == "sys.excepthook" else None)
    fail()
if "--exit" in sys.argv:
    sys.exit(3)
if "--interrupt" in sys.argv:
    raise KeyboardInterrupt
"""


@pytest.fixture
def package(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/data.txt", "resource text\n")
    write(tmp_path, "pkg/mod.py", 'def f():\n    return len("ab")\ndef boom():\n    return {}["missing"]\n')
    write(tmp_path, "main.py", MAIN_FACTS)
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["main.py", "a", "b"], id="script"),
        pytest.param(["main.py", "--fail"], id="traceback"),
        pytest.param(["main.py", "--exit"], id="sys-exit"),
        pytest.param(["-m", "main", "x"], id="dash-m"),
        pytest.param(["-m", "main", "--fail"], id="dash-m-traceback"),
    ],
)
def test_module_facts_tracebacks_and_exit_codes_as_plain(package, argv):
    plain = python(*argv, cwd=package, fatopt=None)
    optimized = python(*argv, cwd=package)
    assert optimized.returncode == plain.returncode
    # Same loader type (fatopt's stands behind a plain SourceFileLoader), same stack depth at
    # the script's top level, tracing works in the script, the sys.excepthook audit event.
    normalize = lambda text: re.sub(r" object at 0x[0-9a-f]+>", ">", text)  # noqa: E731
    assert "traced: ['traced']" in plain.stdout
    assert normalize(optimized.stdout) == normalize(plain.stdout)
    assert optimized.stderr == plain.stderr
    assert "fatopt" not in optimized.stderr


def test_keyboard_interrupt_exits_like_plain(package):
    plain = python("main.py", "--interrupt", cwd=package, fatopt=None)
    optimized = python("main.py", "--interrupt", cwd=package)
    assert plain.returncode == optimized.returncode == -signal.SIGINT
    assert optimized.stderr == plain.stderr


def test_module_opt_out_and_exclusion(tmp_path):
    write(tmp_path, "optout.py", '__fatopt__ = {"enabled": False}\ndef f():\n    return len("abc")\n')
    write(tmp_path, "excluded.py", 'def f():\n    return len("abc")\n')
    write(tmp_path, "app.py", "import fatopt, optout, excluded\nprint(fatopt.get_specialized(optout.f), fatopt.get_specialized(excluded.f))\n")
    assert lines(python("app.py", cwd=tmp_path, fatopt="exclude=excluded")) == ["[] []"]


def test_bad_option_is_reported_and_runs_unoptimized(project):
    proc = python("app.py", cwd=project, fatopt="no_such_word")
    assert proc.returncode == 0
    assert "fatopt:" in proc.stderr and "no_such_word" in proc.stderr
    assert proc.stdout.splitlines()[0] == "3 3 False False"


STDLIB_SCRIPT = """
import json, re, argparse, collections, dataclasses, asyncio, decimal, email
from email.message import EmailMessage

@dataclasses.dataclass
class Point:
    x: int
    y: int = 2

parser = argparse.ArgumentParser(prog="demo")
parser.add_argument("--n", type=int, default=3)
args = parser.parse_args(["--n", "5"])
counts = collections.Counter(re.findall(r"\\w+", "a b a c b a"))
decimal.getcontext().prec = 30
message = EmailMessage()
message["Subject"] = "hello"
message.set_content("body")

async def main():
    await asyncio.sleep(0)
    return sum(range(args.n))

print(json.dumps({"point": dataclasses.asdict(Point(1)), "counts": counts, "n": args.n}, sort_keys=True))
print(decimal.Decimal(1) / decimal.Decimal(7))
print(asyncio.run(main()))
print(message.as_string().splitlines()[0:2])
print(json.loads('{"a": [1, 2.5, null]}'))
"""


def test_stdlib_script_output_identical(tmp_path):
    write(tmp_path, "stdlib_app.py", STDLIB_SCRIPT)
    plain = python("stdlib_app.py", cwd=tmp_path, fatopt=None)
    optimized = python("stdlib_app.py", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert (optimized.returncode, optimized.stdout, optimized.stderr) == (0, plain.stdout, plain.stderr)


def test_get_config_reports_the_configuration_in_force(tmp_path):
    code = "import fatopt; c = fatopt.get_config(); print(None if c is None else (c.unroll_loops, c.module_constants))"
    assert lines(python("-c", code, cwd=tmp_path, fatopt=None)) == ["None"]
    assert lines(python("-c", code, cwd=tmp_path)) == ["(16, True)"]
    assert lines(python("-c", code, cwd=tmp_path, fatopt="unroll_loops=3,module_constants=off")) == ["(3, False)"]


def test_warm_start_never_imports_the_optimizer(tmp_path):
    # On 3.13 `-c` imports linecache at start-up, a module the optimizer itself needs: it must
    # still be cached optimized, or every start would import the optimizer.
    code = "import sys; print('fatopt.optimizer' in sys.modules)"
    python("-c", code, cwd=tmp_path)
    assert lines(python("-c", code, cwd=tmp_path)) == ["False"]


def test_builtins_patched_by_sitecustomize_are_not_taken_for_the_originals(tmp_path):
    # sitecustomize runs after fatopt.pth: a builtin it patches must count as rebound, not as
    # the builtin the optimizer folded calls of.
    write(tmp_path, "sitecustomize.py", """
        import builtins
        CALLS = []
        def counting_len(obj, _len=builtins.len):
            CALLS.append(obj)
            return _len(obj)
        builtins.len = counting_len
    """)
    write(tmp_path, "app.py", """
        import fatopt, sitecustomize
        def f():
            return len('abc')
        before = len(sitecustomize.CALLS)
        print(f(), len(sitecustomize.CALLS) - before - 1, fatopt.get_specialized(f))
    """)
    env = {"PYTHONPATH": str(tmp_path)}
    plain = python("app.py", cwd=tmp_path, fatopt=None, env=env)
    optimized = python("app.py", cwd=tmp_path, env=env)
    assert plain.stdout == "3 1 []\n", plain.stderr
    assert optimized.stdout == plain.stdout, optimized.stderr


def test_function_pragma_opts_out(tmp_path):
    write(tmp_path, "app.py", """
        import fatopt
        def kept():  # fatopt: off
            return len("abc")
        def optimized():
            return len("abc")
        print(bool(fatopt.get_specialized(kept)), bool(fatopt.get_specialized(optimized)))
    """)
    assert lines(python("app.py", cwd=tmp_path)) == ["False True"]


def test_nothing_stays_installed_once_the_main_script_runs(tmp_path):
    # A process-wide hook would cost every later audited event (id(), sys._getframe()): the
    # main script is caught with sys.monitoring, whose tool is freed before the script runs.
    write(tmp_path, "app.py", "import sys\nprint([sys.monitoring.get_tool(i) for i in range(6)])\n")
    assert lines(python("app.py", cwd=tmp_path)) == ["[None, None, None, None, None, None]"]


def test_monitoring_tools_all_taken_means_falling_back_to_the_audit_hook(tmp_path):
    code = (
        "import sys\nfor i in range(6):\n    sys.monitoring.use_tool_id(i, 'other')\n"
        "import _fatopt_importhook\nprint(_fatopt_importhook._watch_main_start())\n"
    )
    assert lines(python("-c", code, cwd=tmp_path, fatopt=None)) == ["False"]


def test_main_script_objects_are_freed_when_plain_frees_them(tmp_path):
    # The frame of the plain module that fatopt's start unwinds stays alive to the end of the
    # process; the script's objects live in a __main__ of their own, freed as plain frees it
    # (here: before the modules they use are torn down at exit).
    write(tmp_path, "helper.py", "class Missing(Exception):\n    pass\n")
    write(tmp_path, "app.py", """
        import helper
        class Obj:
            def __del__(self):
                try:
                    raise helper.Missing
                except helper.Missing:
                    print("freed with helper intact")
        obj = Obj()
        raise RuntimeError("boom")
    """)
    plain = python("app.py", cwd=tmp_path, fatopt=None)
    optimized = python("app.py", cwd=tmp_path)
    assert (optimized.returncode, optimized.stdout, optimized.stderr) == (plain.returncode, plain.stdout, plain.stderr)


VERBOSE_PARENT = """
import os, subprocess, sys
import fatopt.importer, parentlib
child = subprocess.run([sys.executable, "child.py"], capture_output=True, text=True)
print("parent:", fatopt.importer.from_environment().verbose, _fatopt_importhook.options()[0])
print("child env:", os.environ["PYTHONFATOPT"])
print("child stdout:", child.stdout.strip())
print("child stderr:", repr(child.stderr))
"""
VERBOSE_CHILD = """
import _fatopt_importhook, fatopt, childlib
print(_fatopt_importhook.options()[0], bool(fatopt.get_specialized(childlib.f)))
"""


@pytest.mark.parametrize("value", ["verbose,exclude=nothing", "verbose=inherit,exclude=nothing"])
def test_verbose_reaches_child_processes_only_when_asked(tmp_path, value):
    write(tmp_path, "parent.py", "import _fatopt_importhook\n" + VERBOSE_PARENT)
    write(tmp_path, "child.py", VERBOSE_CHILD)
    for lib in ("parentlib", "childlib"):
        write(tmp_path, f"{lib}.py", 'def f():\n    return len("abc")\n')
    proc = python("parent.py", cwd=tmp_path, fatopt=None, env={"PYTHONFATOPT": value})
    assert proc.returncode == 0, proc.stderr
    assert "parentlib.py: optimized" in proc.stderr  # the parent logs as asked
    out = dict(line.split(": ", 1) for line in lines(proc))
    verbose, tag = out["parent"].split()
    assert verbose == "True"  # what the process started with, though its children see less
    # the child runs optimized, with the parent's cache tag
    assert out["child stdout"] == f"{tag} True"
    if value.startswith("verbose=inherit"):
        assert out["child env"] == value
        assert "childlib.py: optimized" in out["child stderr"]
    else:
        assert out["child env"] == "exclude=nothing"
        assert out["child stderr"] == "''"
