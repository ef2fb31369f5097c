"""The ``dunders`` family has teeth: a type specializer that gets one of Python's rules wrong
makes some generated programs behave differently.

Each mutant below rewrites a generated module the way a faulty specializer might (``+``, ``-``
or ``*`` called as the left operand's dunder, the reflected dunder tried without the subclass-first rule,
``isinstance`` folded to an exact-type test, a method looked up on the class past an instance
attribute that shadows it); two of at most 80 generated modules must then print something
else than the plain program.
"""

from __future__ import annotations

import ast
import random
import re

import pytest

import fatopt
from tests.fuzz.generator import PROFILES, build
from tests.fuzz.runner import run_plain

pytestmark = pytest.mark.skipif(not fatopt.AVAILABLE, reason="the guard runtime needs CPython 3.12+")

#: helpers the mutants call instead of the operation they replace
HELPERS = '''
import operator as _m_operator

def _m_builtin(l, r, _sequences=(str, bytes, tuple, list)):
    # both operands builtins, or a sequence repeated (its own rules): the real operator (the
    # builtins it needs kept in a default: the program may patch them)
    return (type(l).__module__ == type(r).__module__ == 'builtins' or isinstance(l, _sequences)
            or isinstance(r, _sequences))

def _m_left_dunder(l, r, stem, symbol):
    if _m_builtin(l, r):
        return getattr(_m_operator, stem)(l, r)
    return getattr(type(l), '__' + stem + '__')(l, r)

def _m_no_subclass_first(l, r, stem, symbol):
    if _m_builtin(l, r):
        return getattr(_m_operator, stem)(l, r)
    forward = getattr(type(l), '__' + stem + '__', None)
    if forward is not None:
        result = forward(l, r)
        if result is not NotImplemented:
            return result
    reflected = getattr(type(r), '__r' + stem + '__', None)
    if reflected is not None and type(r) is not type(l):
        result = reflected(r, l)
        if result is not NotImplemented:
            return result
    raise TypeError("unsupported operand type(s) for %s: '%s' and '%s'" % (symbol, type(l).__name__, type(r).__name__))

def _m_exact_isinstance(obj, classes):
    if type(classes) is tuple:
        return type(obj) in classes
    return type(obj) is classes

def _m_class_method(obj, name, *args):
    return getattr(type(obj), name)(obj, *args)
'''

OPERATORS = {ast.Add: ("add", "+"), ast.Sub: ("sub", "-"), ast.Mult: ("mul", "*")}
METHOD_NAMES = {"norm", "total", "first", "mix", "shifted", "size", "has", "listing", "apply", "kind", "again"}


class _Mutant(ast.NodeTransformer):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        operator = OPERATORS.get(type(node.op))
        if self.kind in ("left_dunder", "no_subclass_first") and operator is not None:
            stem, symbol = operator
            return ast.Call(ast.Name(f"_m_{self.kind}", ast.Load()),
                            [node.left, node.right, ast.Constant(stem), ast.Constant(symbol)], [])
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if self.kind == "exact_isinstance" and isinstance(func, ast.Name) and func.id == "isinstance":
            return ast.Call(ast.Name("_m_exact_isinstance", ast.Load()), node.args, node.keywords)
        if (self.kind == "class_method" and isinstance(func, ast.Attribute) and func.attr in METHOD_NAMES
                and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args)):
            return ast.Call(ast.Name("_m_class_method", ast.Load()),
                            [func.value, ast.Constant(func.attr), *node.args], [])
        return node


def _rewritten(source: str, kind: str | None) -> str:
    """``source`` unparsed after the helpers (mutated if ``kind``): both versions printed alike,
    so that the line numbers they print only differ where the mutation changed behaviour."""
    tree = ast.parse(source)
    if kind is not None:
        tree = ast.fix_missing_locations(_Mutant(kind).visit(tree))
    return HELPERS + ast.unparse(tree) + "\n"


def _printed(source: str) -> str:
    """What the program prints, without the line an escaping exception came from (a helper
    the mutant calls has lines of its own)."""
    return re.sub(r" line \d+$", "", run_plain(source).stdout, flags=re.MULTILINE)


@pytest.mark.parametrize("kind", ["left_dunder", "no_subclass_first", "exact_isinstance", "class_method"])
def test_a_wrong_dispatch_rule_changes_what_some_program_prints(kind: str) -> None:
    rng = random.Random(kind)
    differing = 0
    tried = 0
    while tried < 80 and differing < 2:
        tried += 1
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(512, 2048)))
        source = build(data, PROFILES["dunders"])
        differing += _printed(_rewritten(source, None)) != _printed(_rewritten(source, kind))
    assert differing >= 2, f"no generated program tells the {kind} mutant from plain Python"


RECEIVERS = """\
class P:
    __slots__ = ('x',)
    def __init__(self, x):
        self.x = x
    def bump(self, k):
        self.x += k
        return self.x
class Q:
    def bump(self, k):
        return -k
out = []
for p in [P(1), P(2), Q(), P(3)]:
    out.append(p.bump(2))
def run(items):
    total = 0
    for p in items:
        total += p.bump(1)
    return total
print(out, run([P(1), P(5)]), run([Q(), P(0)]))
"""


def test_a_recorded_profile_reaches_the_optimizer(tmp_path, monkeypatch):
    # tools/fuzz.py --type-profile: the plain run recorded, the optimizer given the profile
    from tests.fuzz import runner

    monkeypatch.chdir(tmp_path)
    seen = []
    optimize = runner.optimize

    def spy(source, config=None, profile=None):
        tree, report, problems = optimize(source, config, profile)
        seen.append(ast.unparse(tree))
        return tree, report, problems

    monkeypatch.setattr(runner, "optimize", spy)
    result = runner.compare(RECEIVERS, type_profile=True)
    assert result.matches, result.describe()
    assert "or type(p) is not P" in seen[-1]  # specialize_receivers used the recorded receivers
    without = runner.compare(RECEIVERS)
    assert without.matches and "or type(p) is not P" not in seen[-1]
