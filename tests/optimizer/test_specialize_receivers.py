"""Receiver specialization (fatopt/passes/specialize_receivers.py, with
fatopt/analyses/receiver_types.py): where a recorded profile saw a method call's receiver of one
``__slots__`` class, the call runs ``C.m(v, ...)`` under ``type(v) is C`` at the call, and the
inlining inlines it.

The profile is recorded in this process from a warm-up run of the case (what ``fatopt profile``
writes). The rewrites as emitted, what is left alone (every exclusion: a class with a
``__dict__`` anywhere in its MRO, no profile, a non-local receiver, a method the inlining cannot
inline, star arguments), and plain vs optimized runs of each case and of everything that must
make a site fall back or stay exact: another type at the site, a subclass instance, the method
replaced on the class or its code replaced before and during a call, ``__getattr__`` or
``__getattribute__`` added to the class, ``__class__`` assigned by an argument, exceptions raised
in the method (the traceback text), the order of evaluation (receiver, then arguments)."""

from __future__ import annotations

import ast
import json
import os
import tempfile
import textwrap

import pytest

import fatopt
from fatopt.config import Config
from fatopt.optimizer import optimize_ast
from fatopt.profile import load
from tests.optimizer._diff import execute, only, source_file, traceback_driver
from tests.test_profile_use import _record

POINT = """\
from math import sqrt
class Point:
    __slots__ = ("x", "y")
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def norm(self):
        return sqrt(self.x * self.x + self.y * self.y)
    def scale(self, k):
        self.x *= k
        self.y *= k
    def step(self, other):
        self.x = self.x + other.x
        return self
"""

SPECIALIZE_ONLY = only("specialize_receivers")


def _profile(source: str, path: str, warmup: str):
    """The profile of running ``source`` (at ``path``) and then ``warmup``, recorded here (a
    warm-up that raises still records the calls it made)."""
    run = "try:\n" + textwrap.indent(warmup, "    ") + "\nexcept Exception:\n    pass\n"
    fd, profile_path = tempfile.mkstemp(suffix=".profile")
    with os.fdopen(fd, "w") as f:
        json.dump(_record(path, source, run), f)
    try:
        return load(profile_path)
    finally:
        os.unlink(profile_path)


def _optimized(source: str, warmup: str, config: Config | None = None):
    """(source, path, the optimized module tree) for ``source`` with a profile of ``warmup``."""
    source, path = source_file(source)
    profile = _profile(source, path, warmup)
    return source, path, optimize_ast(ast.parse(source, path), path, config, source=source, profile=profile)


def emitted(source: str, warmup: str, name: str = "f", config: Config | None = None) -> str | None:
    """The last ``def name`` of the optimized module, decorators dropped, or None if unchanged."""
    plain = ast.unparse(next(n for n in ast.walk(ast.parse(textwrap.dedent(source)))
                             if isinstance(n, ast.FunctionDef) and n.name == name))
    _source, _path, tree = _optimized(source, warmup, config)
    node = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name][-1]
    node.decorator_list = []
    text = ast.unparse(node)
    return None if text == plain else text


def assert_same(source: str, warmup: str, driver: str, specialized: tuple[str, ...] = ("f",)) -> None:
    """Plain and optimized (with the warm-up's profile) runs of ``driver`` agree, and the named
    functions run specialized code."""
    source, path, tree = _optimized(source, warmup)
    plain = execute(compile(source, path, "exec", dont_inherit=True), path, driver)
    module_only = execute(tree, path)
    for name in specialized:
        assert fatopt.get_specialized(module_only.namespace[name]), f"{name} is not specialized"
    optimized = execute(tree, path, driver)
    assert optimized.comparable() == plain.comparable()


WARM = "f([Point(1, 2), Point(3, 4)])"

