"""Inlining of plain methods reached through a class (``Vec.dot(v, 1)``,
fatopt/analyses/method_callees.py; the calls fatopt/passes/specialize_types.py writes for
dunders): the rewrites, what is left alone, plain vs optimized runs (the method replaced on the
class or a base, its code replaced, an instance attribute of the same name, which a call through
the class never sees), and tracebacks."""

import sys

import pytest

from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, run_both, traceback_driver
from tests.optimizer.test_inline_functions import _def_f, wrapped

CONFIG = only("inline_functions")

VEC = """\
class Base:
    def scale(self, k):
        return self.x * k
class Vec(Base):
    def __init__(self, x):
        self.x = x
    def dot(self, k=2):
        return self.x * k + 1
    def ratio(self, k):
        if isinstance(k, int):
            return self.x // k
        return self.x / k
    def store(self, v):
        self.x = v
"""

#: methods that return or raise under ``if``: one expression, the runtime raising
CHECKED = """\
class Oops(Exception):
    pass
class Weird(Exception):
    def __new__(cls):
        return 5
class Box:
    def __init__(self, n):
        self.n = n
        self.err = Oops("kept")
    def at(self, i):
        if 0 <= i < self.n:
            return i * 2
        raise IndexError
    def told(self, i):
        if i < 0:
            raise ValueError("negative", i)
        return i + self.n
    def own(self, i):
        if i == 0:
            raise Oops
        if i == 1:
            raise Weird
        if i == 2:
            raise self.err
        return i
    def bad(self, i):
        if i > 2:
            return i
        raise self.n
"""

#: (module, the emitted f, checks stripped)
REWRITES = [
    pytest.param(CHECKED + "def f(b, i):\n    return Box.at(b, i)\n",
                 _def_f("b, i", wrapped("return i * 2 if 0 <= i < b.n else __fatopt_runtime__.raise_exception(IndexError)",
                                        ("Box.at", (10, 13)))),
                 id="return-or-raise-as-one-expression"),
    pytest.param(CHECKED + "def f(b, i):\n    return Box.told(b, i)\n",
                 _def_f("b, i", wrapped("return __fatopt_runtime__.raise_exception(ValueError('negative', i)) if i < 0 "
                                        "else i + b.n", ("Box.told", (14, 17)))),
                 id="raise-first"),
    pytest.param(VEC + "def f(v):\n    return Vec.dot(v, 3)\n",
                 _def_f("v", wrapped("return v.x * 3 + 1", ("Vec.dot", (7, 8)))), id="expression"),
    pytest.param(VEC + "def f(v):\n    return Vec.scale(v, 2)\n",
                 _def_f("v", wrapped("return v.x * 2", ("Base.scale", (2, 3)))), id="inherited"),
    pytest.param(VEC + "def f(v):\n    return Vec.ratio(v, 2)\n",
                 _def_f("v", wrapped("return v.x // 2 if isinstance(2, int) else v.x / 2", ("Vec.ratio", (9, 12)))),
                 id="returns-under-if-as-one-expression"),
    pytest.param(VEC + "def f(v):\n    Vec.store(v, 5)\n    return v.x\n",
                 _def_f("v", wrapped("v.x = 5", ("Vec.store", (13, 14))), "return v.x"),
                 id="attribute-store"),
]

LEFT_ALONE = [
    pytest.param("class Vec:\n    @property\n    def dot(self):\n        return 1\ndef f(v):\n    return Vec.dot(v)\n", id="property"),
    pytest.param("class Vec:\n    def dot(self):\n        return 1\n    dot = dot\ndef f(v):\n    return Vec.dot(v)\n",
                 id="bound-twice"),
    pytest.param("class M(type):\n    pass\nclass Vec(metaclass=M):\n    def dot(self):\n        return 1\n"
                 "def f(v):\n    return Vec.dot(v)\n", id="metaclass"),
    pytest.param("class Vec(dict):\n    def dot(self):\n        return 1\ndef f(v):\n    return Vec.dot(v)\n", id="unknown-base"),
    pytest.param("class Vec:\n    def dot(self):\n        return print(self)\ndef f(v):\n    return Vec.dot(v)\n",
                 id="calls-a-builtin-that-is-not-pure"),
    pytest.param("class Vec:\n    def dot(self, *a):\n        return 1\ndef f(v):\n    return Vec.dot(v)\n", id="star-args"),
    pytest.param("class Vec:\n    def __dot(self):\n        return 1\ndef f(v):\n    return Vec._Vec__dot(v)\n", id="mangled"),
    pytest.param("def f(v):\n    return Vec.dot(v)\nclass Vec:\n    def dot(self):\n        return 1\n", id="class-after"),
]


