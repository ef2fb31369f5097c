"""The ``dunders`` family has teeth: a type specializer that gets one of Python's rules wrong
makes some generated programs behave differently.

Each mutant below rewrites a generated module the way a faulty specializer might (an operator
called as the left operand's dunder, the reflected dunder tried without the subclass-first rule,
``isinstance`` folded to an exact-type test, a method looked up on the class past an instance
attribute that shadows it); two of at most 80 generated modules must then print something
else than the plain program.
"""

from __future__ import annotations

import ast
import random

import pytest

import fatopt
from tests.fuzz.generator import PROFILES, build
from tests.fuzz.runner import run_plain

pytestmark = pytest.mark.skipif(not fatopt.AVAILABLE, reason="the guard runtime needs CPython 3.12+")

#: helpers the mutants call instead of the operation they replace
HELPERS = '''
def _m_left_dunder(l, r):
    return type(l).__add__(l, r)

def _m_no_subclass_first(l, r):
    forward = getattr(type(l), '__add__', None)
    if forward is not None:
        result = forward(l, r)
        if result is not NotImplemented:
            return result
    reflected = getattr(type(r), '__radd__', None)
    if reflected is not None and type(r) is not type(l):
        result = reflected(r, l)
        if result is not NotImplemented:
            return result
    raise TypeError("unsupported operand type(s) for +: '%s' and '%s'" % (type(l).__name__, type(r).__name__))

def _m_exact_isinstance(obj, classes):
    if type(classes) is tuple:
        return type(obj) in classes
    return type(obj) is classes

def _m_class_method(obj, name, *args):
    return getattr(type(obj), name)(obj, *args)
'''

METHOD_NAMES = {"norm", "total", "first", "mix", "shifted", "size", "has", "listing", "apply", "kind", "again"}


class _Mutant(ast.NodeTransformer):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if self.kind in ("left_dunder", "no_subclass_first") and isinstance(node.op, ast.Add):
            return ast.Call(ast.Name(f"_m_{self.kind}", ast.Load()), [node.left, node.right], [])
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


@pytest.mark.parametrize("kind", ["left_dunder", "no_subclass_first", "exact_isinstance", "class_method"])
def test_a_wrong_dispatch_rule_changes_what_some_program_prints(kind: str) -> None:
    rng = random.Random(kind)
    differing = 0
    tried = 0
    while tried < 80 and differing < 2:
        tried += 1
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(512, 2048)))
        source = build(data, PROFILES["dunders"])
        differing += run_plain(_rewritten(source, None)).stdout != run_plain(_rewritten(source, kind)).stdout
    assert differing >= 2, f"no generated program tells the {kind} mutant from plain Python"
