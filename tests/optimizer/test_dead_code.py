"""Dead code elimination: what is removed, what is kept (kind, scoping, syntax errors)."""

import pytest

from tests.optimizer._diff import assert_same_behaviour, check_pass_case, normalized, optimized_function

DCE = ("remove_dead_code", "constant_folding")

CHANGES = [
    pytest.param("def f():\n    return 1\n    print('never')", "def f():\n    return 1", id="after-return"),
    pytest.param("def f():\n    raise KeyError(1)\n    x = 2", "def f():\n    raise KeyError(1)", id="after-raise"),
    pytest.param(
        "def f():\n    for i in (1, 2):\n        break\n        print(i)\n    return i",
        "def f():\n    for i in (1, 2):\n        break\n    return i",
        id="after-break",
    ),
    pytest.param(
        "def f():\n    if True:\n        a = 1\n    else:\n        a = 2\n    return a",
        "def f():\n    a = 1\n    return a",
        id="if-true",
    ),
    pytest.param(
        "def f():\n    if 1 - 1:\n        print('x')\n    return 0",
        "def f():\n    return 0",
        id="if-false-folded",
    ),
    pytest.param(
        "def f():\n    if 0:\n        print('x')",
        "def f():\n    pass",
        id="empty-body-gets-pass",
    ),
    pytest.param(
        "def f():\n    while False:\n        print('x')\n    else:\n        return 'else'",
        "def f():\n    return 'else'",
        id="while-false-else",
    ),
    pytest.param(
        "def f():\n    try:\n        return 1\n        x = 2\n    finally:\n        pass",
        "def f():\n    try:\n        return 1\n    finally:\n        pass",
        id="inside-try",
    ),
]

NOOPS = [
    pytest.param("def f():\n    if False:\n        yield 1\n    return 2", id="keeps-yield"),
    pytest.param("def f():\n    return 1\n    global g", id="keeps-global"),
    pytest.param("def f():\n    x = 0\n    def g():\n        if False:\n            nonlocal x\n        return 1\n    return g()", id="nested-untouched"),
    pytest.param("def f(x=0):\n    while True:\n        x += 1\n        if x > 3:\n            return x", id="while-true"),
    pytest.param("def f(x=1):\n    if x:\n        return 1\n    return 2", id="unknown-test"),
    pytest.param("async def f():\n    return 1\n    await g()", id="keeps-await"),
]


@pytest.mark.parametrize("before, after", CHANGES)
def test_removes(before, after):
    check_pass_case(before, after, *DCE)


@pytest.mark.parametrize("source", NOOPS)
def test_keeps(source):
    driver = "r = f()\nresult = type(r).__name__\nif hasattr(r, 'close'):\n    r.close()"
    check_pass_case(source, None, *DCE, driver=driver)


def test_local_bound_only_in_dead_code_stays_local():
    # plain: UnboundLocalError; reading the global instead would be wrong
    source = "X = 5\nDEBUG = False\ndef f():\n    if DEBUG:\n        X = 1\n    return X"
    text, _ = optimized_function(source)
    assert "X = None" in text  # the never-executed stub keeps X local
    plain, optimized = assert_same_behaviour(source, specialized=("f",))
    assert plain.error[0] == "UnboundLocalError"


def test_generator_stays_generator_when_its_yield_is_dead():
    source = "DEBUG = False\ndef f():\n    if DEBUG:\n        yield 1\n    return 2"
    text, _ = optimized_function(source)
    assert text is not None
    assert_same_behaviour(source, "import inspect\nresult = (inspect.isgeneratorfunction(f), list(f()))", specialized=("f",))


def test_docstring_is_not_invented():
    source = "DEBUG = True\ndef f():\n    if DEBUG:\n        'not a docstring'\n    return f.__doc__"
    text, _ = optimized_function(source)
    assert text == normalized("def f():\n    pass\n    'not a docstring'\n    return f.__doc__")
    assert_same_behaviour(source, specialized=("f",))