@pytest.mark.parametrize("source, expected", REWRITES)
def test_rewrites(source, expected):
    emitted, _report = optimized_function(source, "f", CONFIG)
    assert emitted == expected


@pytest.mark.parametrize("source", LEFT_ALONE)
def test_left_alone(source):
    emitted, _report = optimized_function(source, "f", CONFIG)
    assert emitted is None


@pytest.mark.parametrize("source, driver", [
    pytest.param(VEC + "def f(v):\n    return Vec.dot(v, 3) + Vec.scale(v, 2)\n", "result = f(Vec(4))", id="values"),
    pytest.param(VEC + "def f(v):\n    return Vec.dot(v)\n", "Vec.dot = lambda self, k=2: 'new'\nresult = f(Vec(1))",
                 id="replaced-on-the-class"),
    pytest.param(VEC + "def f(v):\n    return Vec.scale(v, 1)\n", "Base.scale = lambda self, k: 'base'\nresult = f(Vec(1))",
                 id="replaced-on-a-base"),
    pytest.param(VEC + "def f(v):\n    return Vec.dot(v)\n", "Vec.dot.__defaults__ = (10,)\nresult = f(Vec(1))",
                 id="defaults-replaced"),
    pytest.param(VEC + "def f(v):\n    return Vec.dot(v)\n", "v = Vec(1)\nv.dot = lambda k=2: 'instance'\nresult = f(v)",
                 id="instance-attribute-not-seen-through-the-class"),
    pytest.param(VEC + "def f(v):\n    return Vec.dot(v)\n", traceback_driver("f(None)"), id="traceback"),
    pytest.param(CHECKED + "def f(b, i):\n    return Box.at(b, i) + Box.told(b, i)\n", "result = f(Box(3), 2)",
                 id="raising-methods-values"),
    pytest.param(CHECKED + "def f(b, i):\n    return Box.at(b, i)\n", traceback_driver("f(Box(3), 3)"), id="raise-a-class"),
    pytest.param(CHECKED + "def f(b, i):\n    return Box.told(b, i)\n", traceback_driver("f(Box(3), -1)"),
                 id="raise-a-builtin-exception-made-with-arguments"),
    pytest.param(CHECKED + "def f(b, i):\n    try:\n        {}['k']\n    except KeyError:\n        return Box.at(b, i)\n",
                 traceback_driver("f(Box(3), 7)"), id="raised-while-handling-chains-the-context"),
    pytest.param(CHECKED + "def f(b, i):\n    try:\n        {}['k']\n    except KeyError:\n        return Box.own(b, i) + Box.bad(b, i)\n",
                 "import traceback\nresult = []\nfor i in range(5):\n    try:\n        result.append(f(Box(3), i))\n"
                 "    except Exception as exc:\n        result.append(''.join(traceback.format_exception(exc)))\n",
                 id="a-module-class-an-instance-a-bad-class-not-an-exception"),
    pytest.param(VEC + "def f(v):\n    Vec.store(v, 1 / 0)\n", traceback_driver("f(Vec(1))"), id="argument-raises"),
    pytest.param(VEC + "def f(v, n):\n    out = []\n    for i in range(n):\n        out.append(Vec.dot(v))\n"
                 "        Vec.dot = lambda self, k=2: 'patched'\n    return out\n", "result = f(Vec(1), 3)",
                 id="replaced-while-running"),
])
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver)


TUPLES = """\
class P:
    def at(self, xy):
        x, y = xy
        return x * 4 + y
    def both(self, xy):
        return xy[0] + xy[1]
"""


@pytest.mark.parametrize(
    "body, expected",
    [
        # (the unpacking of the display propagated: no tuple, no copies)
        pytest.param("r = P.at(p, (a, b))\n    return r", "r = a * 4 + b", id="read-once-substituted"),
        pytest.param("r = P.at(p, (a, 3))\n    return r", "r = a * 4 + 3", id="constant-part"),
        pytest.param("return P.both(p, (a, b))", "(_fatopt_xy_1 := (a, b))[0] + _fatopt_xy_1[1]", id="read-twice-bound-once"),
        pytest.param("r = P.at(p, (a, G))\n    return r", "_fatopt_xy_1 = (a, G)", id="a-global-part-bound-first"),
        pytest.param("r = P.at(p, (a, b + 1))\n    return r", "_fatopt_xy_1 = (a, b + 1)", id="an-operation-bound-first"),
    ],
)
def test_a_tuple_display_is_substituted_for_a_parameter_read_once(body, expected):
    source = TUPLES + "G = 5\ndef f(p, a, b):\n    " + body + "\n"
    emitted, _report = optimized_function(source, "f", CONFIG)
    assert expected in emitted
    assert_same_behaviour(source, "result = (f(P(), 1, 2), f(P(), 'x', 'y'))")


