"""Inlining of module functions: the rewrites, what is left alone (every exclusion), plain vs
optimized runs of each table case (results, and the whole text of ``traceback.format_exception``
for what raises), the traceback of every way out of inlined code, rebinding the callee, warnings,
and what the inlined code cannot keep (docs/semantics.md).
"""

import textwrap

import pytest

from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, run_both

CONFIG = only("inline_functions")


def wrapped(statement: str, *handlers: tuple) -> str:
    """``statement`` inside the try/except the pass wraps it in (handlers: (name, lines) or
    (name, lines, sites) for a callee inlined at several calls)."""
    calls = "\n".join(f"    __fatopt_runtime__.inlined_raised({', '.join(map(repr, (h[0], h[1], None, *h[2:])))})"
                      for h in handlers)
    return f"try:\n{textwrap.indent(statement, '    ')}\nexcept:\n{calls}\n    raise"


def _def_f(signature: str, *lines: str) -> str:
    return f"def f({signature}):\n" + textwrap.indent("\n".join(lines), "    ")


G = "def g(a, b=3):\n    return a * 10 + b\n"


def _in_loop(callees: str, statement: str, inlined: str, *handlers: tuple) -> tuple[str, str]:
    """(module, expected f) for ``statement`` in ``for i in range(n)`` (``i`` an exact int)."""
    module = callees + f"def f(n=3):\n    r = 0\n    for i in range(n):\n        {statement}\n    return r\n"
    return module, _def_f("n=3", "r = 0", "for i in range(n):", textwrap.indent(wrapped(inlined, *handlers), "    "),
                          "return r")

