"""Simplify iterables: range() of constants iterated over becomes a tuple (guarded on range)."""

import pytest

from tests.optimizer._diff import assert_same_behaviour, check_pass_case, optimized_function

SIMPLIFY = ("simplify_iterable",)

CHANGES = [
    pytest.param(
        "def f(t=0):\n    for i in range(3):\n        t += i\n    return t",
        "def f(t=0):\n    for i in (0, 1, 2):\n        t += i\n    return t",
        id="for",
    ),
    pytest.param(
        "def f():\n    return [i * 2 for i in range(1, 7, 2)]",
        "def f():\n    return [i * 2 for i in (1, 3, 5)]",
        id="comprehension",
    ),
    pytest.param(
        "def f():\n    return sum(i for i in range(4))",
        "def f():\n    return sum((i for i in (0, 1, 2, 3)))",
        id="generator-first-iterable",
    ),
    pytest.param("def f():\n    for i in range(0):\n        return 1", "def f():\n    for i in ():\n        return 1", id="empty"),
]

NOOPS = [
    pytest.param("def f():\n    return [i for i in range(1000)]", id="too-long"),
    pytest.param("def f(n=3):\n    return [i for i in range(n)]", id="not-constant"),
    pytest.param("def f():\n    return [i for i in range(3.0)]", id="raises"),
    pytest.param("def f(range=range):\n    return [i for i in range(3)]", id="shadowed"),
    pytest.param("def f(x=1):\n    return x in range(3)", id="membership"),
    pytest.param("def f():\n    return [j for i in (1,) for j in range(2) for range in (i,)]", id="comprehension-target-shadows"),
]


@pytest.mark.parametrize("before, after", CHANGES)
def test_simplifies(before, after):
    check_pass_case(before, after, *SIMPLIFY)


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    check_pass_case(source, None, *SIMPLIFY, driver="try:\n    result = f()\nexcept TypeError as e:\n    result = str(e)")


def test_range_rebound_after_definition_is_followed():
    source = "def f():\n    return [i for i in range(3)]"
    text, report = optimized_function(source)
    assert "GuardBuiltins('range')" in report.specialized[0].guards
    assert_same_behaviour(source, "a = f()\nrange = lambda n: 'xy'\nresult = (a, f())", specialized=("f",))