MATH = """\
from math import sqrt
from os.path import join
class V:
    def __init__(self, x):
        self.x = x
    def root(self):
        return sqrt(self.x)
    def grow(self, k):
        self.x *= k
        self.x += 1
    def path(self):
        return join(self.x, 'a')
"""


def test_a_method_may_call_a_c_function_of_math_guarded_on_its_global():
    emitted, report = optimized_function(MATH + "def f(v):\n    return V.root(v)\n", "f", CONFIG)
    assert emitted is not None and "sqrt(v.x)" in emitted
    guards = [g for row in report.functions if row.qualname == "f" for g in row.guards]
    assert guards == ["GuardClass('V', 'root')", "GuardGlobals('sqrt')"]


def test_a_function_imported_from_a_python_module_is_not_called_from_inlined_code():
    emitted, _report = optimized_function(MATH + "def f(v):\n    return V.path(v)\n", "f", CONFIG)
    assert emitted is None


def test_a_method_may_update_an_attribute_in_place():
    emitted, _report = optimized_function(MATH + "def f(v):\n    V.grow(v, 3)\n    return v.x\n", "f", CONFIG)
    assert "v.x *= 3" in emitted and "v.x += 1" in emitted


@pytest.mark.parametrize("driver", [
    pytest.param("result = (f(V(4.0)), f(V(9)))", id="values"),
    pytest.param(traceback_driver("f(V(-1.0))"), id="math-domain-error"),
    pytest.param(traceback_driver("f(V('a'))"), id="type-error"),
    pytest.param("import math\nsqrt = math.cos\nresult = f(V(0.0))", id="sqrt-rebound"),
])
def test_c_function_calls_behave_as_plain(driver):
    assert_same_behaviour(MATH + "def f(v):\n    V.grow(v, 2)\n    return V.root(v)\n", driver)


PT = """\
from math import sin
class Pt:
    def __init__(self, i, k=2):
        self.x = x = sin(i)
        self.y = x * k
"""


def test_a_constructor_is_inlined_as_object_new_and_init():
    emitted, report = optimized_function(PT + "def f(i):\n    p = Pt(i)\n    return p.y\n", "f", CONFIG)
    assert emitted == (
        "def f(i):\n    try:\n        _fatopt_self_1 = __fatopt_runtime__.object_new(Pt)\n"
        "        _fatopt_self_1.x = _fatopt_x_2 = sin(i)\n        _fatopt_self_1.y = _fatopt_x_2 * 2\n"
        "        p = _fatopt_self_1\n    except:\n        __fatopt_runtime__.inlined_raised('Pt.__init__', (3, 5), None)\n"
        "        raise\n    return p.y")
    guards = [g for row in report.functions if row.qualname == "f" for g in row.guards]
    assert guards == ["GuardClass('Pt', '__init__', '__new__')", "GuardGlobals('sin')"]


@pytest.mark.parametrize("source", [
    pytest.param("class Pt:\n    def __new__(cls, i):\n        return object.__new__(cls)\n    def __init__(self, i):\n"
                 "        self.x = i\n", id="own-new"),
    pytest.param("class Base:\n    def __new__(cls, *a):\n        return object.__new__(cls)\nclass Pt(Base):\n"
                 "    def __init__(self, i):\n        self.x = i\n", id="inherited-new"),
    pytest.param("class Pt:\n    def __init__(self, i):\n        self.x = i\n        return 5\n", id="init-returns-a-value"),
    pytest.param("class Pt:\n    def __init__(self, i):\n        print(i)\n", id="init-not-inlinable"),
    pytest.param("class Pt:\n    pass\n", id="no-init"),
    pytest.param("class M(type):\n    pass\nclass Pt(metaclass=M):\n    def __init__(self, i):\n        self.x = i\n",
                 id="metaclass"),
    pytest.param("class Pt(dict):\n    def __init__(self, i):\n        self.x = i\n", id="builtin-base"),
])
def test_constructors_left_alone(source):
    emitted, _report = optimized_function(source + "def f(i):\n    p = Pt(i)\n    return p\n", "f", CONFIG)
    assert emitted is None or "object_new" not in emitted


def test_a_constructor_defined_after_the_caller_is_left_alone():
    source = "def f(i):\n    p = Pt(i)\n    return p\nclass Pt:\n    def __init__(self, i):\n        self.x = i\n"
    emitted, _report = optimized_function(source, "f", CONFIG)
    assert emitted is None


