"""Inlining of staticmethods reached through their class (``Vec.dot(x)``): the rewrites, what is
left alone (every exclusion), plain vs optimized runs of each case, tracebacks (the text of
``traceback.format_exception`` and the callee entry's ``co_qualname``), changes to the class or
the staticmethod after import, and the one change not followed (docs/semantics.md)."""

import textwrap

import pytest

from fatopt.optimizer import optimize_source
from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, run_both
from tests.optimizer.test_inline_functions import wrapped
from tests.runtime.helpers import active

CONFIG = only("inline_functions")

VEC = """\
class Vec:
    @staticmethod
    def dot(a, b=3):
        return a * 10 + b
"""

STEPS = """\
class Vec:
    @staticmethod
    def steps(a):
        b = a * 2
        if b > 4:
            return b
        return -b
"""


def _case_driver(call: str = "f()") -> str:
    return (
        "import traceback\n"
        "try:\n"
        f"    result = {call}\n"
        "except Exception as exc:\n"
        "    result = ''.join(traceback.format_exception(exc))\n"
    )


#: (module, name of the function, the expected emitted function, how to call it)
CHANGES = [
    pytest.param(VEC + "def f(x=1, y=2):\n    return Vec.dot(x, y)\n", "f",
                 "def f(x=1, y=2):\n" + textwrap.indent(wrapped("return x * 10 + y", ("Vec.dot", (3, 4))), "    "),
                 "f()", id="function-after-the-class"),
    pytest.param(VEC + "def f(x=1):\n    return Vec.dot(b=x, a=2)\n", "f",
                 "def f(x=1):\n" + textwrap.indent(wrapped("return 2 * 10 + x", ("Vec.dot", (3, 4))), "    "),
                 "f()", id="keywords-and-default"),
    pytest.param(VEC + "def f(x=1):\n    return Vec.dot(x + 1)\n", "f",
                 "def f(x=1):\n" + textwrap.indent(
                     wrapped("return (_fatopt_a_1 := (x + 1)) * 10 + 3", ("Vec.dot", (3, 4))), "    "),
                 "f()", id="argument-bound-once"),
    pytest.param(STEPS + "def f(x=3):\n    y = Vec.steps(x)\n    return y\n", "f",
                 "def f(x=3):\n" + textwrap.indent(wrapped(
                     "_fatopt_b_1 = x * 2\nif _fatopt_b_1 > 4:\n    _fatopt_result_2 = _fatopt_b_1\n"
                     "else:\n    _fatopt_result_2 = -_fatopt_b_1\ny = _fatopt_result_2",
                     ("Vec.steps", (3, 7))), "    ") + "\n    return y",
                 "f()", id="statement-form"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a, b=3):\n        return a * 10 + b\n"
                 "    def m(self, x):\n        return Vec.dot(x)\n", "m",
                 "def m(self, x):\n" + textwrap.indent(wrapped("return x * 10 + 3", ("Vec.dot", (3, 4))), "    "),
                 "Vec().m(4)", id="method-of-the-class"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a, b=3):\n        return a * 10 + b\n"
                 "    @staticmethod\n    def twice(x):\n        return Vec.dot(x) * 2\n", "twice",
                 "@staticmethod\ndef twice(x):\n" + textwrap.indent(wrapped("return (x * 10 + 3) * 2", ("Vec.dot", (3, 4))), "    "),
                 "Vec.twice(4)", id="staticmethod-of-the-class"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a, b=3):\n        return a * 10 + b\n"
                 "    @classmethod\n    def make(cls, x):\n        return Vec.dot(x)\n", "make",
                 "@classmethod\ndef make(cls, x):\n" + textwrap.indent(wrapped("return x * 10 + 3", ("Vec.dot", (3, 4))), "    "),
                 "Vec.make(4)", id="classmethod-of-the-class"),
    pytest.param("def g(a):\n    return abs(a) + 1\nclass Vec:\n    @staticmethod\n    def dot(a):\n"
                 "        return g(a) * 2\ndef f(x=-2):\n    return Vec.dot(x)\n", "f",
                 "def f(x=-2):\n" + textwrap.indent(
                     wrapped(wrapped("return (abs(x) + 1) * 2", ("g", (1, 2))), ("Vec.dot", (5, 6))), "    "),
                 "f()", id="calls-a-module-function"),
    pytest.param("class Base:\n    pass\nclass Vec(Base):\n    @staticmethod\n    def dot(a):\n"
                 "        return a + 1\ndef f(x=1):\n    return Vec.dot(x)\n", "f",
                 "def f(x=1):\n" + textwrap.indent(wrapped("return x + 1", ("Vec.dot", (5, 6))), "    "),
                 "f()", id="with-a-base"),
]


