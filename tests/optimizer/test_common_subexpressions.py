"""Int expressions computed again in a later statement of the same block
(fatopt/passes/common_subexpressions.py): the before/after table (each rewrite also run plain
against rewritten, and through the whole optimizer), what is left alone (each condition of the
pass), tracebacks through a shared index, a builtin rebound after the import, and the documented
difference (the temporaries are locals a frame inspector sees)."""

from __future__ import annotations

import pytest

from tests.optimizer._diff import (
    apply_passes,
    assert_same_behaviour,
    check_pass_case,
    normalized,
    run_both,
    traceback_driver,
)

SWITCH = "common_subexpressions"

#: (f, f after the pass, a driver)
SHARED = [
    pytest.param(
        "def f(n):\n    data = list(range(2 * n + 2))\n    for b in range(n):\n        j = 2 * b\n"
        "        x = data[j + 1]\n        data[j + 1] = x * 3\n    return data\n",
        "def f(n):\n    data = list(range(2 * n + 2))\n    for b in range(n):\n        j = 2 * b\n"
        "        x = data[(_fatopt_cse_1 := (j + 1))]\n        data[_fatopt_cse_1] = x * 3\n    return data\n",
        "result = f(4)", id="subscript-index"),
    pytest.param(
        "def f(n):\n    out = []\n    d = len(out) + 5\n    for a in range(n):\n        for b in range(n):\n"
        "            i = 2 * (b + a)\n            j = 2 * (b + a + d)\n            k = 2 * (b + a + d) - 1\n"
        "            out.append((i, j, k))\n    return out\n",
        "def f(n):\n    out = []\n    d = len(out) + 5\n    for a in range(n):\n        for b in range(n):\n"
        "            i = 2 * (_fatopt_cse_1 := (b + a))\n            j = (_fatopt_cse_2 := (2 * (_fatopt_cse_1 + d)))\n"
        "            k = _fatopt_cse_2 - 1\n            out.append((i, j, k))\n    return out\n",
        "result = f(3)", id="largest-shared-first"),
    pytest.param(
        "def f(n, c):\n    out = []\n    for i in range(n):\n        x = -i * 7\n        y = (-i * 7 if c else 0, c or -i * 7)\n"
        "        out.append((x, y))\n        out.append(-i * 7)\n    return out\n",
        "def f(n, c):\n    out = []\n    for i in range(n):\n        x = (_fatopt_cse_1 := (-i * 7))\n"
        "        y = (_fatopt_cse_1 if c else 0, c or _fatopt_cse_1)\n        out.append((x, y))\n"
        "        out.append(_fatopt_cse_1)\n    return out\n",
        "result = (f(3, True), f(3, False))", id="read-in-branches-and-calls"),
    pytest.param(
        "def f(s):\n    k = len(s) - 1\n    first = s[k - 1]\n    return first, s[k - 1]\n",
        "def f(s):\n    k = len(s) - 1\n    first = s[(_fatopt_cse_1 := (k - 1))]\n    return first, s[_fatopt_cse_1]\n",
        "result = f('abcd')", id="len-and-return"),
    pytest.param(
        "def f(n):\n    t = 0\n    for i in range(n):\n        t += i + 1\n        t *= i + 1\n    return t\n",
        "def f(n):\n    t = 0\n    for i in range(n):\n        t += (_fatopt_cse_1 := (i + 1))\n        t *= _fatopt_cse_1\n    return t\n",
        "result = f(5)", id="augmented-assignments"),
    pytest.param(
        "def f(n):\n    for i in range(n):\n        x = i + 1\n        def g():\n            return i + 1\n"
        "        y = i + 1\n    return x, y, g()\n",
        "def f(n):\n    for i in range(n):\n        x = (_fatopt_cse_1 := (i + 1))\n        def g():\n            return i + 1\n"
        "        y = _fatopt_cse_1\n    return x, y, g()\n",
        "result = f(3)", id="a-definition-between-keeps-its-body"),
    pytest.param(
        "def f(n):\n    for i in range(n):\n        x: int = i - 1\n        y = [i - 1]\n    return x, y\n",
        "def f(n):\n    for i in range(n):\n        x: int = (_fatopt_cse_1 := (i - 1))\n        y = [_fatopt_cse_1]\n    return x, y\n",
        "result = f(3)", id="annotated-assignment"),
]

