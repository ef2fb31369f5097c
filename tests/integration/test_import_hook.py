"""The import hook leaves no trace plain Python would not leave: no fatopt frame for tracers and
debuggers, loaders equal to plain ones, the normal .pyc kept, a foreign .pyc honoured."""

from __future__ import annotations

import marshal

import pytest

from integration.helpers import python, write

TRACE_IMPORT = """\
import sys
seen = set()
def trace(frame, event, arg):
    if event == "call":
        seen.add(frame.f_globals.get("__name__"))
sys.settrace(trace)
import mod
sys.settrace(None)
print(sorted(name for name in seen if name and name.startswith("fatopt")), mod.f())
"""


def test_tracers_see_no_fatopt_frame_while_a_module_is_imported(tmp_path):
    # plain CPython runs only frozen importlib code there, which debuggers skip by module name.
    # A module imported under a tracer loads plain (tests/integration/test_tracers.py), whether
    # fatopt's cache has it (warm) or not (cold: the hook does not even look).
    write(tmp_path, "mod.py", "def f():\n    return len('abc')\n")
    write(tmp_path, "app.py", TRACE_IMPORT + "import fatopt\nprint(bool(fatopt.get_specialized(mod.f)))\n")
    cold = python("app.py", cwd=tmp_path)
    assert python("-c", "import mod, fatopt; print(bool(fatopt.get_specialized(mod.f)))", cwd=tmp_path).stdout == "True\n"
    warm = python("app.py", cwd=tmp_path)
    assert cold.stdout == warm.stdout == "[] 3\nFalse\n", (cold.stderr, warm.stderr)
    assert python("app.py", cwd=tmp_path, fatopt=None).stdout == "[] 3\nFalse\n"


def test_bdb_skipping_importlib_steps_over_an_optimized_import(tmp_path):
    # CPython's test_bdb.test_skip, in short: stepping over `import mod` with importlib skipped
    write(tmp_path, "mod.py", "def main():\n    lno = 3\n")
    write(tmp_path, "app.py", """
        import bdb, sys
        stops = []
        class Stepper(bdb.Bdb):
            def user_line(self, frame):
                stops.append((frame.f_globals.get("__name__"), frame.f_lineno))
                if len(stops) < 3:
                    self.set_step()
                else:
                    self.set_quit()
            def user_call(self, frame, args):
                self.user_line(frame)
        def importer():
            import mod
            return mod
        Stepper(skip=["importlib*", "zipimport", "encodings.*", "mod"]).runcall(importer)
        print([name for name, _ in stops])
    """)
    for _ in range(2):  # cold, then warm
        proc = python("app.py", cwd=tmp_path)
        assert proc.stdout == python("app.py", cwd=tmp_path, fatopt=None).stdout, proc.stderr
        assert "fatopt" not in proc.stdout


def test_loader_equals_one_made_anew(tmp_path):
    # pydoc.importfile compares the spec of a module loaded again with a fresh loader
    write(tmp_path, "mod.py", "X = 1\n")
    write(tmp_path, "app.py", """
        import importlib.machinery, mod
        fresh = importlib.machinery.SourceFileLoader("mod", mod.__file__)
        found = importlib.machinery.PathFinder.find_spec("mod")
        print(type(mod.__loader__) is type(fresh), mod.__loader__ == fresh, found == mod.__spec__,
              sorted(vars(mod.__loader__)))
    """)
    expected = "True True True ['name', 'path']\n"
    assert python("app.py", cwd=tmp_path).stdout == expected
    assert python("app.py", cwd=tmp_path, fatopt=None).stdout == expected


def _normal_pyc(directory):
    # helpers.python() sends caches to <cwd>/.prefix (PYTHONPYCACHEPREFIX)
    return [p for p in (directory / ".prefix").rglob("mod.cpython-*.pyc") if ".opt-" not in p.name]


def test_a_warm_start_writes_a_deleted_normal_pyc_again(tmp_path):
    write(tmp_path, "mod.py", "X = 1\n")
    write(tmp_path, "app.py", "import mod\nprint(mod.X)\n")
    assert python("app.py", cwd=tmp_path).stdout == "1\n"  # a cache miss: both .pyc files written
    [normal] = _normal_pyc(tmp_path)
    normal.unlink()
    assert python("app.py", cwd=tmp_path).stdout == "1\n"  # served from fatopt's cache
    assert len(_normal_pyc(tmp_path)) == 1
    normal.unlink()
    assert python("app.py", cwd=tmp_path, env={"PYTHONDONTWRITEBYTECODE": "1"}).stdout == "1\n"
    assert _normal_pyc(tmp_path) == []  # -B: neither writes it


