"""Covered validity tests (fatopt/passes/drop_covered_checks.py): an inlined site inside inlined
code tests the flag again unless nothing ran since the outer site's test (copies between locals,
loads of instance attributes no class of the MRO has, guarded by ``GuardClassAttrsAbsent``).

The rewrite as emitted (scimark SOR's shape: ``_idx`` inside ``__getitem__``, 3.13+ where
methods of instances with a ``__dict__`` are inlined; a module function inside a dunder, every
version), what keeps the inner test (code between, an attribute the class has, a loop, a
``specialize_receivers`` site that tests a type too), and plain vs optimized runs, including a
class that gains the attribute, or the inner method, while the function runs."""

from __future__ import annotations

import re
import sys

import pytest

from fatopt.config import Config
from tests.optimizer._diff import assert_same_behaviour, optimized_function, traceback_driver
from tests.optimizer.test_specialize_instance_methods import DICTS, GRID, GRID_STATEMENTS, SETUP, SMOOTH

needs_dicts = pytest.mark.skipif(not DICTS, reason="instances with a __dict__ are left alone here (3.12)")

#: a dunder whose body calls a module function of several statements after an attribute load
CLAMPED = """\
def clamp(i, n):
    if i < 0:
        return 0
    if i >= n:
        return n - 1
    return i
class Row:
    def __init__(self, n):
        self.n = n
        self.cells = [0.0] * n
    def __getitem__(self, i):
        cells = self.cells
        j = clamp(i, self.n)
        return cells[j]
def f(r: Row, k):
    t = 0.0
    for i in range(k):
        t += r[i] * r[i - 1]
    return t
"""

OFF = Config(drop_covered_checks=False)


def _flag_tests(text: str) -> int:
    """The validity tests in ``text``: of checked statements and of checked expressions."""
    return len(re.findall(r"\bnot (?:_fatopt_valid_flag|__fatopt_valid_\w+__)(?::| else )", text))


def _fast(text: str) -> str:
    return text.split("\n    else:\n")[0]


# -- before and after ---------------------------------------------------------------------------

@needs_dicts
def test_the_inner_test_of_an_inlined_method_in_an_inlined_dunder_goes():
    on, report = optimized_function(GRID + SMOOTH, checks=True)
    off, _ = optimized_function(GRID + SMOOTH, config=OFF, checks=True)
    # three dunder sites (two __getitem__, one __setitem__), each with _idx inside
    assert _flag_tests(_fast(off)) == 6 and _flag_tests(_fast(on)) == 3
    assert "g._idx(" not in _fast(on)
    row = next(r for r in report.functions if r.qualname == "f")
    assert "drop_covered_checks" in row.passes
    assert "GuardClassAttrsAbsent('Grid', 'data')" in " ".join(map(str, row.guards))


@needs_dicts
@pytest.mark.parametrize("getitem", [
    pytest.param("return self.data[self._idx(x, y) + 0]", id="the-checked-expression-inside-an-operation"),
    pytest.param("return (self.data + [])[self._idx(x, y)]", id="code-runs-before-the-checked-expression"),
])
def test_a_checked_expression_keeps_its_test_unless_it_comes_first(getitem):
    # `t = g.data[<_idx inlined as one expression>]`: the test goes when only silent loads come
    # before it (test_the_inner_test_...: 6 -> 3); here __getitem__'s two sites keep theirs
    source = GRID.replace("return self.data[self._idx(x, y)]", getitem) + SMOOTH
    on, _ = optimized_function(source, checks=True)
    off, _ = optimized_function(source, config=OFF, checks=True)
    assert _flag_tests(_fast(off)) == 6 and _flag_tests(_fast(on)) == 5


#: scimark SOR's shape: several sites of __getitem__ in one statement, one expression each
NEIGHBOURS = """\
def f(g: Grid, n):
    t = 0.0
    for i in range(1, n):
        t += g[i, 0] + g[i - 1, 0] * g[i, 1]
    return t
"""

#: a __getitem__ calling _idx at two positions: _idx's handler scans for its calls
TWO_IDX = GRID.replace("return self.data[self._idx(x, y)]",
                       "return self.data[self._idx(x, y)] + self.data[self._idx(y, x)]")


@needs_dicts
def test_the_inner_tests_of_copies_in_one_expression_go():
    on, report = optimized_function(GRID + NEIGHBOURS, checks=True)
    off, _ = optimized_function(GRID + NEIGHBOURS, config=OFF, checks=True)
    # three __getitem__ copies in one expression, each with _idx first in its inlined part
    assert _flag_tests(_fast(off)) == 6 and _flag_tests(_fast(on)) == 3
    assert "g._idx(" not in _fast(on) and "_fatopt_t_" not in _fast(on)
    assert "drop_covered_checks" in next(r for r in report.functions if r.qualname == "f").passes