#: (module, warm-up, the f emitted by specialize_receivers alone)
REWRITES = [
    pytest.param(
        POINT + "def f(ps):\n    t = 0\n    for p in ps:\n        t += p.norm()\n    return t\n", WARM,
        "def f(ps):\n    t = 0\n    _fatopt_valid_flag = __fatopt_valid_15_0__\n    for p in ps:\n"
        "        t += p.norm() if not _fatopt_valid_flag or type(p) is not Point else Point.norm(p)\n    return t",
        id="expression",
    ),
    pytest.param(
        POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n", WARM,
        "def f(ps):\n    _fatopt_valid_flag = __fatopt_valid_15_0__\n    for p in ps:\n"
        "        if not _fatopt_valid_flag or type(p) is not Point:\n            p.scale(2)\n"
        "        else:\n            Point.scale(p, 2)",
        id="statement",
    ),
    pytest.param(
        POINT + "def f(ps):\n    q = ps[0]\n    for p in ps:\n        q = q.step(p)\n    return q.x\n", WARM,
        "def f(ps):\n    q = ps[0]\n    _fatopt_valid_flag = __fatopt_valid_15_0__\n    for p in ps:\n"
        "        if not _fatopt_valid_flag or type(q) is not Point:\n            q = q.step(p)\n"
        "        else:\n            q = Point.step(q, p)\n    return q.x",
        id="rebound-receiver",
    ),
]


@pytest.mark.parametrize("source, warmup, expected", REWRITES)
def test_rewrites(source, warmup, expected):
    assert emitted(source, warmup, config=SPECIALIZE_ONLY) == expected


def test_the_inlining_inlines_the_method():
    text = emitted(REWRITES[1].values[0], WARM)
    assert "Point.scale" not in text.replace("'Point.scale'", "")  # inlined: only its handler names it
    assert "p.x *= 2" in text and "p.y *= 2" in text


#: POINT with a method of 36 nodes: over Config.max_inline_size (30), within
#: max_receiver_inline_size (48), as float's Point.normalize
BIG = POINT + """\
    def unit(self):
        x = self.x
        y = self.y
        n = sqrt(x * x + y * y + x * y * 0)
        self.x = x / n
        self.y = y / n
        return self
"""


def test_a_method_over_the_inlining_size_is_inlined_at_a_receiver_site():
    source = BIG + "def f(ps):\n    for p in ps:\n        p.unit()\n    return ps[0].x\n"
    text = emitted(source, WARM)
    assert "Point.unit" not in text.replace("'Point.unit'", "") and "sqrt(" in text
    # the same method called through the class, no receiver site: the ordinary limit
    direct = BIG + "def f(ps):\n    for p in ps:\n        Point.unit(p)\n    return ps[0].x\n"
    assert "sqrt(" not in (emitted(direct, WARM) or "")
    # and with the receiver limit lowered, not at the receiver site either
    assert emitted(source, WARM, config=Config(max_receiver_inline_size=30)) is None
    assert_same(source, WARM, "result = (f([Point(3, 4), Point(1, 0)]), f([Point(0, 0)]))")


DICT_POINT = POINT.replace('    __slots__ = ("x", "y")\n', "")