@pytest.mark.parametrize("source, driver", [
    pytest.param(PT + "def f(i):\n    p = Pt(i, k=3)\n    return type(p).__name__, p.x, p.y\n", "result = f(1)", id="values"),
    pytest.param(PT + "def f(n):\n    out = []\n    for i in range(n):\n        out.append(i)\n        out[-1] = Pt(i)\n"
                 "    return [round(p.y, 6) for p in out]\n", "result = f(3)", id="in-a-loop"),
    pytest.param(PT + "def f(i):\n    return Pt(i)\n", traceback_driver("f('a')"), id="init-raises"),
    pytest.param(PT + "def a(v):\n    print('argument', v)\n    return v\ndef f(i):\n    p = Pt(a(i), a(3))\n    return p.y\n",
                 "result = f(2)", id="arguments-in-order"),
    pytest.param(PT + "def f(i):\n    p = Pt(i)\n    return p.y\n",
                 "Pt.__init__ = lambda self, i: setattr(self, 'y', 'replaced')\nresult = f(1)", id="init-replaced"),
    pytest.param(PT + "def f(i):\n    p = Pt(i)\n    return p\n",
                 "Pt.__new__ = staticmethod(lambda cls, i: 'made by __new__')\nresult = f(1)", id="new-added"),
    pytest.param(PT + "def f(i):\n    p = Pt(i)\n    return p.y\n",
                 "Pt.__init__.__defaults__ = (10,)\nresult = f(1)", id="init-defaults-replaced"),
    pytest.param(PT + "def f(i):\n    Pt(i)\n    return i\n", "result = f(1)", id="value-unused"),
    pytest.param(PT + "def f(i):\n    Pt(i, 1, 2)\n", traceback_driver("f(1)"), id="too-many-arguments"),
])
def test_constructors_behave_as_plain(source, driver):
    assert_same_behaviour(source, driver)


def test_a_method_returning_its_receiver_leaves_no_self_assignment():
    source = ("class Q:\n    def __init__(self):\n        self.n = 0\n    def step(self, k):\n        self.n += k\n"
              "        return self\ndef f(q, n):\n    for i in range(n):\n        q = Q.step(q, i)\n    return q.n\n")
    emitted, _report = optimized_function(source, "f", CONFIG)
    assert "q.n += i" in emitted and "q = q" not in emitted
    assert_same_behaviour(source, "result = f(Q(), 4)")


def test_a_profiler_sees_object_new_instead_of_the_init_call():
    # documented in docs/semantics.md, "An inlined function has no frame of its own"
    driver = (
        "import sys\nevents = []\n"
        "def profile(frame, event, arg):\n"
        "    if event in ('call', 'c_call'):\n        events.append((event, getattr(arg, '__name__', frame.f_code.co_name)))\n"
        "sys.setprofile(profile)\n"
        "try:\n    f(1)\nfinally:\n    sys.setprofile(None)\n"
        "result = [e for e in events if e[1] in ('f', '__init__', '__new__')]\n"
    )
    source = "class Pt:\n    __slots__ = ('x',)\n    def __init__(self, i):\n        self.x = i\ndef f(i):\n    p = Pt(i)\n    return p\n"
    plain, optimized = run_both(source, driver)
    assert plain.result == "[('call', 'f'), ('call', '__init__')]"
    assert optimized.result == "[('call', 'f'), ('c_call', '__new__')]"


@pytest.mark.parametrize("call, slots, inlined_on_313", [
    pytest.param("Pt(i, 3)", False, False, id="every-argument"),
    pytest.param("Pt(i)", False, True, id="a-default"),
    pytest.param("Pt(i, k=3)", False, True, id="a-keyword"),
    pytest.param("Pt(i, 3)", True, True, id="slots"),
])
def test_which_constructor_calls_are_inlined(call, slots, inlined_on_313):
    # 3.13 runs `C(a, b)` of a class with a __dict__ through CALL_ALLOC_AND_ENTER_INIT, cheaper
    # than object.__new__ and the stores; 3.12 has no such path
    source = PT.replace("class Pt:\n", "class Pt:\n    __slots__ = ('x', 'y')\n" if slots else "class Pt:\n")
    emitted, _report = optimized_function(source + f"def f(i):\n    p = {call}\n    return p.y\n", "f", CONFIG)
    expected = inlined_on_313 or sys.version_info < (3, 13)
    assert (emitted is not None and "object_new" in emitted) is expected
    assert_same_behaviour(source + f"def f(i):\n    p = {call}\n    return p.y\n", "result = f(2)")
