"""GuardInstanceClass (fatopt/guards/instance_class.py): the global class keeps its binding and
no instance of it has its ``__class__`` assigned. Every event path: the class name rebound and
restored; ``obj.__class__ = D`` on an instance (fails for good, also through
``object.__setattr__``, also when the assignment itself then fails); an assignment on an
instance of another class, of a subclass, or *to* the class (no change); the validity flag
emptied for frames already running; what never holds at registration."""

import subprocess
import sys
import textwrap

import pytest

import fatopt
from fatopt import _guards
from fatopt.guards import GuardInstanceClass

from ..helpers import active
from . import Example

SOURCE = """
    class Vec:
        pass
    class Other:
        pass
    class Sub(Vec):
        pass
    SAVED = Vec
    def plain():
        return 2 if Vec is SAVED else 1
    def fast():
        return 2
"""

EXAMPLES = [
    Example(
        id="instance_class",
        kind="instance_class",
        source=SOURCE,
        recipe='("instance_class", "Vec")',
        text="GuardInstanceClass('Vec')",
        breaks="Vec = Other",
        restores="Vec = SAVED",
    ),
]


@pytest.fixture
def born():
    ns = EXAMPLES[0].module().__dict__
    f = EXAMPLES[0].born(ns)
    assert active(f) and f() == 2
    return ns, f


@pytest.mark.parametrize(
    "assignment",
    [
        pytest.param("v = Vec(); v.__class__ = Other", id="attribute"),
        pytest.param("v = Vec(); object.__setattr__(v, '__class__', Other)", id="object-setattr"),
        pytest.param("v = Vec(); setattr(v, '__class__', Sub)", id="to-a-subclass"),
    ],
)
def test_a_class_assignment_away_from_the_class_fails_it_for_good(born, assignment):
    ns, f = born
    EXAMPLES[0].run(ns, assignment)
    assert type(ns["v"]) is not ns["Vec"]
    assert not active(f) and f() == 2
    EXAMPLES[0].run(ns, "v.__class__ = Vec")
    _guards.flush()
    assert not active(f) and f() == 2
    assert fatopt.get_specialized(f) == []


def test_an_assignment_that_then_fails_still_fails_the_guard(born):
    # the hook runs before object's setter checks the layouts: failing early is conservative
    ns, f = born
    EXAMPLES[0].run(ns, "v = Vec()")
    with pytest.raises(TypeError):
        ns["v"].__class__ = int
    assert type(ns["v"]) is ns["Vec"]
    assert not active(f)


@pytest.mark.parametrize(
    "assignment",
    [
        pytest.param("o = Other(); o.__class__ = Sub", id="another-class"),
        pytest.param("o = Sub(); o.__class__ = Other", id="a-subclass-instance"),
        pytest.param("o = Other(); o.__class__ = Vec", id="to-the-class"),
        pytest.param("Vec.x = 1", id="a-class-attribute"),
    ],
)
def test_other_assignments_are_no_change(born, assignment):
    ns, f = born
    EXAMPLES[0].run(ns, assignment)
    _guards.flush()
    assert active(f) and f() == 2


def test_the_validity_flag_empties_for_running_frames():
    ns = EXAMPLES[0].module().__dict__
    ns["fast"] = fatopt.runtime.born(ns["plain"], ("instance_class", "Vec"), valid="FLAG")(ns["fast"])
    flag = ns["FLAG"]
    assert active(ns["fast"])
    assert flag == [True]
    EXAMPLES[0].run(ns, "v = Vec(); v.__class__ = Other")
    assert flag == []


@pytest.mark.parametrize(
    "binding",
    [
        pytest.param("del Vec", id="unbound"),
        pytest.param("Vec = 3", id="not-a-class"),
        pytest.param("class Meta(type):\n    pass\nclass Vec(metaclass=Meta):\n    pass", id="metaclass"),
    ],
)
def test_not_such_a_class_at_registration_never_holds(binding):
    ns = EXAMPLES[0].module().__dict__
    exec(binding, ns)
    f = EXAMPLES[0].born(ns)
    assert not active(f)
    ns["Vec"] = ns["SAVED"]
    _guards.flush()
    assert not active(f) and f() == 2


def test_the_guard_object_checks_like_the_runtime():
    ns = EXAMPLES[0].module().__dict__
    guard = eval("GuardInstanceClass('Vec')", {"GuardInstanceClass": GuardInstanceClass, **ns})
    assert guard.recipe() == ("instance_class", "Vec")


@pytest.mark.parametrize("refused, expected", [(True, ["1", "True"]), (False, ["2", "False"])])
def test_a_hook_refusing_the_runtimes_leaves_it_never_holding(refused, expected):
    code = textwrap.dedent(f"""\
        import sys
        def refuse(event, args):
            if event == "sys.addaudithook" and {refused}:
                raise RuntimeError("no more hooks")
        sys.addaudithook(refuse)
        import fatopt, fatopt.runtime
        ns = {{}}
        exec("class Vec:\\n    pass\\ndef plain():\\n    return 1\\ndef fast():\\n    return 2\\n", ns)
        f = fatopt.runtime.born(ns["plain"], ("instance_class", "Vec"))(ns["fast"])
        print(f(), fatopt.get_specialized(f) == [])
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == expected


def test_the_audit_hook_is_added_on_the_first_call_not_at_registration():
    # The hook makes every audit event in the process build its arguments (id() ~500
    # instructions more on 3.12): a module whose guarded functions never run must not pay it.
    code = textwrap.dedent("""\
        import fatopt, fatopt.runtime
        from fatopt import _guards
        ns = {"__fatopt_valid__": [True]}
        exec("class Vec:\\n    pass\\nclass Other:\\n    pass\\n"
             "def plain(v):\\n    return 1\\n"
             "def fast(v):\\n    v.__class__ = Other\\n    return 2 if __fatopt_valid__ else 3\\n", ns)
        f = fatopt.runtime.born(ns["plain"], ("instance_class", "Vec"),
                                valid="__fatopt_valid__")(ns["fast"])
        print(_guards.runtime_info()["audit_hook"], fatopt.get_specialized(f) != [])
        print(f(ns["Vec"]()), _guards.runtime_info()["audit_hook"], fatopt.get_specialized(f) == [])
        print(f(ns["Vec"]()))
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    # registered and active without the hook; the first call adds it, and the assignment the
    # call makes then empties the flag and puts the original code back
    assert out.stdout.split() == ["False", "True", "3", "True", "True", "1"]


def test_an_init_adds_the_audit_hook_at_registration_on_313():
    # 3.13's CALL_ALLOC_AND_ENTER_INIT enters __init__ past its vectorcall: no first call to wait for
    code = textwrap.dedent("""\
        import fatopt, fatopt.runtime
        from fatopt import _guards
        ns = {}
        exec("class Vec:\\n    pass\\ndef plain(self):\\n    return None\\n"
             "def __init__(self):\\n    return None\\n", ns)
        # the generated specialized def has the original's name: the registered function
        f = fatopt.runtime.born(ns["plain"], ("instance_class", "Vec"))(ns["__init__"])
        print(_guards.runtime_info()["audit_hook"])
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(sys.version_info >= (3, 13))]
