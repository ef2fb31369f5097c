"""Loop unrolling over constant sequences: order of effects, the loop variable's final value,
the else clause, and break/continue only when statically resolvable."""

import pytest

from tests.optimizer._diff import check_pass_case

UNROLL = ("unroll_loops",)

CHANGES = [
    pytest.param(
        "def f():\n    for x in (1, 2):\n        print(x)\n    return x",
        "def f():\n    x = 1\n    print(1)\n    x = 2\n    print(2)\n    return x",
        id="tuple",
    ),
    pytest.param(
        "def f():\n    for x in [1, 2]:\n        print(x)\n    else:\n        print('done')",
        "def f():\n    x = 1\n    print(1)\n    x = 2\n    print(2)\n    print('done')",
        id="list-with-else",
    ),
    pytest.param(
        "def f():\n    for c in 'ab':\n        print(c)",
        "def f():\n    c = 'a'\n    print('a')\n    c = 'b'\n    print('b')",
        id="str",
    ),
    pytest.param(
        "def f():\n    for x in (1, 2):\n        print(x)\n        break\n    else:\n        print('no')\n    return x",
        "def f():\n    x = 1\n    print(1)\n    return x",
        id="break-last",
    ),
    pytest.param(
        "def f():\n    for x in ():\n        break\n    else:\n        print('empty')",
        "def f():\n    print('empty')",
        id="break-last-empty",
    ),
    pytest.param(
        "def f():\n    for x in (1, 2):\n        print(x)\n        continue",
        "def f():\n    x = 1\n    print(1)\n    x = 2\n    print(2)",
        id="continue-last",
    ),
    pytest.param(
        "def f():\n    for a, b in ((1, 2), (3, 4)):\n        print(a + b)",
        "def f():\n    a, b = (1, 2)\n    print(a + b)\n    a, b = (3, 4)\n    print(a + b)",
        id="tuple-target",
    ),
    pytest.param(
        "def f():\n    for x in (1, 2):\n        x = x * 10\n        print(x)",
        "def f():\n    x = 1\n    x = x * 10\n    print(x)\n    x = 2\n    x = x * 10\n    print(x)",
        id="rebound-in-body-not-substituted",
    ),
    pytest.param(
        "def f():\n    for x in (1, 2):\n        for y in (3, 4):\n            if y == 4:\n                break\n            print(x, y)",
        "def f():\n    x = 1\n    for y in (3, 4):\n        if y == 4:\n            break\n        print(1, y)\n    x = 2\n    for y in (3, 4):\n        if y == 4:\n            break\n        print(2, y)",
        id="inner-break-belongs-to-inner-loop",
    ),
    pytest.param(
        "def f():\n    fs = []\n    for x in (1, 2):\n        fs.append(lambda: x)\n    return [g() for g in fs]",
        "def f():\n    fs = []\n    x = 1\n    fs.append(lambda: x)\n    x = 2\n    fs.append(lambda: x)\n    return [g() for g in fs]",
        id="closures-see-final-value",
    ),
]

NOOPS = [
    pytest.param("def f():\n    for x in (1, 2, 3):\n        if x == 2:\n            break\n        print(x)", id="conditional-break"),
    pytest.param("def f():\n    for x in (1, 2):\n        if x == 1:\n            continue\n        print(x)", id="conditional-continue"),
    pytest.param("def f():\n    for x in tuple(range(20)):\n        print(x)", id="not-constant"),
    pytest.param("def f():\n    for x in " + repr(tuple(range(17))) + ":\n        print(x)", id="over-limit"),
    pytest.param("class O: pass\ndef f(o=O()):\n    for o.x in (1, 2):\n        print(o.x)", id="attribute-target"),
    pytest.param("def f():\n    for x in {1, 2}:\n        print(x)", id="set-order"),
    pytest.param("def f():\n    for x in (1, 2):\n        print(x)\n        break\n        print('dead')\n    else:\n        pass", id="break-not-last"),
]


@pytest.mark.parametrize("before, after", CHANGES)
def test_unrolls(before, after):
    check_pass_case(before, after, *UNROLL)


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    check_pass_case(source, None, *UNROLL)


def test_limit_is_configurable():
    from tests.optimizer._diff import only, transformed_tree

    source = "def f():\n    for x in (1, 2, 3):\n        print(x)"
    _, text = transformed_tree(source, "unroll_loops", config=only("unroll_loops", unroll_loops=2))
    assert text.startswith("def f():\n    for x in")
