"""Argument types learned at the first call (fatopt/first_call_types.py, fatopt/respecialize.py,
fatopt/analyses/typed_parameters.py): which functions are watched (table, and every exclusion),
what their first call makes of them, and plain vs optimized runs of each case: later calls with
the class, with other types, a subclass, an exception in the inlined dunder (traceback text), a
first call that raises, a first call with another type, the source changed before the first
call, a method, and the hook's own path (``-X fatopt``, ``fatopt show``) in a child process."""

from __future__ import annotations

import ast
import marshal
import os
import subprocess
import sys
import textwrap
import types as types_module

import pytest

import fatopt
import fatopt.first_call_types as first_call_types
from fatopt.config import Config
from fatopt.optimizer import optimize_ast, optimize_source
from fatopt.results import Report
from tests.optimizer._diff import execute, source_file, traceback_driver

#: a class whose subscripts are worth inlining, and a function summing through them in a loop
GRID = """\
class Grid:
    def __init__(self, n):
        self.data = list(range(n))
    def __getitem__(self, i):
        return self.data[i]
    def __setitem__(self, i, v):
        self.data[i] = v
"""

TOTAL = GRID + """\
def total(g, n):
    s = 0
    for i in range(n):
        s += g[i]
    return s
"""


def _watched(source: str, name: str = "total", config: Config | None = None, *, with_source: bool = True) -> tuple[str, ...] | None:
    """The parameters of ``name`` the optimized module watches (from the report), or None when
    the emitted module has no watch statement for it (the two must agree)."""
    source = textwrap.dedent(source)
    report = Report()
    tree = optimize_ast(ast.parse(source), "<case>", config, report=report, source=source if with_source else None)
    rows = [r for r in report.functions if r.qualname.rpartition(".")[2] == name]
    statements = [n for n in ast.walk(tree) if type(n) is ast.Expr and type(n.value) is ast.Call
                  and ast.unparse(n.value.func) == "__fatopt_runtime__.first_call_types"
                  and ast.unparse(n.value.args[0]).rpartition(".")[2] == name]
    assert len(statements) <= 1
    if not statements:
        assert not rows or rows[0].watched == (), rows
        return None
    call = statements[0].value
    assert rows and rows[0].watched == ast.literal_eval(call.args[1])
    return ast.literal_eval(call.args[1])


# -- which functions are watched ---------------------------------------------------------------

WATCHED = [
    ("for loop, load", TOTAL, "total", ("g",)),
    ("while loop, store", GRID + "def fill(g, n):\n    i = 0\n    while i < n:\n        g[i] = 0\n        i += 1\n",
     "fill", ("g",)),
    ("a comprehension in a loop", GRID + "def firsts(g, n):\n    for k in range(2):\n        print([g[i] for i in range(n)])\n",
     "firsts", ("g",)),
    ("two parameters, in their order", GRID + "def add(a, b, n):\n    for i in range(n):\n        a[i] = b[i]\n",
     "add", ("a", "b")),
    ("keyword-only", GRID + "def f(n, *, g):\n    for i in range(n):\n        g[i]\n", "f", ("g",)),
    ("a method's other parameter", GRID + "class Acc:\n    def total(self, g, n):\n        s = 0\n"
     "        for i in range(n):\n            s += g[i]\n        return s\n", "total", ("g",)),
    ("the dunder inherited", GRID + "class Sub(Grid):\n    pass\n" + TOTAL.removeprefix(GRID), "total", ("g",)),
    ("inside an if at module level", GRID + "if True:\n    def total(g, n):\n        for i in range(n):\n"
     "            g[i]\n", "total", ("g",)),
]


@pytest.mark.parametrize("source, name, params", [w[1:] for w in WATCHED], ids=[w[0] for w in WATCHED])
def test_watched(source, name, params):
    assert _watched(source, name) == params


