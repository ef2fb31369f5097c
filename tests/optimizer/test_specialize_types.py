"""Type specialization (fatopt/passes/specialize_types.py): subscripts of objects whose exact
class is known (``self``, an annotation, ``v = C(...)``) call the class's dunder, under one
entry check where the class is speculated, then inlined.

The rewrites as emitted (checks shown), what is left alone (every exclusion), plain vs
optimized runs of each case and of everything that must make the code fall back: subclass
instances, other types, ``__class__`` assignment before and during a call, the dunder or the
class changed before and during a call, an instance attribute named like the dunder, exceptions
raised in the dunder (the traceback text), and the evaluation order of ``v[i] = x`` and of the
parts of a tuple index (bound part by part, so that the inlined dunder unpacks no tuple).

The full pipeline's result for a tuple index: ``test_a_tuple_index_is_not_built_where_inlined``."""

import re

import pytest

import fatopt
from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, traceback_driver
from tests.runtime.helpers import active

GRID = """\
class Grid:
    def __init__(self, n):
        self.data = [0] * n
    def __getitem__(self, i):
        return self.data[i]
    def __setitem__(self, i, v):
        self.data[i] = v
"""

#: rows of a matrix (scimark LU's ArrayList, its tuple branch left out)
ROWS = """\
class Rows:
    def __init__(self, n, m):
        self.data = [[1.0] * m for _ in range(n)]
    def __getitem__(self, i):
        return self.data[i]
"""

#: a dunder whose one expression calls a method (its copies could get calls inlined into them)
VIA = """\
class Grid:
    def __init__(self, n):
        self.data = [0] * n
    def at(self, i):
        return self.data[i]
    def __getitem__(self, i):
        return self.at(i)
"""

#: a dunder of several statements (only spliced where a statement's whole value is its call)
PAIR = """\
class Pair:
    def __init__(self):
        self.data = [0] * 16
    def __getitem__(self, xy):
        x, y = xy
        return self.data[x * 4 + y]
    def __setitem__(self, xy, v):
        x, y = xy
        self.data[x * 4 + y] = v
"""

#: a dunder of several statements that reads its index twice (a tuple index is then built
#: once, whole)
TWICE = """\
class Pair:
    def __init__(self):
        self.data = [0] * 16
    def __getitem__(self, xy):
        row = xy[0] * 4
        return self.data[row + xy[1]]
"""

SPECIALIZE_ONLY = only("specialize_types")

