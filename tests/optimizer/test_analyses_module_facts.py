"""Module facts: constants bound once, assumable builtins, dynamic modules."""

import ast

import pytest

from fatopt.analyses import analyze_module, analyze_scopes
from fatopt.config import Config


def facts(source):
    tree = ast.parse(source)
    return analyze_module(tree, analyze_scopes(tree), Config.default())


def test_constants():
    found = facts("A = 1\nB = -2\nC = (1, 'x')\nD: int = 2 ** 4\nE = [1]\nF = 1\nF = 2\nG = 1e309 - 1e309\n")
    assert found.constants == {"A": 1, "B": -2, "C": (1, "x"), "D": 16}
    assert not found.dynamic


def test_rebinding_anywhere_disqualifies():
    source = (
        "A = 1\nB = 1\nC = 1\nD = 1\nE = 1\n"
        "def f():\n    global A\n    A += 1\n"
        "class K:\n    global B\n    B = 2\n"
        "for C in (): pass\n"
        "import os as D\n"
        "del E\n"
    )
    assert facts(source).constants == {}


def test_class_and_function_locals_do_not_rebind_globals():
    assert facts("A = 1\ndef f():\n    A = 2\nclass K:\n    A = 3\n").constants == {"A": 1}


def test_assumable_builtins():
    found = facts("len = 1\ndef f():\n    global abs\n    abs = 2\n")
    assert not found.assumable_builtin("len")
    assert not found.assumable_builtin("abs")
    assert found.assumable_builtin("min")
    assert not found.assumable_builtin("not_a_builtin")


def test_dynamic_module():
    found = facts("A = 1\ndef f():\n    exec('A = 2')\n")
    assert found.dynamic == ("uses exec",)
    assert found.constants == {}
    # builtins stay assumable: their guards watch the namespace exec could shadow them in
    assert found.assumable_builtin("len")
    # locals() in a function is about that function only
    assert facts("A = 1\ndef f():\n    return locals()\n").dynamic == ()


# vars(obj) reads obj.__dict__; only vars() without an argument reads the namespace it runs in.
VARS_CASES = [
    pytest.param("print(vars(object()))\n", {"A": 1}, (), id="vars-of-an-object-at-module-level"),
    pytest.param("def f(o):\n    return vars(o)\n", {"A": 1}, (), id="vars-of-an-object-in-a-function"),
    pytest.param("class K:\n    x = sorted(vars(int))\n", {"A": 1}, (), id="vars-of-a-class-in-a-class-body"),
    pytest.param("d = vars()\n", {}, ("uses vars",), id="vars-at-module-level"),
    pytest.param("class K:\n    d = vars()\n", {}, ("uses vars",), id="vars-in-a-class-body"),
    pytest.param("f = vars\n", {}, ("uses vars",), id="vars-as-a-value"),
    pytest.param("args = ()\nd = vars(*args)\n", {}, ("uses vars",), id="vars-with-star-arguments"),
    pytest.param("d = vars(object=1)\n", {}, ("uses vars",), id="vars-with-a-keyword"),
    pytest.param("d = vars(1, 2)\n", {}, ("uses vars",), id="vars-with-two-arguments"),
    # a module's own `vars` is still called `vars`: without an argument, it stays a blocker
    pytest.param("def vars(o=None):\n    return {}\nd = vars()\n", {}, ("uses vars",), id="shadowed-vars-no-argument"),
    pytest.param("def vars(o=None):\n    return {}\nd = vars(1)\n", {"A": 1}, (), id="shadowed-vars-with-argument"),
]


@pytest.mark.parametrize("rest, constants, dynamic", VARS_CASES)
def test_vars_of_an_object_keeps_module_constants(rest, constants, dynamic):
    found = facts("A = 1\n" + rest)
    assert found.dynamic == dynamic
    assert found.constants == constants


def test_a_function_calling_vars_of_an_object_is_specialized():
    from fatopt.optimizer import optimize_source
    from fatopt.results import Report

    report = Report()
    optimize_source("DEBUG = False\ndef f(o):\n    if DEBUG:\n        print(vars(o))\n    return o\n", "m.py",
                    report=report)
    [row] = report.functions
    assert row.status == "specialized", row.describe()