NOT_WATCHED = [
    ("not in a loop", GRID + "def f(g):\n    return g[0]\n"),
    ("a comprehension alone (such a function may be inlined)", GRID + "def f(g, n):\n    return [g[i] for i in range(n)]\n"),
    ("no class with a subscript dunder", "class P:\n    pass\ndef f(g, n):\n    for i in range(n):\n        g[i]\n"),
    ("the class is decorated (not plain)", "import functools\n@functools.total_ordering\n" + GRID
     + "def f(g, n):\n    for i in range(n):\n        g[i]\n"),
    ("the parameter is rebound", GRID + "def f(g, n):\n    g = list(g)\n    for i in range(n):\n        g[i]\n"),
    ("the parameter is deleted", GRID + "def f(g, n):\n    for i in range(n):\n        g[i]\n    del g\n"),
    ("annotated with the class (speculated already)", GRID + "def f(g: Grid, n):\n    for i in range(n):\n        g[i]\n"),
    ("decorated", GRID + "import functools\n@functools.lru_cache\ndef f(g, n):\n    for i in range(n):\n        g[i]\n"),
    ("a generator", GRID + "def f(g, n):\n    for i in range(n):\n        yield g[i]\n"),
    ("a coroutine", GRID + "async def f(g, n):\n    for i in range(n):\n        g[i]\n"),
    ("nested", GRID + "def outer():\n    def f(g, n):\n        for i in range(n):\n            g[i]\n    return f\n"),
    ("self of a method", "class Grid:\n    def __getitem__(self, i):\n        return i\n"
     "    def f(self, n):\n        for i in range(n):\n            self[i]\n"),
    ("*args", GRID + "def f(*g):\n    for i in range(3):\n        g[i]\n"),
    ("only in a nested function's loop", GRID + "def f(g):\n    def inner(n):\n        for i in range(n):\n"
     "            g[i]\n    return inner\n"),
    ("left out (exec)", GRID + "def f(g, n):\n    exec('')\n    for i in range(n):\n        g[i]\n"),
    ("a method of a nested class", GRID + "class Outer:\n    class Inner:\n        def f(self, g, n):\n"
     "            for i in range(n):\n                g[i]\n"),
]


@pytest.mark.parametrize("source", [w[1] for w in NOT_WATCHED], ids=[w[0] for w in NOT_WATCHED])
def test_not_watched(source):
    assert _watched(source, "f") is None


def test_an_init_is_never_watched():
    # 3.13 enters a class's __init__ from its call sites past the watch's hook: on no version,
    # so that the optimized module is the same text for both
    source = GRID + "class Copy:\n    def __init__(self, g, n):\n        self.items = []\n" \
        "        for i in range(n):\n            self.items.append(g[i])\n"
    assert _watched(source, "__init__") is None
    assert _watched(source.replace("def __init__(self, g, n)", "def fill(self, g, n)"), "fill") == ("g",)


def test_switches_and_source():
    assert _watched(TOTAL, config=Config.default().replace(first_call_types=False)) is None
    assert _watched(TOTAL, config=Config.default().replace(specialize_types=False)) is None
    assert _watched(TOTAL, with_source=False) is None  # no text to optimize again from
    assert _watched(TOTAL) == ("g",)


def test_statement_names_the_candidates_and_the_source():
    tree = optimize_ast(ast.parse(TOTAL), "<case>", source=TOTAL)
    call = next(n.value for n in ast.walk(tree) if type(n) is ast.Expr and type(n.value) is ast.Call
                and ast.unparse(n.value.func).endswith("first_call_types"))
    assert ast.literal_eval(call.args[2]) == ("Grid",)
    assert ast.literal_eval(call.args[3]) == first_call_types.source_digest(TOTAL)


def test_text_form_has_the_statement_after_the_def():
    text = optimize_source(TOTAL, "<case>")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if "first_call_types(total" in line)
    assert lines[at - 1].strip() == "return s" and not lines[at].startswith(" ")
    assert "import fatopt._guards as __fatopt_runtime__" in text
    compile(text, "<case>", "exec", dont_inherit=True)


# -- what the first call makes of them ---------------------------------------------------------

def _load(source: str) -> tuple[str, str]:
    return source_file(source)


def _both(source: str, driver: str, path_hook=None):
    """Plain and optimized runs of ``source`` with ``driver`` (in one file: the optimizer reads
    it again at the first call); the optimized namespace."""
    source, path = source_file(source)
    plain = execute(compile(source, path, "exec", dont_inherit=True), path, driver)
    tree = optimize_ast(ast.parse(source, path), path, source=source)
    if path_hook is not None:
        path_hook(path)
    optimized = execute(tree, path, driver)
    assert optimized.comparable() == plain.comparable()
    return optimized.namespace


