"""Forwarded results (fatopt/passes/forward_inlined_results.py): a linearized site's inlined
body that ends ``t = X``, followed by a statement reading ``t`` once after only loads of fatopt's
temporaries and constants, gets that statement, ``X`` in ``t``'s place, inside its ``try``.

The rewrite on the pass's own input (tables: what moves, what stays), the emitted scimark SOR
shape (``_idx`` inside the dunders, 3.13+), and plain vs optimized runs, tracebacks included:
an exception of the forwarded value keeps the inner callee's entry, one of the moved statement
its caller's."""

from __future__ import annotations

import re
import textwrap

import pytest

from fatopt.config import Config
import ast

from fatopt.passes.forward_inlined_results import ForwardInlinedResults
from tests.optimizer._diff import assert_same_behaviour, normalized, optimized_function, started_unit, traceback_driver
from tests.optimizer.test_specialize_instance_methods import DICTS, GRID_STATEMENTS, SETUP, SMOOTH

#: SOR's Grid with an ``_idx`` of several statements (one of one expression is inlined in place:
#: no result to forward)
GRID = GRID_STATEMENTS

def forwarded(source: str) -> str:
    """``f`` after the pass, as if its ``_fatopt_`` names were made by the passes after the
    scope analysis (the pass takes only those for its temporaries)."""
    unit = started_unit(ast.parse(source))
    while ForwardInlinedResults().run(unit):
        pass
    return ast.unparse(unit.node)


HANDLER = "__fatopt_runtime__.inlined_raised('g', (1, 3), None)"


def _case(inner: str, following: str, *, temp: str = "_fatopt_m_2", reads: int = 1) -> str:
    """``f`` with a wrapped inlined body assigning ``temp`` last, then ``following``; the
    wrapper's statements at lines 1..3 are the callee's (the handler's range), ``f``'s below."""
    extra = "".join(f"    z = {temp}\n" for _ in range(reads - 1))
    return textwrap.dedent(f"""\
        def f(_fatopt_m_1, a):
            try:
                {inner}
                {temp} = a * 2
            except:
                {HANDLER}
                raise
            {following}
        """) + extra


FORWARDED = [
    pytest.param("pass", "_fatopt_t_3 = _fatopt_m_1[_fatopt_m_2]", "_fatopt_t_3 = _fatopt_m_1[a * 2]", id="subscript"),
    pytest.param("pass", "_fatopt_m_1[_fatopt_m_2] = 5", "_fatopt_m_1[a * 2] = 5", id="store-index"),
    pytest.param("pass", "_fatopt_t_3 = _fatopt_m_2 + 1", "_fatopt_t_3 = a * 2 + 1", id="operand"),
    pytest.param("pass", "_fatopt_t_3 = (_fatopt_m_1, _fatopt_m_2)", "_fatopt_t_3 = (_fatopt_m_1, a * 2)",
                 id="tuple"),
    pytest.param("pass", "a.b = _fatopt_m_2", "a.b = a * 2", id="value-of-an-attribute-store"),
]


@pytest.mark.parametrize("inner, following, moved", FORWARDED)
def test_forwarded(inner, following, moved):
    text = forwarded(_case(inner, following))
    assert text == normalized(textwrap.dedent(f"""\
        def f(_fatopt_m_1, a):
            try:
                {inner}
                {moved}
            except:
                {HANDLER}
                raise
        """))


KEPT = [
    pytest.param(_case("pass", "_fatopt_t_3 = a[_fatopt_m_2]"), id="a-user-local-first"),
    pytest.param(_case("pass", "_fatopt_t_3 = _fatopt_m_1.x[_fatopt_m_2]"), id="an-attribute-load-first"),
    pytest.param(_case("pass", "_fatopt_t_3 = _fatopt_m_1[0][_fatopt_m_2]"), id="a-subscript-first"),
    pytest.param(_case("pass", "_fatopt_t_3 = _fatopt_m_2", temp="y"), id="not-a-temporary"),
    pytest.param(_case("pass", "_fatopt_t_3 = _fatopt_m_1[_fatopt_m_2]", reads=2), id="read-twice"),
    pytest.param(_case("_fatopt_m_2 = 0", "_fatopt_t_3 = _fatopt_m_1[_fatopt_m_2]"), id="assigned-twice"),
    pytest.param(_case("pass", "print(_fatopt_m_2)"), id="not-an-assignment"),
    pytest.param(textwrap.dedent(f"""\
        def f(_fatopt_m_1, a):
            try:
                _fatopt_m_2 = a * 2
            except:
                {HANDLER.replace("(1, 3)", "(1, 8)")}
                raise
            _fatopt_t_3 = _fatopt_m_1[
                _fatopt_m_2]
        """), id="the-statement-at-the-callees-lines"),
]


@pytest.mark.parametrize("source", KEPT)
def test_kept(source):
    assert forwarded(source) == normalized(source)


needs_dicts = pytest.mark.skipif(not DICTS, reason="instances with a __dict__ are left alone here (3.12)")
OFF = Config(forward_inlined_results=False)
RESULT = re.compile(r"_fatopt_m_\d+ = \w+ \* g\.w \+ \w+\n")


@needs_dicts
def test_sor_shape_forwards_each_idx_result():
    on, report = optimized_function(GRID + SMOOTH, checks=True)
    off, _ = optimized_function(GRID + SMOOTH, config=OFF, checks=True)
    fast_on, fast_off = (t.split("\n    else:\n")[0] for t in (on, off))
    assert len(RESULT.findall(fast_off)) == 3 and not RESULT.findall(fast_on)
    assert re.search(r"= _fatopt_m_\d+\[_fatopt_t_\d+ \* g\.w \+ i\]|_fatopt_m_\d+\[\w+ \* g\.w \+ \w+\] = ", fast_on)
    row = next(r for r in report.functions if r.qualname == "f")
    assert "forward_inlined_results" in row.passes


SHORT = GRID.replace("self.data = [0.0] * (w * h)", "self.data = [0.0] * (w * h - 1)")

BEHAVIOUR = [
    pytest.param(GRID + SMOOTH, SETUP + "result = (f(g, 8), g.data)", id="smooth"),
    pytest.param(GRID + SMOOTH, traceback_driver("f(g, 9)"), id="idx-raises"),
    pytest.param(SHORT + SMOOTH, traceback_driver("f(g, 8)"), id="the-subscript-raises"),
    pytest.param(GRID.replace("return y * self.w + x", "return y * self.w + x + None") + SMOOTH,
                 traceback_driver("f(g, 8)"), id="the-forwarded-value-raises"),
]


@needs_dicts
@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    setup = "g = Grid(8, 3)\nfor k in range(len(g.data)):\n    g.data[k] = k * 0.25\n"
    assert_same_behaviour(source, driver if driver.startswith("g =") else setup + driver, specialized=("f",))