#: (module, the expected emitted f)
CHANGES = [
    pytest.param(
        G + "def f(x=1, y=2):\n    return g(x, y)\n",
        _def_f("x=1, y=2", wrapped("return x * 10 + y", ("g", (1, 2)))),
        id="locals-substituted",
    ),
    pytest.param(
        G + "def f():\n    return g(1, 2)\n",
        _def_f("", wrapped("return 1 * 10 + 2", ("g", (1, 2)))),
        id="constants-substituted",
    ),
    pytest.param(
        G + "def f(x=1):\n    return g(x)\n",
        _def_f("x=1", wrapped("return x * 10 + 3", ("g", (1, 2)))),
        id="default",
    ),
    pytest.param(
        G + "def f(x=1, y=2):\n    return g(b=y, a=x)\n",
        _def_f("x=1, y=2", wrapped("return x * 10 + y", ("g", (1, 2)))),
        id="keywords",
    ),
    pytest.param(
        G + "def f(x=1):\n    return g(x + 1, x)\n",
        _def_f("x=1", wrapped("return (_fatopt_a_1 := (x + 1)) * 10 + x", ("g", (1, 2)))),
        id="expression-argument-bound-once",
    ),
    pytest.param(
        "def g(a, b):\n    return a + b\nK = 5\ndef f():\n    return g(K, K)\n",
        _def_f("", wrapped("return (_fatopt_a_1 := K) + (_fatopt_b_2 := K)", ("g", (1, 2)))),
        id="global-arguments-bound",
    ),
    pytest.param(
        "def g(a):\n    'doc'\n    return abs(a) - a\ndef f(x=-1):\n    y = g(x)\n    return y\n",
        _def_f("x=-1", wrapped("y = abs(x) - x", ("g", (1, 3))), "return y"),
        id="docstring-and-pure-builtin",
    ),
    pytest.param(
        "def h(a):\n    return a + 1\ndef g(a):\n    return h(a) * 2\ndef f(x=1):\n    return g(x)\n",
        _def_f("x=1", wrapped(wrapped("return (x + 1) * 2", ("h", (1, 2))), ("g", (3, 4)))),
        id="nested",
    ),
    pytest.param(
        G + "def f(xs=(1, 2)):\n    return [g(x, 1) for x in xs]\n",
        _def_f("xs=(1, 2)", wrapped("return [x * 10 + 1 for x in xs]", ("g", (1, 2)))),
        id="in-comprehension",
    ),
    pytest.param(
        G + "def f(x=1):\n    total = 0\n    for i in range(3):\n        total += g(i, x) * 2\n    return total\n",
        _def_f("x=1", "total = 0", "for i in range(3):",
               textwrap.indent(wrapped("total += (i * 10 + x) * 2", ("g", (1, 2))), "    "), "return total"),
        id="loop-variable",
    ),
    pytest.param(
        G + "def f(x=1):\n    return g(x, 1) + g(x, 2)\n",
        _def_f("x=1", wrapped("return x * 10 + 1 + (x * 10 + 2)", ("g", (1, 2), ((4, 4, 11, 18), (4, 4, 21, 28))))),
        id="several-calls-one-handler-with-their-positions",
    ),
    pytest.param(
        G + "def f(x=1):\n    return g(g(x, 1), 2)\n",
        _def_f("x=1", wrapped("return g(x * 10 + 1, 2)", ("g", (1, 2)))),
        id="a-call-holding-another-copy-stays",
    ),
    pytest.param(
        "def h(a):\n    return a + 1\ndef g(a):\n    return h(a) * 2\ndef f(x=1):\n    return g(x) + g(x)\n",
        _def_f("x=1", wrapped(wrapped("return (x + 1) * 2 + (x + 1) * 2", ("h", (1, 2))),
                              ("g", (3, 4), ((6, 6, 11, 15), (6, 6, 18, 22))))),
        id="several-calls-of-a-callee-calling-an-inlinable",
    ),
    pytest.param(
        G + "def f(x=1):\n    if g(x, 0) > 5:\n        return 1\n    return 0\n",
        _def_f("x=1", wrapped("if x * 10 + 0 > 5:\n    return 1", ("g", (1, 2))), "return 0"),
        id="if-test",
    ),
    pytest.param(
        "def g(a):\n    return a.real + a\ndef f(x=1):\n    return g(-x)\n",
        _def_f("x=1", wrapped("return (_fatopt_a_1 := (-x)).real + _fatopt_a_1", ("g", (1, 2)))),
        id="temporary-used-twice",
    ),
    pytest.param(
        "def g(a):\n    b = c = a + 1\n    return b * c\ndef f(x=1):\n    return g(x)\n",
        _def_f("x=1", wrapped("_fatopt_b_1 = _fatopt_c_2 = x + 1\nreturn _fatopt_b_1 * _fatopt_c_2", ("g", (1, 3)))),
        id="statements-chained-assignment",
    ),
    pytest.param(
        "def g(a):\n    b = a + 1\n    return b * 2\ndef f(x=1):\n    y = g(x)\n    return y\n",
        _def_f("x=1", wrapped("_fatopt_b_1 = x + 1\ny = _fatopt_b_1 * 2",
                              ("g", (1, 3))), "return y"),
        id="statements-assign",
    ),
    pytest.param(
        "def g(a, s=2):\n    if a > 0:\n        return s\n    elif a < 0:\n        t = -s\n        return t\n"
        "    z = a * 2\n    z += 1\n    return z\ndef f(x=-1):\n    return g(x)\n",
        _def_f("x=-1", wrapped(
            "if x > 0:\n    _fatopt_result_3 = 2\nelif x < 0:\n    _fatopt_t_1 = -2\n    _fatopt_result_3 = _fatopt_t_1\n"
            "else:\n    _fatopt_z_2 = x * 2\n    _fatopt_z_2 += 1\n    _fatopt_result_3 = _fatopt_z_2\n"
            "return _fatopt_result_3", ("g", (1, 9)))),
        id="statements-early-returns",
    ),
    pytest.param(
        "def g(a):\n    a = a + 1\n    return a\ndef f(x=1):\n    return g(x * 2)\n",
        _def_f("x=1", wrapped("_fatopt_a_1 = x * 2\n_fatopt_a_1 = _fatopt_a_1 + 1\n"
                              "return _fatopt_a_1", ("g", (1, 3)))),
        id="statements-parameter-assigned",
    ),
    pytest.param(
        "def g(a):\n    b = a\ndef f(x=1):\n    g(x)\n    return x\n",
        _def_f("x=1", wrapped("pass", ("g", (1, 2))), "return x"),  # (the copy propagated, then dead)
        id="statements-falls-off-the-end",
    ),
    pytest.param(
        "def g(a):\n    b = a\n    return b\ndef f(x=1):\n    d = {}\n    d[x] = g(x)\n    return d\n",
        _def_f("x=1", "d = {}", wrapped("d[x] = x",
                                        ("g", (1, 3))), "return d"),
        id="statements-target-after",
    ),
    pytest.param(
        "def g(a):\n    if a < 0:\n        raise ValueError('negative', a)\n    return a * 2\n"
        "def f(x=1):\n    y = g(x)\n    return y\n",
        _def_f("x=1", wrapped("if x < 0:\n    raise ValueError('negative', x)\ny = x * 2",
                              ("g", (1, 4))), "return y"),
        id="statements-raise",
    ),
    pytest.param(
        # `if C: return X` then a raise: the return goes last, its value where the call was
        "def g(a):\n    if a >= 0:\n        return a * 2\n    raise IndexError\n"
        "def f(x=1):\n    y = g(x)\n    return y\n",
        _def_f("x=1", wrapped("if x >= 0:\n    pass\nelse:\n    raise IndexError\ny = x * 2",
                              ("g", (1, 4))), "return y"),
        id="statements-return-then-raise",
    ),
    pytest.param(
        "def g(a, c):\n    b = a\n    return b + c\ndef f(x=1):\n    y = g(x, 2)\n    return y\n",
        _def_f("x=1", wrapped("y = x + 2", ("g", (1, 3))), "return y"),
        id="statements-first-copy-propagated",
    ),
    pytest.param(
        "def g(a):\n    b = a\n    b = b + 1\n    return b\ndef f(x=1):\n    y = g(x)\n    return y\n",
        _def_f("x=1", wrapped("_fatopt_b_1 = x\n_fatopt_b_1 = _fatopt_b_1 + 1\ny = _fatopt_b_1", ("g", (1, 4))),
               "return y"),
        id="statements-copy-kept-target-assigned-again",
    ),
    pytest.param(
        "def g(a):\n    b = a\n    a = 2\n    return b + a\ndef f(x=1):\n    y = g(x)\n    return y\n",
        _def_f("x=1", wrapped("_fatopt_a_1 = x\n_fatopt_b_2 = _fatopt_a_1\n_fatopt_a_1 = 2\n"
                              "y = _fatopt_b_2 + _fatopt_a_1", ("g", (1, 4))), "return y"),
        id="statements-copy-kept-value-assigned-again",
    ),
    pytest.param(
        "K = 1\ndef g(a):\n    b = K\n    return b + a\ndef f(x=1):\n    y = g(x)\n    return y\n",
        _def_f("x=1", wrapped("_fatopt_b_1 = K\ny = _fatopt_b_1 + x", ("g", (2, 4))), "return y"),
        id="statements-copy-of-a-global-kept",
    ),
    pytest.param(*_in_loop("def g(a, b):\n    return a * 2 + b\n", "r += g(1, i - 1)", "r += 1 * 2 + (i - 1)", ("g", (1, 2))),
                 id="int-expression-read-in-place"),
    pytest.param(*_in_loop("def g(a):\n    return a * 2 + a\n", "r += g(-i)", "r += -i * 2 + -i", ("g", (1, 2))),
                 id="int-expression-read-twice-computed-twice"),
    pytest.param(*_in_loop("def g(a):\n    return a + a + a\n", "r += g(i - 1)",
                           "r += (_fatopt_a_1 := (i - 1)) + _fatopt_a_1 + _fatopt_a_1", ("g", (1, 2))),
                 id="int-expression-read-three-times-bound-once"),
    pytest.param(*_in_loop("def at(p):\n    x, y = p\n    return x * 10 + y\n", "r += at((i, i + 1)) + at((i + 1, 0))",
                           "r += i * 10 + (i + 1) + ((i + 1) * 10 + 0)", ("at", (1, 3), ((7, 7, 13, 27), (7, 7, 30, 44)))),
                 id="unpacked-tuple-display-read-in-place"),
]