def _spec_recipes(func) -> list:
    found = fatopt.get_specialized(func)
    return [g.recipe() for g in found[0][1]] if found else []


def test_first_call_with_the_class_specializes():
    driver = """\
        g = Grid(50)
        result = (total(g, 50), total(g, 50), total(g, 10), total(list(range(50)), 50))
    """
    ns = _both(TOTAL, driver)
    assert first_call_types.outcome(ns["total"]) == "specialized"
    assert ("instance_class", "Grid") in _spec_recipes(ns["total"])


def test_watching_until_the_first_call():
    source, path = source_file(TOTAL)
    ns = execute(optimize_ast(ast.parse(source, path), path, source=source), path).namespace
    assert first_call_types.outcome(ns["total"]) == "watching"
    assert not _spec_recipes(ns["total"])
    assert ns["total"](ns["Grid"](3), 3) == 3
    assert first_call_types.outcome(ns["total"]) == "specialized"


def test_later_calls_with_other_types_and_subclasses():
    source = TOTAL + "class Sub(Grid):\n    def __getitem__(self, i):\n        return -self.data[i]\n"
    driver = """\
        total(Grid(5), 5)
        result = (total(Grid(9), 9), total(Sub(9), 9), total(list(range(9)), 9), total({0: 7, 1: 8}, 2))
    """
    ns = _both(source, driver)
    assert first_call_types.outcome(ns["total"]) == "specialized"


def test_an_exception_in_the_inlined_dunder_keeps_its_traceback():
    source = TOTAL
    driver = "total(Grid(3), 3)\n" + traceback_driver("total(Grid(3), 5)")
    ns = _both(source, driver)
    assert first_call_types.outcome(ns["total"]) == "specialized"
    assert "IndexError" in ns["result"] and "__getitem__" in ns["result"]


def test_a_first_call_that_raises():
    driver = traceback_driver("total(Grid(3), 5)") + "first = result\n" + "result = (first, total(Grid(4), 4))\n"
    ns = _both(TOTAL, driver)
    assert first_call_types.outcome(ns["total"]) == "specialized"


def test_a_first_call_with_another_type_decides():
    driver = "total(list(range(4)), 4)\nresult = (total(Grid(6), 6), total(Grid(2), 2))\n"
    ns = _both(TOTAL, driver)
    assert first_call_types.outcome(ns["total"]) == "no class of the module"
    assert ("instance_class", "Grid") not in _spec_recipes(ns["total"])


CHANGED = "a definition changed since the function's"


def test_the_class_rebound_before_the_first_call():
    # the driver binds Grid to another class: the source's Grid is not what the name holds
    driver = "class Grid(list):\n    pass\nfirst = total(Grid([1, 2]), 2)\nresult = (first, total(Grid([1, 5]), 2), total([3, 4], 2))\n"
    ns = _both(TOTAL, driver)
    assert first_call_types.outcome(ns["total"]) == CHANGED


def test_the_dunder_replaced_before_the_first_call():
    driver = "Grid.__getitem__ = lambda self, i: -1\nresult = (total(Grid(5), 5), total(Grid(5), 5))\n"
    ns = _both(TOTAL, driver)
    assert first_call_types.outcome(ns["total"]) == CHANGED


def test_the_dunders_code_replaced_before_the_first_call():
    driver = ("def other(self, i):\n    return 7\nGrid.__getitem__.__code__ = other.__code__\n"
              "result = (total(Grid(5), 5), total(Grid(5), 5))\n")
    ns = _both(TOTAL, driver)
    assert first_call_types.outcome(ns["total"]) == CHANGED


def test_the_dunders_defaults_changed_before_the_first_call():
    source = TOTAL.replace("def __getitem__(self, i):", "def __getitem__(self, i, k=0):").replace(
        "return self.data[i]", "return self.data[i] + k")
    driver = "Grid.__getitem__.__defaults__ = (100,)\nresult = (total(Grid(5), 5), total(Grid(5), 5))\n"
    ns = _both(source, driver)
    assert first_call_types.outcome(ns["total"]) == CHANGED


