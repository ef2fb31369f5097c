"""Each deliberate difference listed in docs/semantics.md, shown by a test.

(Differences of the runtime itself are tested in tests/runtime; these are about optimized
modules as the import hook and the optimizer produce them.)
"""

from __future__ import annotations

import ast
import marshal
import os
import sys
import textwrap

import fatopt
import pytest

from integration.helpers import python, write

SOURCE = textwrap.dedent(
    """
    DEBUG = False

    def log(message):
        if DEBUG:
            print("debug:", message)
        return message
    """
)


def load(optimized: bool, name: str = "semmod") -> dict:
    tree = ast.parse(SOURCE)
    if optimized:
        tree = fatopt.optimize_ast(tree, f"<{name}>")
    namespace: dict = {"__name__": name}
    exec(compile(tree, f"<{name}>", "exec"), namespace)
    return namespace


def traced_lines(func, *args) -> list[int]:
    lines: list[int] = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name == func.__name__ and event == "line":
            lines.append(frame.f_lineno - frame.f_code.co_firstlineno)
        return tracer

    sys.settrace(tracer)
    try:
        func(*args)
    finally:
        sys.settrace(None)
    return lines


def test_optimized_module_has_extra_globals():
    plain, optimized = load(False), load(True)
    assert set(optimized) - set(plain) == {"__fatopt_runtime__"}
    assert optimized["__fatopt_runtime__"] is sys.modules["fatopt._guards"]
    # a function holding inlined code adds its validity flag
    source = SOURCE + "\ndef double(x):\n    return x * 2\ndef caller(x):\n    return double(x)\n"
    tree = fatopt.optimize_ast(ast.parse(source), "<extra>")
    namespace: dict = {"__name__": "extra"}
    exec(compile(tree, "<extra>", "exec"), namespace)
    assert fatopt.get_specialized(namespace["caller"])
    assert set(namespace) - set(plain) == {"__fatopt_runtime__", "double", "caller", "__fatopt_valid_11_0__"}
    assert namespace["__fatopt_valid_11_0__"] == [True]
    # a module whose sites test several objects' types at once binds the runtime's exact_types
    source = SOURCE + ("\nclass V:\n    def __init__(self, x):\n        self.x = x\n"
                       "    def __add__(self, o):\n        return V(self.x + o.x)\n"
                       "def add(a: V, b: V):\n    return a + b\n")
    tree = fatopt.optimize_ast(ast.parse(source), "<extra>")
    namespace = {"__name__": "extra"}
    exec(compile(tree, "<extra>", "exec"), namespace)
    assert fatopt.get_specialized(namespace["add"])
    assert {"__fatopt_runtime__", "__fatopt_exact_types__"} <= set(namespace) - set(plain)
    assert namespace["__fatopt_exact_types__"] is sys.modules["fatopt._guards"].exact_types


def test_tracers_see_the_lines_the_specialized_code_runs():
    plain, optimized = load(False), load(True)
    assert fatopt.get_specialized(optimized["log"])
    assert traced_lines(plain["log"], "x") == [1, 3]  # `if DEBUG:` then `return`
    assert traced_lines(optimized["log"], "x") == [3]  # the test was folded away
    optimized["DEBUG"] = True  # the guard breaks: original code, original line events
    assert traced_lines(optimized["log"], "x") == [1, 2, 3]


def test_exec_and_compile_are_not_optimized(tmp_path):
    # (in a module of its own: a module that calls exec is not optimized at all)
    write(tmp_path, "dynamic.py", """
        namespace = {}
        exec(compile("def f():\\n    return len('abc')\\n", "<dynamic>", "exec"), namespace)
    """)
    write(tmp_path, "app.py", """
        import fatopt, dynamic
        def g():
            return len('abc')
        print(bool(fatopt.get_specialized(dynamic.namespace["f"])), bool(fatopt.get_specialized(g)))
    """)
    proc = python("app.py", cwd=tmp_path)
    assert proc.stdout == "False True\n", proc.stderr


def _normal_pyc(directory):
    # helpers.python() sends caches to <cwd>/.prefix (PYTHONPYCACHEPREFIX)
    return [p for p in (directory / ".prefix").rglob("mod.cpython-*.pyc") if ".opt-" not in p.name]


