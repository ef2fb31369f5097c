"""GuardStaticCallee (fatopt/guards/static_callee.py): a class's staticmethod stays the same,
unchanged function. Every event path: the class name rebound, deleted, restored; the attribute
assigned (``Vec.dot = ...``, ``setattr``), deleted with a base providing one, restored; the
function's code, defaults and keyword defaults changed and restored; ``__bases__`` assigned; a
subclass overriding it (no change); what never holds at registration (no such class, a
metaclass, not a staticmethod, not a Python function, not the class body's def)."""

import pytest

import fatopt
from fatopt import _guards
from fatopt.guards import GuardStaticCallee

from ..helpers import active
from . import Example

SOURCE = """
    class Base:
        @staticmethod
        def dot(a=1, *, k=2):
            return -1
    class Other:
        pass
    class Vec(Base):
        @staticmethod
        def dot(a=1, *, k=2):
            return a + k
    SAVED = Vec
    SAVED_DOT = vars(Vec)["dot"]
    def plain():
        return Vec.dot()
    def fast():
        return 3
"""

EXAMPLES = [
    Example(
        id="static_callee",
        kind="static_callee",
        source=SOURCE,
        recipe='("static_callee", "Vec", "dot")',
        text="GuardStaticCallee('Vec', 'dot')",
        breaks="Vec.dot = staticmethod(lambda a=1, *, k=2: 100)",
        restores="Vec.dot = SAVED_DOT",
    ),
]


@pytest.fixture
def inlined():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == 3
    return ns, f


@pytest.mark.parametrize(
    "change, expected",
    [
        pytest.param("Vec.dot = staticmethod(lambda a=1, *, k=2: 100)", 100, id="assigned"),
        pytest.param("setattr(Vec, 'dot', staticmethod(lambda a=1, *, k=2: 100))", 100, id="setattr"),
        pytest.param("del Vec.dot", -1, id="deleted-base-provides-one"),
        pytest.param("Vec = type('Vec', (), {'dot': staticmethod(lambda a=1, *, k=2: 100)})", 100, id="name-rebound"),
    ],
)
def test_a_change_fails_it_and_restoring_brings_it_back(inlined, change, expected):
    ns, f = inlined
    exec(change, ns)
    assert not active(f) and f() == expected
    exec("Vec = SAVED\nVec.dot = SAVED_DOT", ns)
    _guards.flush()
    assert f() == 3 and active(f)


def test_bases_assigned_fails_for_good(inlined):
    ns, f = inlined
    ns["Vec"].__bases__ = (ns["Other"],)
    assert not active(f) and f() == 3
    ns["Vec"].__bases__ = (ns["Base"],)
    _guards.flush()
    assert not active(f) and f() == 3  # the hierarchy watched is gone: never trusted again


def test_deleting_and_restoring_the_class_name(inlined):
    ns, f = inlined
    cls = ns.pop("Vec")
    assert not active(f)
    with pytest.raises(NameError):
        f()
    ns["Vec"] = cls
    assert f() == 3 and active(f)


@pytest.mark.parametrize(
    "attr, value, expected",
    [
        pytest.param("__code__", (lambda a=1, *, k=2: a * 100).__code__, 100, id="code"),
        pytest.param("__defaults__", (10,), 12, id="defaults"),
        pytest.param("__kwdefaults__", {"k": 20}, 21, id="kwdefaults"),
    ],
)
def test_changing_the_function(inlined, attr, value, expected):
    ns, f = inlined
    func = vars(ns["Vec"])["dot"].__func__
    saved = getattr(func, attr)
    setattr(func, attr, value)
    assert not active(f) and f() == expected
    setattr(func, attr, saved)
    assert f() == 3 and active(f)


def test_another_staticmethod_of_the_same_function_is_no_change(inlined):
    # a call through the class gets the function either way
    ns, f = inlined
    exec("Vec.dot = staticmethod(vars(Vec)['dot'].__func__)", ns)
    assert active(f) and f() == 3
    exec("Vec.dot = classmethod(vars(Vec)['dot'].__func__)", ns)
    assert not active(f)


def test_a_subclass_overriding_it_is_no_change(inlined):
    ns, f = inlined
    exec("class Sub(Vec):\n    @staticmethod\n    def dot(a=1, *, k=2):\n        return 100\n", ns)
    assert active(f) and f() == 3 and ns["Sub"].dot() == 100


def test_reinitializing_the_staticmethod_in_place_is_not_seen(inlined):
    # documented (docs/semantics.md): no watcher sees staticmethod.__init__ on a live object
    ns, f = inlined
    vars(ns["Vec"])["dot"].__init__(lambda a=1, *, k=2: 100)
    assert ns["plain"]() == 100 and active(f) and f() == 3


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del Vec", id="unbound"),
        pytest.param("Vec = 3", id="not-a-class"),
        pytest.param("class Meta(type):\n    pass\nclass Vec(metaclass=Meta):\n"
                     "    @staticmethod\n    def dot(a=1, *, k=2):\n        return a + k", id="metaclass"),
        pytest.param("class Vec:\n    pass", id="missing"),
        pytest.param("class Vec:\n    @classmethod\n    def dot(cls, a=1, *, k=2):\n        return a + k",
                     id="classmethod"),
        pytest.param("class Vec:\n    def dot(a=1, *, k=2):\n        return a + k", id="plain-function"),
        pytest.param("class Vec:\n    dot = staticmethod(len)", id="builtin-function"),
        pytest.param("def dot(a=1, *, k=2):\n    return a + k\nclass Vec:\n    dot = staticmethod(dot)",
                     id="not-the-class-bodys-def"),
        pytest.param("class Vec:\n    @staticmethod\n    @staticmethod\n    def dot(a=1, *, k=2):\n        return a + k",
                     id="staticmethod-of-a-staticmethod"),
    ],
)
def test_not_such_a_staticmethod_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    ns["Vec"] = ns["SAVED"]  # such a class now: the guard was taken on something else
    _guards.flush()
    assert not active(f) and f() == 3
    assert fatopt.get_specialized(f) == []


def test_the_guard_object_checks_what_it_captured():
    ns = EXAMPLES[0].module().__dict__
    guard = GuardStaticCallee("Vec", "dot").bind(ns["fast"])
    assert guard.check() == 0
    func = vars(ns["Vec"])["dot"].__func__
    saved = func.__defaults__
    func.__defaults__ = (5,)
    assert guard.check() == 1
    func.__defaults__ = saved
    assert guard.check() == 0
    ns["Vec"].dot = staticmethod(lambda: 0)
    assert guard.check() == 1


@pytest.mark.parametrize("args", [("", "dot"), ("Vec", "a b"), ("Vec", 3)])
def test_invalid_names(args):
    with pytest.raises((TypeError, ValueError)):
        GuardStaticCallee(*args)
