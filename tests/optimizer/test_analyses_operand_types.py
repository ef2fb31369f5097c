"""Operand types (fatopt/analyses/operand_types.py): which operations ``a OP b`` of a function a
recorded profile saw with operands of two classes of the module, by the end of the operation.

The profile is recorded in this process from a run of the module (what ``fatopt profile``
writes), the module unit built with it as the optimizer builds one."""

from __future__ import annotations

import ast
import json
import os
import tempfile

from fatopt.analyses.module_facts import FactsOfModule
from fatopt.analyses.operand_types import OperandTypes, operand_classes
from fatopt.analyses.scopes import ScopesOfModule
from fatopt.config import Config
from fatopt.module_unit import ModuleUnit
from fatopt.passes._rewrite import Unit, clone
from fatopt.profile import load
from tests.optimizer._diff import source_file
from tests.test_profile_use import _record

SOURCE = """\
class V:
    def __init__(self, x):
        self.x = x
    def __sub__(self, other):
        return V(self.x - other.x)
    def __mul__(self, other):
        return V(self.x * other.x)
    def __radd__(self, other):
        return V(self.x)

class W(V):
    pass

class Plain:
    pass

def f(p, q, n):
    a = p - q
    b = 1 + p
    c = n - n
    d = Plain() + q
    e = p - q * q
    g = p - (q * p)
    return a, b, c, d, e, g

def shadowed(p, q):
    V = W = None
    return q - p, V, W
"""

RUN = """\
for _ in range(3):
    f(V(1), W(2), 3)
f(W(1), W(2), 3)
shadowed(V(1), W(2))
"""


def _end(source: str, text: str) -> tuple[int, int]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and ast.get_source_segment(source, node) == text:
            return node.end_lineno, node.end_col_offset
    raise LookupError(text)


def _unit(source: str, path: str, name: str, profile, text: str | None = None) -> Unit:
    """The unit of the function ``name`` of the module at ``path``, made as the optimizer makes
    it, with ``profile``; ``text`` is the source the module unit has (``source`` by default)."""
    tree = ast.parse(source, path)
    module = ModuleUnit(tree, path, Config.default(), source=source if text is None else text, profile=profile)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    return Unit(clone(node), module.fact(ScopesOfModule).scope_of(node), module.fact(FactsOfModule), module.config,
                name, module)


def _recorded(source: str):
    source, path = source_file(source)
    fd, profile_path = tempfile.mkstemp(suffix=".profile")
    with os.fdopen(fd, "w") as f:
        json.dump(_record(path, source, RUN), f)
    try:
        return source, path, load(profile_path)
    finally:
        os.unlink(profile_path)


def test_operations_of_two_module_classes_are_named_by_their_end():
    source, path, profile = _recorded(SOURCE)
    unit = _unit(source, path, "f", profile)
    assert operand_classes(unit) == {
        _end(source, "p - q"): ("V", "W"),  # the most frequent pair: (V, W) 3 times, (W, W) once
        _end(source, "Plain() + q"): ("Plain", "W"),  # W's __radd__ (V's) ran it: still (left, right)
        _end(source, "p - (q * p)"): ("V", "V"),  # (V.__mul__ makes a V)
        _end(source, "q * p"): ("W", "V"),
    }
    # left out: `1 + p` (int is no class of the module), `n - n` (ints: nothing recorded), and
    # `p - q * q` below
    assert unit.fact(OperandTypes) == operand_classes(unit)


def test_where_two_operations_end_neither_is_named():
    source, path, profile = _recorded(SOURCE)
    unit = _unit(source, path, "f", profile)
    end = _end(source, "p - q * q")  # the subtraction and the multiplication both end at the last q
    assert end not in operand_classes(unit)
    # (both were recorded, and both name classes of the module)
    first = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "f").lineno
    text = unit.module.def_source(unit.node)
    assert [[(left.qualname, right.qualname) for left, right in profile.operand_types_for_binop(
        path, "f", first, text, *end, operator=operator)] for operator in ("Sub", "Mult")] == [
        [("V", "V"), ("W", "V")], [("W", "W")],
    ]


def test_a_class_name_the_function_rebinds_is_not_reached():
    source, path, profile = _recorded(SOURCE)
    unit = _unit(source, path, "shadowed", profile)
    first = unit.node.lineno
    found = profile.operand_types_for_binop(path, "shadowed", first, unit.module.def_source(unit.node),
                                            *_end(source, "q - p"))
    assert [(left.qualname, right.qualname) for left, right in found] == [("W", "V")]  # recorded, but
    assert operand_classes(unit) == {}  # V and W are the function's locals there


def test_an_edited_def_or_no_profile_names_nothing():
    source, path, profile = _recorded(SOURCE)
    edited = source.replace("c = n - n", "c = n + n")
    assert operand_classes(_unit(source, path, "f", profile, text=edited)) == {}
    assert operand_classes(_unit(source, path, "f", None)) == {}
