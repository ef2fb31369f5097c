"""``fatopt profile``: the recorded exact argument types of a plain run, read back with
fatopt.profile.load; the program's behaviour (output, exit status, exceptions) unchanged."""

from __future__ import annotations

import json
import sys
import types

import pytest

from fatopt.profile import FORMAT, FORMAT_VERSION, MAX_TYPE_TUPLES, ProfileError, load

from .helpers import python, write

APP = """\
import sys

class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm(self):
        return self.x * self.x + self.y * self.y

def add(a, b, *rest, scale=1, **options):
    return (a + b) * scale

def with_local_class():
    class Local:
        pass
    def take(value):
        return value
    return take(Local())

for i in range(5):
    add(i, 2)
add(1.5, 2, 3, scale=2, extra=True)
print(Point(3, 4).norm(), with_local_class().__class__.__name__, sys.argv[1:])
"""


def fatopt_cmd(*args, **kwargs):
    return python("-m", "fatopt", *args, fatopt=None, **kwargs)


def code_of(path, qualname) -> types.CodeType:
    """The code object of ``qualname`` in the file at ``path`` as it is now (what the optimizer
    would hold when it asks the profile)."""
    pending = [compile(path.read_text(), str(path), "exec")]
    while pending:
        code = pending.pop()
        if code.co_qualname == qualname:
            return code
        pending.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    raise LookupError(qualname)


def names(type_tuples):
    return [tuple(str(t) for t in types_) for types_ in type_tuples]


