"""Folding ``isinstance`` of locals that certainly hold exact ints (fatopt/passes/fold_type_tests.py,
fatopt/analyses/int_locals.py): the before/after table, what is left alone (each rule of the
int analysis, an unbound local, a shadowed builtin), and plain vs optimized runs, including the
builtins rebound afterwards."""

import pytest

from tests.optimizer._diff import apply_passes, assert_same_behaviour, normalized

#: (f, f after the pass)
FOLDS = [
    pytest.param("def f(n):\n    for i in range(n):\n        print(isinstance(i, tuple))\n",
                 "def f(n):\n    for i in range(n):\n        print(False)\n", id="range-target"),
    pytest.param("def f(n):\n    for i in range(n):\n        print(isinstance(i, (int, str)), isinstance(i, object))\n",
                 "def f(n):\n    for i in range(n):\n        print(True, True)\n", id="tuple-of-types"),
    pytest.param("def f(n):\n    j = 0\n    for i in range(n):\n        j = i * 2 + 1\n    return isinstance(j, bool)\n",
                 "def f(n):\n    j = 0\n    for i in range(n):\n        j = i * 2 + 1\n    return False\n", id="arithmetic"),
    pytest.param("def f(s):\n    k = len(s)\n    k -= 1\n    return isinstance(k, float)\n",
                 "def f(s):\n    k = len(s)\n    k -= 1\n    return False\n", id="len-and-augmented"),
    pytest.param("def f(n):\n    a = 1\n    b = a\n    a = b + 1\n    return isinstance(a, int)\n",
                 "def f(n):\n    a = 1\n    b = a\n    a = b + 1\n    return True\n", id="mutual"),
]

#: functions left as they are
KEPT = [
    pytest.param("def f(i):\n    return isinstance(i, tuple)\n", id="parameter"),
    pytest.param("def f(n):\n    i = n\n    return isinstance(i, tuple)\n", id="from-a-parameter"),
    pytest.param("def f(n):\n    i = 1 / 2\n    return isinstance(i, float)\n", id="true-division"),
    pytest.param("def f(n):\n    i = 2 ** n\n    return isinstance(i, int)\n", id="power"),
    pytest.param("def f(n):\n    i = True\n    return isinstance(i, int)\n", id="bool-constant"),
    pytest.param("def f(n):\n    for i in range(n):\n        pass\n    return isinstance(i, int)\n", id="maybe-unbound"),
    pytest.param("def f(n):\n    for i in enumerate(n):\n        pass\n    i = 0\n    return isinstance(i, int)\n",
                 id="another-binding"),
    pytest.param("def f(n):\n    i = 0\n    del i\n    i = 1\n    return isinstance(i, int)\n", id="deleted"),
    pytest.param("def f(n):\n    i, j = 0, 1\n    return isinstance(i, int)\n", id="tuple-target"),
    pytest.param("def f(n):\n    i = 0\n    def g():\n        nonlocal i\n        i = 'x'\n    g()\n    return isinstance(i, int)\n",
                 id="nonlocal"),
    pytest.param("def f(n):\n    i = 0\n    return isinstance(i, Mine)\n", id="not-a-builtin-type"),
    pytest.param("def f(n):\n    i = 0\n    try:\n        n()\n    except Exception as i:\n        pass\n"
                 "    return isinstance(i, int)\n", id="except-as"),
    pytest.param("def f(n):\n    i = 0\n    import os as i\n    return isinstance(i, int)\n", id="import-as"),
    pytest.param("def f(n):\n    i = 0\n    [i := x for x in 'a']\n    return isinstance(i, int)\n", id="walrus-in-comprehension"),
    pytest.param("def f(n):\n    i = 0\n    match n:\n        case str(i):\n            pass\n    return isinstance(i, int)\n",
                 id="match-capture"),
    pytest.param("range = list\ndef f(n):\n    for i in range(n):\n        return isinstance(i, int)\n", id="range-shadowed"),
    pytest.param("def f(n):\n    i = 0\n    return [isinstance(i, int) for i in 'ab']\n", id="comprehension-variable"),
]


@pytest.mark.parametrize("before, after", FOLDS)
def test_folds(before, after):
    assert apply_passes(before, "fold_type_tests") == normalized(after)


@pytest.mark.parametrize("before", KEPT)
def test_kept(before):
    name = "f"
    assert apply_passes(before, "fold_type_tests", name=name) == normalized(
        before[before.index("def f"):] if "range = list" not in before else before.split("\n", 1)[1])


@pytest.mark.parametrize("before, _after", FOLDS)
def test_same_behaviour(before, _after):
    driver = "import builtins\nr1 = f([1, 2, 3]) if 'len' in f.__code__.co_names else f(3)\nresult = r1"
    assert_same_behaviour(before, driver)


def test_rebinding_a_builtin_after_import_is_followed():
    source = "def f(n):\n    out = []\n    for i in range(n):\n        out.append(isinstance(i, tuple))\n    return out\n"
    driver = "import builtins\nsaved = builtins.isinstance\nbuiltins.isinstance = lambda a, b: 'mine'\n" \
             "try:\n    result = f(2)\nfinally:\n    builtins.isinstance = saved\n"
    assert_same_behaviour(source, driver)


# -- int_locals.pure_int: the int expressions the inlining reads in place -------------------------

@pytest.mark.parametrize("expression, pure", [
    ("1", True), ("i", True), ("i - 1", True), ("-i + 2 * j", True), ("~i", True), ("(i + 1) * (j - 1)", True),
    ("k", False),  # not an int local
    ("True", False), ("1.0", False), ("i - 1.0", False),
    ("i // 2", False), ("i % 2", False), ("i << 1", False), ("i ** 2", False), ("i / 2", False),  # may fail or float
    ("len(s)", False), ("f(i)", False), ("not i", False),
])
def test_pure_int(expression, pure):
    import ast

    from fatopt.analyses.int_locals import pure_int
    assert pure_int(ast.parse(expression, mode="eval").body, lambda name: name in ("i", "j")) is pure
