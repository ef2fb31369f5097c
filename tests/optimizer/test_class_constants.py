"""Class-constant substitution (fatopt/passes/class_constants.py): which ``ClassName.ATTR`` reads
become constants (guarded by GuardClassConstant), which stay, and that optimized code follows a
change of the class made after definition and comes back when it is undone."""

import pytest

from tests.optimizer._diff import assert_same_behaviour, normalized, optimized_function, run_optimized

CHANGES = [
    pytest.param(
        "class D:\n    F = 1\ndef f(d=1):\n    return d == D.F",
        "def f(d=1):\n    return d == 1",
        id="compare",
    ),
    pytest.param(
        "class D(object):\n    NONE = 0\n    F = 1\n    B = -1\ndef f():\n    return (D.F - D.B) * 10 + D.NONE",
        "def f():\n    return 20",
        id="folded",
    ),
    pytest.param(
        "class D:\n    F = 1\nclass C:\n    def f(self, d=1):\n        if d == D.F:\n            return 'forward'\n        return d\n"
        "def driver():\n    return C().f(), C().f(2)",
        "def f(self, d=1):\n    if d == 1:\n        return 'forward'\n    return d",
        id="method-of-a-later-class",
    ),
    pytest.param(
        "class B:\n    F = 1\nclass D(B):\n    pass\ndef f():\n    return D.F",
        "def f():\n    return 1",
        id="inherited",
    ),
    pytest.param(
        "class B:\n    F = 1\nclass D(B):\n    F = 2\ndef f():\n    return (D.F, B.F)",
        "def f():\n    return (2, 1)",
        id="overridden-in-subclass-source",
    ),
    pytest.param(
        "class D:\n    NAME = 'ab'\ndef f():\n    return D.NAME.upper()",
        "def f():\n    return 'AB'",
        id="str-method",
    ),
    pytest.param(
        "class D:\n    PAIR = (1, (2, 'x'))\ndef f():\n    return D.PAIR[1]",
        "def f():\n    return (2, 'x')",
        id="tuple",
    ),
    pytest.param(
        "class D:\n    F: int = 3\ndef f():\n    return D.F",
        "def f():\n    return 3",
        id="annotated",
    ),
    pytest.param(
        "class D:\n    NOTHING = None\ndef f(x=1):\n    return x is D.NOTHING",
        "def f(x=1):\n    return x is None",
        id="is-singleton",
    ),
    pytest.param(
        "class D:\n    F = 2\ndef f():\n    return [D.F * k for k in (1, 2)]",
        "def f():\n    return [2, 4]",
        id="comprehension",
    ),
    pytest.param(
        "class D:\n    F = 2\n    def other(self):\n        return self.F\ndef f():\n    return D.F",
        "def f():\n    return 2",
        id="read-through-self-elsewhere",
    ),
]

