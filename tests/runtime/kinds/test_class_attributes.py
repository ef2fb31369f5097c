"""GuardClass (fatopt/guards/class_attributes.py): what attributes of a module's class resolve to
along its MRO. Every event path: the class name rebound, deleted, restored; each class of the MRO
gaining, changing and losing the attributes (a data descriptor in the way among them),
``__getattribute__`` and ``__getattr__``; an unrelated attribute; ``__bases__`` assigned on the
class or on a base; ``__class__`` assignment; a name that is not a plain class at registration."""

import gc

import pytest

from fatopt import _guards
from fatopt.guards import GuardClass

from ..helpers import active
from . import Example

SOURCE = """
    class Root:
        def norm(self):
            return "root-norm"
    class Base(Root):
        def __add__(self, other):
            return "base-add"
    class Vector(Base):
        pass
    class Other:
        def norm(self):
            return "other-norm"
        def __add__(self, other):
            return "other-add"
    SAVED = Vector
    def plain():
        v = Vector()
        return v + 1, v.norm()
    def fast():
        return "base-add", "root-norm"
"""

EXAMPLES = [
    Example(
        id="class_attrs",
        kind="class_attrs",
        source=SOURCE,
        recipe='("class_attrs", "Vector", "__add__", "norm")',
        text="GuardClass('Vector', '__add__', 'norm')",
        breaks="Base.norm = lambda self: 'base-norm'",
        restores="del Base.norm",
    ),
]


@pytest.fixture
def inlined():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == ("base-add", "root-norm")
    return ns, f


def settled(f) -> bool:
    """Whether f is specialized once the re-checks queued by type events have run."""
    _guards.flush()
    return active(f)


def test_rebinding_deleting_and_restoring_the_name(inlined):
    ns, f = inlined
    ns["Vector"] = ns["Other"]
    assert not active(f) and f() == ("other-add", "other-norm")
    del ns["Vector"]
    assert not active(f)
    with pytest.raises(NameError):
        f()
    ns["Vector"] = ns["SAVED"]
    assert active(f) and f() == ("base-add", "root-norm")


@pytest.mark.parametrize(
    "owner, attribute",
    [
        pytest.param("Vector", "norm", id="class-gains-norm"),
        pytest.param("Vector", "__add__", id="class-gains-add"),
        pytest.param("Base", "norm", id="base-gains-norm"),
        pytest.param("Base", "__add__", id="base-changes-add"),
        pytest.param("Root", "norm", id="root-changes-norm"),
    ],
)
def test_each_class_of_the_mro_gaining_changing_losing_an_attribute(inlined, owner, attribute):
    ns, f = inlined
    cls = ns[owner]
    saved = cls.__dict__.get(attribute)
    setattr(cls, attribute, lambda self, *args: "patched")
    assert "patched" in f()
    assert not active(f)
    assert not settled(f)
    if saved is None:
        delattr(cls, attribute)
    else:
        setattr(cls, attribute, saved)
    assert f() == ("base-add", "root-norm")
    assert settled(f)


def test_a_data_descriptor_in_the_way(inlined):
    ns, f = inlined
    ns["Base"].norm = property(lambda self: lambda: "property-norm")
    assert f() == ("base-add", "property-norm") and not settled(f)
    del ns["Base"].norm
    assert settled(f)


def test_a_data_descriptor_behind_the_resolved_attribute_changes_nothing(inlined):
    ns, f = inlined
    ns["Root"].__add__ = property(lambda self: None)  # Base.__add__ comes first on the MRO
    assert settled(f) and f() == ("base-add", "root-norm")
    del ns["Root"].__add__
    assert settled(f)


@pytest.mark.parametrize("owner", ["Vector", "Root"])
def test_gaining_getattribute(inlined, owner):
    ns, f = inlined
    cls = ns[owner]
    cls.__getattribute__ = lambda self, name: (lambda: "intercepted")
    assert f() == ("base-add", "intercepted") and not settled(f)
    del cls.__getattribute__
    assert settled(f)


@pytest.mark.parametrize("owner", ["Vector", "Root"])
def test_gaining_getattr(inlined, owner):
    ns, f = inlined
    cls = ns[owner]
    cls.__getattr__ = lambda self, name: None
    assert not settled(f)
    del cls.__getattr__
    assert settled(f)


