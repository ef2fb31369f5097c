"""Comprehension unrolling over small constant sequences."""

import pytest

from tests.optimizer._diff import check_pass_case

UNROLL = ("unroll_comprehensions", "constant_folding")

CHANGES = [
    pytest.param("def f():\n    return [x * 2 for x in (1, 2, 3)]", "def f():\n    return [2, 4, 6]", id="list"),
    pytest.param("def f():\n    return {x % 2 for x in (1, 2, 3)}", "def f():\n    return {1, 0, 1}", id="set"),
    pytest.param(
        "def f():\n    return {k: len(k) for k in ('a', 'bc')}",
        "def f():\n    return {'a': len('a'), 'bc': len('bc')}",
        id="dict",
    ),
    pytest.param("def f():\n    return [x for x in (1, 2, 3) if x != 2]", "def f():\n    return [1, 3]", id="constant-if"),
    pytest.param("def f():\n    return [a + b for a, b in ((1, 2), (3, 4))]", "def f():\n    return [3, 7]", id="tuple-target"),
    pytest.param("def f(y=1):\n    return [x + y for x in 'ab' if x]", "def f(y=1):\n    return ['a' + y, 'b' + y]", id="raises-same"),
    pytest.param("def f():\n    return [x for x in ()]", "def f():\n    return []", id="empty-list"),
]

NOOPS = [
    pytest.param("def f():\n    return list(x for x in (1, 2))", id="generator-expression"),
    pytest.param("def f():\n    return [lambda: x for x in (1, 2)][0]()", id="lambda-captures"),
    pytest.param("def f():\n    return [y for x in (1, 2) for y in (x, x)]", id="two-generators"),
    pytest.param("def f(n=1):\n    return [x for x in (1, 2) if x > n]", id="unknown-condition"),
    pytest.param("def f():\n    return {x for x in ()}", id="empty-set"),
    pytest.param("def f():\n    return {'12'.split() for x in (1, 2)}", id="set-element-unhashable"),
    pytest.param("def f(g=print):\n    return {g(x) for x in (1, 2)}", id="set-element-not-constant"),
    pytest.param("def f(g=str):\n    return {g(k): k for k in ('a', 'b')}", id="dict-key-not-constant"),
    pytest.param("def f():\n    return {(x, [x]): 0 for x in (1, 2)}", id="dict-key-unhashable"),
    pytest.param("def f():\n    return [(y := x) for x in (1, 2)]", id="walrus"),
    pytest.param("def f():\n    return [x for x in " + repr(tuple(range(17))) + "]", id="over-limit"),
]


@pytest.mark.parametrize("before, after", CHANGES)
def test_unrolls(before, after):
    check_pass_case(before, after, *UNROLL)


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    check_pass_case(source, None, *UNROLL)