NOOPS = [
    pytest.param("class D:\n    F = 1\nD.F = 2\ndef f():\n    return D.F", id="rebound-in-module"),
    pytest.param("class D:\n    F = 1\ndef g():\n    D.F = 2\ndef f():\n    return D.F", id="rebound-in-function"),
    pytest.param("class D:\n    F = 1\ndef g():\n    del D.F\ndef f():\n    return D.F", id="deleted-in-function"),
    pytest.param(
        "class D:\n    F = 1\ndef g():\n    global D\n    D = None\ndef f():\n    return D.F", id="name-rebound-through-global",
    ),
    pytest.param("class D:\n    F = 1\ndef f():\n    return D.F\nD = None", id="name-rebound"),
    pytest.param("class D:\n    F = 1\ndef f():\n    return D.F\nclass D:\n    F = 2", id="class-defined-twice"),
    pytest.param("class D:\n    F = 1\nsetattr(D, 'F', 5)\ndef f():\n    return D.F", id="setattr"),
    pytest.param("class D:\n    F = 1\ndef f():\n    delattr(D, 'F')\n    return D.F", id="delattr"),
    pytest.param("class D:\n    F = 1\ntype.__setattr__(D, 'F', 4)\ndef f():\n    return D.F", id="type.__setattr__"),
    pytest.param("class D:\n    F = 1\nD.__setattr__('F', 4) if False else None\ndef f():\n    return D.F",
                 id="__setattr__-method"),
    pytest.param("class D:\n    F = 1\ndef g(obj, name):\n    setattr(obj, name, 2)\ndef f():\n    return D.F",
                 id="setattr-of-any-name"),
    pytest.param(
        "class D:\n    count = 0\n    @classmethod\n    def incr(cls):\n        cls.count += 1\n"
        "def f():\n    before = D.count\n    D.incr()\n    return (before, D.count)",
        id="written-through-cls-while-the-function-runs",
    ),
    pytest.param(
        "class D:\n    F = 1\nclass E:\n    pass\ndef g(e):\n    type(e).F = 2\ndef f():\n    return D.F",
        id="written-through-an-expression",
    ),
    pytest.param(
        "def dec(c):\n    c.F = 5\n    return c\n@dec\nclass D:\n    F = 1\ndef f():\n    return D.F", id="decorator",
    ),
    pytest.param(
        "class M(type):\n    F = 7\nclass D(metaclass=M):\n    F = 1\ndef f():\n    return D.F", id="metaclass",
    ),
    pytest.param(
        "class M(type):\n    pass\nclass B(metaclass=M):\n    F = 1\nclass D(B):\n    pass\ndef f():\n    return D.F",
        id="metaclass-of-a-base",
    ),
    pytest.param("import enum\nclass D(enum.IntEnum):\n    F = 1\ndef f():\n    return D.F", id="enum"),
    pytest.param("class D(int):\n    F = 1\ndef f():\n    return D.F", id="base-not-in-module"),
    pytest.param("class D:\n    F = 1\n    def F(self):\n        return 2\ndef f():\n    return D.F.__name__", id="shadowed-by-method"),
    pytest.param(
        "class B:\n    F = 1\nclass D(B):\n    @property\n    def F(self):\n        return 2\ndef f():\n    return D.F.__class__.__name__",
        id="shadowed-by-property-in-subclass",
    ),
    pytest.param(
        "class B:\n    F = 1\nclass D(B):\n    pass\nD.F = 2\ndef f():\n    return D.F", id="subclass-assigned",
    ),
    pytest.param("class D:\n    F = 1\nclass E(D):\n    def f(self):\n        return self.F\n"
                 "def driver():\n    return E().f()", id="instance-attribute"),
    pytest.param("class D:\n    F = [1]\ndef f():\n    return D.F", id="mutable"),
    pytest.param("def f():\n    return D.F\nclass D:\n    F = 1", id="function-defined-before-the-class"),
    pytest.param("class D:\n    F = 1\n    def f(self):\n        return D.F\ndef driver():\n    return D().f()", id="own-method"),
    pytest.param("class D:\n    F = 1\ndef f(D=None):\n    return D.F if D else 0", id="parameter"),
    pytest.param("import sys\nif sys:\n    class D:\n        F = 1\ndef f():\n    return D.F", id="conditional-class"),
    pytest.param("class D:\n    F = 1\ndef f():\n    return D.F\nexec('')", id="dynamic-module"),
    pytest.param("class D:\n    __doc__ = 'x'\ndef f():\n    return D.__doc__", id="dunder"),
    pytest.param("class D:\n    F = 1\n    F = 2\ndef f():\n    return D.F", id="bound-twice-in-body"),
    pytest.param("class D:\n    F = 'x' * 200\ndef f():\n    return D.F", id="over-limit"),
    # identity: the class's object, not an equal constant (as for module constants)
    pytest.param("class D:\n    BIG = 2 ** 70\ndef f(x=None):\n    return (x or D.BIG) is D.BIG", id="is-big-int"),
]


def _driver(source: str) -> str:
    return "result = driver()" if "def driver" in source else "result = f()"