def _case_driver() -> str:
    return (
        "import traceback\n"
        "try:\n"
        "    result = f()\n"
        "except Exception as exc:\n"
        "    result = ''.join(traceback.format_exception(exc))\n"
    )


@pytest.mark.parametrize("module, after", CHANGES)
def test_rewrites(module, after):
    emitted, _report = optimized_function(module, config=CONFIG)
    assert emitted == textwrap.dedent(after).strip() or emitted == _normalized(after)
    assert_same_behaviour(module, _case_driver(), config=CONFIG, specialized=("f",))
    assert_same_behaviour(module, _case_driver(), specialized=("f",))


def _normalized(source: str) -> str:
    import ast

    return ast.unparse(ast.parse(textwrap.dedent(source)))


#: modules whose f must stay as it is (every exclusion)
NOOPS = [
    pytest.param(G + "def f():\n    return g(1, 2, 3)\n", id="too-many-arguments"),
    pytest.param(G + "def f():\n    return g(1, c=2)\n", id="unknown-keyword"),
    pytest.param(G + "def f():\n    return g()\n", id="missing-argument"),
    pytest.param(G + "def f():\n    return g(1, a=2)\n", id="duplicate-argument"),
    pytest.param("def g(a, /):\n    return a\ndef f():\n    return g(a=1)\n", id="positional-only-by-keyword"),
    pytest.param(G + "def f(xs=(1, 2)):\n    return g(*xs)\n", id="starred-call"),
    pytest.param(G + "def f(kw={'a': 1}):\n    return g(**kw)\n", id="double-starred-call"),
    pytest.param("def g(*a):\n    return a\ndef f():\n    return g(1)\n", id="callee-varargs"),
    pytest.param("def g(**k):\n    return k\ndef f():\n    return g(a=1)\n", id="callee-kwargs"),
    pytest.param("def d(fn):\n    return fn\n@d\ndef g(a):\n    return a\ndef f():\n    return g(1)\n",
                 id="decorated"),
    pytest.param("async def g(a):\n    return a\ndef f():\n    c = g(1)\n    c.close()\n    return 1\n", id="async"),
    pytest.param("def g(a):\n    return (yield a)\ndef f():\n    return next(g(1))\n", id="yield"),
    pytest.param("def g(a):\n    return lambda: a\ndef f():\n    return g(1)()\n", id="lambda-closure"),
    pytest.param("def g(a):\n    return [a for _ in (1,)]\ndef f():\n    return g(1)\n", id="comprehension"),
    pytest.param("def g(a):\n    return (b := a)\ndef f():\n    return g(1)\n", id="walrus-in-callee"),
    pytest.param("def g(a):\n    for b in a:\n        return b\ndef f():\n    return g((1,))\n", id="loop"),
    pytest.param("def g(a):\n    if a:\n        b = 1\n    return b\ndef f():\n    return g(0)\n",
                 id="local-maybe-unbound-in-callee"),
    pytest.param("def g(a):\n    if a:\n        if a > 1:\n            return 1\n    else:\n        if a < 0:\n"
                 "            return 2\n    return 3\ndef f():\n    return g(2)\n", id="rest-in-two-branches"),
    pytest.param("def g(a):\n    a.x = 1\n    return a\ndef f():\n    return g(1)\n", id="attribute-assignment"),
    pytest.param("def g(a):\n    b = a\n    return b\ndef f(x=1):\n    x += g(x)\n    return x\n",
                 id="statements-in-augmented-assignment"),
    pytest.param("def g(a):\n    b = a\n    return b\ndef f(x=1):\n    return g(x) + 1\n", id="statements-in-expression"),
    pytest.param("def g(a):\n    try:\n        return 1 / a\n    except ZeroDivisionError:\n        return 0\n"
                 "def f():\n    return g(0)\n", id="try"),
    pytest.param("def g(a):\n    with open(a):\n        return 1\ndef f():\n    return g('/dev/null')\n", id="with"),
    pytest.param("X = 1\ndef g(a):\n    global X\n    return X + a\ndef f():\n    return g(1)\n", id="global"),
    pytest.param("class C:\n    def m(self):\n        return 1\n"
                 "def g(a):\n    return super()\ndef f():\n    try:\n        return g(1)\n    except RuntimeError as e:\n"
                 "        return str(e)\n", id="super"),
    pytest.param("def g(a):\n    return locals()\ndef f():\n    return g(1)\n", id="locals"),
    pytest.param("import sys\ndef g(a):\n    return sys._getframe(0).f_code.co_name\ndef f():\n    return g(1)\n",
                 id="frame-access"),
    pytest.param("def g(a):\n    return print(a)\ndef f():\n    return g(1)\n", id="calls-impure-builtin"),
    pytest.param("def g(a):\n    if a:\n        raise\n    return 1\ndef f():\n    return g(0)\n", id="bare-raise"),
    pytest.param("def g(a):\n    if a:\n        raise ValueError from None\n    return 1\ndef f():\n    return g(0)\n",
                 id="raise-from"),
    pytest.param("def g(a):\n    if a:\n        raise print(a)\n    return 1\ndef f():\n    return g(0)\n",
                 id="raise-calls-impure-builtin"),
    pytest.param("def g(a):\n    if a:\n        raise ValueError(x=a)\n    return 1\ndef f():\n    return g(0)\n",
                 id="raise-with-keywords"),
    pytest.param("def g(a):\n    return a if a < 1 else g(a - 1)\ndef f():\n    return g(3)\n", id="recursive"),
    pytest.param("def g(a):\n    return a if a < 1 else h(a - 1)\ndef h(a):\n    return g(a)\n"
                 "def f():\n    return g(3)\n", id="mutual-recursion"),
    pytest.param("def h(a):\n    while a:\n        a -= 1\n    return a\ndef g(a):\n    return h(a)\n"
                 "def f():\n    return g(3)\n", id="calls-what-is-not-inlinable"),
    pytest.param("def g(a):\n    return " + " + ".join(["a"] * 20) + "\ndef f():\n    return g(1)\n", id="too-large"),
    pytest.param("def g(a, b=1000):\n    return a + b\ndef f():\n    return g(1)\n", id="default-not-shared"),
    pytest.param("def g(a, b=[]):\n    return a\ndef f():\n    return g(1)\n", id="default-not-constant"),
    pytest.param(G + "def g(a, b=3):\n    return a\ndef f():\n    return g(1)\n", id="bound-twice"),
    pytest.param("def f():\n    return g(1, 2)\n" + G, id="defined-after-caller"),
    pytest.param("K = 2\ndef g(a):\n    return a * K\ndef f(K=3):\n    return g(1)\n", id="callee-global-is-callers-local"),
    pytest.param("K = 2\ndef g(a):\n    return a * K\ndef f():\n    return [g(1) for K in (5,)]\n",
                 id="callee-global-is-comprehension-variable"),
    pytest.param(G + "def f(xs=(1,)):\n    return [g(x + 1, x) for x in xs]\n", id="temporary-in-comprehension"),
    pytest.param("def g(a, b):\n    return a * 2 + b\ndef f():\n    return g(1, len('ab') - 1)\n",
                 id="temporary-after-an-operation"),
    pytest.param("def g(a, b):\n    return b + a\ndef f(x=1):\n    return g(-x, -x)\n", id="arguments-out-of-order"),
    pytest.param("def g(a):\n    return UNDEFINED + a\ndef f(x=1):\n    return g(-x)\n", id="temporary-after-a-global"),
    pytest.param(G + "def f(x=1):\n    return g((y := x), y)\n", id="walrus-in-argument"),
    pytest.param("def g(a, b):\n    c = a + b\n    return c\ndef f(x=1):\n    return g(x, (x := 5))\n",
                 id="statements-walrus-in-argument"),
    pytest.param("__k = 1\ndef g(a):\n    return a + __k\nclass C:\n    def f(self):\n        return g(1)\n"
                 "def f():\n    return C().f()\n", id="mangled-name"),
    pytest.param(G + "def f():\n    assert g(1, 2)\n    return 1\n", id="statement-assert"),
    pytest.param("import contextlib\n" + G + "def f():\n    with contextlib.nullcontext(g(1, 2)) as v:\n"
                 "        return v\n", id="statement-with"),
    pytest.param(G + "def f():\n    raise ValueError(g(1, 2))\n", id="statement-raise"),
    pytest.param("def g(a):\n    return a\ng = abs\ndef f():\n    return g(1)\n", id="rebound-at-module-level"),
    pytest.param(G + "def f(x=1):\n    if x:\n        y = 1\n    return g(y, -x)\n", id="maybe-unbound-local-then-temporary"),
    # an expression read in place must be an int expression of int locals that cannot fail
    pytest.param(G + "def f(x=1):\n    i = x\n    return g(1, i - 1)\n", id="expression-of-a-local-of-unknown-type"),
    pytest.param(G + "def f(n=3):\n    r = 0\n    for i in range(n):\n        r = g(1, i // 2)\n    return r\n",
                 id="int-expression-that-can-fail"),
    pytest.param(G + "def f(n=3):\n    r = 0\n    for i in range(n):\n        r = g(1, i - 1.0)\n    return r\n",
                 id="float-expression"),
    pytest.param(G + "def f(n=3):\n    r = 0\n    for i in range(n):\n        r = g(1, i - 1)\n        i = 'x'\n"
                 "    return r\n", id="loop-variable-rebound"),
    pytest.param("def at(p):\n    x, y = p\n    return x * 10 + y\ndef f(n=1.5):\n    return at((n, n + 1)) + 1\n",
                 id="unpacked-display-of-an-expression-not-int"),
    pytest.param("def at(p):\n    x, y = p\n    return x * 10 + y\ndef f(q=(1, 2)):\n    return at(q) + 1\n",
                 id="unpacked-not-a-display"),
    pytest.param("def at(p):\n    x, y = p\n    return x * 10 + y\ndef f(n=1):\n    return at((n, n, n)) + 1\n",
                 id="unpacked-display-of-another-length"),
    pytest.param("def at(p):\n    x, y = p\n    return x * 10 + y + p[0]\ndef f(n=1):\n    return at((n, n)) + 1\n",
                 id="unpacked-parameter-read-again"),
]


