"""Instance methods under the entry check (fatopt/passes/specialize_instance_methods.py): where
specialize_types checks ``type(g) is Grid`` at entry, ``g.m(...)`` in a loop runs
``Grid.m(g, ...)`` behind the validity flag, the entry check asking the runtime
``unshadowed(g, ('m', ...))`` for instances with a ``__dict__`` (CPython 3.13+; on 3.12 such
classes are left alone, ``__slots__`` classes are not), and the inlining inlines the method,
also where an inlined dunder brought the call in (scimark SOR's ``self._idx``).

The rewrites as emitted, what is left alone (every exclusion), and plain vs optimized runs of
each case and of everything that must make the code fall back or stay exact: an instance
attribute shadowing the method before the call, during it (from code the loop calls, through
``setattr``, ``mock.patch.object``), the method replaced on the class, a subclass instance,
``__class__`` assigned, exceptions raised in the method and in an inlined ``raise`` (the
traceback text). The one write that is not seen, the whole ``__dict__`` replaced while the call
runs, is the documented difference (docs/semantics.md), shown here."""

from __future__ import annotations

import pytest

from fatopt.passes.specialize_instance_methods import instance_dicts_supported
from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, run_optimized, run_plain, traceback_driver

DICTS = instance_dicts_supported()
needs_dicts = pytest.mark.skipif(not DICTS, reason="instances with a __dict__ are left alone here (3.12)")

GRID = """\
class Grid:
    def __init__(self, w, h):
        self.w = w
        self.h = h
        self.data = [0.0] * (w * h)
    def _idx(self, x, y):
        if 0 <= x < self.w and 0 <= y < self.h:
            return y * self.w + x
        raise IndexError(x, y)
    def __getitem__(self, xy):
        x, y = xy
        return self.data[self._idx(x, y)]
    def __setitem__(self, xy, v):
        x, y = xy
        self.data[self._idx(x, y)] = v
    def weight(self, i):
        return i * 0.5
"""

#: GRID with an ``_idx`` of several statements (inlined as statements, not as one expression)
GRID_STATEMENTS = GRID.replace("        if 0 <= x < self.w and 0 <= y < self.h:\n",
                               "        ok = 0 <= x < self.w and 0 <= y < self.h\n        if ok:\n")

SLOTTED = GRID.replace("class Grid:\n", "class Grid:\n    __slots__ = ('w', 'h', 'data')\n")

SMOOTH = """\
def f(g: Grid, n):
    t = 0.0
    for i in range(n):
        g[i, 1] = g[i, 0] + 1.0
        t += g[i, 1]
    return t
"""

WEIGHTED = """\
def f(g: Grid, n):
    t = 0.0
    for i in range(n):
        t += g[i, 0] + g.weight(i)
    return t
"""

BOTH = only("specialize_types", "specialize_instance_methods")


def _body(text: str) -> str:
    return text.split("\n", 1)[1]


# -- before and after ---------------------------------------------------------------------------

@needs_dicts
def test_a_method_call_runs_through_the_class_and_the_entry_check_asks():
    text, _ = optimized_function(GRID + WEIGHTED, config=BOTH)
    assert _body(text) == (
        "    if type(g) is Grid and __fatopt_runtime__.unshadowed(g, ('weight',)):\n"
        "        t = 0.0\n"
        "        for i in range(n):\n"
        "            t += Grid.__getitem__(g, (i, 0)) + Grid.weight(g, i)\n"
        "        return t\n"
        "    else:\n"
        "        t = 0.0\n"
        "        for i in range(n):\n"
        "            t += g[i, 0] + g.weight(i)\n"
        "        return t")


def test_a_slots_class_needs_no_entry_question():
    text, _ = optimized_function(SLOTTED + WEIGHTED, config=BOTH)
    assert "unshadowed" not in text
    assert "Grid.weight(g, i)" in text


