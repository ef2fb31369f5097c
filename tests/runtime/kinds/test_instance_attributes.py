"""GuardInstanceAttrsAbsent (fatopt/guards/instance_attributes.py) and the runtime's entry check
``unshadowed(obj, names)``: an instance the check saw gains none of the names. Every event path:
the class name rebound and restored; the name written into a checked instance's dict (attribute,
``setattr``, ``__dict__[...]``, ``__dict__.update``, a non-interned key, a str-subclass key) fails
it for good, and empties the validity flag for running frames; writes of other names, deletions,
a clear, writes to unchecked instances or instances of other classes, and a checked instance's
death are no change; what the entry check answers (instances with the name, no dict, slots).

On CPython 3.13.0, dict watchers miss attribute stores that go to an object's inline values
(CPython gh-125608, fixed in 3.13.1): there the check takes no object with a dict, so nothing
relies on a watch that would miss writes (``test_without_notifying_watchers_no_instance_passes``),
and the tests that need a watched instance skip."""

import gc

import pytest

import fatopt
from fatopt import _guards
from fatopt.guards import GuardInstanceAttrsAbsent

from ..helpers import active
from . import Example

NOTIFIES = _guards.runtime_info()["instance_dicts_notify"]
needs_notifying_watchers = pytest.mark.skipif(
    not NOTIFIES, reason="this interpreter's dict watchers miss inline-value writes (CPython gh-125608)")

SOURCE = """
    class Grid:
        def cell(self):
            return 1
    class Other:
        def cell(self):
            return 3
    class Slotted:
        __slots__ = ("a",)
        def cell(self):
            return 4
    SAVED = Grid
    def plain():
        return 2 if Grid is SAVED else 1
    def fast():
        return 2
"""

EXAMPLES = [
    Example(
        id="instance_attrs_absent",
        kind="instance_attrs_absent",
        source=SOURCE,
        recipe='("instance_attrs_absent", "Grid", "cell")',
        text="GuardInstanceAttrsAbsent('Grid', 'cell')",
        breaks="Grid = Other",
        restores="Grid = SAVED",
    ),
]


@pytest.fixture
def born():
    if not NOTIFIES:
        pytest.skip("this interpreter's dict watchers miss inline-value writes (CPython gh-125608)")
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == 2
    EXAMPLES[0].run(ns, "g = Grid(); g.x = 1")
    assert _guards.unshadowed(ns["g"], ("cell",))
    return ns, f


@pytest.mark.parametrize(
    "write",
    [
        pytest.param("g.cell = 5", id="attribute"),
        pytest.param("setattr(g, 'cell', 5)", id="setattr"),
        pytest.param("object.__setattr__(g, 'cell', 5)", id="object-setattr"),
        pytest.param("g.__dict__['cell'] = 5", id="dict-item"),
        pytest.param("g.__dict__.update(cell=5)", id="dict-update"),
        pytest.param("vars(g).setdefault('cell', 5)", id="setdefault"),
        pytest.param("g.__dict__[''.join(['ce', 'll'])] = 5", id="non-interned-key"),
        pytest.param("class S(str):\n    pass\ng.__dict__[S('cell')] = 5", id="str-subclass-key"),
        pytest.param("d = g.__dict__; d.clear(); d.update({'cell': 5})", id="cloned-into-empty"),
    ],
)
def test_the_name_written_into_a_checked_instance_fails_it_for_good(born, write):
    ns, f = born
    EXAMPLES[0].run(ns, write)
    assert not active(f) and f() == 2
    EXAMPLES[0].run(ns, "g.__dict__.pop('cell', None)")
    _guards.flush()
    assert not active(f)
    assert fatopt.get_specialized(f) == []


@pytest.mark.parametrize(
    "write",
    [
        pytest.param("g.y = 5", id="another-name"),
        pytest.param("del g.x", id="a-deletion"),
        pytest.param("g.__dict__.clear()", id="a-clear"),
        pytest.param("h = Grid(); h.cell = 5", id="an-unchecked-instance"),
        pytest.param("o = Other(); o.cell = 5", id="an-unchecked-instance-of-another-class"),
        pytest.param("Grid.z = 1", id="a-class-attribute"),
        pytest.param("del g; gc.collect()", id="the-instance-dies"),
    ],
)
def test_other_writes_are_no_change(born, write):
    ns, f = born
    ns.update(_guards=_guards, gc=gc)
    EXAMPLES[0].run(ns, write)
    _guards.flush()
    assert active(f) and f() == 2