#: functions left as they are
KEPT = [
    pytest.param("def f(j, data):\n    x = data[j + 1]\n    return x, data[j + 1]\n", id="parameter"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = i + 1\n        i = 7\n        y = i + 1\n    return x, y\n",
                 id="rebound-between"),
    pytest.param("def f(n):\n    for i in range(n):\n        i = i + 1\n        y = i + 1\n    return y\n",
                 id="rebound-by-its-own-statement"),
    pytest.param("def f(n, c):\n    for i in range(n):\n        x = i + 1 if c else 0\n        y = i + 1\n    return x, y\n",
                 id="first-in-a-branch"),
    pytest.param("def f(n, c):\n    for i in range(n):\n        x = c or i + 1\n        y = i + 1\n    return x, y\n",
                 id="first-after-or"),
    pytest.param("def f(n, c):\n    for i in range(n):\n        x = i + 1\n        if c:\n            y = i + 1\n    return x\n",
                 id="another-block"),
    pytest.param("def f(n, c):\n    for i in range(n):\n        x = i + 1\n        if i + 1 > c:\n            pass\n    return x\n",
                 id="compound-header"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = i + 1\n        while i + 1 < n:\n            i += 1\n    return x\n",
                 id="loop-test"),
    pytest.param("def f(n, s):\n    for i in range(n):\n        x = i + 1\n        y = [i + 1 for i in s]\n    return x, y\n",
                 id="comprehension-variable"),
    pytest.param("def f(n, s):\n    for i in range(n):\n        x = [i + 1 for _ in s]\n        y = i + 1\n    return x, y\n",
                 id="first-in-a-comprehension"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = (i + 1) * (i + 1)\n    return x\n", id="one-statement"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = i + 1.0\n        y = i + 1.0\n    return x, y\n", id="float"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = i // 2\n        y = i // 2\n    return x, y\n", id="may-fail"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = i\n        y = i\n    return x, y\n", id="no-operation"),
    pytest.param("def f(n):\n    for i in enumerate(n):\n        x = i + 1\n        y = i + 1\n    return x, y\n",
                 id="not-an-int"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = i + 1\n        def g():\n            nonlocal i\n"
                 "            i = 'x'\n        g()\n        y = i + 1\n    return x, y\n", id="nonlocal-in-a-definition"),
    pytest.param("def f(n):\n    for i in range(n):\n        x: i + 1 = 0\n        y = i + 1\n    return x, y\n",
                 id="an-annotation-is-not-evaluated"),
    pytest.param("def f(n):\n    for i in range(n):\n        x = f'{i + 1}'\n        y = i + 1\n    return x, y\n",
                 id="f-string"),
    pytest.param("range = list\ndef f(n):\n    for i in range(n):\n        x = i + 1\n        y = i + 1\n    return x, y\n",
                 id="range-shadowed"),
]


@pytest.mark.parametrize("before, after, driver", SHARED)
def test_shared(before, after, driver):
    check_pass_case(before, after, SWITCH, driver=driver)


@pytest.mark.parametrize("before", KEPT)
def test_kept(before):
    source = before if "range = list" not in before else before.split("\n", 1)[1]
    assert apply_passes(before, SWITCH) == normalized(source)


def test_the_whole_optimizer_specializes_a_shared_index():
    source = ("def f(n):\n    data = [0] * (2 * n)\n    for b in range(n):\n        j = 2 * b\n"
              "        data[j + 1] = b\n        data[j] = data[j + 1] + 1\n    return data\n")
    assert_same_behaviour(source, "result = f(5)", specialized=("f",))


def test_a_traceback_through_a_shared_index_is_the_same():
    source = ("def f(data):\n    for b in range(3):\n        j = 2 * b\n        x = data[j + 1]\n"
              "        data[j + 1] = x + 1\n    return data\n")
    assert_same_behaviour(source, traceback_driver("f([0, 1, 2, 3])"), specialized=("f",))


def test_range_rebound_after_the_import_is_followed():
    # floats from the rebound range: plain computes j + 1 each time, and so must the fallback
    source = ("def f(data):\n    out = []\n    for b in range(2):\n        j = 2 * b\n        x = j + 1\n"
              "        out.append((x, j + 1, type(j + 1).__name__))\n    return out\n")
    driver = ("import builtins\nsaved = builtins.range\nbuiltins.range = lambda n: [0.5, 1.5]\n"
              "try:\n    result = f(None)\nfinally:\n    builtins.range = saved\n")
    assert_same_behaviour(source, driver, specialized=("f",))


def test_temporaries_show_in_the_frames_locals():
    # docs/semantics.md: a frame inspector sees fatopt's temporaries (plain: nothing)
    source = ("import sys\ndef caller_locals():\n    return sorted(sys._getframe(1).f_locals)\n"
              "def f(n):\n    for b in range(n):\n        x = b + 1\n        y = b + 1\n    return x + y, caller_locals()\n")
    plain, optimized = run_both(source, "result = f(2)")
    assert plain.result == "(4, ['b', 'n', 'x', 'y'])"
    assert optimized.result == "(4, ['_fatopt_cse_1', 'b', 'n', 'x', 'y'])"