def test_a_class_defined_after_the_function():
    source = "def total(g, n):\n    s = 0\n    for i in range(n):\n        s += g[i]\n    return s\n" + GRID
    ns = _both(source, "result = (total(Grid(5), 5), total(Grid(5), 5))\n")
    # the optimizer does not specialize for a class its function's definition did not see (and
    # guards naming Grid would capture a binding made after the function's definition)
    assert first_call_types.outcome(ns["total"]) in (CHANGED, "nothing to specialize")


def test_the_source_changed_before_the_first_call():
    def edit(path):
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n# edited\n")

    driver = "result = (total(Grid(5), 5), total(Grid(5), 5))\n"
    ns = _both(TOTAL, driver, path_hook=edit)
    assert first_call_types.outcome(ns["total"]) == "source changed"


def test_a_method():
    source = GRID + textwrap.dedent("""\
        class Acc:
            def __init__(self):
                self.calls = 0
            def total(self, g, n):
                self.calls += 1
                s = 0
                for i in range(n):
                    s += g[i]
                return s
        """)
    driver = "a = Acc()\nresult = (a.total(Grid(5), 5), a.total(Grid(7), 7), a.calls)\n"
    ns = _both(source, driver)
    assert first_call_types.outcome(ns["Acc"].total) == "specialized"
    assert ("instance_class", "Grid") in _spec_recipes(ns["Acc"].total)


def test_specialized_at_import_then_again():
    # a function specialized at import (a module constant) gets the type specialization on top
    source = TOTAL.replace("s = 0", "s = START") .replace("class Grid:", "START = 0\nclass Grid:")
    driver = "result = (total(Grid(5), 5), total(Grid(6), 6))\n"
    ns = _both(source, driver)
    recipes = _spec_recipes(ns["total"])
    assert any(r[0] == "globals" for r in recipes)
    assert first_call_types.outcome(ns["total"]) == "specialized"
    assert ("instance_class", "Grid") in recipes


def test_a_guard_failing_after_the_respecialization():
    driver = """\
        total(Grid(5), 5)
        before = total(Grid(5), 5)
        Grid.__getitem__ = lambda self, i: 100
        result = (before, total(Grid(5), 5))
    """
    _both(TOTAL, driver)


def test_class_assigned_after_the_respecialization():
    # the specialization checks type(g) at entry: the __class__ audit hook it needs is added at
    # the first call that installed it
    source = TOTAL + "class Other(Grid):\n    def __getitem__(self, i):\n        return -1\n"
    driver = """\
        g = Grid(5)
        before = total(g, 5)
        g.__class__ = Other
        result = (before, total(g, 5))
    """
    ns = _both(source, driver)
    assert first_call_types.outcome(ns["total"]) == "specialized"


# -- the import hook's path ----------------------------------------------------------------------

HOOKED = TOTAL + textwrap.dedent("""\
    if __name__ == "__main__":
        import fatopt.first_call_types as f
        print(f.outcome(total), total(Grid(10), 10))
        print(f.outcome(total), total(Grid(10), 10))
    """)