#: (module, function, the function as emitted by specialize_types alone)
REWRITES = [
    pytest.param(
        GRID + "def f(g: Grid, i):\n    return g[i]\n", "f",
        "def f(g: Grid, i):\n    if type(g) is Grid:\n"
        "        return g[i] if not __fatopt_valid_8_0__ else Grid.__getitem__(g, i)\n"
        "    else:\n        return g[i]",
        id="annotated-parameter",
    ),
    pytest.param(
        GRID + "    def first(self):\n        return self[0]\n", "first",
        "def first(self):\n    if type(self) is Grid:\n"
        "        return self[0] if not __fatopt_valid_8_4__ else Grid.__getitem__(self, 0)\n"
        "    else:\n        return self[0]",
        id="self",
    ),
    pytest.param(
        GRID + "def f(n):\n    g = Grid(n)\n    g[0] = n\n    return g\n", "f",
        "def f(n):\n    g = Grid(n)\n    _fatopt_t_1 = n\n    if not __fatopt_valid_8_0__:\n"
        "        g[0] = _fatopt_t_1\n    else:\n        Grid.__setitem__(g, 0, _fatopt_t_1)\n    return g",
        id="constructed-no-check-value-first",
    ),
    pytest.param(
        GRID + "def f(g: Grid):\n    return g[0] + g[1]\n", "f",
        "def f(g: Grid):\n    if type(g) is Grid:\n"
        "        return (g[0] if not __fatopt_valid_8_0__ else Grid.__getitem__(g, 0)) + "
        "(g[1] if not __fatopt_valid_8_0__ else Grid.__getitem__(g, 1))\n"
        "    else:\n        return g[0] + g[1]",
        id="two-sites-of-a-dunder-inlined-apart-stay",
    ),
    pytest.param(
        VIA + "def f(g: Grid):\n    return g[0] + g[1]\n", "f",
        "def f(g: Grid):\n    if type(g) is Grid:\n"
        "        return (g[0] if not __fatopt_valid_8_0__ else Grid.__getitem__(g, 0)) + "
        "(g[1] if not __fatopt_valid_8_0__ else Grid.__getitem__(g, 1))\n"
        "    else:\n        return g[0] + g[1]",
        id="two-sites-of-a-dunder-calling-a-method-stay",
    ),
    pytest.param(
        VIA.replace("    def at(self, i):\n", "    def at(self, i):\n        i += 0\n") + "def f(g: Grid):\n    return g[0] + g[1]\n", "f",
        "def f(g: Grid):\n    if type(g) is Grid:\n"
        "        if not __fatopt_valid_9_0__:\n            _fatopt_t_1 = g[0]\n"
        "        else:\n            _fatopt_t_1 = Grid.__getitem__(g, 0)\n"
        "        if not __fatopt_valid_9_0__:\n            _fatopt_t_2 = g[1]\n"
        "        else:\n            _fatopt_t_2 = Grid.__getitem__(g, 1)\n"
        "        return _fatopt_t_1 + _fatopt_t_2\n"
        "    else:\n        return g[0] + g[1]",
        id="two-sites-of-a-dunder-calling-a-method-of-statements-linearized",
    ),
    pytest.param(
        PAIR + "def f(p: Pair, n):\n    for x in range(n):\n        p[x, x] = p[x, 0] + p[x + 1, 0]\n", "f",
        "def f(p: Pair, n):\n    if type(p) is Pair:\n        _fatopt_valid_flag = __fatopt_valid_10_0__\n"
        "        for x in range(n):\n"
        "            _fatopt_t_1 = (p[x, 0] if not _fatopt_valid_flag else Pair.__getitem__(p, (x, 0))) + "
        "(p[x + 1, 0] if not _fatopt_valid_flag else Pair.__getitem__(p, (x + 1, 0)))\n"
        "            if not _fatopt_valid_flag:\n                p[x, x] = _fatopt_t_1\n"
        "            else:\n                Pair.__setitem__(p, (x, x), _fatopt_t_1)\n"
        "    else:\n        for x in range(n):\n            p[x, x] = p[x, 0] + p[x + 1, 0]",
        id="an-unpacking-dunder-with-a-display-of-ints-stays-in-place",
    ),
    pytest.param(
        PAIR + "def f(p: Pair, x):\n    return p[x, x + 1] + p[0, 0]\n", "f",
        # (x, a parameter, stays in place: loading it later gives the same)
        "def f(p: Pair, x):\n    if type(p) is Pair:\n        _fatopt_t_2 = x + 1\n"
        "        if not __fatopt_valid_10_0__:\n            _fatopt_t_1 = p[x, _fatopt_t_2]\n"
        "        else:\n            _fatopt_t_1 = Pair.__getitem__(p, (x, _fatopt_t_2))\n"
        "        if not __fatopt_valid_10_0__:\n            _fatopt_t_3 = p[0, 0]\n"
        "        else:\n            _fatopt_t_3 = Pair.__getitem__(p, (0, 0))\n"
        "        return _fatopt_t_1 + _fatopt_t_3\n"
        "    else:\n        return p[x, x + 1] + p[0, 0]",
        id="tuple-index-hoisted-part-by-part",
    ),
    pytest.param(
        TWICE + "def f(p: Pair, x):\n    return p[x, x + 1] + p[0, 0]\n", "f",
        "def f(p: Pair, x):\n    if type(p) is Pair:\n        _fatopt_t_2 = (x, x + 1)\n"
        "        if not __fatopt_valid_7_0__:\n            _fatopt_t_1 = p[_fatopt_t_2]\n"
        "        else:\n            _fatopt_t_1 = Pair.__getitem__(p, _fatopt_t_2)\n"
        "        _fatopt_t_4 = (0, 0)\n"
        "        if not __fatopt_valid_7_0__:\n            _fatopt_t_3 = p[_fatopt_t_4]\n"
        "        else:\n            _fatopt_t_3 = Pair.__getitem__(p, _fatopt_t_4)\n"
        "        return _fatopt_t_1 + _fatopt_t_3\n"
        "    else:\n        return p[x, x + 1] + p[0, 0]",
        id="tuple-index-read-twice-hoisted-whole",
    ),
    pytest.param(
        GRID + "def f(g: Grid, n):\n    s = 0\n    for i in range(n):\n        s += g[i]\n    return s\n", "f",
        "def f(g: Grid, n):\n    if type(g) is Grid:\n        s = 0\n        _fatopt_valid_flag = __fatopt_valid_8_0__\n"
        "        for i in range(n):\n            s += g[i] if not _fatopt_valid_flag else Grid.__getitem__(g, i)\n"
        "        return s\n    else:\n        s = 0\n        for i in range(n):\n            s += g[i]\n        return s",
        id="loop-local-flag",
    ),
]