@pytest.mark.parametrize("module, name, after, call", CHANGES)
def test_rewrites(module, name, after, call):
    emitted, _report = optimized_function(module, name, config=CONFIG)
    assert emitted == after
    qualname = name if call == "f()" else f"Vec.{name}"
    assert_same_behaviour(module, _case_driver(call), config=CONFIG, specialized=(qualname,))
    assert_same_behaviour(module, _case_driver(call), specialized=(qualname,))


def test_guards():
    module = ("def g(a):\n    return a + 1\nclass Vec:\n    @staticmethod\n    def dot(a):\n"
              "        return abs(g(a))\n    def m(self):\n        return Vec.dot(1)\n"
              "def f(x=1):\n    return Vec.dot(x)\n")
    _emitted, report = optimized_function(module, config=CONFIG)
    rows = {r.qualname: r for r in report.functions}
    assert set(rows["f"].guards) == {"GuardBuiltins('abs')", "GuardCallee('g')", "GuardStaticCallee('Vec', 'dot')"}
    # in a method, the class does not exist yet: its class statement adds the guard (class_born)
    assert "GuardGlobals('Vec')" in rows["Vec.m"].guards
    assert "class_born('Vec', 'm', ('static_callee', 'Vec', 'dot'))" in optimize_source(module, "<case>", CONFIG)