def _run_child(args, cwd, **env):
    """``python ARGS`` in ``cwd``, with ``env`` on top of this environment (None: unset)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONFATOPT")}
    environment.update(env)
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=environment, timeout=120)


def test_under_the_import_hook(tmp_path):
    (tmp_path / "app.py").write_text(HOOKED, encoding="utf-8")
    done = _run_child(["-X", "fatopt", "app.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["watching 45", "specialized 45"]
    assert done.stderr == ""


def test_stats_report_the_watches(tmp_path):
    (tmp_path / "app.py").write_text(HOOKED + textwrap.dedent("""\
        if __name__ == "__main__":
            import fatopt
            print([(row["function"], row["line"], row["outcome"]) for row in fatopt.stats()["first_calls"]])
        """), encoding="utf-8")
    done = _run_child(["-X", "fatopt=stats", "app.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    line = TOTAL.splitlines().index("def total(g, n):") + 1
    assert done.stdout.splitlines()[2:] == [str([("total", line, "specialized")])]
    assert done.stderr.rstrip().endswith("; 1 first call watched, 1 specialized"), done.stderr


def test_watches_of_modules_optimized_after_the_optimizer_was_dropped(tmp_path):
    # each cache miss imports the optimizer, and the import hook drops its modules afterwards:
    # the watches' module stays, so the first watch's function is still known to the runtime's
    # hook once the second module's watch is made
    (tmp_path / "one.py").write_text(TOTAL, encoding="utf-8")
    (tmp_path / "two.py").write_text(TOTAL, encoding="utf-8")
    (tmp_path / "app.py").write_text(textwrap.dedent("""\
        import one
        import json  # another import: the hook drops the optimizer's modules here
        import two
        import fatopt
        print(one.total(one.Grid(4), 4), two.total(two.Grid(4), 4))
        print(sorted((row["file"].rsplit("/", 1)[-1], row["outcome"]) for row in fatopt.stats()["first_calls"]))
        """), encoding="utf-8")
    done = _run_child(["-X", "fatopt", "app.py"], tmp_path, PYTHONDONTWRITEBYTECODE="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["6 6", str([("one.py", "specialized"), ("two.py", "specialized")])]


# -- kept between runs (fatopt.first_call_cache) ---------------------------------------------------

KEPT = TOTAL + textwrap.dedent("""\
    if __name__ == "__main__":
        import os, sys
        import fatopt.first_call_types as f
        if os.environ.get("CHANGE_GRID"):
            Grid.__getitem__ = lambda self, i: 2 * self.data[i]
        print(total(Grid(10), 10), f.outcome(total), "fatopt.optimizer" in sys.modules)
    """)


def _kept_files(directory):
    return sorted(p.name for p in directory.rglob("*.pyc") if "first" in p.name.rpartition(".opt-")[2])


def test_a_later_run_installs_the_kept_specialization_without_the_optimizer(tmp_path):
    (tmp_path / "app.py").write_text(KEPT, encoding="utf-8")
    writes = {"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": None}
    cold = _run_child(["-X", "fatopt", "app.py"], tmp_path, **writes)
    assert cold.returncode == 0 and cold.stderr == "", cold.stderr
    assert cold.stdout.split()[:2] == ["45", "specialized"]
    [kept] = _kept_files(tmp_path)
    assert kept.startswith("app.cpython-") and "__pycache__" in str(next(tmp_path.rglob(kept)))
    written = next(tmp_path.rglob(kept)).read_bytes()
    warm = _run_child(["-X", "fatopt", "app.py"], tmp_path, **writes)
    assert warm.stdout.split() == ["45", "specialized", "False"], warm.stderr  # no optimizer at all
    changed = _run_child(["-X", "fatopt", "app.py"], tmp_path, CHANGE_GRID="1", **writes)
    assert changed.stdout.split() == ["90", "a", "definition", "changed", "since", "the", "function's", "False"]
    next(tmp_path.rglob(kept)).write_bytes(b"not what fatopt writes")
    again = _run_child(["-X", "fatopt", "app.py"], tmp_path, **writes)
    assert again.stdout.split()[:2] == ["45", "specialized"], again.stderr
    rewritten = next(tmp_path.rglob(kept)).read_bytes()  # made again (marshal's bytes may differ)
    assert _kept_files(tmp_path) == [kept] and marshal.loads(rewritten[4:]) == marshal.loads(written[4:])
    cleaned = _run_child(["-m", "fatopt", "clean"], tmp_path, **writes)
    assert cleaned.returncode == 0 and _kept_files(tmp_path) == []


def test_nothing_is_kept_without_bytecode_writing(tmp_path):
    (tmp_path / "app.py").write_text(KEPT, encoding="utf-8")
    for _ in range(2):
        done = _run_child(["-X", "fatopt", "app.py"], tmp_path, PYTHONDONTWRITEBYTECODE="1")
        assert done.stdout.split()[:2] == ["45", "specialized"], done.stderr
        assert _kept_files(tmp_path) == []


def test_what_the_cache_reads_back(tmp_path, monkeypatch):
    from fatopt import first_call_cache, importer

    options = importer.Options(enabled=True)
    options.cache_dir = str(tmp_path / "cache")
    monkeypatch.setattr(importer, "installed_options", lambda: options)
    source = str(tmp_path / "m.py")
    code = compile("def f(x):\n    return x\n", source, "exec")
    key = first_call_cache.key("digest", "f", 1, (("m", "Grid", True),))
    assert key != first_call_cache.key("digest", "f", 1, (("m", "Grid", False),))
    assert first_call_cache.load(source, key) is None
    assert first_call_cache.store(source, key, (code, (("instance_class", "Grid"),), "__fatopt_valid_f__"))
    assert first_call_cache.load(source, key) == (code, (("instance_class", "Grid"),), "__fatopt_valid_f__")
    other = first_call_cache.key("digest", "g", 5, ())
    assert first_call_cache.store(source, other, "nothing to specialize for these types")
    assert first_call_cache.load(source, other) == "nothing to specialize for these types"
    [path] = [p for p in (tmp_path / "cache").rglob("*.pyc") if key in p.name]
    data = path.read_bytes()
    for broken in (data[:-3], data[:4], b"", data.replace(key.encode(), other.encode())):
        path.write_bytes(broken)
        assert first_call_cache.load(source, key) is None


def test_the_optimizer_tool_id_taken_by_another_tool(tmp_path):
    # the watch uses no sys.monitoring tool id
    (tmp_path / "app.py").write_text(
        "import sys\nsys.monitoring.use_tool_id(sys.monitoring.OPTIMIZER_ID, 'other')\n" + HOOKED, encoding="utf-8")
    done = _run_child(["-X", "fatopt", "app.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["watching 45", "specialized 45"]


def test_show_notes_the_watch(tmp_path):
    (tmp_path / "app.py").write_text(TOTAL, encoding="utf-8")
    done = _run_child(["-m", "fatopt", "show", "app.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the types of g at its first call may specialize it" in done.stdout
    assert "__fatopt_runtime__.first_call_types(total, ('g',), ('Grid',), " in done.stdout


def test_the_one_call_profile_answers_as_the_programs_for_the_rest():
    from fatopt.profile import TypeName
    from fatopt.respecialize import OneCallProfile

    class Recorded:
        def types_for_def(self, filename, qualname, firstlineno, def_source):
            return [(TypeName("m", "Other", True),)]

        def receiver_types_for_call(self, filename, qualname, firstlineno, def_source, end_lineno, end_col_offset):
            return [TypeName("m", "Point", True)] if (end_lineno, end_col_offset) == (3, 9) else []

        def operand_types_for_binop(self, filename, qualname, firstlineno, def_source, end_lineno, end_col_offset,
                                    operator=None):
            point = TypeName("m", "Point", True)
            return [(point, point)] if (end_lineno, end_col_offset, operator) == (5, 12, "Sub") else []

    learned = (TypeName("m", "Grid", True),)
    alone = OneCallProfile("total", 4, learned)
    with_program = OneCallProfile("total", 4, learned, Recorded())
    assert alone.types_for_def("m.py", "total", 4, "") == with_program.types_for_def("m.py", "total", 4, "") == [learned]
    assert alone.types_for_def("m.py", "other", 9, "") == []
    assert with_program.types_for_def("m.py", "other", 9, "") == [(TypeName("m", "Other", True),)]
    assert alone.receiver_types_for_call("m.py", "total", 4, "", 3, 9) == []
    assert with_program.receiver_types_for_call("m.py", "total", 4, "", 3, 9) == [TypeName("m", "Point", True)]
    assert alone.operand_types_for_binop("m.py", "total", 4, "", 5, 12, operator="Sub") == []
    assert with_program.operand_types_for_binop("m.py", "total", 4, "", 5, 12, operator="Sub") == [
        (TypeName("m", "Point", True), TypeName("m", "Point", True))]
    assert with_program.operand_types_for_binop("m.py", "total", 4, "", 5, 12) == []


def test_no_tool_id_is_taken(tmp_path):
    (tmp_path / "app.py").write_text(HOOKED + textwrap.dedent("""\
        if __name__ == "__main__":
            import sys
            print([sys.monitoring.get_tool(i) for i in range(6)])
            sys.monitoring.use_tool_id(sys.monitoring.OPTIMIZER_ID, "mine")
            print(sys.monitoring.get_tool(sys.monitoring.OPTIMIZER_ID))
        """), encoding="utf-8")
    plain = _run_child(["app.py"], tmp_path)
    optimized = _run_child(["-X", "fatopt", "app.py"], tmp_path)
    assert optimized.returncode == plain.returncode == 0, (plain.stderr, optimized.stderr)
    assert optimized.stdout.splitlines()[2:] == plain.stdout.splitlines()[2:] == [str([None] * 6), "mine"]


# -- the runtime's hook (_guards.watch_first_call) -----------------------------------------------

def _hooked(func):
    """``func`` watched by a recorder of what the hook hands over; the record."""
    seen: list = []

    def learn(f, types):
        seen.append((f, types))
        return types is None

    assert fatopt._guards.watch_first_call(func, learn)
    return seen


def _kinds(a, b=1.5, /, c="c", *args, d, e=None, **kwargs):
    return (a, b, c, args, d, e, kwargs)


@pytest.mark.parametrize("call, types", [
    ("f(1, d=2)", (int, float, str, int, type(None))),
    ("f(1, 2, 3, 4, 5, d=[], e={})", (int, int, int, list, dict)),
    ("f(1, c=b'', d=2, b=3)", (int, float, bytes, int, type(None))),  # b: positional-only, so **kwargs
    ("f(*(1, 2), **{'d': 3, 'c': 4})", (int, int, int, int, type(None))),
    ("f(1)", None),                    # d missing: TypeError
    ("f(1, 2, 3, d=4, c=5)", None),    # c given twice: TypeError
])
def test_the_hook_hands_over_the_bound_types(call, types):
    f = types_module.FunctionType(_kinds.__code__, globals(), "_kinds", _kinds.__defaults__)
    f.__kwdefaults__ = dict(_kinds.__kwdefaults__)
    seen = _hooked(f)
    outcome = None
    try:
        outcome = eval(call, {"f": f})
    except TypeError:
        pass
    else:
        assert outcome == eval(call, {"f": _kinds})
    assert seen == [(f, types)]
    if types is None:  # the call could not bind: the next one is watched
        f(0, d=0)
        assert seen[1] == (f, (int, float, str, int, type(None)))
    f(0, d=0)
    assert len(seen) == (2 if types is None else 1)


def test_too_many_positional_arguments_bind_nothing():
    def two(a, b):
        return a + b

    seen = _hooked(two)
    with pytest.raises(TypeError):
        two(1, 2, 3)
    assert two(1, 2) == 3
    assert seen == [(two, None), (two, (int, int))]


def test_the_first_call_runs_what_the_hook_installed():
    def before(x):
        return "before"

    def after(x):
        return "after"

    fatopt._guards.watch_first_call(before, lambda f, types: setattr(f, "__code__", after.__code__))
    assert before(1) == "after"


def test_the_hook_runs_unseen_by_a_tracer():
    def watched(x):
        return x

    def learn(f, types):
        return sorted([3, 1, 2]) and False

    def learned(f, types):
        return learn(f, types)

    fatopt._guards.watch_first_call(watched, learned)
    calls = []

    def tracer(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.settrace(tracer)
    try:
        watched(1)
    finally:
        sys.settrace(None)
    assert calls == ["watched"]


def test_an_init_is_not_watched_on_313():
    def __init__(self):
        pass

    assert fatopt._guards.watch_first_call(__init__, lambda f, types: False) is (sys.version_info < (3, 13))


def test_with_a_profile(tmp_path):
    # the profile is recorded by a run that never calls total: it types nothing of it
    (tmp_path / "app.py").write_text(HOOKED.replace('if __name__ == "__main__":', 'if __name__ == "__main__" and len(__import__("sys").argv) == 1:'),
                                     encoding="utf-8")
    recorded = _run_child(["-m", "fatopt", "profile", "-o", "app.profile", "--", "app.py", "record"], tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    done = _run_child(["-X", "fatopt=profile=app.profile", "app.py"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["watching 45", "specialized 45"]