def test_an_unrelated_attribute_changes_nothing(inlined):
    ns, f = inlined
    ns["Base"].other = 1
    assert settled(f) and f() == ("base-add", "root-norm")
    del ns["Base"].other
    assert settled(f)


def test_watchers_rearm_after_each_event(inlined):
    ns, f = inlined
    base = ns["Base"]
    for i in range(5):
        base.norm = lambda self, i=i: f"base{i}"
        assert f() == ("base-add", f"base{i}") and not settled(f)
        del base.norm
        assert f() == ("base-add", "root-norm") and settled(f)


@pytest.mark.parametrize("owner", ["Vector", "Base"])
def test_bases_assigned_fails_for_good(inlined, owner):
    ns, f = inlined
    cls = ns[owner]
    saved = cls.__bases__
    cls.__bases__ = (ns["Other"],)
    assert not settled(f)
    cls.__bases__ = saved
    assert not settled(f)  # the hierarchy watched is gone: never trusted again
    assert f() == ("base-add", "root-norm")  # the original code is always right


def test_metaclass_cannot_change(inlined):
    ns, f = inlined

    class Meta(type):
        pass

    with pytest.raises(TypeError):
        ns["Vector"].__class__ = Meta
    assert settled(f)


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del Vector", id="unbound"),
        pytest.param("Vector = 3", id="not-a-class"),
        pytest.param("class Meta(type):\n    pass\nclass Vector(Base, metaclass=Meta):\n    pass", id="metaclass"),
        pytest.param("Vector = int", id="builtin-type-without-norm"),
        pytest.param("del Root.norm", id="attribute-missing"),
    ],
)
def test_not_a_plain_class_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    exec("Vector = SAVED\nRoot.norm = lambda self: 'root-norm'", ns)
    assert not settled(f) and f() == ("base-add", "root-norm")


def test_a_class_with_getattribute_at_registration_waits_for_it_to_go():
    ns = EXAMPLES[0].module().__dict__
    exec("Root.__getattribute__ = object.__getattribute__\nBase.__getattribute__ = lambda self, n: object.__getattribute__(self, n)", ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    del ns["Base"].__getattribute__
    assert settled(f)  # object's own __getattribute__, found on Root, is what the guard wants


def test_the_guard_object_checks_what_it_captured():
    ns = EXAMPLES[0].module().__dict__
    guard = GuardClass("Vector", "norm").bind(ns["fast"])
    assert guard.check() == 0
    ns["Root"].norm = lambda self: None
    assert guard.check() == 1
    # the attribute is a Python function: its code and defaults are kept too (COND_FUNC)
    assert [c[0] for c in guard.conditions(ns["fast"])] == [
        _guards.COND_DICT_IS, _guards.COND_TYPE_ATTR, _guards.COND_FUNC, _guards.COND_TYPE_ATTR,
        _guards.COND_TYPE_ATTR_ABSENT,
    ]


@pytest.mark.parametrize("attr, value", [
    pytest.param("__code__", (lambda self: -1).__code__, id="code"),
    pytest.param("__defaults__", (1,), id="defaults"),
])
def test_a_method_function_changed_fails_it_and_restoring_brings_it_back(attr, value):
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f)
    func = ns["Vector"].norm
    saved = getattr(func, attr)
    setattr(func, attr, value)
    assert not active(f)
    setattr(func, attr, saved)
    _guards.flush()
    assert active(f)


def test_requests_merge_per_class():
    assert GuardClass.merge([("Vector", "norm"), ("Point", "x"), ("Vector", "__add__")]) == [
        ("class_attrs", "Point", "x"), ("class_attrs", "Vector", "__add__", "norm"),
    ]


@pytest.mark.parametrize("args", [("Vector",), ("Vector", 3), ("a b", "x")])
def test_invalid_arguments(args):
    with pytest.raises((TypeError, ValueError)):
        GuardClass(*args)


def test_the_class_dying_fails_the_guard_for_good(inlined):
    ns, f = inlined
    ns["Vector"] = ns["Other"]
    del ns["SAVED"]
    gc.collect()  # the class, held weakly by the conditions, is gone
    assert not settled(f)
    exec("class Vector(Base):\n    pass", ns)  # an equal class: not the one the guard took
    ns["Vector"].other = 1  # a type event on the new class
    assert not settled(f) and f() == ("base-add", "root-norm")