@pytest.mark.parametrize("module", NOOPS)
def test_leaves_alone(module):
    emitted, report = optimized_function(module, config=CONFIG)
    assert emitted is None, emitted
    assert_same_behaviour(module, _case_driver(), config=CONFIG)
    assert_same_behaviour(module, _case_driver())


def test_size_limit_is_configurable():
    module = "def g(a):\n    return " + " + ".join(["a"] * 20) + "\ndef f():\n    return g(1)\n"
    emitted, _ = optimized_function(module, config=CONFIG.replace(max_inline_size=40))
    assert emitted is not None and "inlined_raised" in emitted


def test_guards_are_the_callees_and_their_builtins():
    module = "def h(a):\n    return abs(a)\ndef g(a):\n    return h(a) * 2\ndef f(x=1):\n    return g(x)\n"
    _emitted, report = optimized_function(module, config=CONFIG)
    row = next(r for r in report.functions if r.qualname == "f")
    assert "GuardCallee('g')" in row.guards and "GuardCallee('h')" in row.guards
    assert "GuardBuiltins('abs')" in row.guards


# -- every way out of inlined code: the traceback text as plain -----------------------------------

PRELUDE = '''
import traceback

class Boom(BaseException):
    pass

class Adds:
    def __init__(self, what):
        self.what = what
    def __add__(self, other):
        raise self.what

def k(a):
    return 10 // a

def h(a):
    return 1 // a

def g(a, b):
    return h(a) + b * 2

def plus(a, b):
    return a + b

def span(a,
         b):
    return (a
            + b)

def steps(a):
    if a == -1:
        return 1 // (a + 1)
    b = a + 1
    c = 10 // (b - 1)
    return c

def outer_steps(a):
    b = steps(a) + 1
    return b

def checked(a):
    if a < 0:
        raise ValueError("negative", a)
    return a * 2

def checked_last(a):
    if a >= 0:
        return a * 2
    raise IndexError

def outer_checked(a):
    b = checked(a) + 1
    return b

def e(a):
    return g(a, 1) * 3

def hh(a):
    return h(a) + h(a - 1)

def pp(a, b):
    return plus(a, b) * 1

def at(p):
    x, y = p
    return h(x) + y
'''

