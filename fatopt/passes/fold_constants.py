"""Constant folding: operators applied to constants become their result.

Unary, binary, comparison and boolean operators, conditional expressions, subscripts and slices
of constant str/bytes/tuples (a tuple display of constants counts as a constant; the compiler
turns it into one itself). Folding goes through
:mod:`fatopt.folding`, so nothing that raises, warns or exceeds a limit is folded. No guard is
needed: the operators of constants cannot be redefined.

``x + (2 * 3)`` → ``x + 6``; ``"abc"[1:]`` → ``"bc"``; ``True and y`` → ``y``;
``1 / 0`` and ``2 ** 10**9`` are left alone.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.folding import (
    NOT_FOLDED,
    constant_value,
    make_constant,
    safe_binop,
    safe_compare,
    safe_subscript,
    safe_unary,
)
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit

__all__ = ["ConstantFolding", "ConstantFolder"]


class ConstantFolder(FunctionCodeTransformer):
    """Folds bottom-up: children first, then the node itself.

    A conditional expression or ``and``/``or`` whose position the code around it reports (an
    ``assert``'s test: the carets under its ``AssertionError``; an iterable: those under
    "object is not iterable") is folded only to a constant, which takes its position: an operand
    that is not a constant keeps its own position, for its own errors, so the two cannot be
    merged.
    """

    def __init__(self, unit: Unit) -> None:
        super().__init__(unit)
        #: ids of the expressions whose position is reported; found when first needed (rarely)
        self._reported: set[int] | None = None

    def _keeps_position(self, node: ast.expr, kept: ast.expr) -> bool:
        if type(kept) is ast.Constant:
            return False
        if self._reported is None:
            self._reported = _position_reported(self.unit.node)
        return id(node) in self._reported

    def _fold(self, node: ast.AST, value: object) -> ast.AST:
        if value is NOT_FOLDED:
            return node
        self.changed = True
        return make_constant(value, node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        node.operand = self.visit(node.operand)
        operand = constant_value(node.operand)
        if operand is NOT_FOLDED:
            return node
        return self._fold(node, safe_unary(node.op, operand, self.unit.config))

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node.left = self.visit(node.left)
        node.right = self.visit(node.right)
        left = constant_value(node.left)
        right = constant_value(node.right)
        if left is NOT_FOLDED or right is NOT_FOLDED:
            return node
        return self._fold(node, safe_binop(node.op, left, right, self.unit.config))

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        left = constant_value(node.left)
        comparators = [constant_value(c) for c in node.comparators]
        if left is NOT_FOLDED or any(c is NOT_FOLDED for c in comparators):
            return node
        return self._fold(node, safe_compare(left, node.ops, comparators, self.unit.config))

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        is_and = type(node.op) is ast.And
        values: list[ast.expr] = []
        for index, value_node in enumerate(node.values):
            value = constant_value(value_node)
            last = index == len(node.values) - 1
            if value is NOT_FOLDED or last:
                values.append(value_node)
                continue
            try:
                truth = bool(value)
            except Exception:
                values.append(value_node)
                continue
            if truth == is_and:
                continue  # `True and x` is x; `False or x` is x: the constant decides nothing
            values.append(value_node)  # `False and x` is False: what follows never runs
            break
        if len(values) == len(node.values):
            return node
        if len(values) == 1 and self._keeps_position(node, values[0]):
            return node
        self.changed = True
        if len(values) == 1:
            return _in_place_of(values[0], node)
        node.values = values
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        test = constant_value(node.test)
        if test is NOT_FOLDED:
            return node
        try:
            truth = bool(test)
        except Exception:
            return node
        kept = node.body if truth else node.orelse
        if self._keeps_position(node, kept):
            return node
        self.changed = True
        return _in_place_of(kept, node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if type(node.ctx) is not ast.Load:
            return node
        container = constant_value(node.value)
        if container is NOT_FOLDED:
            return node
        index = _index_value(node.slice)
        if index is NOT_FOLDED:
            return node
        return self._fold(node, safe_subscript(container, index, self.unit.config))


def _position_reported(function: ast.AST) -> set[int]:
    """ids of the expressions in ``function`` whose position the code around them reports:
    an ``assert``'s test, the iterable of a ``for`` or of a comprehension's ``for``."""
    found: set[int] = set()
    for node in ast.walk(function):
        kind = type(node)
        if kind is ast.Assert:
            found.add(id(node.test))  # type: ignore[attr-defined]
        elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
            found.add(id(node.iter))  # type: ignore[attr-defined]
    return found


def _in_place_of(kept: ast.expr, folded: ast.expr) -> ast.expr:
    """``kept``, the operand left of ``folded``: a literal takes ``folded``'s position, as the
    code around it reports that (an ``assert``'s carets span the whole test). An operand that
    can raise itself keeps its own position, which its own errors report."""
    if _is_literal(kept):
        ast.copy_location(kept, folded)
    return kept


def _is_literal(node: ast.expr) -> bool:
    """A constant, or a tuple or list display of literals (``()``, ``[1, (2,)]``): nothing in it
    can raise, so no error of its own reports its position."""
    kind = type(node)
    if kind is ast.Constant:
        return True
    return (kind is ast.Tuple or kind is ast.List) and all(_is_literal(e) for e in node.elts)  # type: ignore[attr-defined]


def _index_value(node: ast.expr) -> object:
    if type(node) is ast.Slice:
        parts = []
        for part in (node.lower, node.upper, node.step):
            if part is None:
                parts.append(None)
                continue
            value = constant_value(part)
            if value is NOT_FOLDED:
                return NOT_FOLDED
            parts.append(value)
        return slice(*parts)
    return constant_value(node)


class ConstantFolding(Pass):
    """Fold operators on constants (unguarded)."""

    name = "constant_folding"
    compiler_does_it = True
    switch = "constant_folding"

    def run(self, unit: Unit) -> bool:
        return ConstantFolder(unit).run_on(unit)
