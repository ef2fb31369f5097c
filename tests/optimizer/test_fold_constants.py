"""Constant folding: (before, after) pairs and inputs that must not change, each also executed
plain and rewritten with the same outcome."""

import pytest

from tests.optimizer._diff import check_pass_case

# the noop cases include code the compiler warns about
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::SyntaxWarning")

FOLD = ("constant_folding",)

CHANGES = [
    pytest.param("def f(): return -(2 + 3)", "def f(): return -5", id="unary-minus"),
    pytest.param("def f(): return not 0", "def f(): return True", id="not"),
    pytest.param("def f(): return ~5", "def f(): return -6", id="invert"),
    pytest.param("def f(): return 2 * 3 + 1", "def f(): return 7", id="arith"),
    pytest.param("def f(x=1): return x + 2 * 3", "def f(x=1): return x + 6", id="partial"),
    pytest.param("def f(): return 'ab' * 2", "def f(): return 'abab'", id="str-repeat"),
    pytest.param("def f(): return 2 ** 10", "def f(): return 1024", id="pow"),
    pytest.param("def f(): return 2 ** -1", "def f(): return 0.5", id="pow-negative"),
    pytest.param("def f(): return (7 // 2, 7 % -3, -7 // 2)", "def f(): return (3, -2, -4)", id="floordiv-mod"),
    pytest.param("def f(): return 1 << 4 | 1", "def f(): return 17", id="shift-or"),
    pytest.param("def f(): return 0.1 + 0.2", "def f(): return 0.30000000000000004", id="float"),
    pytest.param("def f(): return 0.0 * -1", "def f(): return -0.0", id="negative-zero"),
    pytest.param("def f(): return True + True", "def f(): return 2", id="bool-plus-is-int"),
    pytest.param("def f(): return True & False", "def f(): return False", id="bool-and-is-bool"),
    pytest.param("def f(): return 1j * 2", "def f(): return 2j", id="complex"),
    pytest.param("def f(): return 1 < 2 < 3", "def f(): return True", id="chained-compare"),
    pytest.param("def f(): return 3 < 2 < 1 / 0", "def f(): return 3 < 2 < 1 / 0", id="compare-partial"),
    pytest.param("def f(): return (1, 2) == (1, 2.0)", "def f(): return True", id="tuple-eq"),
    pytest.param("def f(): return 'a' in 'abc', 4 not in (1, 2)", "def f(): return (True, True)", id="in"),
    pytest.param("def f(): return None is None", "def f(): return True", id="is-singleton"),
    pytest.param("def f(x=5): return True and x", "def f(x=5): return x", id="and-true"),
    pytest.param("def f(x=5): return 0 or x", "def f(x=5): return x", id="or-false"),
    pytest.param("def f(x=5, y=6): return x and 1 and y", "def f(x=5, y=6): return x and y", id="and-middle"),
    pytest.param("def f(x=5): return 0 and x", "def f(x=5): return 0", id="and-short-circuit"),
    pytest.param("def f(x=5): return x or '' or 0", "def f(x=5): return x or 0", id="or-middle"),
    pytest.param("def f(x=5): return 1 if True else x", "def f(x=5): return 1", id="ifexp"),
    pytest.param("def f(): return 'abc'[1], 'abc'[::-1]", "def f(): return ('b', 'cba')", id="str-subscript"),
    pytest.param("def f(): return (1, 2, 3)[1:], b'ab'[0]", "def f(): return ((2, 3), 97)", id="tuple-bytes-subscript"),
    pytest.param("def f(x=[0, 1, 2, 3]): return x[1 + 1]", "def f(x=[0, 1, 2, 3]): return x[2]", id="index-expr"),
    pytest.param(
        "def f():\n    return [k for k in (1 + 1, 3)]",
        "def f():\n    return [k for k in (2, 3)]",
        id="inside-comprehension",
    ),
    pytest.param(
        "def f():\n    g = lambda x=1 + 1: x * (2 + 2)\n    return g()",
        "def f():\n    g = lambda x=2: x * (2 + 2)\n    return g()",
        id="lambda-defaults-only",
    ),
]

NOOPS = [
    pytest.param("def f(): return 1 / 0", id="raises-zero-division"),
    pytest.param("def f(x=0): return x and 2 ** 1000000000", id="huge-pow"),
    pytest.param("def f(x=0): return x and 'x' * 1000000000", id="huge-repeat"),
    pytest.param("def f(): return 1 << 1000", id="huge-shift"),
    pytest.param("def f(): return 'a' * 200", id="str-limit"),
    pytest.param("def f(): return (1,) * 100", id="tuple-limit"),
    pytest.param("def f(): return ~True", id="invert-bool-deprecated"),
    pytest.param("def f(): return b'a' == 'a'", id="bytes-str-compare"),
    pytest.param("def f(): return () is ()", id="identity-of-tuples"),
    pytest.param("def f(): return '%s' % 5", id="str-formatting"),
    pytest.param("def f(): return 1e309 - 1e309", id="nan"),
    # (an infinity constant: CPython would fold `inf * 0` next to it into one shared NaN)
    pytest.param("def f(): return (1e308 * 10, -1e308 * 10)", id="infinity"),
    pytest.param("def f(): return 'abc'[5]", id="index-error"),
    pytest.param("def f(): return (1, 2) < (1, 'a')", id="type-error"),
    pytest.param("def f(): return 'abc'[::0]", id="zero-step"),
    pytest.param("def f(): return (1, [2])", id="mutable-item"),
    pytest.param("def f(x=1): return -x", id="name"),
    pytest.param("def f(x=1):\n    'doc'\n    return x", id="docstring"),
    pytest.param("def f():\n    'a' + 'b'\n    return 1", id="would-become-docstring"),
    pytest.param("def f(x: 1 + 1 = 2) -> 2 + 2: return x", id="annotations"),
    pytest.param("def f(): return f'{1 + 1}'", id="f-string"),
    pytest.param("def f():\n    g = lambda: 1 + 1\n    return g()", id="lambda-body"),
    pytest.param("def f():\n    def g(): return 1 + 1\n    return g()", id="nested-body"),
]


@pytest.mark.parametrize("before, after", CHANGES)
def test_folds(before, after):
    check_pass_case(before, after, *FOLD)


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    check_pass_case(source, None, *FOLD)