WAYS_OUT = {
    "raise-in-callee": "def f():\n    return k(0)",
    "raise-in-argument": "def f():\n    return k(1 // 0)",
    "raise-in-nested": "def f():\n    return g(0, 1)",
    "raise-in-outer-of-nested": "def f():\n    return g(1, None)",
    "caught-in-caller": (
        "def f():\n    try:\n        return k(0)\n    except ZeroDivisionError as exc:\n"
        "        return ''.join(traceback.format_exception(exc))"
    ),
    "stop-iteration": "def f():\n    return plus(Adds(StopIteration('x')), 1)",
    "stop-iteration-in-generator": "def gen():\n    yield plus(Adds(StopIteration('x')), 1)\ndef f():\n    return list(gen())",
    "base-exception": "def f():\n    return plus(Adds(Boom('b')), 1)",
    "keyboard-interrupt": "def f():\n    return plus(Adds(KeyboardInterrupt()), 1)",
    "second-of-two": "def f():\n    return k(1) + plus(None, 1)",
    "same-callee-twice": "def f():\n    return k(1) + k(0)",
    "same-callee-twice-first-raises": "def f():\n    return k(0) + k(1)",
    "same-callee-three-times": "def f():\n    return k(2) * k(1) - k(0)",
    "same-callee-over-lines": "def f():\n    return (k(1) +\n            k(0))",
    "same-callee-in-arguments-of-another": "def f():\n    return plus(k(1), k(0))",
    "same-callee-raise-in-argument-between": "def f():\n    return k(1) + k(1 // 0) + k(0)",
    "same-callee-nested": "def f():\n    return k(k(0) + 1)",
    "same-callee-twice-in-loop": (
        "def f():\n    t = 0\n    for i in (3, 2, 1, 0):\n        t += k(i + 1) + k(i)\n    return t"
    ),
    "same-callee-twice-nested-inlined": "def f():\n    return g(1, 2) + g(0, 1)",
    # copies holding copies of their own callees (the runtime finds the raising instruction in
    # the innermost callee's entry)
    "nested-copies-first-raises-inside": "def f():\n    return g(0, 2) + g(1, 1)",
    "nested-copies-outer-part-raises": "def f():\n    return g(1, 2) + g(1, None)",
    "nested-copies-three-levels": "def f():\n    return e(2) - e(1) + e(0)",
    "nested-copies-inner-twice-each": "def f():\n    return hh(3) + hh(1)",
    "nested-copies-inner-twice-first": "def f():\n    return hh(1) * hh(3)",
    "nested-copies-in-loop": (
        "def f(n=4):\n    t = 0\n    for i in range(n - 1, 0, -1):\n        t += g(i, 1) + g(i - 1, 2)\n    return t"
    ),
    "nested-copies-stop-iteration-in-generator": (
        "def gen():\n    yield pp(1, 1) + pp(Adds(StopIteration('x')), 1)\ndef f():\n    return list(gen())"
    ),
    "unpacked-argument-copies": "def f():\n    i = 1\n    return at((i, 1)) + at((i - 1, 2))",
    "unpacked-argument-copies-in-loop": (
        "def f(n=4):\n    t = 0\n    for i in range(n - 1, -1, -1):\n        t += at((i, i + 1)) * at((i - 1, 2))\n    return t"
    ),
    "unpacked-argument-copies-in-loop-first": (
        "def f(n=4):\n    t = 0\n    for i in range(n - 1, -1, -1):\n        t += at((i - 1, 2)) * at((i, -i))\n    return t"
    ),
    "multiline-call": "def f():\n    return span(\n        1,\n        None)",
    "in-loop": "def f():\n    t = 0\n    for i in range(3, -1, -1):\n        t += k(i)\n    return t",
    "in-comprehension": "def f():\n    return [k(i) for i in (2, 1, 0)]",
    "method-caller": "class C:\n    def m(self, x):\n        return k(x)\ndef f():\n    return C().m(0)",
    "statements-raise-in-callee": "def f():\n    r = steps(0)\n    return r",
    "statements-raise-in-branch": "def f():\n    return steps(-1)",
    "statements-raise-in-argument": "def f():\n    return steps(1 // 0)",
    "statements-raise-in-target": "def f():\n    d = []\n    d[0] = steps(2)",
    "statements-nested": "def f():\n    return outer_steps(0)",
    "statements-stop-iteration-in-generator": (
        "def gen():\n    x = steps(Adds(StopIteration('s')))\n    yield x\ndef f():\n    return list(gen())"
    ),
    "raise-statement": "def f():\n    return checked(-1)",
    "raise-statement-class": "def f():\n    r = checked_last(-2)\n    return r",
    "raise-statement-not-taken": "def f():\n    r = checked(2)\n    s = checked_last(3)\n    return r + s",
    "raise-statement-nested": "def f():\n    return outer_checked(-1)",
    "raise-statement-while-handling": (
        "def f():\n    try:\n        raise KeyError('outer')\n    except KeyError:\n        return checked(-3)"
    ),
    "raise-statement-in-loop": "def f():\n    t = 0\n    for i in range(2, -2, -1):\n        t += checked(i)\n    return t",
    "raised-while-handling": (
        "def f():\n    try:\n        raise KeyError('outer')\n    except KeyError:\n        return k(0)"
    ),
}

