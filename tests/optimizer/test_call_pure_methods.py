"""Pure methods on str/bytes literals (unguarded)."""

import pytest

from tests.optimizer._diff import check_pass_case

METHODS = ("call_pure_methods",)

CHANGES = [
    pytest.param("'abc'.upper()", "'ABC'", id="upper"),
    pytest.param("'a,b'.split(',')", "['a', 'b']", id="split-list"),
    pytest.param("', '.join(('x', 'y'))", "'x, y'", id="join"),
    pytest.param("'abc'.startswith(('a', 'z'))", "True", id="startswith-tuple"),
    pytest.param("'aXa'.replace('a', 'bb')", "'bbXbb'", id="replace"),
    pytest.param("'é'.encode()", "b'\\xc3\\xa9'", id="encode"),
    pytest.param("'7'.zfill(3)", "'007'", id="zfill"),
    pytest.param("b'hi'.decode('ascii')", "'hi'", id="decode"),
    pytest.param("b'\\x01'.hex()", "'01'", id="hex"),
    pytest.param("'a b'.partition(' ')", "('a', ' ', 'b')", id="partition"),
    pytest.param("'abc'.find('c')", "2", id="find"),
]

NOOPS = [
    pytest.param("'{}'.format(1)", id="format"),
    pytest.param("'x'.center(1000000)", id="huge-width"),
    pytest.param("('a' * 100).replace('a', 'bbbb')", id="replace-over-limit"),
    pytest.param("'x'.encode('rot13')", id="unknown-codec"),
    pytest.param("'x'.encode('utf-8', 'ignore')", id="non-strict-errors"),
    pytest.param("'abc'.index('z')", id="raises"),
    pytest.param("'a,b'.split(sep=',')", id="keyword"),
    pytest.param("'x'.join(['a'])", id="list-argument"),
    pytest.param("'abc'.translate({97: None})", id="not-listed"),
]


@pytest.mark.parametrize("call, value", CHANGES)
def test_folds(call, value):
    check_pass_case(f"def f():\n    return {call}", f"def f():\n    return {value}", *METHODS)


@pytest.mark.parametrize("call", NOOPS)
def test_leaves_alone(call):
    check_pass_case(f"def f():\n    return {call}", None, *METHODS)


def test_each_call_gets_a_new_list():
    check_pass_case(
        "def f():\n    a = 'a b'.split()\n    b = 'a b'.split()\n    return a is b, a == b",
        "def f():\n    a = ['a', 'b']\n    b = ['a', 'b']\n    return (a is b, a == b)",
        *METHODS,
    )
