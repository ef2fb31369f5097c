"""Results of inlined code forwarded into the statement that uses them: a linearized site is a
statement of its own, ``t = C.m(...)``, whose inlined body ends ``t = X``; the next statement
reads ``t`` once. Where nothing that statement evaluates before reading ``t`` can run code or
raise (fatopt's own temporaries, constants), ``X`` takes ``t``'s place there and the statement
moves into the inlined body's ``try`` (issue 17: scimark SOR's ``_idx`` result, 3.13: a store
and a load less a site)::

    try:                                        try:
        if 0 <= x < G.width ...:                    if 0 <= x < G.width ...:
            pass                                        pass
        else:                           ->          else:
            raise IndexError                            raise IndexError
        t2 = y * G.width + x                        t3 = t1[y * G.width + x]
    except: inlined_raised('_idx', (16, 19))    except: inlined_raised('_idx', (16, 19))
    t3 = t1[t2]

Exactness: ``X`` is evaluated after the loads that came before ``t``'s read, which can neither
run code nor raise, so every operation with an effect keeps its order. Inside the ``try``, an
exception the moved statement raises itself is at a line outside the callee's (checked), which
the handler leaves alone, as the runtime's ``inlined_raised`` does for any line of the caller.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.nodes import walk
from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes.inline_functions import _TEMPORARY_PREFIXES, _is_wrapper

__all__ = ["ForwardInlinedResults"]

#: what ``_reads_first`` answers when an operation that may run code (or raise) comes first
_BLOCKED = "blocked"


def _lines(node: ast.expr) -> tuple[int, int] | None:
    """The handler's ``(FIRST, LAST)`` (a constant as emitted, or a tuple display)."""
    if type(node) is ast.Constant and isinstance(node.value, tuple):
        return node.value  # type: ignore[return-value]
    if type(node) is ast.Tuple and all(type(e) is ast.Constant and type(e.value) is int for e in node.elts):
        return tuple(e.value for e in node.elts)  # type: ignore[attr-defined,return-value]
    return None


class _Forward:
    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.loads: dict[str, int] = {}
        self.stores: dict[str, int] = {}
        for n in walk(unit.node):
            if type(n) is ast.Name:
                counts = self.loads if type(n.ctx) is ast.Load else self.stores
                counts[n.id] = counts.get(n.id, 0) + 1
        self.changed = 0

    def _temporary(self, name: str) -> bool:
        return name.startswith(_TEMPORARY_PREFIXES) and name not in self.unit.scope.loads

    def _reads_first(self, node: ast.AST | None, name: str) -> bool | str:
        """Whether evaluating ``node`` reads ``name`` before anything that may run code or
        raise: True, False (``name`` not read, nothing runs), or ``_BLOCKED``."""
        if node is None:
            return False
        kind = type(node)
        if kind is ast.Name:
            if node.id == name:  # type: ignore[attr-defined]
                return True
            return False if self._temporary(node.id) else _BLOCKED  # type: ignore[attr-defined]
        if kind is ast.Constant:
            return False
        if kind is ast.Subscript:  # the container, the index, then the operation
            for part in (node.value, node.slice):  # type: ignore[attr-defined]
                found = self._reads_first(part, name)
                if found is not False:
                    return found
            return _BLOCKED
        if kind is ast.BinOp:  # the operands, then the operation
            for part in (node.left, node.right):  # type: ignore[attr-defined]
                found = self._reads_first(part, name)
                if found is not False:
                    return found
            return _BLOCKED
        if kind is ast.Tuple and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
            for part in node.elts:  # type: ignore[attr-defined]
                found = self._reads_first(part, name)
                if found is not False:
                    return found
            return False  # (building a tuple runs no code)
        return _BLOCKED

    def _statement_reads_first(self, stmt: ast.stmt, name: str) -> bool:
        """``stmt`` (``a = ...`` or ``a[i] = ...``) reads ``name`` before anything runs."""
        if type(stmt) is not ast.Assign or len(stmt.targets) != 1:  # type: ignore[attr-defined]
            return False
        found = self._reads_first(stmt.value, name)  # type: ignore[attr-defined]
        if found is not False:
            return found is True
        target = stmt.targets[0]  # type: ignore[attr-defined]
        if type(target) is ast.Subscript:  # the container, then the index, then the store
            found = self._reads_first(target.value, name)
            if found is False:
                found = self._reads_first(target.slice, name)
            return found is True
        return False

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        for stmt in stmts:
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if type(inner) is list and inner and isinstance(inner[0], ast.stmt):
                    setattr(stmt, field, self.block(inner))
            for handler in getattr(stmt, "handlers", ()):
                handler.body = self.block(handler.body)
        out: list[ast.stmt] = []
        index = 0
        while index < len(stmts):
            stmt = stmts[index]
            following = stmts[index + 1] if index + 1 < len(stmts) else None
            if following is not None and self._forward(stmt, following):
                out.append(stmt)
                index += 2
                continue
            out.append(stmt)
            index += 1
        return out

    def _forward(self, wrapper: ast.stmt, following: ast.stmt) -> bool:
        """Move ``following`` into ``wrapper``'s body, its read of the result replaced."""
        if not _is_wrapper(wrapper):
            return False
        last = wrapper.body[-1]  # type: ignore[attr-defined]
        if type(last) is not ast.Assign or len(last.targets) != 1 or type(last.targets[0]) is not ast.Name:
            return False
        name = last.targets[0].id
        if not self._temporary(name) or self.stores.get(name) != 1 or self.loads.get(name) != 1:
            return False
        if not self._statement_reads_first(following, name):
            return False
        # the handler tells the callee's exceptions by their line: the moved statement's own
        # operations must be at lines outside every callee range it holds
        ranges = [_lines(call.value.args[1]) for call in wrapper.handlers[0].body  # type: ignore[attr-defined]
                  if type(call) is ast.Expr]
        if any(r is None for r in ranges):
            return False
        value = last.value
        lines = {n.lineno for n in walk(following) if isinstance(n, (ast.expr, ast.stmt)) and hasattr(n, "lineno")}
        if any(first <= line <= last_line for first, last_line in ranges for line in lines):  # type: ignore[misc]
            return False

        class Substitute(ast.NodeTransformer):
            def visit_Name(self, node: ast.Name) -> ast.AST:
                return value if node.id == name and type(node.ctx) is ast.Load else node

        wrapper.body[-1] = Substitute().visit(following)  # type: ignore[attr-defined]
        self.changed += 1
        return True


class ForwardInlinedResults(Pass):
    """A linearized site's result, assigned last by its inlined body, goes straight into the
    statement that reads it next."""

    name = "forward_inlined_results"
    switch = "forward_inlined_results"

    def may_apply(self, unit: Unit) -> bool:
        return unit.started and "type_specialized" in unit.made

    def run(self, unit: Unit) -> bool:
        forward = _Forward(unit)
        unit.node.body = forward.block(unit.node.body)  # type: ignore[attr-defined]
        return forward.changed > 0