WAYS_OUT_DRIVER = '''
def _chain(exc):
    out = []
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        entries = []
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            entries.append((code.co_name, tb.tb_lineno))
            tb = tb.tb_next
        out.append((type(exc).__name__, str(exc), entries, type(exc.__cause__).__name__))
        exc = exc.__context__
    return out

try:
    result = ("ok", f())
except BaseException as exc:
    result = ("raised", "".join(traceback.format_exception(exc)), _chain(exc))
'''


@pytest.mark.parametrize("body", list(WAYS_OUT.values()), ids=list(WAYS_OUT))
def test_way_out_traceback_as_plain(body):
    specialized = ("C.m",) if "class C" in body else ("gen",) if "def gen" in body else ("f",)
    plain, _ = assert_same_behaviour(PRELUDE + body + "\n", WAYS_OUT_DRIVER, specialized=specialized)
    assert plain.result is not None


def test_the_tracebacks_compared_show_the_callee_entries():
    # guards the comparisons above against comparing tracebacks without callee entries
    plain, _ = assert_same_behaviour(PRELUDE + WAYS_OUT["raise-in-nested"] + "\n", WAYS_OUT_DRIVER, specialized=("f",))
    assert "in g" in plain.result and "in h" in plain.result
    plain, _ = assert_same_behaviour(PRELUDE + WAYS_OUT["stop-iteration-in-generator"] + "\n", WAYS_OUT_DRIVER,
                                     specialized=("gen",))
    assert "generator raised StopIteration" in plain.result and "in plus" in plain.result