@pytest.mark.parametrize("source, name, expected", REWRITES)
def test_rewrites(source, name, expected):
    emitted, _report = optimized_function(source, name, SPECIALIZE_ONLY, checks=True)
    assert emitted == expected


#: modules whose f is left alone by the pass
LEFT_ALONE = [
    pytest.param(GRID + "def f(g, i):\n    return g[i]\n", id="unknown-type"),
    pytest.param(GRID + "def f(g: Grid, i):\n    g = Grid(3)\n    return g[i]\n", id="parameter-rebound"),
    pytest.param(GRID + "def f(g: Grid):\n    return g[0:2]\n", id="slice"),
    pytest.param(GRID + "def f(g: Grid):\n    del g[0]\n", id="del"),
    pytest.param("class Grid(list):\n    pass\ndef f(g: Grid):\n    return g[0]\n", id="builtin-base"),
    pytest.param("class M(type):\n    pass\nclass Grid(metaclass=M):\n    def __getitem__(self, i):\n        return i\n"
                 "def f(g: Grid):\n    return g[0]\n", id="metaclass"),
    pytest.param("def deco(c):\n    return c\n@deco\nclass Grid:\n    def __getitem__(self, i):\n        return i\n"
                 "def f(g: Grid):\n    return g[0]\n", id="class-decorator"),
    pytest.param("class Grid:\n    @staticmethod\n    def __getitem__(i):\n        return i\n"
                 "def f(g: Grid):\n    return g[0]\n", id="staticmethod-dunder"),
    pytest.param("class Grid:\n    __getitem__ = dict.get\ndef f(g: Grid):\n    return g[0]\n", id="not-a-def"),
    pytest.param("def f(g: 'Grid'):\n    return g[0]\nclass Grid:\n    def __getitem__(self, i):\n        return i\n",
                 id="class-defined-after"),
    pytest.param(GRID + "def f(g: Grid, c):\n    if c:\n        return g[0]\n    return 1\n", id="only-a-site-that-may-not-run"),
    pytest.param(GRID + "def f(g: Grid):\n    global X\n    X = 1\n    return g[0]\n", id="global-statement"),
    pytest.param(GRID + "def f(g: Grid):\n    return [g[i] for g in (1, 2) for i in (0,)]\n", id="shadowed-in-comprehension"),
    pytest.param(GRID + "def f(g: Grid):\n    return (g[i] for i in range(2))\n", id="generator-expression-body"),
    pytest.param(GRID + "def f(g: Grid, type):\n    return g[0] + type\n", id="type-is-a-parameter"),
    pytest.param(GRID + "type = len\ndef f(g: Grid):\n    return g[0]\n", id="type-is-a-module-global"),
    pytest.param(GRID + "def f(g: Grid):\n    type = 3\n    return g[0] + type\n", id="type-is-a-local"),
    pytest.param("class Grid:\n    def __new__(cls):\n        return object.__new__(cls)\n"
                 "    def __getitem__(self, i):\n        return i\ndef f():\n    g = Grid()\n    return g[0]\n",
                 id="constructor-with-own-new"),
]