#: modules whose f must stay as it is (every exclusion)
NOOPS = [
    pytest.param("class Meta(type):\n    pass\nclass Vec(metaclass=Meta):\n    @staticmethod\n"
                 "    def dot(a):\n        return a + 1\ndef f():\n    return Vec.dot(1)\n", id="metaclass"),
    pytest.param(VEC + "    dot = staticmethod(abs)\ndef f():\n    return Vec.dot(1)\n", id="rebound-in-the-class-body"),
    pytest.param(VEC + "def f():\n    return Vec.dot(1)\nVec.dot = staticmethod(lambda a, b=3: -a)\n",
                 id="assigned-at-module-level"),
    pytest.param(VEC + "def set_it():\n    Vec.dot = staticmethod(lambda a, b=3: -a)\ndef f():\n    return Vec.dot(1)\n",
                 id="assigned-in-a-function"),
    pytest.param(VEC + "def f():\n    return Vec.dot(1)\nsetattr(Vec, 'dot', staticmethod(abs))\n",
                 id="setattr-in-the-module"),
    pytest.param(VEC + "NAME = 'x'\ndef f():\n    setattr(Vec, NAME, 1)\n    return Vec.dot(1)\n",
                 id="setattr-of-any-name"),
    pytest.param("class Vec:\n    @classmethod\n    def dot(cls, a):\n        return a + 1\n"
                 "def f():\n    return Vec.dot(1)\n", id="classmethod"),
    pytest.param(VEC + "    def m(self, x):\n        return self.dot(x)\ndef f():\n    return Vec().m(1)\n",
                 id="through-self"),
    pytest.param("def f():\n    class Vec:\n        @staticmethod\n        def dot(a):\n            return a + 1\n"
                 "    return Vec.dot(1)\n", id="class-not-at-top-level"),
    pytest.param(VEC + "def f():\n    return Vec.dot(1)\nif len('a'):\n    Vec = Vec\n", id="class-name-rebound"),
    pytest.param("def g(a, b=3):\n    return a\nclass Vec:\n    dot = staticmethod(g)\ndef f():\n    return Vec.dot(1)\n",
                 id="staticmethod-of-another-function"),
    pytest.param("def d(fn):\n    return fn\nclass Vec:\n    @staticmethod\n    @d\n    def dot(a):\n        return a\n"
                 "def f():\n    return Vec.dot(1)\n", id="another-decorator-below"),
    pytest.param("def d(fn):\n    return fn\nclass Vec:\n    @d\n    @staticmethod\n    def dot(a):\n        return a\n"
                 "def f():\n    return Vec.dot(1)\n", id="another-decorator-above"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a):\n        while a:\n            a -= 1\n        return a\n"
                 "def f():\n    return Vec.dot(3)\n", id="callee-not-inlinable"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a):\n        return print(a)\n"
                 "def f():\n    return Vec.dot(3)\n", id="callee-calls-an-impure-builtin"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a):\n        return Vec.dot(a)\n"
                 "def f():\n    return 1\n", id="callee-calls-through-a-class"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a):\n        return " + " + ".join(["a"] * 20) + "\n"
                 "def f():\n    return Vec.dot(3)\n", id="callee-too-large"),
    pytest.param("def d(c):\n    return c\n@d\nclass Vec:\n    @staticmethod\n    def dot(a):\n        return a + 1\n"
                 "def f():\n    return Vec.dot(1)\n", id="class-decorated"),
    pytest.param("def f():\n    return Vec.dot(1)\n" + VEC, id="function-defined-before-the-class"),
    pytest.param("def staticmethod(fn):\n    return fn\n" + VEC + "def f():\n    return Vec.dot(1)\n",
                 id="staticmethod-rebound"),
    pytest.param(VEC + "def f(Vec=Vec):\n    return Vec.dot(1)\n", id="class-name-is-a-local"),
    pytest.param(VEC + "def f():\n    return Vec.dot(1, 2, 3)\n", id="too-many-arguments"),
    pytest.param("class Vec:\n    @staticmethod\n    def __dot(a):\n        return a\n"
                 "    def m(self):\n        return Vec.__dot(1)\ndef f():\n    return Vec().m()\n", id="mangled"),
    pytest.param("class Vec:\n    @staticmethod\n    def dot(a):\n        return a\n"
                 "class Other:\n    def m(self):\n        return 1\n    @staticmethod\n    def n():\n        return Vec.dot(1)\n"
                 "def f():\n    return Other.n()\n", id="unrelated"),
]


@pytest.mark.parametrize("module", NOOPS)
def test_leaves_alone(module):
    emitted, _report = optimized_function(module, config=CONFIG)
    assert emitted is None, emitted
    assert_same_behaviour(module, _case_driver(), config=CONFIG)
    assert_same_behaviour(module, _case_driver())


def test_method_of_a_class_calling_a_staticmethod_of_another_class():
    module = VEC + "class User:\n    def m(self, x):\n        return Vec.dot(x)\ndef f():\n    return User().m(2)\n"
    emitted, _report = optimized_function(module, "m", config=CONFIG)
    assert emitted is not None and "inlined_raised('Vec.dot'" in emitted
    assert_same_behaviour(module, _case_driver(), specialized=("User.m",))


# -- tracebacks -----------------------------------------------------------------------------------

TRACEBACK_DRIVER = '''
import traceback

def _entries(exc):
    out = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        out.append((code.co_name, code.co_qualname, tb.tb_lineno))
        tb = tb.tb_next
    return out

try:
    result = ("ok", CALL)
except BaseException as exc:
    result = ("raised", "".join(traceback.format_exception(exc)), _entries(exc))
'''

RAISES = """\
class Vec:
    @staticmethod
    def ratio(a, b=0):
        return (a +
                1) / b
    @staticmethod
    def checked(a):
        b = a * 2
        if b > 4:
            return b
        return 10 // a
    def m(self, x):
        return Vec.ratio(x)
def f(x=1):
    return Vec.ratio(x) + 1
def g(x=0):
    y = Vec.checked(x)
    return y
def caught(x=1):
    try:
        return Vec.ratio(x)
    except ZeroDivisionError as exc:
        return ''.join(traceback.format_exception(exc))
"""