@pytest.mark.parametrize("fatopt_first", [False, True])
def test_a_pyc_that_differs_from_its_source_runs_as_plain_python_runs_it(tmp_path, fatopt_first):
    write(tmp_path, "mod.py", "X = 1\n")
    write(tmp_path, "app.py", "import mod\nprint(mod.X)\n")
    python("app.py", cwd=tmp_path, fatopt=None)
    [normal] = _normal_pyc(tmp_path)
    data = normal.read_bytes()
    code = marshal.loads(data[16:])
    normal.write_bytes(data[:16] + marshal.dumps(code.replace(co_consts=tuple(2 if c == 1 else c for c in code.co_consts))))
    runs = [None, ""] if not fatopt_first else ["", None]
    for fatopt in runs * 2:
        assert python("app.py", cwd=tmp_path, fatopt=fatopt).stdout == "2\n"


def test_a_pyc_edited_after_fatopt_cached_the_module_runs_as_plain_python_runs_it(tmp_path):
    write(tmp_path, "mod.py", "X = 1\n")
    write(tmp_path, "app.py", "import mod\nprint(mod.X)\n")
    assert python("app.py", cwd=tmp_path).stdout == "1\n"  # a cache miss: both .pyc files written
    assert python("app.py", cwd=tmp_path).stdout == "1\n"  # warm
    [normal] = _normal_pyc(tmp_path)
    data = normal.read_bytes()
    code = marshal.loads(data[16:])
    normal.write_bytes(data[:16] + marshal.dumps(code.replace(co_consts=tuple(2 if c == 1 else c for c in code.co_consts))))
    for fatopt in ("", None, ""):
        assert python("app.py", cwd=tmp_path, fatopt=fatopt).stdout == "2\n"


def test_a_normal_pyc_rewritten_by_plain_python_costs_one_miss(tmp_path):
    write(tmp_path, "mod.py", "X = 1\n")
    write(tmp_path, "app.py", "import mod, sys\nprint(mod.X, 'fatopt.cache_miss' in sys.modules)\n")
    assert python("app.py", cwd=tmp_path).stdout == "1 True\n"
    assert python("app.py", cwd=tmp_path).stdout == "1 False\n"
    python("-m", "compileall", "-q", "-f", "mod.py", cwd=tmp_path, fatopt=None)
    assert python("app.py", cwd=tmp_path).stdout == "1 True\n"  # compared with the source again
    assert python("app.py", cwd=tmp_path).stdout == "1 False\n"


def test_subinterpreters_run_plain(tmp_path):
    write(tmp_path, "mod.py", "def f():\n    return len('abc')\n")
    write(tmp_path, "app.py", """
        try:
            import _interpreters
        except ImportError:  # 3.12
            import _xxsubinterpreters as _interpreters
        import fatopt, mod
        print(bool(fatopt.get_specialized(mod.f)))
        interp = _interpreters.create()
        _interpreters.run_string(interp, "import sys, mod; print(mod.f(), sorted(m for m in sys.modules if m.startswith('fatopt')))")
    """)
    proc = python("app.py", cwd=tmp_path)
    assert proc.stdout == "True\n3 []\n", proc.stderr
    assert proc.stderr == ""


def test_the_import_hook_does_not_leak(tmp_path):
    # Every path of the C hook, thousands of times: a fresh import (create_module + get_code),
    # reload (get_code alone), a loader fatopt did not make, the class-level call. A leak of one
    # block per cycle would show as >= 1000 per round; caches settle within a few rounds.
    write(tmp_path, "lmod.py", "def f():\n    return len('abc')\nX = 1\n")
    write(tmp_path, "lplain.py", "def g():\n    return 2\n")
    write(tmp_path, "run.py", """
        import gc, importlib, sys
        import lmod, lplain
        from importlib.machinery import SourceFileLoader
        def cycle():
            importlib.reload(sys.modules["lmod"])
            importlib.reload(sys.modules["lplain"])
            del sys.modules["lmod"]
            import lmod as m
            SourceFileLoader("lmod", m.__file__).get_code("lmod")
            SourceFileLoader.get_code(m.__loader__, "lmod")
        for _ in range(300):
            cycle()
        growth = []
        for _ in range(6):
            gc.collect()
            before = sys.getallocatedblocks()
            for _ in range(1000):
                cycle()
            gc.collect()
            growth.append(sys.getallocatedblocks() - before)
        import fatopt
        print(bool(fatopt.get_specialized(sys.modules["lmod"].f)), min(growth[-3:]) < 100, growth)
    """)
    proc = python("run.py", cwd=tmp_path, timeout=300)
    assert proc.stdout.startswith("True True"), (proc.stdout, proc.stderr)


