"""Dead code elimination: statements that can never run are removed.

Code after ``return``/``raise``/``break``/``continue`` in the same block; the branch of an ``if``
whose test is a constant; a ``while`` whose test is false (its ``else`` runs). A dead block is
kept when removing it would change what the function *is* (``yield``/``await`` make it a
generator/coroutine, ``global``/``nonlocal`` change scoping) or hide a syntax error the compiler
would report (``break`` outside a loop); locals that only a removed block bound are kept local by
the emitter (:mod:`fatopt.emit`). Lines of the statements that remain do not change.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.folding import NOT_FOLDED, constant_value
from fatopt.analyses.statements import deletable
from fatopt.passes._rewrite import Pass, Unit

__all__ = ["RemoveDeadCode"]

_TERMINAL = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def _truth(node: ast.expr) -> bool | None:
    value = constant_value(node)
    if value is NOT_FOLDED:
        return None
    try:
        return bool(value)
    except Exception:
        return None


class _Remover:
    def __init__(self) -> None:
        self.changed = False

    def block(self, stmts: list[ast.stmt], in_loop: bool, placeholder: ast.stmt) -> list[ast.stmt]:
        """The live statements of a block (never empty: ``pass`` stands in for an empty one)."""
        out: list[ast.stmt] = []
        for index, stmt in enumerate(stmts):
            replacement = self.statement(stmt, in_loop)
            out.extend(replacement)
            if replacement and isinstance(replacement[-1], _TERMINAL):
                rest = stmts[index + 1:]
                if rest and deletable(rest, in_loop):
                    self.changed = True
                    break
                out.extend(self.block(rest, in_loop, placeholder) if rest else [])
                break
        if not out:
            out = [ast.copy_location(ast.Pass(), placeholder)]
        return out

    def statement(self, stmt: ast.stmt, in_loop: bool) -> list[ast.stmt]:
        kind = type(stmt)
        if kind is ast.If:
            truth = _truth(stmt.test)
            if truth is not None:
                live, dead = (stmt.body, stmt.orelse) if truth else (stmt.orelse, stmt.body)
                if deletable(dead, in_loop):
                    self.changed = True
                    return self.block(live, in_loop, stmt) if live else []
            stmt.body = self.block(stmt.body, in_loop, stmt)
            if stmt.orelse:
                stmt.orelse = self.block(stmt.orelse, in_loop, stmt.orelse[0])
            return [stmt]
        if kind is ast.While:
            if _truth(stmt.test) is False and deletable(stmt.body, True):
                self.changed = True
                return self.block(stmt.orelse, in_loop, stmt) if stmt.orelse else []
            stmt.body = self.block(stmt.body, True, stmt)
            if stmt.orelse:
                stmt.orelse = self.block(stmt.orelse, in_loop, stmt.orelse[0])
            return [stmt]
        if kind in (ast.For, ast.AsyncFor):
            stmt.body = self.block(stmt.body, True, stmt)
            if stmt.orelse:
                stmt.orelse = self.block(stmt.orelse, in_loop, stmt.orelse[0])
            return [stmt]
        if kind in (ast.With, ast.AsyncWith):
            stmt.body = self.block(stmt.body, in_loop, stmt)
            return [stmt]
        if kind in (ast.Try, getattr(ast, "TryStar", ast.Try)):
            stmt.body = self.block(stmt.body, in_loop, stmt)
            for handler in stmt.handlers:
                handler.body = self.block(handler.body, in_loop, handler)
            if stmt.orelse:
                stmt.orelse = self.block(stmt.orelse, in_loop, stmt.orelse[0])
            if stmt.finalbody:
                stmt.finalbody = self.block(stmt.finalbody, in_loop, stmt.finalbody[0])
            return [stmt]
        if kind is ast.Match:
            for case in stmt.cases:
                case.body = self.block(case.body, in_loop, case.body[0])
            return [stmt]
        return [stmt]


class RemoveDeadCode(Pass):
    """Remove statements that can never run (unguarded by itself; it acts on what guarded passes
    made constant)."""

    name = "remove_dead_code"
    compiler_does_it = True
    switch = "remove_dead_code"

    def run(self, unit: Unit) -> bool:
        if isinstance(unit.node, ast.Lambda):
            return False
        remover = _Remover()
        node = unit.node
        node.body = remover.block(node.body, False, node.body[0])
        return remover.changed