@needs_dicts
def test_a_call_an_inlined_dunder_brought_in_is_inlined_too():
    # scimark SOR's shape: _idx sits in __getitem__/__setitem__, which the inlining splices in;
    # its raise is inlined with it (as one expression, the runtime raising: in place, no
    # temporary; with several statements, spliced in)
    text, report = optimized_function(GRID + SMOOTH)
    assert "__fatopt_runtime__.unshadowed(g, ('_idx',))" in text
    fast = text.split("\n    else:\n")[0]
    assert "g._idx(" not in fast and "Grid._idx(" not in fast
    assert "g.data[0 * g.w + i if 0 <= i < g.w and 0 <= 0 < g.h else " \
           "__fatopt_runtime__.raise_exception(IndexError(i, 0))]" in fast
    text, _ = optimized_function(GRID_STATEMENTS + SMOOTH)
    fast = text.split("\n    else:\n")[0]
    assert "g._idx(" not in fast and "Grid._idx(" not in fast and "raise IndexError(" in fast
    row = next(r for r in report.functions if r.qualname == "f")
    assert "specialize_instance_methods" in row.passes


def test_the_guards_name_the_method_and_the_instance_attribute():
    _, report = optimized_function(GRID + SMOOTH)
    guards = next(r for r in report.functions if r.qualname == "f").guards
    text = " ".join(map(str, guards))
    if DICTS:
        assert "GuardInstanceAttrsAbsent('Grid', '_idx')" in text and "'_idx'" in text
    else:
        assert "GuardInstanceAttrsAbsent" not in text and "'_idx'" not in text


# -- must not rewrite ----------------------------------------------------------------------------

LEFT_ALONE = [
    pytest.param(GRID + "def poke(g):\n    g.weight = None\n" + WEIGHTED, id="the-module-stores-the-name"),
    pytest.param(GRID + WEIGHTED.replace("    return t\n", "    g = None\n    return t\n"), id="receiver-rebound"),
    pytest.param(GRID + "def f(g: Grid, n):\n    t = g[0, 0]\n    return t + g.weight(n)\n", id="not-in-a-loop"),
    pytest.param(GRID + WEIGHTED.replace("g.weight(i)", "g.weight(*[i])"), id="star-arguments"),
    pytest.param(GRID.replace("        return i * 0.5\n", "        print(i)\n        return i\n") + WEIGHTED,
                 id="method-not-inlinable"),
    pytest.param(GRID + WEIGHTED.replace("g.weight(i)", "g.missing(i)"), id="no-such-method"),
    pytest.param(GRID + WEIGHTED.replace("g.weight(i)", "sum([g.weight(j) for j in (i,)])"), id="in-a-comprehension"),
    pytest.param(GRID.replace("class Grid:", "class Grid(dict):") + WEIGHTED, id="class-not-plain"),
]


@pytest.mark.parametrize("source", LEFT_ALONE)
def test_left_alone(source):
    text, _ = optimized_function(source, config=BOTH)
    assert text is None or ("unshadowed" not in text and "Grid.weight(" not in text and "Grid.missing(" not in text)


@pytest.mark.skipif(DICTS, reason="3.12 (and builds whose watchers cannot check instances)")
def test_instances_with_a_dict_are_left_alone_on_3_12():
    text, _ = optimized_function(GRID + WEIGHTED, config=BOTH)
    assert "unshadowed" not in text and "Grid.weight(" not in text


# -- plain and optimized runs agree -------------------------------------------------------------

HOOKS = """\
ACT = -1
NAME = "_idx"  # (a store the pass cannot see: `g._idx = ...` in the module would keep it away)
def hook(g, i):
    if i == ACT:
        setattr(g, NAME, lambda x, y: 0)
    return 0.0
def f(g: Grid, n):
    t = 0.0
    for i in range(n):
        g[i, 1] = g[i, 0] + hook(g, i)
        t += g[i, 1] + i
    return t
"""

SETUP = "g = Grid(8, 3)\nfor k in range(24):\n    g.data[k] = k * 0.25\nf(g, 8)\n"

