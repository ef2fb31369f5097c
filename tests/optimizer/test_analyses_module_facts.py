"""Module facts: constants bound once, assumable builtins, dynamic modules."""

import ast

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
