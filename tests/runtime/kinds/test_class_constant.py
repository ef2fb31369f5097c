"""GuardClassConstant (fatopt/guards/class_constant.py): a class attribute keeps its constant.
Every event path: the class name rebound, deleted, restored; the attribute shadowed on the class,
changed, deleted and restored on the base that defines it, set to an equal constant of another
type; ``__bases__`` assigned; a name that is not a plain class at registration; a value that does
not match at registration."""

import pytest

import fatopt.runtime
from fatopt import _guards
from fatopt.guards import GuardClassConstant

from ..helpers import active
from . import Example

SOURCE = """
    class Base:
        FORWARD = 1
    class Direction(Base):
        BACKWARD = -1
    class Other:
        FORWARD = 10
    SAVED = Direction
    def plain():
        return Direction.FORWARD * 100 + Direction.BACKWARD
    def fast():
        return 99
"""

EXAMPLES = [
    Example(
        id="class_constant",
        kind="class_constant",
        source=SOURCE,
        recipe='("class_constant", "Direction", "FORWARD", 1)',
        text="GuardClassConstant('Direction', 'FORWARD', 1)",
        breaks="Base.FORWARD = 2",
        restores="Base.FORWARD = 1",
    ),
]


@pytest.fixture
def folded():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == 99
    return ns, f


def settled(f) -> bool:
    _guards.flush()
    return active(f)


def test_rebinding_deleting_and_restoring_the_name(folded):
    ns, f = folded
    ns["Direction"] = ns["Other"]
    assert not active(f)
    del ns["Direction"]
    with pytest.raises(NameError):
        f()
    ns["Direction"] = ns["SAVED"]
    assert active(f) and f() == 99


@pytest.mark.parametrize(
    "value, holds",
    [
        pytest.param(2, False, id="other-value"),
        pytest.param(True, False, id="bool-is-not-int"),
        pytest.param(1.0, False, id="float-is-not-int"),
        pytest.param(int("1"), True, id="equal-int"),
        pytest.param(10 ** 30 // 10 ** 30, True, id="computed-equal-int"),
    ],
)
@pytest.mark.parametrize("owner", ["Base", "Direction"])
def test_setting_the_attribute(folded, owner, value, holds):
    ns, f = folded
    setattr(ns[owner], "FORWARD", value)  # noqa: B010 - as a program would, not analysed
    assert settled(f) is holds
    if owner == "Direction":
        del ns["Direction"].FORWARD
    else:
        ns["Base"].FORWARD = 1
    assert settled(f) and f() == 99


def test_deleting_and_restoring_the_attribute(folded):
    ns, f = folded
    del ns["Base"].FORWARD
    assert not settled(f)
    with pytest.raises(AttributeError):
        f()
    ns["Base"].FORWARD = 1
    assert settled(f)


def test_other_attributes_change_nothing(folded):
    ns, f = folded
    ns["Direction"].OTHER = 1
    assert settled(f)
    del ns["Direction"].OTHER
    assert settled(f)


def test_bases_assigned_fails_for_good(folded):
    ns, f = folded
    ns["Direction"].__bases__ = (ns["Other"],)
    assert not settled(f)
    ns["Direction"].__bases__ = (ns["Base"],)
    assert not settled(f) and f() == 99


def test_float_constants_compare_by_bits():
    ns = EXAMPLES[0].module().__dict__
    ns["Base"].FORWARD = 0.0
    f = fatopt.runtime.born(ns["plain"], ("class_constant", "Direction", "FORWARD", 0.0))(ns["fast"])
    assert active(f)
    ns["Base"].FORWARD = -0.0
    assert not settled(f)
    ns["Base"].FORWARD = 0.0
    assert settled(f)


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del Direction", id="unbound"),
        pytest.param("Direction = 3", id="not-a-class"),
        pytest.param("import enum\nclass Direction(enum.IntEnum):\n    FORWARD = 1", id="enum-metaclass"),
    ],
)
def test_not_a_plain_class_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    ns["Direction"] = ns["SAVED"]
    assert not settled(f) and f() == 99


def test_a_value_that_does_not_match_at_registration_waits():
    ns = EXAMPLES[0].module().__dict__
    ns["Base"].FORWARD = 5
    f = EXAMPLES[0].born(ns)
    assert not active(f) and f() == 499
    ns["Base"].FORWARD = 1
    assert settled(f)


def test_the_value_must_be_a_constant():
    ns = EXAMPLES[0].module().__dict__
    with pytest.raises(TypeError, match="not a constant"):
        GuardClassConstant("Direction", "FORWARD", [1]).bind(ns["fast"])


def test_requests_keep_one_value_per_attribute():
    key = GuardClassConstant.request_key
    assert key(("Direction", "FORWARD", 1)) == key(("Direction", "FORWARD", 2))
    assert key(("Direction", "FORWARD", 1)) != key(("Direction", "BACKWARD", 1))
