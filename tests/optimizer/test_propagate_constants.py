"""Constant propagation of locals assigned once outside conditionals and loops."""

import pytest

from tests.optimizer._diff import check_pass_case

PROP = ("constant_propagation", "constant_folding")

CHANGES = [
    pytest.param("def f():\n    n = 4\n    return n * 2", "def f():\n    n = 4\n    return 8", id="fold-after"),
    pytest.param(
        "def f():\n    s = 'ab'\n    t = s + 'c'\n    return t",
        "def f():\n    s = 'ab'\n    t = 'abc'\n    return 'abc'",
        id="chain",
    ),
    pytest.param(
        "def f(xs=(1, 2)):\n    k = 10\n    return [x * k for x in xs]",
        "def f(xs=(1, 2)):\n    k = 10\n    return [x * 10 for x in xs]",
        id="into-comprehension",
    ),
    pytest.param(
        "def f(x=1):\n    n = 3\n    if x:\n        return n\n    return -n",
        "def f(x=1):\n    n = 3\n    if x:\n        return 3\n    return -3",
        id="into-branches",
    ),
]

NOOPS = [
    pytest.param("def f(x=1):\n    n = 1\n    if x:\n        n = 2\n    return n", id="reassigned"),
    pytest.param("def f():\n    n = 1\n    n += 1\n    return n", id="augmented"),
    pytest.param("def f(x=1):\n    if x:\n        n = 1\n    return n", id="conditional"),
    pytest.param("def f():\n    for _ in (1, 2):\n        n = 1\n    return n", id="in-loop"),
    pytest.param("def f(n=1):\n    return n", id="parameter"),
    pytest.param("def f():\n    n = 1\n    del n\n    return 0", id="deleted"),
    pytest.param(
        "def f():\n    n = 1\n    def g():\n        nonlocal n\n        n = 2\n    g()\n    return n",
        id="nonlocal-write",
    ),
    pytest.param("def f():\n    global G\n    G = 1\n    return G", id="global"),
    pytest.param("def f():\n    try:\n        return n\n    finally:\n        n = 1", id="use-before"),
    pytest.param("def f():\n    n = 1\n    return [n for n in (2, 3)]", id="comprehension-target"),
    pytest.param("def f():\n    n = 1\n    g = lambda: n\n    return g()", id="closure-untouched"),
    pytest.param("def f():\n    n = [1]\n    return n", id="mutable"),
]


@pytest.mark.parametrize("before, after", CHANGES)
def test_propagates(before, after):
    check_pass_case(before, after, *PROP)


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    check_pass_case(source, None, *PROP)