@pytest.fixture
def recorded(tmp_path):
    app = write(tmp_path, "app.py", APP)
    proc = fatopt_cmd("profile", "-o", "app.profile", "--", "app.py", "-o", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return tmp_path, app, proc


def test_records_exact_argument_types_most_frequent_first(recorded):
    tmp_path, app, proc = recorded
    assert proc.stdout == "25 Local ['-o', 'x']\n"  # the program's arguments are its own
    summary = proc.stderr.strip().splitlines()[-1]
    assert summary.startswith("fatopt profile: ") and "functions recorded" in summary and "app.profile" in summary
    profile = load(str(tmp_path / "app.profile"))
    add = profile.entry(code_of(app, "add"))
    assert add is not None and add.parameters == ["a", "b", "scale"]  # *rest and **options left out
    assert add.calls == 6 and add.other_calls == 0
    assert names(profile.argument_types(code_of(app, "add"))) == [
        ("builtins.int", "builtins.int", "builtins.int"), ("builtins.float", "builtins.int", "builtins.int"),
    ]
    assert [calls for _types, calls in add.type_tuples] == [5, 1]
    assert names(profile.argument_types(code_of(app, "Point.norm"))) == [("__main__.Point",)]
    assert names(profile.argument_types(code_of(app, "Point.__init__"))) == [
        ("__main__.Point", "builtins.int", "builtins.int"),
    ]
    assert profile.entry(code_of(app, "with_local_class")) is None  # no parameters: nothing to record


def test_unreachable_types_are_marked_and_not_offered(recorded):
    tmp_path, app, _proc = recorded
    profile = load(str(tmp_path / "app.profile"))
    take = code_of(app, "with_local_class.<locals>.take")
    entry = profile.entry(take)
    assert entry is not None
    [(local_type,)] = [types_ for types_, _calls in entry.type_tuples]
    assert local_type.qualname == "with_local_class.<locals>.Local" and not local_type.reachable
    assert profile.argument_types(take) == []
    [(point,)] = profile.argument_types(code_of(app, "Point.norm"))
    assert point.reachable


def test_an_edited_function_is_ignored_the_others_kept(recorded):
    tmp_path, app, _proc = recorded
    app.write_text(APP.replace("return (a + b) * scale", "return (a - b) * scale"))
    profile = load(str(tmp_path / "app.profile"))
    assert profile.argument_types(code_of(app, "add")) == []
    assert profile.entry(code_of(app, "add")) is None
    assert names(profile.argument_types(code_of(app, "Point.norm"))) == [("__main__.Point",)]


def test_functions_of_imported_modules_and_run_as_module(tmp_path):
    write(tmp_path, "shapes.py", "class Box:\n    pass\n\ndef area(box, scale):\n    return scale\n")
    write(tmp_path, "main.py", "import sys\nimport shapes\nshapes.area(shapes.Box(), 2.0)\nprint(sys.argv[1:])\n")
    proc = fatopt_cmd("profile", "-o", "p.json", "-m", "main", "-m", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['-m', 'x']\n"
    profile = load(str(tmp_path / "p.json"))
    assert names(profile.argument_types(code_of(tmp_path / "shapes.py", "area"))) == [("shapes.Box", "builtins.float")]


def test_the_number_of_type_tuples_is_capped(tmp_path):
    count = MAX_TYPE_TUPLES + 3
    write(tmp_path, "many.py", f"""\
        def f(value):
            return value
        classes = [type(f"C{{i}}", (), {{}}) for i in range({count})]
        for cls in classes:
            f(cls())
        f(classes[0]())
        """)
    proc = fatopt_cmd("profile", "-o", "p.json", "many.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    entry = load(str(tmp_path / "p.json")).entry(code_of(tmp_path / "many.py", "f"))
    assert entry is not None
    assert len(entry.type_tuples) == MAX_TYPE_TUPLES
    assert entry.calls == count + 1 and entry.other_calls == count - MAX_TYPE_TUPLES
    assert entry.type_tuples[0][1] == 2  # C0: seen twice, most frequent first


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import sys\ndef f(x):\n    print(x)\n    sys.exit(x)\nf(3)\n", id="sys-exit-3"),
        pytest.param("def f(x):\n    raise ValueError(x)\nprint('before')\nf(1)\n", id="unhandled-exception"),
        pytest.param("import sys\nprint(sys.stdin.read().upper(), __file__ == __import__('os').path.abspath(__file__))\n", id="stdin"),
        pytest.param("import atexit\natexit.register(print, 'bye')\nraise SystemExit('message')\n", id="exit-message"),
        pytest.param("def f(:\n", id="syntax-error"),
        # 3.12: the recorder's f_locals snapshot, which frame.clear() leaves, kept `v` alive
        pytest.param(
            "import traceback\nclass V:\n    def __del__(self):\n        print('finalized')\n"
            "def f(v, x):\n    return x + 'a'\ntry:\n    f(V(), 1)\nexcept TypeError as e:\n"
            "    traceback.clear_frames(e.__traceback__)\n    print('frames cleared')\n",
            id="finalized-when-frames-are-cleared",
        ),
        pytest.param(
            "import sys\ndef f(a, b=2, *c):\n    d = a + b\n    print(sorted(locals().items()))\n"
            "    print(sorted(sys._getframe().f_locals))\n    del d\n    return locals()\n"
            "def g(n):\n    yield sorted(locals())\n    n += 1\n    yield sorted(locals().items())\n"
            "print(f(1), f(1, 3, 4), list(g(5)))\n",
            id="locals-of-a-recorded-call",
        ),
        pytest.param(
            "import os, sys\nprint(sorted(globals()), __name__, __package__, __spec__, type(__loader__).__name__,\n"
            "      __loader__.path == __file__, __cached__, sys.path[0] == os.path.dirname(__file__), sys.argv)\n",
            id="main-namespace",
        ),
    ],
)
def test_the_program_behaves_as_plain(tmp_path, source):
    write(tmp_path, "prog.py", source)
    plain = python("prog.py", "arg", cwd=tmp_path, fatopt=None, input="text")
    proc = fatopt_cmd("profile", "-o", "p.json", "prog.py", "arg", cwd=tmp_path, input="text")
    assert (proc.returncode, proc.stdout) == (plain.returncode, plain.stdout)
    lines = proc.stderr.splitlines(keepends=True)
    assert lines[-1].startswith("fatopt profile: ")
    assert "".join(lines[:-1]) == plain.stderr


def test_a_program_that_leaves_builtins_patched_still_gets_its_profile(tmp_path):
    # found by the fuzzer (--type-profile): the writer's standard-library code (an import's
    # _handle_fromlist, dis, json) read the program's `str`, `isinstance`, `next`
    write(tmp_path, "prog.py", """\
        import builtins
        def f(x):
            return x
        f(1)
        builtins.str = lambda *a: 99
        builtins.isinstance = lambda *a: 99
        builtins.next = lambda *a: 99
        del builtins.len
        """)
    proc = fatopt_cmd("profile", "-o", "p.json", "prog.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr
    entry = load(str(tmp_path / "p.json")).entry(code_of(tmp_path / "prog.py", "f"))
    assert entry is not None and entry.calls == 1


def test_a_program_that_skips_exit_handlers_leaves_no_profile(tmp_path):
    write(tmp_path, "prog.py", "import os\nprint('hi', flush=True)\nos._exit(4)\n")
    proc = fatopt_cmd("profile", "-o", "p.json", "prog.py", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (4, "hi\n")
    assert "no profile written" in proc.stderr
    assert not (tmp_path / "p.json").exists()


def test_the_program_runs_plain(tmp_path):
    write(tmp_path, "prog.py", "import sys\nprint('_fatopt_importhook' in sys.modules, sys.monitoring.get_tool(2))\n")
    proc = fatopt_cmd("profile", "-o", "p.json", "prog.py", cwd=tmp_path, env={"PYTHONFATOPT": "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "False None\n"  # not optimized; the profiler's tool id is free for cProfile


@pytest.mark.parametrize(
    "args",
    [pytest.param(["profile", "-o", "p.json"], id="no-program"), pytest.param(["profile", "prog.py"], id="no-output"),
     pytest.param(["profile", "-o", ".", "prog.py"], id="output-is-a-directory"),
     pytest.param(["profile", "-o", "missing/p.json", "prog.py"], id="output-in-missing-directory")],
)
def test_usage_errors(tmp_path, args):
    proc = fatopt_cmd(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "error" in proc.stderr, proc.stderr


def _good() -> dict:
    return {"format": FORMAT, "version": FORMAT_VERSION, "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "max_type_tuples": MAX_TYPE_TUPLES, "functions": []}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param(None, "cannot read", id="missing"),
        pytest.param("{not json", "not JSON", id="not-json"),
        pytest.param(json.dumps({"some": "thing"}), "not a fatopt profile", id="foreign-json"),
        pytest.param(json.dumps([1, 2]), "not a fatopt profile", id="json-list"),
        pytest.param(json.dumps({**_good(), "version": FORMAT_VERSION + 1}), "format version", id="other-version"),
        pytest.param(json.dumps({**_good(), "python": "2.7"}), "recorded by Python '2.7'", id="other-python"),
        pytest.param(json.dumps({**_good(), "functions": [{"file": "x.py"}]}), "malformed", id="malformed-entry"),
        pytest.param(b"\xff\xfe\x00garbage", "not JSON", id="binary"),
    ],
)
def test_load_errors_name_the_file_and_why(tmp_path, text, why):
    path = tmp_path / "bad.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load(str(path))
    assert str(path) in str(info.value) and why in str(info.value)


def test_an_empty_valid_profile_answers_nothing(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(_good()))
    assert load(str(path)).argument_types(test_an_empty_valid_profile_answers_nothing) == []


def test_a_reloaded_modules_calls_are_merged(tmp_path):
    write(tmp_path, "mod.py", "def f(x):\n    return x\n")
    write(tmp_path, "main.py", "import importlib\nimport mod\nmod.f(1)\nimportlib.reload(mod)\nmod.f(2)\nmod.f('s')\n")
    proc = fatopt_cmd("profile", "-o", "p.json", "main.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    entry = load(str(tmp_path / "p.json")).entry(code_of(tmp_path / "mod.py", "f"))
    assert entry is not None and entry.calls == 3
    assert [(names([types_]), calls) for types_, calls in entry.type_tuples] == [
        ([("builtins.int",)], 2), ([("builtins.str",)], 1),
    ]


def test_help(tmp_path):
    proc = fatopt_cmd("profile", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "usage: fatopt profile" in proc.stdout and "-o" in proc.stdout


def test_a_forked_child_does_not_overwrite_the_profile(tmp_path):
    write(tmp_path, "prog.py", """\
        import os, sys
        def f(x):
            return x
        f(1)
        pid = os.fork()
        if pid == 0:
            f("child")
            sys.exit(0)
        os.waitpid(pid, 0)
        print(os.path.exists("p.json"))  # the child wrote none
        f(2)
        """)
    proc = fatopt_cmd("profile", "-o", "p.json", "prog.py", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "False\n"), proc.stderr
    entry = load(str(tmp_path / "p.json")).entry(code_of(tmp_path / "prog.py", "f"))
    assert entry is not None and names([types_ for types_, _calls in entry.type_tuples]) == [("builtins.int",)]


def test_cell_and_generator_parameters(tmp_path):
    write(tmp_path, "prog.py", """\
        def closure(x):
            return lambda: x
        def gen(items, limit):
            yield from items[:limit]
        closure(1.5)()
        print(list(gen([1, 2, 3], 2)))
        """)
    proc = fatopt_cmd("profile", "-o", "p.json", "prog.py", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "[1, 2]\n"), proc.stderr
    profile = load(str(tmp_path / "p.json"))
    assert names(profile.argument_types(code_of(tmp_path / "prog.py", "closure"))) == [("builtins.float",)]
    assert names(profile.argument_types(code_of(tmp_path / "prog.py", "gen"))) == [("builtins.list", "builtins.int")]
