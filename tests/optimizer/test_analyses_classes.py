"""The class table: what the source says about each class (bases, methods, __slots__,
metaclass, decorators, class-level constants)."""

import ast
import textwrap

import pytest

from fatopt.analyses.classes import ModuleClassTable
from fatopt.config import Config
from fatopt.module_unit import ModuleUnit


def _table(source: str):
    return ModuleUnit(ast.parse(textwrap.dedent(source)), "<t>", Config.default()).fact(ModuleClassTable)


def test_a_class_described():
    table = _table("""
        import enum
        @dataclass
        class Vector(Base, metaclass=Meta, frozen=True):
            __slots__ = ("x", "y")
            ORIGIN = (0, 0)
            SCALE = 2 * 3
            label: str = "v"
            def norm(self): ...
            @staticmethod
            def make(): ...
            @classmethod
            def build(cls): ...
            @property
            def size(self): ...
            @functools.cache
            def cached(self): ...
    """)
    (info,) = list(table)
    assert (info.name, info.qualname, info.bases, info.metaclass) == ("Vector", "Vector", ("Base",), "Meta")
    assert info.keywords == ("frozen=True",)
    assert info.decorators == ("dataclass",)
    assert info.slots == ("x", "y")
    assert info.constants == {"ORIGIN": (0, 0), "SCALE": 6, "label": "v"}
    assert {n: m.kind for n, m in info.methods.items()} == {
        "norm": "function", "make": "staticmethod", "build": "classmethod", "size": "property",
        "cached": "decorated",
    }
    assert info.bound_once and info.known_bases == (None,)
    assert info.instances_have_dict is False


NOT_CONSTANTS = [
    pytest.param("class C:\n    X = 1\n    X = 2\n", id="bound-twice"),
    pytest.param("class C:\n    X = 1\nC.X = 2\n", id="assigned-through-class"),
    pytest.param("class C:\n    X = 1\ndef f():\n    del C.X\n", id="deleted-in-function"),
    pytest.param("class C:\n    X = []\n", id="not-constant"),
    pytest.param("class C:\n    X = 1\nC = None\n", id="class-name-rebound"),
    pytest.param("class C:\n    __doc__ = 'x'\n", id="dunder"),
    pytest.param("class C:\n    X = 1\n    def X(self): pass\n", id="also-a-method"),
]


@pytest.mark.parametrize("source", NOT_CONSTANTS)
def test_not_class_constants(source):
    info = next(iter(_table(source)))
    assert not info.constants


def test_lookup_follows_known_bases():
    table = _table("""
        class A:
            def m(self): ...
            def n(self): ...
        class B(A):
            n = None
        class C(B):
            pass
    """)
    c = table.by_qualname["C"]
    assert [k.name for k in table.mro(c)] == ["C", "B", "A"]
    owner, method = table.lookup(c, "m")
    assert owner.name == "A" and method.node.name == "m"
    assert table.lookup(c, "n") is None  # B binds n to something that is not a method
    assert table.lookup(c, "missing") is None


@pytest.mark.parametrize("source", [
    "class A(Unknown):\n    def m(self): ...\n",
    "class A(X, Y):\n    def m(self): ...\n",
    "class B:\n    def m(self): ...\nB = B\nclass A(B):\n    pass\n",
], ids=["unknown-base", "multiple-bases", "base-rebound"])
def test_unknown_mro(source):
    table = _table(source)
    assert table.mro(table.by_qualname["A"]) is None or table.lookup(table.by_qualname["A"], "m") is None


def test_nested_classes_have_qualnames():
    table = _table("class Outer:\n    class Inner:\n        def m(self): ...\n")
    assert [c.qualname for c in table] == ["Outer", "Outer.Inner"]
    assert not table.by_qualname["Outer.Inner"].bound_once


@pytest.mark.parametrize("source, expected", [
    ("class C:\n    __slots__ = 'x'\n", ("x",)),
    ("class C:\n    __slots__ = ['a', 'b']\n", ("a", "b")),
    ("class C:\n    __slots__ = names\n", None),
    ("class C:\n    pass\n", None),
])
def test_slots(source, expected):
    assert next(iter(_table(source))).slots == expected