def _edit_constant(pyc, old, new):
    """Rewrite a .pyc's code keeping its header (so it still matches the source)."""
    data = pyc.read_bytes()
    code = marshal.loads(data[16:])
    pyc.write_bytes(data[:16] + marshal.dumps(code.replace(co_consts=tuple(new if c == old else c for c in code.co_consts))))


def test_a_pyc_edited_after_fatopt_cached_the_module_but_dated_back_is_not_run(tmp_path):
    write(tmp_path, "mod.py", "X = 1\n")
    write(tmp_path, "app.py", "import mod\nprint(mod.X)\n")
    assert python("app.py", cwd=tmp_path).stdout == "1\n"  # a cache miss: both .pyc files written
    [normal] = _normal_pyc(tmp_path)
    [ours] = [p for p in normal.parent.glob("mod.*.pyc") if ".opt-fatopt" in p.name]
    _edit_constant(normal, 1, 2)
    os.utime(normal, ns=(ours.stat().st_atime_ns, ours.stat().st_mtime_ns - 10**9))  # older than ours
    assert python("app.py", cwd=tmp_path, fatopt=None).stdout == "2\n"  # plain: the .pyc's code
    assert python("app.py", cwd=tmp_path).stdout == "1\n"  # fatopt: its cache, made from the source


def test_folded_calls_return_constants():
    source = "def f():\n    return float('-0.0'), int('1000')\n"
    results = {}
    for optimized in (False, True):
        tree = ast.parse(source)
        if optimized:
            tree = fatopt.optimize_ast(tree, "<folded>")
        namespace: dict = {"__name__": "folded"}
        exec(compile(tree, "<folded>", "exec"), namespace)
        first, second = namespace["f"](), namespace["f"]()
        assert first == second == (-0.0, 1000)
        results[optimized] = (first[0] is second[0], first[1] is second[1])
    assert results == {False: (False, False), True: (True, True)}


def test_specialized_code_saved_and_assigned_back_runs_without_guards(capsys):
    """docs/semantics.md, "Your own `__code__` assignment wins": the code read from a
    specialized function is its specialized code; assigned back after an assumption broke, it
    runs specialized until the next change to what it assumes (plain: the code it read)."""
    optimized = load(True)
    log = optimized["log"]
    saved = log.__code__
    assert fatopt.get_specialized(log)
    optimized["DEBUG"] = True  # the guard breaks: the original code runs
    assert log.__code__ is not saved
    log("a")
    assert capsys.readouterr().out == "debug: a\n"
    log.__code__ = saved  # the user puts back what they read: the specialized code
    log("b")
    assert capsys.readouterr().out == ""  # stale: plain would print "debug: b"
    optimized["DEBUG"] = False  # the next changes of DEBUG are followed again
    optimized["DEBUG"] = True
    log("c")
    assert capsys.readouterr().out == "debug: c\n"


def test_fatopt_leaves_the_first_type_watcher_ids_to_others():
    """docs/semantics.md, "fatopt uses one dict, function and type watcher": fatopt's type watcher
    takes id 2 or above while one is free, so an extension (or CPython's test_capi) that adds a
    type watcher afterwards gets id 0, finds id 1 unassigned, and can still reach the last id."""
    _testcapi = pytest.importorskip("_testcapi")
    source = textwrap.dedent("""
        class Direction:
            FORWARD = 1

        def forward():
            return Direction.FORWARD
        """)
    tree = fatopt.optimize_ast(ast.parse(source), "<watched>")
    namespace: dict = {"__name__": "watched"}
    exec(compile(tree, "<watched>", "exec"), namespace)
    assert fatopt.get_specialized(namespace["forward"])  # a class constant: fatopt watches a type
    from fatopt import _guards

    ours = _guards.runtime_info()["type_watcher"]
    assert ours >= 2
    with pytest.raises(ValueError, match="No type watcher set for ID 1"):
        _testcapi.watch_type(1, Direction := namespace["Direction"])
    added = []
    try:
        added.append(_testcapi.add_type_watcher(0))
        assert added[0] == 0
        while added[-1] < 7:  # every other id can still be had, up to the last
            added.append(_testcapi.add_type_watcher(0))
        assert ours not in added and len(added) == 7
    finally:
        for watcher in added:
            _testcapi.clear_type_watcher(watcher)
    assert fatopt.get_specialized(namespace["forward"])
    Direction.FORWARD = 2
    assert namespace["forward"]() == 2  # fatopt's watcher still sees the class