# -- the callee can change after import ------------------------------------------------------------

def test_rebinding_the_callee_takes_effect():
    module = G + "def f(x=1):\n    return g(x, 2)\n"
    driver = (
        "result = [f()]\n"
        "original = g\n"
        "g = lambda a, b: ('other', a, b)\n"
        "result.append(f())\n"
        "g = original\n"
        "result.append(f())\n"
        "g.__code__ = (lambda a, b=3: ('new code', a, b)).__code__\n"
        "result.append(f())\n"
        "g.__defaults__ = (4,)\n"
        "result.append(g(1))\n"
    )
    plain, optimized = assert_same_behaviour(module, driver, specialized=("f",))
    assert "other" in optimized.result and "new code" in optimized.result


def test_warning_reports_the_callees_line():
    module = "def g(flag):\n    return ~flag\ndef f(x=True):\n    return g(x)\n"
    driver = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    f()\n"
        "result = [(w.lineno, w.category.__name__) for w in caught]\n"
    )
    plain, optimized = assert_same_behaviour(module, driver, specialized=("f",))
    assert plain.result == "[(2, 'DeprecationWarning')]"


# -- what inlined code cannot keep (docs/semantics.md) --------------------------------------------

LOST = '''
import sys
def g(a, b):
    return a // b
def f(x, y):
    return g(x, y)
def deep_h(a):
    return a + 1
def deep_g(a):
    return deep_h(a) + 1
def deep(n):
    try:
        return deep(deep_g(n))
    except RecursionError:
        return n
'''


