"""After a code swap, call sites specialize again: the function gets a valid version.

The adaptive interpreter specializes a call site for a function's version (CALL_PY_EXACT_ARGS,
BINARY_SUBSCR_GETITEM, LOAD_ATTR_PROPERTY); a swap must change that version and leave a valid one,
or every call site stays on the generic instruction for good (3.13 never assigns a version again
by itself). Each test warms a caller, swaps, warms again and reads the caller's adaptive code."""

import dis
import sys

import pytest

import fatopt
from fatopt.guards import GuardBuiltins

from .helpers import active, load

WARM = 1000  # calls: enough for a call site to specialize again after its back-off

SOURCE = """
def plain(x):
    return len("abc") + x
def fast(x):
    return 3 + x
def call_f():
    return f(1)

class C:
    def getitem_plain(self, i):
        return len("abc") + i
    def getitem_fast(self, i):
        return 3 + i
    def prop_plain(self):
        return len("abc")
    def prop_fast(self):
        return 3
    prop = property(prop_fast)
    __getitem__ = getitem_fast

def subscript(o):
    return o[1]
def attribute(o):
    return o.prop
"""

pytestmark = pytest.mark.skipif(
    sys.gettrace() is not None or getattr(sys, "monitoring", None) and sys.monitoring.get_tool(1) is not None,
    reason="tracing or monitoring instruments the code: no specialized instructions to read",
)


def adaptive_ops(func) -> set[str]:
    return {instr.opname for instr in dis.get_instructions(func, adaptive=True)}


def warm(call) -> object:
    result = call()
    for _ in range(WARM):
        assert call() == result
    return result


@pytest.fixture
def module():
    ns = load(SOURCE)
    ns["f"] = ns["fast"]
    return ns


def test_call_site_specializes_after_invalidation_and_revalidation(module):
    f = module["f"]
    fatopt.register(f, module["plain"], [GuardBuiltins("len")])
    assert warm(module["call_f"]) == 4 and "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])
    module["len"] = lambda s: 10  # shadows the builtin: the original code is back
    assert not active(f)
    assert warm(module["call_f"]) == 11
    assert "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])
    del module["len"]
    assert active(f)
    assert warm(module["call_f"]) == 4
    assert "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])


def test_call_site_specializes_after_specialize(module):
    f = module["f"] = module["plain"]
    assert warm(module["call_f"]) == 4 and "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])
    assert fatopt.specialize(f, module["fast"].__code__, [GuardBuiltins("len")])
    assert f.__code__ is module["fast"].__code__
    assert warm(module["call_f"]) == 4
    assert "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])


def test_call_site_specializes_after_unspecialize(module):
    f = module["f"]
    fatopt.register(f, module["plain"], [GuardBuiltins("len")])
    warm(module["call_f"])
    assert fatopt.unspecialize(f)
    assert warm(module["call_f"]) == 4
    assert "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])


@pytest.mark.parametrize(
    "caller, expected, opname",
    [("subscript", (4, 11), "BINARY_SUBSCR_GETITEM"), ("attribute", (3, 10), "LOAD_ATTR_PROPERTY")],
    ids=["getitem", "property"],
)
def test_dunder_and_property_sites_specialize_after_swaps(module, caller, expected, opname):
    C = module["C"]
    fatopt.register(C.getitem_fast, C.getitem_plain, [GuardBuiltins("len")])
    fatopt.register(C.prop_fast, C.prop_plain, [GuardBuiltins("len")])
    obj, func = C(), module[caller]
    fast_result, shadowed_result = expected
    assert warm(lambda: func(obj)) == fast_result
    module["len"] = lambda s: 10
    assert warm(lambda: func(obj)) == shadowed_result
    assert opname in adaptive_ops(func)
    del module["len"]
    assert warm(lambda: func(obj)) == fast_result
    assert opname in adaptive_ops(func)


def test_functions_sharing_a_code_object_stay_exact(module):
    # Versions stand for code objects: a call site specialized for one function may be reached by
    # another function holding the same code. Each must still run its own current code.
    f = module["f"]
    fatopt.register(f, module["plain"], [GuardBuiltins("len")])
    twin = type(f)(module["fast"].__code__, module)
    call = load("def call(g):\n    return g(1)\n")["call"]
    for _ in range(WARM):
        assert call(f) == 4 and call(twin) == 4
    module["len"] = lambda s: 10
    for _ in range(WARM):
        assert call(f) == 11 and call(twin) == 4
    del module["len"]
    for _ in range(WARM):
        assert call(f) == 4 and call(twin) == 4


def test_the_version_setter_is_found_where_versions_need_it():
    # 3.12 re-assigns versions by itself; 3.13's libpython exports the setter swaps need.
    expected = sys.version_info >= (3, 13) and sys.implementation.name == "cpython"
    assert fatopt._guards.runtime_info()["sets_function_versions"] is expected


@pytest.mark.parametrize("returns", [False, True], ids=["learned nothing", "watch again"])
def test_call_site_specializes_after_a_watched_first_call(module, returns):
    # fatopt.first_call_types: until its first call the function is called through the runtime's
    # hook (no version: no call site can pass it by); after it, call sites specialize again
    f = module["f"]
    seen = []

    def learn(func, types):
        seen.append(types)
        return returns and len(seen) == 1  # (the first time: watch the next call too)

    assert fatopt._guards.watch_first_call(f, learn)
    assert warm(module["call_f"]) == 4
    assert seen == ([(int,)] * 2 if returns else [(int,)])
    assert "CALL_PY_EXACT_ARGS" in adaptive_ops(module["call_f"])