@needs_dicts
def test_a_test_at_a_position_the_handler_scans_for_stays():
    on, _ = optimized_function(TWO_IDX + NEIGHBOURS.replace(" * g[i, 1]", ""), checks=True)
    off, _ = optimized_function(TWO_IDX + NEIGHBOURS.replace(" * g[i, 1]", ""), config=OFF, checks=True)
    # two __getitem__ copies, two _idx copies in each: the first of each leads its inlined part
    # but marks where that copy of _idx starts
    assert "inlined_raised('Grid._idx', (6, 9), None, ((" in on
    assert _flag_tests(_fast(off)) == _flag_tests(_fast(on)) == 6


def test_a_module_function_inside_a_dunder():
    on, report = optimized_function(CLAMPED, checks=True)
    off, _ = optimized_function(CLAMPED, config=OFF, checks=True)
    assert _flag_tests(_fast(on)) == _flag_tests(_fast(off)) - 2 == 2
    row = next(r for r in report.functions if r.qualname == "f")
    assert "GuardClassAttrsAbsent('Row', 'cells')" in " ".join(map(str, row.guards))


#: an operation on annotated operands whose result a constructor keeps, with no entry check: the
#: sites test the type and the flag themselves (specialize_operators, fresh_receivers)
KEPT_RAY = """\
class V:
    def __init__(self, x):
        self.x = x
    def __sub__(self, other):
        return V(self.x - other.x)
    def scaled(self, k):
        return V(self.x * k)
    def norm(self):
        return self.scaled(1.0 / abs(self.x))
class R:
    def __init__(self, p, v):
        self.p = p
        self.v = v.norm()
def f(a: V, b: V, hit):
    return hit(R(a, a - b))
"""


def test_without_an_entry_check_a_test_right_after_another_goes():
    on, report = optimized_function(KEPT_RAY, checks=True)
    off, _ = optimized_function(KEPT_RAY, config=OFF, checks=True)
    # 3.13 (where the construction is spliced as a statement of its own): `if not FLAG or c is
    # not R: ... elif not FLAG: ...`, the elif reached with the flag set
    assert ("elif not _fatopt_valid_flag:" in off) == (sys.version_info >= (3, 13))
    assert "elif not" not in on
    # the inlined norm's test of its call of scaled, first in its wrapper right after the test
    # of norm's own site
    assert "_fatopt_o_5.scaled(" in off and "_fatopt_o_5.scaled(" not in on
    assert _flag_tests(on) == _flag_tests(off) - (2 if sys.version_info >= (3, 13) else 1)
    assert "drop_covered_checks" in next(r for r in report.functions if r.qualname == "f").passes


def test_without_an_entry_check_code_between_keeps_the_test():
    # abs() runs between the test of norm's site and the test of its call of scaled
    source = KEPT_RAY.replace("        return self.scaled(1.0 / abs(self.x))\n",
                              "        k = 1.0 / abs(self.x)\n        return self.scaled(k)\n")
    on, _ = optimized_function(source, checks=True)
    off, _ = optimized_function(source, config=OFF, checks=True)
    # the test after abs() stays (in the branch where the object is replaced by its fields)
    assert re.search(r"_fatopt_k_1 = 1\.0 / abs\(_fatopt_f_1\)\n +if not _fatopt_valid_flag:", on)
    assert ".scaled(_fatopt_k_1)" in on


# -- must not drop ------------------------------------------------------------------------------

KEPT = [
    pytest.param(CLAMPED.replace("        cells = self.cells\n", "        cells = self.cells\n        i = i * 1\n"),
                 id="code-between"),
    pytest.param(CLAMPED.replace("class Row:\n", "class Row:\n    cells = None\n"), id="the-class-has-the-attribute"),
    pytest.param(CLAMPED.replace("class Row:\n", "class Base:\n    cells = None\nclass Row(Base):\n"),
                 id="a-base-has-the-attribute"),
    pytest.param(CLAMPED.replace("class Row:\n", "class Row:\n    __slots__ = ('n', 'cells')\n"),
                 id="a-slot-is-a-descriptor"),
    pytest.param(CLAMPED + "Row.cells = property(lambda self: [])\n", id="the-module-stores-it-on-the-class"),
    pytest.param(CLAMPED.replace("cells = self.cells", "cells = self.__dict__"), id="an-attribute-of-object"),
    pytest.param(CLAMPED.replace("cells = self.cells", "cells = len(self.cells)"), id="a-call"),
    pytest.param(CLAMPED.replace("        cells = self.cells\n", "        cells = self.cells\n        a, b = cells\n")
                 .replace("self.cells = [0.0] * n", "self.cells = [0.0] * 2"), id="unpacking-iterates"),
]


@pytest.mark.parametrize("source", KEPT)
def test_kept(source):
    text, report = optimized_function(source, checks=True)
    assert text is not None
    off, _ = optimized_function(source, config=OFF, checks=True)
    assert _flag_tests(_fast(text)) == _flag_tests(_fast(off)) == 4  # (two sites, clamp inlined in each)
    row = next(r for r in report.functions if r.qualname == "f")
    assert "drop_covered_checks" not in row.passes


# -- plain and optimized runs agree -------------------------------------------------------------

