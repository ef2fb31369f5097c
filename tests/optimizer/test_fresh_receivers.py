"""Method calls on a fresh object (fatopt/passes/fresh_receivers.py, with
fatopt/analyses/fresh_objects.py): after ``v = C(...)`` each method call on ``v`` runs
``C.m(v, ...)`` with no check until ``v`` escapes, the rest of the block as written (then what
follows, to a return or the loop's ``continue``) running instead when the validity flag fails;
where ``v`` is made in one branch of an inlined dunder, the rest is copied after that branch; the
methods the inlined methods call on it, and a constructor that keeps it, are followed.

The rewrites as emitted, what is left alone (the object handed to other code before the call, a
class with ``__getattr__``/``__slots__``/an ``__init__`` that does more than store, ``v`` read in
the next iteration or after the loop, a ``with`` around the block, ...), and plain vs optimized runs: a method replaced on the class before the call
and by code the function runs between the construction and the call, an attribute stored on the
object by a method it was passed to, ``__init__`` replaced, tracebacks raised in the inlined
method."""

from __future__ import annotations

import pytest

from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, traceback_driver

VEC = """\
class Vec:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def dot(self, other):
        other.check()
        return self.x * other.x + self.y * other.y
    def norm2(self):
        return self.x * self.x + self.y * self.y
    def check(self):
        return self
    def __sub__(self, other):
        if other.is_point():
            return Vec(self.x - other.x, self.y - other.y)
        return Point(self.x - other.x, self.y - other.y)
    def is_point(self):
        return False
class Point(Vec):
    def is_point(self):
        return True
"""

ONLY = only("fresh_receivers", "inline_functions")


def emitted(source: str, config=ONLY) -> str:
    text, _report = optimized_function(source, config=config, checks=True)
    return text or ""


def test_a_method_call_on_the_new_object_is_inlined_with_the_rest_for_an_invalid_flag():
    text = emitted(VEC + "def f(a, b):\n    v = Vec(a, b)\n    n = v.norm2()\n    return n + 1\n")
    assert "if not _fatopt_valid_flag:" in text
    # the branch for an invalid flag: the rest of the block as written
    assert "n = v.norm2()\n        return n + 1" in text
    assert "n = v.x * v.x + v.y * v.y" in text