@needs_notifying_watchers
def test_the_validity_flag_empties_for_running_frames():
    ns = EXAMPLES[0].module().__dict__
    recipe = ("instance_attrs_absent", "Grid", "cell")
    ns["fast"] = fatopt.runtime.born(ns["plain"], recipe, valid="FLAG")(ns["fast"])
    flag = ns["FLAG"]
    EXAMPLES[0].run(ns, "g = Grid()")
    assert _guards.unshadowed(ns["g"], ("cell",))
    assert flag == [True]
    EXAMPLES[0].run(ns, "g.cell = 5")
    assert flag == []


@needs_notifying_watchers
def test_what_the_entry_check_answers():
    ns = EXAMPLES[0].module().__dict__
    EXAMPLES[0].run(ns, "g = Grid(); h = Grid(); h.cell = 5; s = Slotted()")
    assert _guards.unshadowed(ns["g"], ("cell", "other"))
    assert _guards.unshadowed(ns["g"], ("cell",))  # again: watched already
    assert not _guards.unshadowed(ns["h"], ("cell",))
    assert not _guards.unshadowed(ns["h"], ("other", "cell"))
    assert _guards.unshadowed(ns["s"], ("cell",))  # no instance dict
    assert _guards.unshadowed(3, ("real",))  # no instance dict
    assert ns["g"].cell() == 1 and ns["h"].cell == 5


def test_without_notifying_watchers_no_instance_passes():
    ns = EXAMPLES[0].module().__dict__
    EXAMPLES[0].run(ns, "g = Grid(); s = Slotted()")
    assert _guards.unshadowed(ns["g"], ("cell",)) is NOTIFIES
    assert _guards.unshadowed(ns["s"], ("cell",)) is True  # no instance dict: nothing to watch
    import sys
    assert NOTIFIES is (sys.version_info[:3] != (3, 13, 0))


@pytest.mark.parametrize(
    "args",
    [pytest.param((object(), ["cell"]), id="a-list"), pytest.param((object(), (1,)), id="not-str"),
     pytest.param((object(),), id="one-argument")],
)
def test_the_entry_check_refuses_bad_arguments(args):
    with pytest.raises(TypeError):
        _guards.unshadowed(*args)


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del Grid", id="unbound"),
        pytest.param("Grid = 3", id="not-a-class"),
        pytest.param("class Meta(type):\n    pass\nclass Grid(metaclass=Meta):\n    pass", id="metaclass"),
    ],
)
def test_not_such_a_class_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    ns["Grid"] = ns["SAVED"]
    _guards.flush()
    assert not active(f) and f() == 2


def test_the_guard_object_checks_like_the_runtime():
    ns = EXAMPLES[0].module().__dict__
    guard = eval("GuardInstanceAttrsAbsent('Grid', 'cell')", {"GuardInstanceAttrsAbsent": GuardInstanceAttrsAbsent, **ns})
    assert guard.recipe() == ("instance_attrs_absent", "Grid", "cell")
    with pytest.raises(ValueError):
        GuardInstanceAttrsAbsent("Grid")
    assert GuardInstanceAttrsAbsent.merge([("Grid", "b"), ("Grid", "a"), ("Other", "c")]) == [
        ("instance_attrs_absent", "Grid", "a", "b"), ("instance_attrs_absent", "Other", "c")]


def test_a_write_fails_the_guards_on_that_name_of_every_class():
    # one watch per name: an instance of another class, checked, gaining the name fails it too
    if not NOTIFIES:
        pytest.skip("this interpreter's dict watchers miss inline-value writes (CPython gh-125608)")
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    EXAMPLES[0].run(ns, "o = Other()")
    assert _guards.unshadowed(ns["o"], ("cell",))
    EXAMPLES[0].run(ns, "o.other_name = 1")
    assert active(f)
    EXAMPLES[0].run(ns, "o.cell = 1")
    assert not active(f)
