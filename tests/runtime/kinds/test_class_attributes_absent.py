"""GuardClassAttrsAbsent (fatopt/guards/class_attributes_absent.py): names a module's class does
not have along its MRO. Every event path: each class of the MRO gaining the name (a data
descriptor, a plain value, a method) and losing it again; ``__getattribute__``/``__getattr__``
gained; other names and instance attributes; a name found, or no plain class, at registration."""

import pytest

from fatopt import _guards
from fatopt.guards import GuardClassAttrsAbsent

from ..helpers import active
from . import Example
from .test_class_attributes import SOURCE

EXAMPLES = [
    Example(
        id="class_attrs_absent",
        kind="class_attrs_absent",
        source=SOURCE,
        recipe='("class_attrs_absent", "Vector", "data")',
        text="GuardClassAttrsAbsent('Vector', 'data')",
        breaks="Root.data = property(lambda self: 1)",
        restores="del Root.data",
    ),
]


def settled(f) -> bool:
    """Whether f is specialized once the re-checks queued by type events have run."""
    _guards.flush()
    return active(f)


@pytest.fixture
def absent():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f)
    return ns, f


@pytest.mark.parametrize("owner", ["Vector", "Base", "Root"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param("property(lambda self: 1)", id="data-descriptor"),
        pytest.param("1", id="plain-value"),
        pytest.param("lambda self: 1", id="method"),
    ],
)
def test_a_class_of_the_mro_gaining_the_name_fails_it_until_it_goes(absent, owner, value):
    ns, f = absent
    exec(f"{owner}.data = {value}", ns)
    assert not settled(f)
    exec(f"del {owner}.data", ns)
    assert settled(f)


@pytest.mark.parametrize("owner", ["Vector", "Root"])
@pytest.mark.parametrize("hook", ["__getattribute__", "__getattr__"])
def test_gaining_an_attribute_hook_fails_it(absent, owner, hook):
    ns, f = absent
    setattr(ns[owner], hook, lambda self, name: 1)
    assert not settled(f)
    delattr(ns[owner], hook)
    assert settled(f)


def test_other_names_and_instances_change_nothing(absent):
    ns, f = absent
    exec("Base.other = 1\nv = Vector()\nv.data = 2", ns)
    assert settled(f)


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("Root.data = 1", id="the-mro-has-it"),
        pytest.param("Vector = 3", id="not-a-class"),
    ],
)
def test_not_absent_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    exec("Vector = SAVED\nRoot.__dict__.get('data') is None or delattr(Root, 'data')", ns)
    assert not settled(f)


def test_absent_requests_merge_per_class():
    assert GuardClassAttrsAbsent.merge([("Vector", "data"), ("Point", "x"), ("Vector", "width")]) == [
        ("class_attrs_absent", "Point", "x"), ("class_attrs_absent", "Vector", "data", "width"),
    ]