def test_a_method_of_several_statements_inside_an_expression_is_made_linear():
    text = emitted(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    return 1 + v.dot(w)\n")
    assert "_fatopt_f_1 = v.dot(w)\n        return 1 + _fatopt_f_1" in text  # the invalid-flag rest, linear
    assert "w.check()" in text and "_fatopt_f_1 = v.x * w.x + v.y * w.y" in text


def test_a_covered_call_of_a_method_that_returns_its_receiver_is_dropped():
    text = emitted(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.dot(v)\n")
    assert "v.check()" not in text and "v.x * v.x + v.y * v.y" in text


def test_the_rest_is_copied_after_the_branch_of_an_inlined_dunder_that_makes_the_object():
    text = emitted(VEC + "def f(a: Point, b: Point):\n    d = a - b\n    return d.norm2()\n",
                   config=only("fresh_receivers", "inline_functions", "specialize_operators"))
    assert "if b.is_point():\n" in text
    assert "d = Vec(a.x - b.x, a.y - b.y)" in text and "d.x * d.x + d.y * d.y" in text


def test_a_block_that_falls_off_the_function_ends_its_rest_with_a_return():
    text = emitted(VEC + "def f(a, b):\n    v = Vec(a, b)\n    x = v.norm2()\n")
    assert "if not _fatopt_valid_flag:\n        x = v.norm2()\n        return\n" in text
    assert "x = v.x * v.x + v.y * v.y" in text


def test_in_a_loop_body_the_rest_for_an_invalid_flag_ends_with_continue():
    text = emitted(VEC + "def f(xs):\n    t = 0\n    for a in xs:\n        v = Vec(a, a)\n        t += v.norm2()\n"
                   "        if t > 9:\n            break\n    return t\n")
    assert "            if t > 9:\n                break\n            continue\n" in text
    assert "v.x * v.x + v.y * v.y" in text


CHAIN = VEC.replace("    def check(self):\n", """\
    def scale(self, k):
        return Vec(k * self.x, k * self.y)
    def unit(self):
        return self.scale(1.0 / self.norm2())
    def check(self):
""") + """\
class Ray:
    def __init__(self, p, v):
        self.p = p
        self.v = v.unit()
"""


def test_methods_calling_methods_of_their_receiver_are_followed():
    text = emitted(CHAIN + "def f(a, b):\n    v = Vec(a, b)\n    return v.unit()\n")
    # unit's `self.scale(1.0 / self.norm2())`: scale is found before norm2 runs, as a function
    # of the class, not a bound method; then both are inlined
    assert "_fatopt_f_1 = Vec.scale" in text and "return _fatopt_f_1(v, 1.0 / _fatopt_f_2)" in text
    assert "_fatopt_f_2 = v.x * v.x + v.y * v.y" in text
    assert "return Vec((_fatopt_k_" in text


def test_a_constructor_that_keeps_the_object_is_inlined_and_followed():
    text = emitted(CHAIN + "def f(a, b):\n    v = Vec(a, b)\n    return Ray(0, v)\n")
    assert "__fatopt_runtime__.object_new(Ray)" in text  # on 3.13 too: the call keeps v
    assert "Vec.scale" in text and "v.x * v.x + v.y * v.y" in text


DIRECT = VEC + "class P:\n    def __init__(self, x, y):\n        self.x = x\n        self.y = y\n" \
    "    def __sub__(self, other):\n        return Vec(self.x - other.x, self.y - other.y)\n"


def test_the_rest_is_copied_after_an_inlined_dunder_that_makes_the_object_unconditionally():
    text = emitted(DIRECT + "def f(a: P, b: P, n):\n    out = []\n    for i in range(n):\n        d = a - b\n"
                   "        out.append(d.norm2() + i)\n    return out\n",
                   config=only("fresh_receivers", "inline_functions", "specialize_operators"))
    assert "d = Vec(a.x - b.x, a.y - b.y)\n" in text and "d.x * d.x + d.y * d.y" in text
    assert "continue\n" in text


#: (module): f's method calls are left as they are
LEFT_ALONE = [
    pytest.param(VEC + "def f(a, b, g):\n    v = Vec(a, b)\n    g(v)\n    return v.norm2()\n", id="escaped-before"),
    pytest.param(VEC + "S = []\ndef f(a, b):\n    v = Vec(a, b)\n    S.append(v)\n    return v.norm2()\n", id="stored"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    w = v\n    return w.norm2()\n", id="aliased"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    v.y = 3\n    return v.norm2()\n", id="attribute-stored"),
    pytest.param(VEC + "def f(xs):\n    t, v = 0, None\n    for a in xs:\n        if v is not None:\n            t += v.x\n"
                 "        v = Vec(a, a)\n        t += v.norm2()\n    return t\n", id="read-in-the-next-iteration"),
    pytest.param(VEC + "def f(xs):\n    t = 0\n    for a in xs:\n        v = Vec(a, a)\n        t += v.norm2()\n"
                 "    return t + v.x\n", id="read-after-the-loop"),
    pytest.param(VEC + "def f(a, b, ctx):\n    with ctx:\n        v = Vec(a, b)\n        x = v.norm2()\n    return x\n",
                 id="block-of-a-with"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    def g():\n        return v\n    return v.norm2()\n",
                 id="captured"),
    pytest.param(VEC.replace("        self.y = y\n", "        self.y = y\n        register(self)\n")
                 + "def register(o):\n    pass\ndef f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n", id="init-does-more"),
    pytest.param(VEC.replace("class Vec:\n", "class Vec:\n    def __getattr__(self, name):\n        return 1\n")
                 + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n", id="getattr"),
    pytest.param(VEC.replace("class Vec:\n", "class Vec:\n    __slots__ = ('x', 'y')\n")
                 .replace("class Point(Vec):\n", "class Point(Vec):\n    __slots__ = ()\n")
                 + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n", id="slots"),
    pytest.param(VEC.replace("        self.x = x\n", "        self.norm2 = x\n")
                 + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n", id="init-stores-the-method-name"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2(*())\n", id="star-arguments"),
]


@pytest.mark.parametrize("source", LEFT_ALONE)
def test_left_alone(source):
    assert "Vec.norm2(" not in emitted(source) and "v.x * v.x" not in emitted(source)


#: (module, driver): plain and optimized agree, f specialized
BEHAVIOUR = [
    pytest.param(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    n = v.dot(w)\n    return n + v.dot(v)\n",
                 "result = f(1, 2, Vec(3, 4))", id="two-sites"),
    pytest.param(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    n = v.dot(w)\n    return n + v.norm2()\n",
                 "class W(Vec):\n    def check(self):\n        Vec.norm2 = lambda self: ('replaced', vars(self))\n        return self\n"
                 "result = f(1, 2, W(3, 4))", id="method-replaced-between-two-sites"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "Vec.norm2 = lambda self: 'before'\nresult = f(1, 2)", id="method-replaced-before"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "def init(self, x, y):\n    self.x = x\n    self.y = y\n    self.norm2 = lambda: 'own'\n"
                 "Vec.__init__ = init\nresult = f(1, 2)", id="init-replaced"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "Vec.__setattr__ = lambda self, k, val: object.__setattr__(self, k, val * 10)\nresult = f(1, 2)",
                 id="setattr-added"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 traceback_driver("f('s', 2)"), id="traceback"),
    pytest.param(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    return v.dot(w)\n",
                 traceback_driver("f(1, 2, 3)"), id="traceback-of-a-call-inside"),
    pytest.param(VEC + "def f(a: Point, b: Point):\n    d = a - b\n    return d.norm2()\n",
                 "result = (f(Point(3, 4), Point(1, 1)), f(Point(3, 4), Vec(1, 1)) if False else 0)",
                 id="copied-rest"),
    pytest.param(VEC + "def f(a: Point, b: Point):\n    d = a - b\n    return d.norm2() + b.missing\n",
                 traceback_driver("f(Point(3, 4), Point(1, 1))"), id="traceback-in-the-copied-rest"),
    pytest.param(VEC + "def f(a: Point, b: Point):\n    d = a - b\n    return d.norm2()\n",
                 traceback_driver("f(Point(3, 4), Point('s', 1))"), id="traceback-in-the-dunder-before-the-copy"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "Vec.__new__ = lambda cls, *args: 'made elsewhere'\nresult = f(1, 2) if False else 0\n"
                 "try:\n    result = f(1, 2)\nexcept AttributeError as e:\n    result = str(e)", id="new-added"),
]


LOOP = VEC + "def f(xs, hook=None):\n    t = 0\n    for a in xs:\n        v = Vec(a, a)\n        if hook:\n            hook(a)\n" \
    "        t += v.norm2()\n    return t\n"

BEHAVIOUR += [
    pytest.param(DIRECT + "def f(a: P, b: P, n):\n    out = []\n    for i in range(n):\n        d = a - b\n"
                 "        out.append(d.norm2() + i)\n    return out\n", "result = (f(P(1, 2), P(3, 5), 3), f(Vec(1, 2), P(0, 1), 2))",
                 id="loop-operation-made-unconditionally"),
    pytest.param(LOOP, "result = f([1, 2, 3])", id="loop"),
    pytest.param(LOOP, "def hook(a):\n    if a == 2:\n        Vec.norm2 = lambda self: 100\nresult = f([1, 2, 3], hook)",
                 id="loop-method-replaced-during-an-iteration"),
    pytest.param(LOOP, traceback_driver("f([1, 'x'])"), id="loop-traceback"),
    pytest.param(CHAIN + "def f(a, b):\n    v = Vec(a, b)\n    return vars(v.unit())\n", "result = f(3, 4)", id="chain"),
    pytest.param(CHAIN.replace("        return self.x * self.x + self.y * self.y\n",
                               "        hook()\n        return self.x * self.x + self.y * self.y\n")
                 + "def hook():\n    pass\ndef f(a, b):\n    v = Vec(a, b)\n    return vars(v.unit())\n",
                 "def replace():\n    Vec.scale = lambda self, k: 'replaced'\nhook = replace\nresult = f(3, 4)",
                 id="chain-outer-method-replaced-by-the-inner-call"),
    pytest.param(CHAIN + "def f(a, b):\n    v = Vec(a, b)\n    return v.unit()\n", traceback_driver("f(0, 0)"),
                 id="chain-traceback"),
    pytest.param(CHAIN + "def f(a, b):\n    v = Vec(a, b)\n    r = Ray(0, v)\n    return vars(r.v)\n",
                 "result = f(3, 4)", id="constructor"),
    pytest.param(CHAIN + "def f(a, b):\n    v = Vec(a, b)\n    r = Ray(0, v)\n    return vars(r)\n",
                 "def init(self, p, v):\n    self.p = p\n    self.v = v\n    v.kept = True\nRay.__init__ = init\n"
                 "result = repr(f(3, 4)['v'].__dict__)", id="constructor-replaced"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver, specialized=("f",))