COUNT_OBJECTS = """\
import gc, sys
import pkg
if sys.argv[1:] == ["with-optimizer"]:  # loaded, then dropped, as after a cache miss
    before = set(sys.modules)
    import fatopt.cache_miss, fatopt.compiler, fatopt.optimizer
    for name in set(sys.modules) - before:
        if name.startswith("fatopt.") and not fatopt.cache_miss._kept(name):
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            vars(sys.modules.get(parent, fatopt)).pop(child, None)
gc.collect()
print(len(gc.get_objects()), pkg.total())
print(sorted(sys.modules))
"""


def test_a_cold_import_leaves_nothing_behind_but_the_standard_modules_the_optimizer_used(tmp_path):
    # After a cold import (and the collection that drops the optimizer) the process holds what a
    # warm one holds plus the standard library modules the optimizer imported (dropping those is
    # not safe, see docs/testing.md): no optimizer, syntax tree, analysis, report or cache entry
    # per optimized module. Twenty modules with specialized functions: anything kept per module
    # or per function would pass the bound.
    names = [f"m{i}" for i in range(20)]
    for name in names:
        write(tmp_path, f"pkg/{name}.py", """
            LIMIT = 3
            def f(x):
                return len("abc") + x + LIMIT
            def g():
                return [len(str(v)) for v in (1, 2, 3)]
            class C:
                def m(self):
                    return max(1, 2) + LIMIT
            def total():
                return f(1) + sum(g()) + C().m()
        """)
    write(tmp_path, "pkg/__init__.py", "".join(f"from . import {n}\n" for n in names)
          + f"def total():\n    return sum(m.total() for m in ({', '.join(names)}))\n")
    write(tmp_path, "app.py", COUNT_OBJECTS)
    cold = python("app.py", cwd=tmp_path)
    warm_with_optimizer = python("app.py", "with-optimizer", cwd=tmp_path)
    warm = python("app.py", cwd=tmp_path)
    (cold_objects, total), cold_modules = cold.stdout.split("\n")[0].split(), cold.stdout.split("\n")[1]
    (reference_objects, reference_total), reference_modules = (
        warm_with_optimizer.stdout.split("\n")[0].split(), warm_with_optimizer.stdout.split("\n")[1])
    assert total == reference_total == str(20 * (7 + 3 + 5)), (cold.stderr, warm_with_optimizer.stderr)
    assert cold_modules == reference_modules
    # the process-wide state of a cold start (its Config, the options, memo tables keyed by
    # node type) is a few dozen objects, whatever the number of modules optimized
    assert int(cold_objects) - int(reference_objects) < 200, (cold_objects, reference_objects)
    # and the warm process really loads none of the optimizer
    assert "fatopt.optimizer" not in warm.stdout and int(warm.stdout.split()[0]) < int(reference_objects)


def test_a_program_keeping_every_object_to_the_end_shuts_down_silently(tmp_path):
    # At shutdown the last collection clears the runtime's Specialization type (and with it its
    # module) before the specializations themselves: their clearing must not need the module.
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/config.py", "LIMIT = 10\n")
    write(tmp_path, "pkg/work.py", "from .config import LIMIT\ndef f(x):\n    return len('abc') + x + LIMIT\n")
    write(tmp_path, "app.py", """
        import collections, gc
        import pkg.work
        gc.collect()
        everything = gc.get_objects()
        kinds = collections.Counter(type(o).__name__ for o in everything)
        print(pkg.work.f(1))
    """)
    for _ in range(2):  # cold, then warm
        proc = python("app.py", cwd=tmp_path)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "14\n", "")


def test_a_programs_patch_of_source_loader_exec_module_takes_effect(tmp_path):
    """The hook takes over get_code and create_module only: a program (CPython's test_import)
    that patches importlib's SourceLoader.exec_module sees its patch run, as in plain Python."""
    write(tmp_path, "foo.py", "VALUE = 1\n")
    write(tmp_path, "app.py", """
        import sys
        bootstrap = sys.modules["_frozen_importlib_external"]
        original = bootstrap.SourceLoader.exec_module
        def exec_module(*args):
            1/0
        bootstrap.SourceLoader.exec_module = exec_module
        try:
            import foo
        except ZeroDivisionError:
            print("patched")
        else:
            print("not patched")
        finally:
            bootstrap.SourceLoader.exec_module = original
    """)
    plain = python("app.py", cwd=tmp_path, fatopt=None)
    optimized = python("app.py", cwd=tmp_path)
    assert plain.stdout == optimized.stdout == "patched\n", (plain.stderr, optimized.stderr)
