"""GuardInstanceAttrsAbsent (fatopt/guards/instance_attributes.py) and the runtime's entry check
``unshadowed(obj, names)``: an instance the check saw gains none of the names. Every event path:
the class name rebound and restored; the name written into a checked instance's dict (attribute,
``setattr``, ``__dict__[...]``, ``__dict__.update``, a non-interned key, a str-subclass key) fails
it for good, and empties the validity flag for running frames; writes of other names, deletions,
a clear, writes to unchecked instances or instances of other classes, and a checked instance's
death are no change; what the entry check answers (instances with the name, no dict, slots).

On CPython 3.13.0, dict watchers miss attribute stores that go to an object's inline values
(CPython gh-125608, fixed in 3.13.1); there the check closes the class's shared keys, so that
no store of a checked name can go to inline values again, and refuses a name that those keys
hold already (``test_a_store_site_warmed_on_other_instances_is_seen``,
``test_a_name_the_shared_keys_hold_is_refused_on_3_13_0``). Replacing an instance's whole
``__dict__`` sends no watcher event: the next entry check sees it
(``test_a_replaced_dict_is_checked_anew``)."""

import gc
import sys
import sysconfig

import pytest

import fatopt
from fatopt import _guards
from fatopt.guards import GuardInstanceAttrsAbsent

from ..helpers import active
from . import Example

INFO = _guards.runtime_info()
NOTIFIES = INFO["instance_dicts_notify"]
CHECKABLE = INFO["instance_attrs_checkable"]
ON_3_13_0 = sys.version_info[:3] == (3, 13, 0)
SKIP_WHY = "this build's dict watchers miss inline-value writes (CPython gh-125608)"
needs_checkable = pytest.mark.skipif(not CHECKABLE, reason=SKIP_WHY)

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
    if not CHECKABLE:
        pytest.skip(SKIP_WHY)
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


def born_with_flag():
    """The example's module with ``fast`` born guarded, and its validity flag."""
    ns = EXAMPLES[0].module().__dict__
    recipe = ("instance_attrs_absent", "Grid", "cell")
    ns["fast"] = fatopt.runtime.born(ns["plain"], recipe, valid="FLAG")(ns["fast"])
    return ns, ns["FLAG"]


@needs_checkable
def test_the_validity_flag_empties_for_running_frames():
    ns, flag = born_with_flag()
    EXAMPLES[0].run(ns, "g = Grid()")
    assert _guards.unshadowed(ns["g"], ("cell",))
    assert flag == [True]
    EXAMPLES[0].run(ns, "g.cell = 5")
    assert flag == []


@needs_checkable
def test_what_the_entry_check_answers():
    ns = EXAMPLES[0].module().__dict__
    EXAMPLES[0].run(ns, "g = Grid(); s = Slotted()")
    assert _guards.unshadowed(ns["g"], ("cell", "other"))
    assert _guards.unshadowed(ns["g"], ("cell",))  # again: watched already
    EXAMPLES[0].run(ns, "h = Grid(); h.cell = 5")  # (3.13.0: into h's own dict, the keys closed)
    assert not _guards.unshadowed(ns["h"], ("cell",))
    assert not _guards.unshadowed(ns["h"], ("other", "cell"))
    assert _guards.unshadowed(ns["s"], ("cell",))  # no instance dict
    assert _guards.unshadowed(3, ("real",))  # no instance dict
    assert ns["g"].cell() == 1 and ns["h"].cell == 5


def test_which_builds_can_check_instances_with_a_dict():
    ns = EXAMPLES[0].module().__dict__
    EXAMPLES[0].run(ns, "g = Grid(); s = Slotted()")
    assert _guards.unshadowed(ns["g"], ("cell",)) is CHECKABLE
    assert _guards.unshadowed(ns["s"], ("cell",)) is True  # no instance dict: nothing to watch
    assert NOTIFIES is not ON_3_13_0
    # 3.13.0 by closing the class's shared keys (not in a free-threaded build), the rest by their watchers
    assert CHECKABLE is (NOTIFIES or not sysconfig.get_config_var("Py_GIL_DISABLED"))


@needs_checkable
def test_a_store_site_warmed_on_other_instances_is_seen():
    # gh-125608's path: once other instances have the name, `o.cell = v` specializes to a store
    # into inline values, which 3.13.0 does not report to a watched (materialized) dict
    ns, flag = born_with_flag()
    EXAMPLES[0].run(ns, "def store(o, v):\n    o.cell = v\ngrids = [Grid() for _ in range(3)]")
    g = ns["grids"][1]
    assert _guards.unshadowed(g, ("cell",))
    EXAMPLES[0].run(ns, "for i in range(64):\n    store(grids[0], i)\n    store(grids[2], i)")
    assert flag == [True]  # other instances gaining the name are no change
    EXAMPLES[0].run(ns, "store(grids[1], 7)")
    assert flag == [] and g.cell == 7
    EXAMPLES[0].run(ns, "h = Grid(); h.other = 1; h2 = Grid(); h2.cell = 3")
    assert (ns["h"].other, ns["h"].cell(), ns["h2"].cell) == (1, 1, 3)  # instances made later work


def test_a_name_the_shared_keys_hold_is_refused_on_3_13_0():
    # another instance had the name: on 3.13.0 stores of it may go to inline values unseen
    ns = EXAMPLES[0].module().__dict__
    EXAMPLES[0].run(ns, "h = Grid(); h.cell = 5; del h.cell; g = Grid()")
    assert _guards.unshadowed(ns["g"], ("cell",)) is (CHECKABLE and not ON_3_13_0)
    assert _guards.unshadowed(ns["g"], ("another",)) is CHECKABLE


@needs_checkable
def test_a_replaced_dict_is_checked_anew():
    # `obj.__dict__ = d` sends no dict-watcher event and no audit event: a frame that checked
    # the object before keeps its answer; the next entry check looks at the new dict
    ns = EXAMPLES[0].module().__dict__
    EXAMPLES[0].run(ns, "g = Grid()")
    assert _guards.unshadowed(ns["g"], ("cell",))
    EXAMPLES[0].run(ns, "g.__dict__ = {'cell': 5}")
    assert not _guards.unshadowed(ns["g"], ("cell",))
    EXAMPLES[0].run(ns, "g.__dict__ = {'x': 5}")
    assert _guards.unshadowed(ns["g"], ("cell",))
    EXAMPLES[0].run(ns, "g.cell = 6")
    assert not _guards.unshadowed(ns["g"], ("cell",)) and ns["g"].cell == 6


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
    if not CHECKABLE:
        pytest.skip(SKIP_WHY)
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    EXAMPLES[0].run(ns, "o = Other()")
    assert _guards.unshadowed(ns["o"], ("cell",))
    EXAMPLES[0].run(ns, "o.other_name = 1")
    assert active(f)
    EXAMPLES[0].run(ns, "o.cell = 1")
    assert not active(f)
