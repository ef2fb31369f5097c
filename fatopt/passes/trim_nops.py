"""Statements of inlined code that compile to a ``NOP`` the interpreter executes: the ``try`` that
wraps inlined code, at the line of the call, and a ``pass`` beside other statements in it (left
where a pass removed a call). CPython keeps a ``NOP`` that starts a new line (for line events)
and removes one whose line is that of the instruction next to it; 3.13 executes each kept one as
an instruction of its own, which a statement's worth of inlined arithmetic does not hide (issue
17: raytrace's ``intersectionTime`` ran some 36,000 of them per 20x20 image, 2.3% of the
instructions it dispatched)::

    try:                               # line 144     try:                               # line 115
        if other.isPoint():            # line 115         if other.isPoint():            # line 115
            pass                                  ->          _f_2 = cp.x * cp.x + ...
            _f_2 = cp.x * cp.x + ...
    except:                                           except:
        inlined_raised(...)                               inlined_raised(...)
        raise                                             raise

The ``try`` takes the position of its first statement (inner wrappers first), so its ``NOP``
shares that statement's line; the ``pass`` goes. Only fatopt's wrappers
(``inline_functions._is_wrapper``) are changed: a ``try``'s own line is never in a traceback (its
``NOP`` cannot raise) and the handler keeps its position, so exceptions, tracebacks and the
handler's work are those of the code before; a line tracer no longer sees the call's line before
the inlined lines (docs/semantics.md: line events of inlined code are the outer frame's).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes.inline_functions import _blocks, _is_wrapper

__all__ = ["TrimNops"]

_POSITION = ("lineno", "col_offset", "end_lineno", "end_col_offset")


#: expression kind -> the field evaluated first (its first instruction is that operand's)
_FIRST_OPERAND = {
    ast.BinOp: "left", ast.Compare: "left", ast.Call: "func", ast.Attribute: "value",
    ast.Subscript: "value", ast.UnaryOp: "operand",
}
#: statement kind -> the field evaluated first
_FIRST_OF_STATEMENT = {
    ast.Assign: "value", ast.Expr: "value", ast.Return: "value", ast.If: "test", ast.For: "iter",
}


def _first_evaluated(stmt: ast.stmt) -> ast.AST:
    """The node whose position the first instruction of ``stmt`` has, as far as it is plain: in
    ``t = a.x * b.x`` (``t`` at the call's line, the value at the callee's), the load of ``a``."""
    node: ast.AST = stmt
    field = _FIRST_OF_STATEMENT.get(type(node))  # type: ignore[call-overload]
    if field is not None and getattr(node, field) is not None:
        node = getattr(node, field)
        while type(node) in _FIRST_OPERAND or type(node) is ast.BoolOp:
            node = node.values[0] if type(node) is ast.BoolOp else getattr(node, _FIRST_OPERAND[type(node)])  # type: ignore[attr-defined,index]
    return node


class _Trimmer:
    def __init__(self) -> None:
        self.changed = False

    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            for inner in _blocks(stmt):
                self.block(inner)
            if _is_wrapper(stmt):
                self.wrapper(stmt)  # type: ignore[arg-type]

    def wrapper(self, node: ast.Try) -> None:
        body = [s for s in node.body if type(s) is not ast.Pass]
        if body and len(body) < len(node.body):
            node.body = body
            self.changed = True
        first = _first_evaluated(node.body[0])
        if any(getattr(node, key) != getattr(first, key) for key in _POSITION):
            for key in _POSITION:
                setattr(node, key, getattr(first, key))
            self.changed = True


class TrimNops(Pass):
    """Inlined code's wrappers and ``pass`` statements compile to no executed ``NOP``."""

    name = "trim_nops"
    switch = "trim_nops"
    runs_last = True

    def may_apply(self, unit: Unit) -> bool:
        # wrappers exist only where a pass changed the function
        return unit.started and bool(unit.applied)

    def run(self, unit: Unit) -> bool:
        trimmer = _Trimmer()
        trimmer.block(unit.node.body)  # type: ignore[attr-defined]
        return trimmer.changed
