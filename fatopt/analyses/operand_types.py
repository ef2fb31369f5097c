"""Which binary operations ``a OP b`` of a function had operands whose exact classes a recorded
type profile names, both classes of this module, so that the operation, under ``type(a) is C``
and ``type(b) is D`` checks at the site, can call the operator's dunder directly
(``C.__sub__(a, b)``, or ``D.__rsub__(b, a)``) instead of going through the operator's dispatch.

``fatopt profile`` records, at each operation of a def, the exact types of its left and right
operands when a Python dunder of one of them ran it
(:meth:`fatopt.profile.Profile.operand_types_for_binop`). An operation qualifies when its most
frequent recorded pair names, for both operands, a plain top-level class of this module
(:func:`fatopt.analyses.method_callees.plain_class`) that the function reaches by its global
name. Unlike :mod:`fatopt.analyses.receiver_types`, no ``__slots__`` is required: an operator's
dunder is looked up on the type, never on the instance, so an instance ``__dict__`` cannot hide
it. A class of another module with the same name, or any other object, only fails the checks.

Operations are named by the end (line, column) of their ``ast.BinOp``. Two operations can end at
one place when the right operand is itself an operation without parentheses (``p + v * k``):
such a place names neither, as a key would not tell them apart.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import os
from typing import TYPE_CHECKING

from fatopt.analyses.exact_types import _class_here
from fatopt.analyses.manager import Analysis
from fatopt.nodes import walk

if TYPE_CHECKING:
    from fatopt.passes._rewrite import Unit

__all__ = ["OperandTypes", "operand_classes"]


def operand_classes(unit: Unit) -> dict[tuple[int, int], tuple[str, str]]:
    """(end line, end column) of an operation ``a OP b`` -> the classes its left and right
    operands had, for the qualifying operations of the function of ``unit`` (see the module
    docstring)."""
    module = unit.module
    node = unit.node
    profile = getattr(module, "profile", None)
    if profile is None or type(node) not in (ast.FunctionDef, ast.AsyncFunctionDef):
        return {}
    text = module.def_source(node)
    if text is None:
        return {}
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    filename = os.path.abspath(module.filename)
    operations = [op for op in walk(node) if type(op) is ast.BinOp]
    shared = _shared_ends(operations)
    out: dict[tuple[int, int], tuple[str, str]] = {}
    for op in operations:
        key = (op.end_lineno, op.end_col_offset)
        if key in shared:
            continue
        pairs = profile.operand_types_for_binop(filename, unit.qualname, first, text, *key,
                                                operator=type(op.op).__name__)
        if not pairs:
            continue
        left, right = (_class_here(unit, t.qualname) for t in pairs[0])
        if left is not None and right is not None:
            out[key] = (left, right)  # type: ignore[index]
    return out


def _shared_ends(operations: list[ast.BinOp]) -> set[tuple[int | None, int | None]]:
    """The ends (line, column) of more than one of ``operations`` (``p + v * k``: both end at
    ``k``)."""
    seen: set[tuple[int | None, int | None]] = set()
    shared = set()
    for op in operations:
        key = (op.end_lineno, op.end_col_offset)
        if key in seen:
            shared.add(key)
        seen.add(key)
    return shared


class OperandTypes(Analysis["dict[tuple[int, int], tuple[str, str]]"]):
    """:func:`operand_classes` of a function unit (stable: operations keep their positions)."""

    stable = True

    @classmethod
    def compute(cls, unit: Unit) -> dict[tuple[int, int], tuple[str, str]]:  # type: ignore[override]
        return operand_classes(unit)
