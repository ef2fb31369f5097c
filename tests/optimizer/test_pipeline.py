"""The pipeline as a whole: failures cost one function, invalid input raises CPython's error,
output is deterministic and idempotent, unsafe functions and dynamic modules are left alone."""

import ast
import warnings

import pytest

from fatopt.config import Config
from fatopt.optimizer import OptimizerWarning, optimize_ast, optimize_source
from fatopt.passes import PIPELINE
from fatopt.passes.call_pure_builtins import CallPureBuiltins
from fatopt.results import Report

SOURCE = "DEBUG = False\ndef f():\n    if DEBUG:\n        print(1)\n    return len('ab')\n\ndef g():\n    return len('abc')\n"


def test_pass_failure_costs_only_that_function(monkeypatch):
    original_run = CallPureBuiltins.run

    def flaky(self, unit):
        if unit.qualname == "g":
            raise RuntimeError("boom")
        return original_run(self, unit)

    monkeypatch.setattr(CallPureBuiltins, "run", flaky)
    report = Report()
    with pytest.warns(OptimizerWarning, match=r"m\.py:7: pass call_pure_builtins failed on g: RuntimeError: boom"):
        text = optimize_source(SOURCE, "m.py", report=report)
    statuses = {row.qualname: row.status for row in report.functions}
    assert statuses == {"f": "specialized", "g": "failed"}
    assert text.count("def g(") == 1 and "return len('abc')" in text


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("def f(:\n    pass\n", id="parser"),
        pytest.param("return 1\n", id="return-outside-function"),
        pytest.param("nonlocal x\n", id="nonlocal-at-module-level"),
        pytest.param("from __future__ import nonsense\n", id="future"),
        pytest.param("def f():\n    x = 1\n    global x\n", id="global-after-assignment"),
        pytest.param("def f():\n    return len('a')\n    break\n", id="hidden-in-dead-code"),
        pytest.param("def f(a, a):\n    return len('a')\n", id="duplicate-argument"),
    ],
)
def test_invalid_input_raises_cpythons_syntax_error(source):
    with pytest.raises(SyntaxError) as expected:
        compile(source, "bad.py", "exec", dont_inherit=True)
    with pytest.raises(SyntaxError) as got:
        optimize_source(source, "bad.py")
    assert (type(got.value), got.value.msg, got.value.lineno, got.value.offset) == (
        type(expected.value), expected.value.msg, expected.value.lineno, expected.value.offset
    )
    with pytest.raises(type(expected.value)):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            raise expected.value
        optimize_ast(tree, "bad.py")


def test_same_input_same_output():
    assert optimize_source(SOURCE, "m.py") == optimize_source(SOURCE, "m.py")


def test_optimizing_twice_is_optimizing_once():
    once = optimize_source(SOURCE, "m.py")
    assert optimize_source(once, "m.py") == once
    unguarded = "def f():\n    for x in (1, 2):\n        print(x)\n"
    once = optimize_source(unguarded, "m.py")
    assert once != unguarded
    assert optimize_source(once, "m.py") == once


def test_bytes_input_with_coding_cookie():
    source = "# -*- coding: latin-1 -*-\ndef f():\n    return len('\xe9')\n".encode("latin-1")
    text = optimize_source(source, "m.py")
    assert "return 1" in text and "'\xe9'" in text


@pytest.mark.parametrize("construct", ["exec('')", "eval('1')", "locals()", "vars()", "globals()", "sys._getframe()"])
def test_unsafe_function_is_skipped_with_reason(construct):
    source = f"import sys\ndef f():\n    {construct}\n    return len('ab')\n"
    report = Report()
    optimize_source(source, "m.py", report=report)
    row = report.functions[0]
    assert row.status == "skipped"
    assert row.describe().startswith("skip f (line 2): uses ")


def test_dynamic_module_assumes_no_module_constant():
    source = "N = 2\ndef f():\n    return len('ab') + N\ndef g():\n    return globals()\n"
    report = Report()
    optimize_source(source, "m.py", report=report)
    assert report.notes == ["no module constant assumed (builtins are, guarded): the module uses globals (line 5)"]
    [row] = report.specialized
    assert row.guards == ("GuardBuiltins('len')",)


def test_every_pass_can_be_switched_off():
    off = Config.from_dict({p.switch: False for p in PIPELINE})
    assert optimize_source(SOURCE, "m.py", off) == SOURCE


def test_iteration_cap():
    source = "def f():\n    a = 1\n    b = a\n    c = b\n    return c + len('x')\n"
    capped = optimize_source(source, "m.py", Config.default().replace(max_iterations=1))
    full = optimize_source(source, "m.py")
    assert "return 2" in full and "return 2" not in capped


def test_report_lines():
    report = Report()
    optimize_source(SOURCE + "def h(x):\n    return x\n", "m.py", report=report)
    assert report.guard_counts() == {"GuardBuiltins": 2, "GuardGlobals": 1}
    assert report.lines() == [
        "specialize f (line 2): module_constants, call_pure_builtins, remove_dead_code; "
        "guards GuardBuiltins('len'), GuardGlobals(objects={'DEBUG': False})",
        "specialize g (line 7): call_pure_builtins; guards GuardBuiltins('len')",
    ]
    assert report.lines(verbose=True)[-1] == "keep h (line 9): nothing to fold: it reads only its arguments and locals"


def test_input_tree_is_not_modified():
    tree = ast.parse(SOURCE)
    before = ast.dump(tree, include_attributes=True)
    optimize_ast(tree, "m.py")
    assert ast.dump(tree, include_attributes=True) == before


def test_warnings_name_the_file(monkeypatch):
    import fatopt.optimizer as optimizer

    monkeypatch.setattr(optimizer, "preserve_scope", lambda *a: 1 / 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = optimize_source(SOURCE, "pkg/m.py")
    assert text == SOURCE
    assert any("fatopt: pkg/m.py:2: optimizing f failed: ZeroDivisionError" in str(w.message) for w in caught)