@pytest.mark.parametrize(
    "call, specialized",
    [
        pytest.param("f()", "f", id="expression-form"),
        pytest.param("g()", "g", id="statement-form"),
        pytest.param("Vec().m(2)", "Vec.m", id="in-a-method"),
        pytest.param("caught()", "caught", id="caught-in-the-caller"),
    ],
)
def test_traceback_as_plain(call, specialized):
    source = "import traceback\n" + RAISES
    plain, _ = assert_same_behaviour(source, TRACEBACK_DRIVER.replace("CALL", call), specialized=(specialized,))
    text = plain.result
    assert "in ratio" in text or "in checked" in text  # the callee's entry is there
    if call != "caught()":
        assert "'Vec.ratio'" in text or "'Vec.checked'" in text  # co_qualname of the callee entry


# -- the class and the staticmethod can change after import -----------------------------------------

CHANGEABLE = """\
class Base:
    @staticmethod
    def dot(a, b=3):
        return ('base', a, b)
class Vec(Base):
    @staticmethod
    def dot(a, b=3):
        return a * 10 + b
    def m(self, x):
        return Vec.dot(x)
def other(a, b=3):
    return ('other', a, b)
def f(x=1):
    return Vec.dot(x)
"""


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("Vec.dot = staticmethod(other)", id="assigned"),
        pytest.param("setattr(Vec, 'dot', staticmethod(other))", id="setattr"),
        pytest.param("del Vec.dot", id="deleted-base-provides-one"),
        pytest.param("vars(Vec)['dot'].__func__.__code__ = other.__code__", id="code"),
        pytest.param("vars(Vec)['dot'].__func__.__defaults__ = (7,)", id="defaults"),
        pytest.param("Vec = type('Vec', (), {'dot': staticmethod(other), 'm': Vec.m})", id="class-name-rebound"),
        pytest.param("class Sub(Vec):\n    @staticmethod\n    def dot(a, b=3):\n        return 'sub'", id="subclass-overrides"),
    ],
)
def test_changes_take_effect_and_the_original_code_comes_back(change):
    driver = (
        "saved = (Vec, vars(Vec)['dot'], vars(Vec)['dot'].__func__.__code__, vars(Vec)['dot'].__func__.__defaults__)\n"
        "result = [f(), Vec().m(2)]\n"
        f"{change}\n"
        "result += [f(), Vec().m(2)]\n"
        "Vec = saved[0]\n"
        "Vec.dot = saved[1]\n"
        "Vec.dot.__code__, Vec.dot.__defaults__ = saved[2], saved[3]\n"
        "result += [f(), Vec().m(2)]\n"
    )
    _plain, optimized = assert_same_behaviour(CHANGEABLE, driver, specialized=("f", "Vec.m"))
    ns = optimized.namespace
    assert active(ns["f"]) and active(ns["Vec"].m)  # restored: the specialized code is back


def test_documented_difference_reinitializing_the_staticmethod_in_place():
    # docs/semantics.md: no watcher sees staticmethod.__init__ run again on the object in place
    driver = "result = [f()]\nvars(Vec)['dot'].__init__(other)\nresult.append(f())\n"
    plain, optimized = run_both(CHANGEABLE, driver)
    assert plain.result == "[13, ('other', 1, 3)]"
    assert optimized.result == "[13, 13]"


def test_documented_difference_called_in_the_class_body():
    # docs/semantics.md: before the class exists its method runs the inlined staticmethod
    module = (
        "class Vec:\n    @staticmethod\n    def dot(a):\n        return a + 1\n"
        "    def m(self, x):\n        return Vec.dot(x)\n"
        "    try:\n        early = m(None, 1)\n    except NameError as exc:\n        early = str(exc)\n"
    )
    plain, optimized = run_both(module, "result = (Vec.early, Vec().m(1))")
    assert plain.result == "(\"name 'Vec' is not defined\", 2)"
    assert optimized.result == "(2, 2)"
