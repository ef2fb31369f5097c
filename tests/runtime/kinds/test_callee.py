"""GuardCallee (fatopt/guards/callee.py): a global name still holds the same, unchanged function.
Every event path: the name rebound, deleted, restored; the function's code, defaults and keyword
defaults changed and restored; a callee swapping between its own two codes; a name not bound to
a Python function at registration."""

import gc

import pytest

import fatopt
from fatopt import _guards
from fatopt.guards import GuardBuiltins, GuardCallee

from ..helpers import active
from . import Example

SOURCE = """
    def helper(x=1, *, k=2):
        return x + k
    SAVED = helper
    def plain():
        return helper()
    def fast():
        return 3
"""

EXAMPLES = [
    Example(
        id="callee",
        kind="callee",
        source=SOURCE,
        recipe='("callee", "helper")',
        text="GuardCallee('helper')",
        breaks="helper = lambda x=1, *, k=2: 100",
        restores="helper = SAVED",
    ),
]


@pytest.fixture
def inlined():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == 3
    return ns, f


def test_rebinding_the_name(inlined):
    ns, f = inlined
    helper = ns["helper"]
    ns["helper"] = lambda x=1, *, k=2: 100
    assert f() == 100 and not active(f)
    ns["helper"] = helper
    assert f() == 3 and active(f)


def test_rebinding_to_an_equal_function_is_a_change(inlined):
    ns, f = inlined
    helper = ns["helper"]
    copy = type(helper)(helper.__code__, helper.__globals__, "helper", helper.__defaults__)
    copy.__kwdefaults__ = helper.__kwdefaults__
    ns["helper"] = copy  # same code, another object: another function as far as guards go
    assert not active(f) and f() == 3
    ns["helper"] = helper
    assert active(f)


def test_deleting_and_restoring_the_name(inlined):
    ns, f = inlined
    helper = ns.pop("helper")
    assert not active(f)
    with pytest.raises(NameError):
        f()
    ns["helper"] = helper
    assert f() == 3 and active(f)


def test_module_dict_cleared(inlined):
    ns, f = inlined
    saved = dict(ns)
    ns.clear()
    assert not active(f)
    ns.update(saved)
    _guards.flush()
    assert active(f)


@pytest.mark.parametrize(
    "attr, value, expected",
    [
        pytest.param("__code__", (lambda x=1, *, k=2: x * 100).__code__, 100, id="code"),
        pytest.param("__defaults__", (10,), 12, id="defaults"),
        pytest.param("__kwdefaults__", {"k": 20}, 21, id="kwdefaults"),
        pytest.param("__defaults__", None, TypeError, id="defaults-removed"),
    ],
)
def test_changing_the_function(inlined, attr, value, expected):
    ns, f = inlined
    helper = ns["helper"]
    saved = getattr(helper, attr)
    setattr(helper, attr, value)
    assert not active(f)
    if expected is TypeError:
        with pytest.raises(TypeError):
            f()
    else:
        assert f() == expected
    setattr(helper, attr, saved)
    assert f() == 3 and active(f)


def test_globals_and_closure_cannot_change(inlined):
    ns, f = inlined
    for attr in ("__globals__", "__closure__"):
        with pytest.raises(AttributeError):
            setattr(ns["helper"], attr, None)
    assert active(f)


def test_a_specialized_callee_swapping_its_codes_is_no_change():
    ns = EXAMPLES[0].module().__dict__
    exec("def helper_plain(x=1, *, k=2):\n    return x + k + len('')\n", ns)
    helper = ns["helper"]
    fatopt.register(helper, ns["helper_plain"], [GuardBuiltins("len")])
    f = EXAMPLES[0].born(ns)
    ns["len"] = lambda s: 0  # the callee falls back to its original code: equivalent
    assert not active(helper) and active(f) and f() == 3
    del ns["len"]
    assert active(helper) and active(f)


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del helper", id="unbound"),
        pytest.param("helper = len", id="builtin-function"),
        pytest.param("class helper:\n    pass", id="class"),
        pytest.param("helper = 3", id="not-callable"),
    ],
)
def test_not_a_python_function_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    ns["helper"] = ns["SAVED"]  # a function now: the guard was taken on something else
    _guards.flush()
    assert not active(f) and f() == 3  # the original code, calling the function
    assert fatopt.stats()["functions"] and fatopt.get_specialized(f) == []


def test_the_guard_object_checks_what_it_captured():
    ns = EXAMPLES[0].module().__dict__
    guard = GuardCallee("helper").bind(ns["fast"])
    assert guard.check() == 0
    ns["helper"].__defaults__ = (5,)
    assert guard.check() == 1
    ns["helper"].__defaults__ = (1,)
    ns["helper"] = lambda: 0
    assert guard.check() == 1


@pytest.mark.parametrize("name", ["", "a b", 3])
def test_invalid_name(name):
    with pytest.raises((TypeError, ValueError)):
        GuardCallee(name)


def test_the_callee_dying_fails_the_guard_for_good(inlined):
    # conditions follow the callee by weakref: it dies with its last binding, and no function
    # made later (even from the same code, even at the same address) counts as it
    ns, f = inlined
    code, defaults, kwdefaults = ns["helper"].__code__, ns["helper"].__defaults__, ns["helper"].__kwdefaults__
    del ns["helper"], ns["SAVED"]
    gc.collect()
    assert not active(f)
    again = type(f)(code, ns, "helper", defaults)
    again.__kwdefaults__ = kwdefaults
    ns["helper"] = again
    again.__defaults__ = defaults  # a function event on a new function
    assert not active(f) and f() == 3