@pytest.mark.parametrize("source", LEFT_ALONE)
def test_left_alone(source):
    emitted, _report = optimized_function(source, "f", SPECIALIZE_ONLY)
    assert emitted is None or "Grid.__getitem__" not in emitted


#: (module, driver): plain and optimized runs agree (the default configuration)
BEHAVIOUR = [
    pytest.param(GRID + "def f(g: Grid, n):\n    s = 0\n    for i in range(n):\n        g[i] = i * 2\n"
                 "        s += g[i]\n    return s\n", "result = f(Grid(5), 5)", id="loop"),
    pytest.param(GRID + "class Sub(Grid):\n    def __getitem__(self, i):\n        return -1\n"
                 "def f(g: Grid, n):\n    return [g[i] for i in range(n)]\n", "result = (f(Sub(3), 3), f(Grid(3), 3))",
                 id="subclass-instance"),
    pytest.param(GRID + "def f(g: Grid):\n    return g[1]\n", "result = (f([5, 6]), f({1: 'x'}))", id="other-types"),
    pytest.param(GRID + "    def put(self, type, n):\n        for i in range(n):\n            self[i] = type\n"
                 "        return type.count('/')\n", "g = Grid(3)\nresult = (g.put('a/b', 3), g.data)",
                 id="a-parameter-named-type"),
    pytest.param(GRID + "def f(g: Grid):\n    return g[7]\n", "result = f(Grid(3))", id="index-error"),
    pytest.param(GRID + "class Other(Grid):\n    def __getitem__(self, i):\n        return 'other'\n"
                 "def turn(g):\n    g.__class__ = Other\n    return 0\n"
                 "def f(g: Grid, n):\n    out = []\n    for i in range(n):\n        out.append(g[i] if i != 1 else turn(g))\n"
                 "    return out\n", "result = (f(Grid(4), 4), f(Grid(4), 4))", id="class-assigned-during-the-call"),
    pytest.param(GRID + "def patch(g):\n    Grid.__getitem__ = lambda self, i: 'patched'\n    return 0\n"
                 "def f(g: Grid, n):\n    out = []\n    for i in range(n):\n        out.append(g[i] if i != 1 else patch(g))\n"
                 "    return out\n", "result = f(Grid(4), 4)", id="dunder-replaced-during-the-call"),
    pytest.param(GRID + "def f(g: Grid):\n    return g[0]\n",
                 "saved = Grid.__getitem__\nGrid.__getitem__ = lambda self, i: 'new'\nr1 = f(Grid(2))\n"
                 "Grid.__getitem__ = saved\nresult = (r1, f(Grid(2)))", id="dunder-replaced-and-restored"),
    pytest.param(GRID + "def f(g: Grid):\n    return g[0]\n",
                 "g = Grid(2)\ng.__getitem__ = lambda i: 'instance'\nresult = (f(g), g.__getitem__(0))",
                 id="instance-attribute-is-not-a-dunder"),
    pytest.param(GRID + "def f(g: Grid):\n    return g[0]\n",
                 "Grid.__getitem__.__code__ = (lambda self, i: 'code').__code__\nresult = f(Grid(2))",
                 id="dunder-code-replaced"),
    pytest.param(GRID + "def f(g: Grid):\n    g[len(g.data)] = 1\n", "result = f(Grid(2))", id="setitem-raises"),
    pytest.param(GRID + "def v():\n    print('value')\n    return 1\n"
                 "def f(g: Grid, i):\n    g[i] = v()\n", "result = f(Grid(2), 'no-such-index')",
                 id="setitem-value-evaluated-first"),
    pytest.param(PAIR + "def f(p: Pair, n):\n    for x in range(n):\n        p[x, x] = p[x, 0] + p[0, x] + 1\n"
                 "    return p.data\n", "result = f(Pair(), 4)", id="statement-form-dunder"),
    pytest.param(PAIR + "def f(p: Pair):\n    return p[1]\n", "result = f(Pair())", id="statement-form-dunder-raises"),
    pytest.param(PAIR + "def a(v):\n    print('part', v)\n    return v\n"
                 "def f(p: Pair, x):\n    return p[a(x), a(x + 1)] + p[a(0), 2] * p[x, x]\n", "result = f(Pair(), 1)",
                 id="tuple-index-parts-in-order"),
    pytest.param(PAIR + "def f(p: Pair, x):\n    return p[x, 1 // x] + p[0, 0]\n", "result = f(Pair(), 0)",
                 id="tuple-index-part-raises"),
    pytest.param(PAIR + "def f(p: Pair, x):\n    return p[x, x, x] + p[0, 0]\n", "result = f(Pair(), 1)",
                 id="tuple-index-too-long"),
    pytest.param(TWICE + "def f(p: Pair, n):\n    return [p[i, i + 1] + p[0, i] for i in range(n)]\n",
                 "result = f(Pair(), 3)", id="tuple-index-read-twice"),
    pytest.param(PAIR + "def f(p: Pair, n):\n    for x in range(n):\n        p[x, x + 1] = p[x, x] + 1\n"
                 "    return p.data\n", "result = f(Pair(), 3)", id="tuple-index-store"),
    pytest.param(GRID + "def f(n):\n    g = Grid(n)\n    for i in range(n):\n        g[i] = i\n    return g[0] + g[n - 1]\n",
                 "result = f(4)", id="constructed"),
    pytest.param(GRID + "    def total(self):\n        s = 0\n        for i in range(len(self.data)):\n"
                 "            s += self[i]\n        return s\n", "g = Grid(3)\ng[1] = 5\nresult = g.total()", id="method-self"),
    pytest.param("class Grid:\n    def __init__(self):\n        self.data = {}\n"
                 "    def __getitem__(self, idx):\n        if isinstance(idx, tuple):\n            return self.data[idx]\n"
                 "        else:\n            return idx\n"
                 "def f(g: Grid, n):\n    return [g[i] + g[i] for i in range(n)]\n", "result = f(Grid(), 3)",
                 id="isinstance-folded-for-int-index"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver)


@pytest.mark.parametrize(
    "source, call",
    [
        pytest.param(GRID + "def f(g: Grid):\n    return g[0] + g[7]\n", "f(Grid(3))", id="second-site"),
        pytest.param(GRID + "def f(g: Grid):\n    return g[7] + g[0]\n", "f(Grid(3))", id="first-of-two-sites"),
        # LU's shape: a row read twice and a third row, in one augmented assignment
        pytest.param(ROWS + "def f(a: Rows, i, j, n):\n    for k in range(n):\n        a[i][k] -= a[i][j] * a[j][k]\n",
                     "f(Rows(2, 5), 0, 3, 2)", id="three-sites-third-raises"),
        pytest.param(ROWS + "def f(a: Rows, i, j, n):\n    for k in range(n):\n        a[i][k] -= a[i][j] * a[j][k]\n",
                     "f(Rows(2, 5), 4, 1, 2)", id="three-sites-first-raises"),
        pytest.param(GRID + "def f(g: Grid, n):\n    for i in range(n):\n        g[i] = g[i] + 1\n", "f(Grid(2), 3)",
                     id="loop"),
        pytest.param(PAIR + "def f(p: Pair):\n    return p[0, 0] + p[3]\n", "f(Pair())", id="statement-form"),
        pytest.param(PAIR + "def f(p: Pair, x):\n    return p[x, x + 1] + p[x, 1 // x]\n", "f(Pair(), 0)",
                     id="tuple-index-part"),
        pytest.param(PAIR + "def f(p: Pair, x):\n    return p[0, 0] + p[x, x, x]\n", "f(Pair(), 1)",
                     id="tuple-index-unpacking"),
    ],
)
def test_tracebacks_are_those_of_plain_python(source, call):
    assert_same_behaviour(source, traceback_driver(call))


def test_the_specialized_code_runs_and_is_reported():
    source = GRID + "def f(g: Grid, i):\n    return g[i]\n"
    plain, optimized = assert_same_behaviour(source, "result = f(Grid(2), 1)", specialized=("f",))
    guards = [str(g) for _code, gs in fatopt.get_specialized(optimized.namespace["f"]) for g in gs]
    assert "GuardClass('Grid', '__getitem__')" in guards and "GuardInstanceClass('Grid')" in guards


def test_a_class_assignment_fails_the_specialization_for_good():
    source = GRID + "class Other(Grid):\n    pass\ndef f(g: Grid, i):\n    return g[i]\n"
    _plain, optimized = assert_same_behaviour(source, "result = f(Grid(2), 1)")
    ns = optimized.namespace
    assert active(ns["f"])
    g = ns["Grid"](2)
    g.__class__ = ns["Other"]
    assert not active(ns["f"]) and ns["f"](g, 1) == 0


def test_a_tuple_index_is_not_built_where_inlined():
    # the parts are substituted for the dunder's index parameter, read once, and its ``x, y =
    # (t1, t2)`` propagated: no tuple, no copies; a dunder reading it twice gets the tuple, bound once
    emitted, _report = optimized_function(PAIR + "def f(p: Pair, x):\n    return p[x, x + 1] + p[0, 0]\n", "f")
    assert "p.data[x * 4 + _fatopt_t_2]" in emitted and "p.data[0]" in emitted
    assert "_fatopt_x_" not in emitted
    emitted, _report = optimized_function(TWICE + "def f(p: Pair, x):\n    return p[x, x + 1] + p[0, 0]\n", "f")
    assert "_fatopt_t_2 = (x, x + 1)" in emitted and "_fatopt_t_2[0] * 4" in emitted and "+ _fatopt_t_2[1]]" in emitted


#: index parts a linearized site leaves in place (loading them later gives the same), and those
#: it binds first: (function, the part that must be bound first, or None)
INDEX_PARTS = [
    pytest.param("def f(p: Pair, x):\n    return p[x, 1] + p[x, x + 1]\n", None, id="parameter"),
    pytest.param("def f(p: Pair, n):\n    t = 0\n    for i in range(n):\n        t += p[i, 1] + p[1, i]\n    return t\n",
                 None, id="loop-variable"),
    pytest.param("def f(p: Pair, x):\n    return p[x, (x := 2)] + p[x, 1]\n", "x", id="bound-by-the-statement"),
    pytest.param("def f(p: Pair, x):\n    g = lambda: x\n    return p[x, 1] + p[1, x] + g()\n", "x", id="captured"),
    pytest.param("def f(p: Pair, x):\n    if x > 2:\n        del x\n        x = 1\n    return p[x, 1] + p[1, x]\n", "x",
                 id="deletable"),
    pytest.param("def f(p: Pair, n):\n    if n:\n        y = 1\n    return p[y, 1] + p[1, 2]\n", "y", id="maybe-unbound"),
    pytest.param("G = 1\ndef f(p: Pair):\n    return p[G, 1] + p[1, G]\n", "G", id="global"),
]


@pytest.mark.parametrize("function, bound", INDEX_PARTS)
def test_index_parts_left_in_place_or_bound(function, bound):
    emitted, _report = optimized_function(PAIR + function, "f", SPECIALIZE_ONLY, checks=True)
    fast = emitted.split("\n    else:\n")[0]
    assert "Pair.__getitem__" in fast
    parts = [p for pair in re.findall(r"Pair\.__getitem__\(p, \((\w+), (\w+)\)\)", fast) for p in pair if not p.isdigit()]
    copied = {t: name for t, name in re.findall(r"(_fatopt_t_\d+) = ([A-Za-z_]\w*)\n", fast)}
    copies = [copied[p] for p in parts if p in copied]
    assert parts and copies == ([bound] * len(copies) if bound else []) and (bound is None or copies)


@pytest.mark.parametrize("function, bound", INDEX_PARTS)
def test_index_parts_run_as_plain(function, bound):
    for x in (0, 1, 3):
        assert_same_behaviour(PAIR + function, f"result = f(Pair(), {x})" if "(p: Pair, " in function else "result = f(Pair())")
