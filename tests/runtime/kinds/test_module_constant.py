"""GuardModuleConstant (fatopt/guards/module_constant.py): an attribute of a module keeps its
constant. Every event path: the global name rebound (to another module, to a non-module),
deleted, restored; the attribute changed, deleted and restored in the module's dict, set to an
equal constant of another type; a name that is not a module at registration; a value that does
not match at registration; the module dropped."""

import gc
import types

import pytest

from fatopt.guards import GuardModuleConstant

from ..helpers import active
from . import Example

SOURCE = """
    import types
    config = types.ModuleType("config")
    config.DEBUG = False
    config.LEVEL = 1
    other = types.ModuleType("other")
    other.DEBUG = False
    SAVED = config
    def plain():
        return config.LEVEL * 100
    def fast():
        return 100
"""

EXAMPLES = [
    Example(
        id="module_constant",
        kind="module_constant",
        source=SOURCE,
        recipe='("module_constant", "config", "LEVEL", 1)',
        text="GuardModuleConstant('config', 'LEVEL', 1)",
        breaks="config.LEVEL = 2",
        restores="config.LEVEL = 1",
    ),
]


@pytest.fixture
def folded():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == 100
    return ns, f


def test_rebinding_deleting_and_restoring_the_name(folded):
    ns, f = folded
    ns["other"].LEVEL = 1  # an equal module is another module
    ns["config"] = ns["other"]
    assert not active(f)
    ns["config"] = 5
    assert not active(f)
    del ns["config"]
    with pytest.raises(NameError):
        f()
    ns["config"] = ns["SAVED"]
    assert active(f) and f() == 100


@pytest.mark.parametrize(
    "value, holds",
    [
        pytest.param(2, False, id="other-value"),
        pytest.param(True, False, id="bool-is-not-int"),
        pytest.param(1.0, False, id="float-is-not-int"),
        pytest.param(10 ** 30 // 10 ** 30, True, id="computed-equal-int"),
    ],
)
def test_setting_the_attribute(folded, value, holds):
    ns, f = folded
    ns["config"].LEVEL = value
    assert active(f) is holds
    assert f() == value * 100
    ns["config"].LEVEL = 1
    assert active(f) and f() == 100


def test_deleting_restoring_and_other_attributes(folded):
    ns, f = folded
    ns["config"].OTHER = 1
    assert active(f)
    del ns["config"].LEVEL
    assert not active(f)
    with pytest.raises(AttributeError):
        f()
    setattr(ns["config"], "LEVEL", 1)  # noqa: B010 - as a program would, not analysed
    assert active(f)
    ns["config"].__dict__.clear()
    assert not active(f)


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del config", id="unbound"),
        pytest.param("config = 3", id="not-a-module"),
        pytest.param("class M(types.ModuleType):\n    LEVEL = property(lambda self: 1)\nconfig = M('m')", id="module-subclass"),
    ],
)
def test_not_a_module_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    ns["config"] = ns["SAVED"]
    assert not active(f) and f() == 100


def test_a_value_that_does_not_match_at_registration_waits():
    ns = EXAMPLES[0].module().__dict__
    ns["config"].LEVEL = 5
    f = EXAMPLES[0].born(ns)
    assert not active(f) and f() == 500
    ns["config"].LEVEL = 1
    assert active(f)


def test_the_module_is_held_weakly():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    module = ns["config"]
    del ns["SAVED"], ns["config"]
    assert not active(f)
    ref = types.SimpleNamespace(alive=True)
    import weakref

    watcher = weakref.ref(module, lambda _r: setattr(ref, "alive", False))
    del module
    gc.collect()
    assert not ref.alive and watcher() is None


def test_the_value_must_be_a_constant():
    ns = EXAMPLES[0].module().__dict__
    with pytest.raises(TypeError, match="not a constant"):
        GuardModuleConstant("config", "LEVEL", [1]).bind(ns["fast"])


def test_requests_keep_one_value_per_attribute():
    key = GuardModuleConstant.request_key
    assert key(("config", "LEVEL", 1)) == key(("config", "LEVEL", 2))
    assert key(("config", "LEVEL", 1)) != key(("config", "DEBUG", 1))


def test_a_module_class_assigned_later_is_not_seen(folded):
    """docs/semantics.md, "A module's __class__ assigned later is not watched": a known
    difference, asserted so that a change of it is noticed."""
    ns, f = folded

    class WithProperty(types.ModuleType):
        LEVEL = property(lambda self: 7)

    ns["config"].__class__ = WithProperty
    assert ns["plain"]() == 700  # plain Python reads the property
    assert active(f) and f() == 100  # the specialized code keeps the dict's constant