def test_callee_entry_has_no_locals():
    driver = (
        "try:\n    f(1, 0)\nexcept ZeroDivisionError as exc:\n    tb = exc.__traceback__\n"
        "    while tb.tb_frame.f_code.co_name != 'g':\n        tb = tb.tb_next\n"
        "    result = sorted(tb.tb_frame.f_locals)\n"
    )
    plain, optimized = run_both(LOST, driver)
    assert plain.result == "['a', 'b']"
    assert optimized.result == "[]"


def test_profiler_sees_no_call_of_the_inlined_function():
    driver = (
        "calls = []\n"
        "def profile(frame, event, arg):\n"
        "    if event == 'call':\n        calls.append(frame.f_code.co_name)\n"
        "sys.setprofile(profile)\n"
        "try:\n    f(7, 2)\nfinally:\n    sys.setprofile(None)\n"
        "result = calls\n"
    )
    plain, optimized = run_both(LOST, driver)
    assert plain.result == "['f', 'g']"
    assert optimized.result == "['f']"


def test_recursion_error_fires_deeper():
    driver = "limit = sys.getrecursionlimit()\nsys.setrecursionlimit(200)\ntry:\n    result = deep(0)\nfinally:\n" \
             "    sys.setrecursionlimit(limit)\n"
    plain, optimized = run_both(LOST, driver)
    # plain needs two more frames (deep_g, deep_h) at the deepest call; inlined, none
    assert int(optimized.result) > int(plain.result)


# -- inlinable.unpacked_return: `x, y = p; return E` ---------------------------------------------

@pytest.mark.parametrize("callee, found", [
    ("def at(p):\n    x, y = p\n    return x * 10 + y\n", ("p", ("x", "y"))),
    ("def at(self, p):\n    [x, y] = p\n    return self.d[x + y]\n", ("p", ("x", "y"))),
    ("def at(p):\n    x, y = p\n    return x + p[0]\n", None),  # p read again
    ("def at(p):\n    x, x = p\n    return x\n", None),  # a target twice
    ("def at(p, x):\n    x, y = p\n    return x + y\n", None),  # a parameter rebound
    ("def at(p):\n    x, y = p\n    z = x\n    return z\n", None),  # more statements
    ("def at(p):\n    x = p\n    return x\n", None),  # no unpacking
    ("def at(p):\n    x, y = p\n    return x + y\n".replace("x, y = p", "x, y = q"), None),  # not a parameter
])
def test_unpacked_return(callee, found):
    import ast

    from fatopt.analyses.inlinable import examine, unpacked_return
    from fatopt.analyses.module_facts import analyze_module
    from fatopt.analyses.scopes import analyze_scopes
    from fatopt.config import Config
    tree = ast.parse("q = (1, 2)\n" + callee)
    facts = analyze_module(tree, analyze_scopes(tree), Config())
    entry, why, _calls = examine(tree.body[1], facts, 30, owner="C" if "self" in callee else None,
                                 method="self" in callee)
    assert entry is not None, why
    got = unpacked_return(entry)
    assert (got[:2] if got is not None else None) == found
