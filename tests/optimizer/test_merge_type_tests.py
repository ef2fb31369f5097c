"""Merged type tests (fatopt/passes/merge_type_tests.py): after a site's validity test,
consecutive ``type(x) is not C`` of one class become ``not __fatopt_exact_types__(C, x, ...)``.

The rewrite on the pass's own input (what merges, what stays), the runtime's ``exact_types``,
the emitted module (the helper bound, the site's test merged), and plain vs optimized runs with
operands of the class, of a subclass, of another class, and a class rebound while running."""

from __future__ import annotations

import ast
import textwrap

import pytest

from fatopt import _guards
from fatopt.config import Config
from fatopt.emit import EXACT_TYPES_NAME
from fatopt.optimizer import optimize_source
from fatopt.passes.merge_type_tests import MergeTypeTests
from tests.optimizer._diff import assert_same_behaviour, optimized_function, started_unit, traceback_driver
from tests.optimizer.test_specialize_operators import VEC

FLAG = "__fatopt_valid_1_0__"


def merged(test: str, params: str = "a, b", before: str = "") -> str:
    """The test of ``if TEST: pass`` in ``f(PARAMS)`` after the pass."""
    source = f"def f({params}):\n{textwrap.indent(before, '    ')}    if {test}:\n        pass\n"
    unit = started_unit(ast.parse(source))
    unit.valid_flag = FLAG
    MergeTypeTests().run(unit)
    return ast.unparse(unit.node.body[-1].test)  # type: ignore[attr-defined]


MERGED = [
    pytest.param(f"not {FLAG} or type(a) is not V or type(b) is not V",
                 f"not {FLAG} or not {EXACT_TYPES_NAME}(V, a, b)", id="two-parameters"),
    pytest.param("not _fatopt_valid_flag or type(_fatopt_o_1) is not V or type(_fatopt_o_2) is not V",
                 f"not _fatopt_valid_flag or not {EXACT_TYPES_NAME}(V, _fatopt_o_1, _fatopt_o_2)",
                 id="temporaries-and-the-local-flag"),
    pytest.param(f"not {FLAG} or type(a) is not V or type(b) is not V or type(a) is not W",
                 f"not {FLAG} or not {EXACT_TYPES_NAME}(V, a, b) or type(a) is not W", id="a-run-then-another-class"),
    pytest.param(f"not {FLAG} or a is not V or type(a) is not V or type(b) is not V or type(b) is not V",
                 f"not {FLAG} or a is not V or not {EXACT_TYPES_NAME}(V, a, b, b)", id="after-another-test"),
]


@pytest.mark.parametrize("test, after", MERGED)
def test_merged(test, after):
    assert merged(test) == ast.unparse(ast.parse(after, mode="eval").body)


KEPT = [
    pytest.param(f"not {FLAG} or type(a) is not V", "a, b", "", id="one-test"),
    pytest.param(f"not {FLAG} or type(a) is not V or type(b) is not W", "a, b", "", id="two-classes"),
    pytest.param("type(a) is not V or type(b) is not V", "a, b", "", id="no-validity-test-first"),
    pytest.param(f"not {FLAG} and type(a) is not V and type(b) is not V", "a, b", "", id="an-and"),
    pytest.param(f"not {FLAG} or type(a) is not V or type(c) is not V", "a, b", "c = b\n", id="a-local-of-the-users"),
    pytest.param(f"not {FLAG} or type(a) is not V or type(b) is not V", "a, b", "del b\n", id="a-deleted-parameter"),
    pytest.param(f"not {FLAG} or type(a) is not V or type(b) is not V", "a, b, type", "", id="type-is-a-parameter"),
    pytest.param(f"not {FLAG} or type(a) is not V or type(b) is V", "a, b", "", id="an-is-test"),
    pytest.param(f"not {FLAG} or type(a.x) is not V or type(b) is not V", "a, b", "", id="not-a-name"),
]


@pytest.mark.parametrize("test, params, before", KEPT)
def test_kept(test, params, before):
    assert merged(test, params, before) == ast.unparse(ast.parse(test, mode="eval").body)


class Base:
    pass


class Sub(Base):
    pass


@pytest.mark.parametrize("args, expected", [
    ((Base, Base()), True),
    ((Base, Base(), Base(), Base()), True),
    ((Base, Base(), Sub()), False),
    ((Base, Sub(), Base()), False),
    ((Sub, Sub()), True),
    ((int, True), False),
    ((object, object()), True),
])
def test_exact_types(args, expected):
    assert _guards.exact_types(*args) is expected


def test_exact_types_needs_a_class_and_an_object():
    with pytest.raises(TypeError):
        _guards.exact_types(Base)


OPERATION = VEC + "def f(a: Vec, b: Vec):\n    return a + b\n"


def test_the_emitted_site_and_module():
    on, _ = optimized_function(OPERATION, checks=True)
    off, _ = optimized_function(OPERATION, checks=True, config=Config(merge_type_tests=False))
    assert f"not {EXACT_TYPES_NAME}(Vec, a, b)" in on and "type(a) is not Vec or type(b) is not Vec" not in on
    assert "type(a) is not Vec or type(b) is not Vec" in off and EXACT_TYPES_NAME not in off
    module = optimize_source(OPERATION, "<case>")
    assert f"from fatopt._guards import exact_types as {EXACT_TYPES_NAME}" in module
    unmerged = optimize_source(OPERATION, "<case>", Config(merge_type_tests=False))
    assert EXACT_TYPES_NAME not in unmerged


#: the driver's callback rebinds the module's Vec (the optimizer sees no store of it)
REBIND = "def g(a, b):\n    globals()['Vec'] = type('Vec', (), {})\n    return 0\n"

BEHAVIOUR = [
    pytest.param(OPERATION, "result = [f(Vec(1, 2), Vec(3, 4)) for _ in range(3)]", id="the-class"),
    pytest.param(OPERATION, "class W(Vec):\n    pass\nresult = [f(W(1, 2), Vec(3, 4)), f(Vec(1, 2), W(3, 4))]",
                 id="a-subclass-either-side"),
    pytest.param(OPERATION, traceback_driver("f(Vec(1, 2), 3)"), id="another-class-raises"),
    pytest.param(OPERATION, traceback_driver("f(Vec(1, None), Vec(3, 4))"), id="raises-in-the-dunder"),
    pytest.param(VEC + "def f(a: Vec, b: Vec, g):\n    x = a + b\n    g(a, b)\n    return a - b, x\n",
                 REBIND + traceback_driver("[f(Vec(1, 2), Vec(3, 4), lambda a, b: 0), f(Vec(1, 2), Vec(3, 4), g)]"),
                 id="the-class-rebound-between-two-sites"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver, specialized=("f",))