@pytest.mark.parametrize("before, after", CHANGES)
def test_substitutes(before, after):
    text, report = optimized_function(before)
    assert text == normalized(after)
    guards = [g for row in report.specialized for g in row.guards]
    assert any(g.startswith("GuardClassConstant(") for g in guards)
    assert_same_behaviour(before, _driver(before))


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    text, _report = optimized_function(source)
    assert text is None
    assert_same_behaviour(source, _driver(source))


def test_switched_off():
    from fatopt.config import Config

    text, _report = optimized_function("class D:\n    F = 1\ndef f():\n    return D.F", config=Config().replace(class_constants=False))
    assert text is None


SOURCE = "class B:\n    F = 1\nclass D(B):\n    pass\nclass Other:\n    F = 1\ndef f(d=1):\n    return 'forward' if d == D.F else 'other'"

#: changes made after import, each of which makes plain code return something else or raise
CHANGES_AT_RUN_TIME = [
    pytest.param("D.F = 2", id="attribute-set-on-the-class"),
    pytest.param("B.F = 2", id="attribute-set-on-the-base"),
    pytest.param("setattr(D, 'F', 1.0)", id="equal-value-of-another-type"),
    pytest.param("D.F = True", id="bool-is-not-int"),
    pytest.param("del B.F", id="deleted"),
    pytest.param("D = Other", id="name-rebound-to-an-equal-class"),
    pytest.param("D = None", id="name-rebound"),
    pytest.param("del D", id="name-deleted"),
    pytest.param("class Sub(D):\n    F = 5\nD = Sub", id="subclass-overriding"),
    pytest.param("D.__bases__ = (Other,)\nOther.F = 3", id="bases-assigned"),
]


@pytest.mark.parametrize("change", CHANGES_AT_RUN_TIME)
def test_follows_a_change_made_after_import(change):
    driver = f"before = f()\n{change}\nfrom fatopt import _guards\n_guards.flush()\ntry:\n    after = f()\nexcept Exception as e:\n    after = type(e).__name__\nresult = (before, after)"
    assert_same_behaviour(SOURCE, driver, specialized=("f",))


@pytest.mark.parametrize(
    "change, undo",
    [
        pytest.param("D.F = 2", "del D.F", id="shadowed-then-removed"),
        pytest.param("B.F = 2", "B.F = 1", id="changed-then-restored"),
        pytest.param("saved = D\nD = Other\nOther.F = 2", "D = saved", id="name-rebound-then-restored"),
    ],
)
def test_undoing_a_change_restores_the_specialized_code(change, undo):
    driver = (
        "import fatopt\nfrom fatopt import _guards\n"
        f"{change}\n_guards.flush()\nbroken = bool(fatopt.get_specialized(f))\nplain = f()\n"
        f"{undo}\n_guards.flush()\nresult = (broken, plain, bool(fatopt.get_specialized(f)), f())"
    )
    outcome = run_optimized(SOURCE, driver)
    assert outcome.error is None
    assert outcome.result == "(False, 'other', True, 'forward')"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            "class Setter:\n    def __set_name__(self, owner, name):\n        owner.F = 5\n"
            "class D:\n    F = 1\n    s = Setter()\ndef f():\n    return D.F",
            id="__set_name__",
        ),
        pytest.param(
            "class B:\n    F = 1\n    def __init_subclass__(cls):\n        cls.F = 9\nclass D(B):\n    pass\ndef f():\n    return D.F",
            id="__init_subclass__",
        ),
    ],
)
def test_changes_the_source_does_not_show_keep_the_original_code(source):
    """Class-creation hooks the analysis cannot follow: the guard does not hold when the
    function is defined, so the original code runs (and returns what plain Python does)."""
    driver = "import fatopt\nresult = (f(), bool(fatopt.get_specialized(f)))"
    plain, optimized = assert_same_behaviour(source, driver)
    assert optimized.result.endswith("False)")