#: (module, warm-up): f is left alone by the pass
LEFT_ALONE = [
    pytest.param(DICT_POINT + "def f(ps):\n    return [p.norm() for p in ps]\n", WARM, id="instances-have-a-dict"),
    pytest.param(POINT.replace("class Point:", "class Base:\n    pass\nclass Point(Base):")
                 + "def f(ps):\n    for p in ps:\n        p.scale(2)\n", WARM, id="a-base-without-slots"),
    pytest.param(POINT.replace('("x", "y")', '("x", "y", "__dict__")')
                 + "def f(ps):\n    for p in ps:\n        p.scale(2)\n", WARM, id="slots-with-dict"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n", "pass", id="not-recorded"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n", "f([1j])", id="other-types-recorded"),
    pytest.param(POINT + "P = None\ndef f(ps):\n    global P\n    for P in ps:\n        P.scale(2)\n", WARM,
                 id="global-receiver"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(*[2])\n", WARM, id="star-arguments"),
    pytest.param(POINT + "def f(ps, type=None):\n    for p in ps:\n        p.scale(2)\n", WARM, id="type-is-a-parameter"),
    pytest.param(POINT + "def f(ps):\n    return [p.scale(2) for type in (1,) for p in ps]\n", WARM,
                 id="type-bound-by-a-comprehension"),
    pytest.param(POINT.replace("        self.x *= k\n", "        print(self)\n")
                 + "def f(ps):\n    for p in ps:\n        p.scale(2)\n", WARM, id="method-not-inlinable"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\nclass Point:\n    __slots__ = ()\n"
                 "    def scale(self, k):\n        pass\n", WARM, id="class-bound-twice"),
]


@pytest.mark.parametrize("source, warmup", LEFT_ALONE)
def test_left_alone(source, warmup):
    text = emitted(source, warmup, config=SPECIALIZE_ONLY)
    assert text is None or "type(" not in text


#: (module, warm-up, driver): plain and optimized runs agree, f specialized
BEHAVIOUR = [
    pytest.param(POINT + "def f(ps):\n    return [round(p.norm(), 6) for p in ps]\n", WARM,
                 "result = f([Point(1, 2), Point(3, 4)])", id="comprehension"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n    return [(p.x, p.y) for p in ps]\n", WARM,
                 "result = f([Point(1, 2), Point(3, 4)])", id="statement"),
    pytest.param(POINT + "def f(ps):\n    q = ps[0]\n    for p in ps:\n        q = q.step(p)\n    return q.x\n", WARM,
                 "result = f([Point(1, 2), Point(3, 4), Point(5, 6)])", id="rebound-receiver"),
    pytest.param(POINT + "class Other:\n    def scale(self, k):\n        print('other', k)\n"
                 "class Sub(Point):\n    __slots__ = ()\n    def scale(self, k):\n        print('sub', k)\n"
                 "def f(ps):\n    for p in ps:\n        p.scale(2)\n    return [type(p).__name__ for p in ps]\n", WARM,
                 "result = f([Point(1, 2), Other(), Sub(0, 0), Point(0, 1)])", id="other-types-at-the-site"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n    return ps[0].x\n", WARM,
                 "Point.scale = lambda self, k: print('replaced', k)\nresult = f([Point(1, 2)])", id="method-replaced"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n    return ps[0].x\n", WARM,
                 "Point.scale.__code__ = (lambda self, k: print('code', k)).__code__\nresult = f([Point(1, 2)])",
                 id="method-code-replaced"),
    pytest.param(POINT + "ACT = False\ndef swap(p, k):\n    if ACT:\n        Point.scale = lambda self, k: print('swapped', k)\n"
                 "    return k\ndef f(ps):\n    for i, p in enumerate(ps):\n        p.scale(swap(p, 3) if i == 1 else 2)\n"
                 "    return [(p.x, p.y) for p in ps]\n", WARM,
                 "ACT = True\nresult = f([Point(1, 2), Point(3, 4), Point(5, 6)])", id="method-replaced-while-the-arguments-run"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n    return 0\n", WARM,
                 "Point.__getattribute__ = lambda self, n: (lambda k: print('getattribute', n, k))\n"
                 "result = f([Point(1, 2)])", id="getattribute-added"),
    pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(2)\n    return 0\n", WARM,
                 "Point.__getattr__ = lambda self, n: print('getattr', n)\nresult = f([Point(1, 2)])",
                 id="getattr-added"),
    pytest.param(POINT + "class Twin:\n    __slots__ = ('x', 'y')\n    def scale(self, k):\n        print('twin', k)\n"
                 "ACT = False\ndef turn(p):\n    if ACT:\n        p.__class__ = Twin\n    return 5\n"
                 "def f(ps):\n    for p in ps:\n        p.scale(turn(p))\n    return [type(p).__name__ for p in ps]\n", WARM,
                 "ACT = True\nresult = f([Point(1, 2), Point(3, 4)])", id="class-assigned-while-the-arguments-run"),
    pytest.param(POINT + "def f(ps):\n    return [p.norm() for p in ps]\n", WARM,
                 "result = f([Point('a', 'b')])", id="method-raises"),
    pytest.param(POINT + "def k(v):\n    print('argument', v)\n    return v\n"
                 "def f(ps):\n    for p in ps:\n        p.scale(k(len(ps)))\n    return ps[0].x\n", WARM,
                 "result = f([Point(1, 2), Point(2, 3)])", id="arguments-evaluated-once"),
]


@pytest.mark.parametrize("source, warmup, driver", BEHAVIOUR)
def test_same_behaviour(source, warmup, driver):
    assert_same(source, warmup, driver)


@pytest.mark.parametrize(
    "source, call",
    [
        pytest.param(POINT + "def f(ps):\n    return [p.norm() for p in ps]\n", "f([Point(1, 2), Point('a', 2)])", id="expression"),
        pytest.param(POINT + "def f(ps):\n    for p in ps:\n        p.scale(None)\n", "f([Point(1, 2)])", id="statement"),
    ],
)
def test_tracebacks_are_those_of_plain_python(source, call):
    assert_same(source, WARM, traceback_driver(call))
