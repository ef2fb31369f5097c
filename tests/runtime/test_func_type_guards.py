"""GuardFunc (callee unchanged, for inlining) and GuardTypeAttr (class attributes)."""

import pytest

import fatopt
from fatopt.guards import GuardFunc, GuardTypeAttr

from .helpers import active, born, load

INLINE = """
def helper(x=1, *, k=2):
    return x + k
def plain():
    return helper()
def fast():
    return 3
"""


@pytest.fixture
def inlined():
    ns = load(INLINE)
    return ns, born(ns, "fast", "plain", GuardFunc(ns["helper"]))


def test_callee_code_change(inlined):
    ns, f = inlined
    helper = ns["helper"]
    saved = helper.__code__
    helper.__code__ = (lambda x=1, *, k=2: x * 100).__code__
    assert f() == 100 and not active(f)
    helper.__code__ = saved
    assert f() == 3 and active(f)
    assert fatopt._guards.runtime_info()["func_watcher"] >= 0


@pytest.mark.parametrize(
    "attr, value, expected",
    [
        pytest.param("__defaults__", (10,), 12, id="defaults"),
        pytest.param("__kwdefaults__", {"k": 20}, 21, id="kwdefaults"),
        pytest.param("__defaults__", None, TypeError, id="defaults-none"),
    ],
)
def test_callee_defaults_change(inlined, attr, value, expected):
    ns, f = inlined
    helper = ns["helper"]
    saved = getattr(helper, attr)
    setattr(helper, attr, value)
    if expected is TypeError:
        with pytest.raises(TypeError):
            f()
    else:
        assert f() == expected
    assert not active(f)
    setattr(helper, attr, saved)
    assert f() == 3 and active(f)


def test_callee_that_is_itself_specialized_swapping_codes_keeps_caller():
    ns = load(INLINE + "def helper_plain(x=1, *, k=2):\n    return x + k + len('')\n")
    from fatopt.guards import GuardBuiltins

    helper = ns["helper"]
    fatopt.register(helper, ns["helper_plain"], [GuardBuiltins("len")])
    f = born(ns, "fast", "plain", GuardFunc(helper))
    ns["len"] = lambda s: 0  # helper swaps to its original: equivalent code, caller stays
    assert active(f) and not active(helper)
    del ns["len"]
    assert active(f) and active(helper)


def test_callee_registered_after_the_guard_was_taken():
    ns = load(INLINE + "def helper_plain(x=1, *, k=2):\n    return x + k + len('')\n")
    from fatopt.guards import GuardBuiltins

    f = born(ns, "fast", "plain", GuardFunc(ns["helper"]))
    ns["len"] = lambda s: 0
    fatopt.register(ns["helper"], ns["helper_plain"], [GuardBuiltins("len")])  # installs original
    assert active(f)


CLASSES = """
class Base:
    def greet(self):
        return "base"
class Child(Base):
    pass
def plain():
    return Child().greet()
def fast():
    return "base"
"""


@pytest.fixture
def method():
    ns = load(CLASSES)
    return ns, born(ns, "fast", "plain", GuardTypeAttr(ns["Child"], "greet"))


def test_type_attribute_set_on_class(method):
    ns, f = method
    ns["Child"].greet = lambda self: "child"
    assert f() == "child" and not active(f)
    del ns["Child"].greet
    assert f() == "base" and active(f)


def test_type_attribute_set_on_base(method):
    ns, f = method
    saved = ns["Base"].greet
    ns["Base"].greet = lambda self: "patched"
    assert f() == "patched"
    ns["Base"].greet = saved
    assert f() == "base" and active(f)


def test_type_watcher_rearms_after_each_event(method):
    ns, f = method
    child = ns["Child"]
    for i in range(5):
        child.greet = lambda self, i=i: f"child{i}"
        assert f() == f"child{i}"
        fatopt._guards.flush()
        assert not active(f)
        del child.greet
        assert f() == "base"
        fatopt._guards.flush()
        assert active(f)


def test_unrelated_attribute_change_revalidates(method):
    ns, f = method
    ns["Child"].other = 1
    fatopt._guards.flush()
    assert active(f) and f() == "base"


def test_changed_bases_fail_for_good(method):
    ns, f = method

    class Other:
        def greet(self):
            return "other"

    ns["Child"].__bases__ = (Other,)
    assert f() == "other"
    fatopt._guards.flush()
    assert not active(f)
    ns["Child"].__bases__ = (ns["Base"],)
    fatopt._guards.flush()
    assert not active(f)  # the hierarchy we watched is gone: never trusted again
    assert f() == "base"