BEHAVIOUR = [
    pytest.param(GRID + SMOOTH, SETUP + "result = (f(g, 8), g.data)", id="smooth"),
    pytest.param(SLOTTED + SMOOTH, SETUP + "result = (f(g, 8), g.data)", id="slotted"),
    pytest.param(GRID + WEIGHTED, SETUP + "result = f(g, 8)", id="weighted"),
    pytest.param(GRID + SMOOTH, SETUP + "g._idx = lambda x, y: 1\nresult = (f(g, 8), g.data)", id="shadowed-before"),
    pytest.param(GRID + SMOOTH, SETUP + "setattr(g, '_idx', lambda x, y: 2)\nresult = (f(g, 8), g.data)",
                 id="shadowed-by-setattr"),
    pytest.param(GRID + SMOOTH, SETUP + "h = Grid(8, 3)\nh._idx = lambda x, y: 3\n"
                 "result = (f(g, 8), f(h, 8), g.data, h.data)", id="another-instance-shadowed"),
    pytest.param(GRID + HOOKS, SETUP + "ACT = 3\nresult = (f(g, 8), g.data)", id="shadowed-during-the-call"),
    pytest.param(GRID + SMOOTH, SETUP + "Grid._idx = lambda self, x, y: 0\nresult = (f(g, 8), g.data)",
                 id="method-replaced-on-the-class"),
    pytest.param(GRID + SMOOTH, SETUP + "class Sub(Grid):\n    def _idx(self, x, y):\n        return 5\n"
                 "s = Sub(8, 3)\nresult = (f(s, 8), s.data)", id="subclass-instance"),
    pytest.param(GRID + SMOOTH, SETUP + "class Other(Grid):\n    def _idx(self, x, y):\n        return 6\n"
                 "g.__class__ = Other\nresult = (f(g, 8), g.data)", id="class-assigned"),
    pytest.param(GRID + SMOOTH, SETUP + "result = f(g, 9)", id="index-error"),
    pytest.param(GRID + SMOOTH, SETUP + "g.__dict__['_idx'] = lambda x, y: 4\nresult = (f(g, 8), g.data)",
                 id="shadowed-through-the-dict"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver, specialized=("f",))


def test_mock_patch_object_wins():
    source = GRID + SMOOTH
    driver = SETUP + ("from unittest import mock\nwith mock.patch.object(g, '_idx', lambda x, y: 7):\n"
                      "    inside = (f(g, 8), list(g.data))\nresult = (inside, f(g, 8), g.data)")
    assert_same_behaviour(source, driver, specialized=("f",))


@pytest.mark.parametrize("call", ["f(g, 9)", "f(Grid(2, 1), 3)"])
def test_tracebacks_are_those_of_plain_python(call):
    plain, _ = assert_same_behaviour(GRID + SMOOTH, SETUP + traceback_driver(call), specialized=("f",))
    assert "IndexError" in plain.result and "in _idx" in plain.result and "item__" in plain.result


@needs_dicts
def test_a_replaced_dict_during_the_call_is_the_documented_difference():
    # docs/semantics.md: `g.__dict__ = {...}` sends no event; a call that checked g keeps the
    # class's method until it returns; the next call checks the new dict
    source = GRID + HOOKS.replace("        setattr(g, NAME, lambda x, y: 0)\n",
                                  "        g.__dict__ = dict(g.__dict__, _idx=lambda x, y: 0)\n")
    during = SETUP + "ACT = 3\nresult = (f(g, 8), g.data)"
    plain, optimized = run_plain(source, during), run_optimized(source, during)
    assert plain.error is None and optimized.error is None and plain.result != optimized.result
    before = SETUP + "g.__dict__ = dict(g.__dict__, _idx=lambda x, y: 0)\nresult = (f(g, 8), g.data)"
    assert run_plain(source, before).comparable() == run_optimized(source, before).comparable()