GAINS = """\
ACT = -1
def hook(i):
    if i == ACT:
        {action}
    return 0.0
def f(g: Grid, n):
    t = 0.0
    for i in range(n):
        g[i, 1] = g[i, 0] + hook(i)
        t += g[i, 1] + i
    return t
"""

#: SETUP, the warm-up call one that raises nowhere
WARM = SETUP.replace("f(g, 8)", "f(g, 2)")

BEHAVIOUR = [
    pytest.param(GRID + SMOOTH, SETUP + "result = (f(g, 8), g.data)", id="smooth"),
    pytest.param(GRID + SMOOTH, SETUP + "result = f(g, 9)", id="index-error"),
    pytest.param(GRID + GAINS.format(action="Grid.data = property(lambda self: [1.5] * 24)"),
                 SETUP + "ACT = 3\nresult = (f(g, 8), g.__dict__['data'])", id="the-class-gains-a-data-descriptor"),
    pytest.param(GRID + GAINS.format(action="Grid._idx = lambda self, x, y: 0"),
                 SETUP + "ACT = 3\nresult = (f(g, 8), g.data)", id="the-inner-method-replaced"),
    pytest.param(GRID + GAINS.format(action="Grid.__getattr__ = lambda self, name: 0"),
                 SETUP + "ACT = 3\nresult = (f(g, 8), g.data)", id="the-class-gains-getattr"),
    pytest.param(CLAMPED, "r = Row(5)\nfor k in range(5):\n    r.cells[k] = k + 0.5\nresult = (f(r, 7), f(r, 2))",
                 id="clamped"),
    pytest.param(CLAMPED, "r = Row(5)\nclamp = lambda i, n: 0\nresult = f(r, 7)", id="clamped-callee-replaced"),
    pytest.param(CLAMPED, "r = Row(5)\ndel r.cells\nresult = f(r, 3)", id="the-attribute-missing"),
    pytest.param(GRID + NEIGHBOURS, SETUP + traceback_driver("(f(g, 4), f(g, 9))"), id="neighbours"),
    pytest.param(GRID + NEIGHBOURS.replace("g[i, 1]", "g[i, 2 - i]"), WARM + traceback_driver("[f(g, n) for n in (2, 3, 4)]"),
                 id="neighbours-index-error-in-the-last-copy"),
    pytest.param(TWO_IDX + NEIGHBOURS.replace(" * g[i, 1]", ""), WARM + traceback_driver("(f(g, 2), f(g, 3), f(g, 5))"),
                 id="two-idx-copies-in-each-copy"),
    pytest.param(KEPT_RAY, "result = [f(V(3.0), V(1.0), lambda r: (type(r).__name__, r.p.x, r.v.x)) for _ in range(3)]",
                 id="kept-by-a-constructor"),
    pytest.param(KEPT_RAY, traceback_driver("[f(V(x), V(1.0), lambda r: r.v.x) for x in (3.0, 1.0)]"),
                 id="kept-by-a-constructor-raises-in-norm"),
    pytest.param(KEPT_RAY, "def hit(r):\n    V.scaled = lambda self, k: 'replaced'\n    return r.v if type(r.v) is str else r.v.x\n"
                 "result = [f(V(3.0), V(1.0), hit) for _ in range(2)]", id="kept-by-a-constructor-method-replaced"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    needs = "Grid" in source
    if needs and not DICTS:
        pytest.skip("instances with a __dict__ are left alone here (3.12)")
    assert_same_behaviour(source, driver, specialized=("f",))


# -- the documented difference (docs/semantics.md, "A type-specialized function keeps two
# bodies and more locals"): a temporary holds an object until it is assigned again --------------

FREED = """\
LOG = []
class Cells(list):
    def __del__(self):
        LOG.append(("freed", self.tag))
def fresh(g, i):
    cells = Cells([float(i)] * 24)
    cells.tag = i
    g.data = cells  # the old list: freed here in plain Python
    LOG.append(("replaced", i))
    return 0.0
def f(g: Grid, n):
    t = 0.0
    for i in range(n):
        t += g[i, 0] + fresh(g, i)
    return t
"""


@needs_dicts
def test_a_temporary_frees_what_it_held_later():
    from tests.optimizer._diff import run_optimized, run_plain

    driver = "g = Grid(8, 3)\ng.data = Cells([0.0] * 24)\ng.data.tag = -1\nf(g, 3)\nresult = list(LOG)"
    # (an _idx of several statements is inlined after `g.data` was kept in a temporary, evaluated
    # first as plain Python does)
    source = GRID_STATEMENTS + FREED
    plain, optimized = (eval(run(source, driver).result) for run in (run_plain, run_optimized))
    assert plain[:2] == [("freed", -1), ("replaced", 0)]
    # the inlined __getitem__ keeps `g.data` in a temporary until the next iteration's site
    assert optimized[:2] == [("replaced", 0), ("freed", -1)]
    assert sorted(plain) == sorted(optimized)
    # an _idx of one expression (with its raise) is inlined in place: no temporary, plain's order
    source = GRID + FREED
    plain, optimized = (eval(run(source, driver).result) for run in (run_plain, run_optimized))
    assert optimized == plain
