"""Which locals are certainly bound at the statement being rewritten: shared by the passes that
wrap a statement in a handler and must know whether loading a local there can raise
``UnboundLocalError`` (fatopt.passes.inline_functions, fatopt.passes.eliminate_genexpr)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Callable

from fatopt.nodes import walk
from fatopt.passes._rewrite import FunctionCodeTransformer, Unit, code_scopes

__all__ = ["BoundLocalsTransformer", "TARGET_NODES", "target_names", "bound_by", "captured_locals", "deletable_locals"]

#: the nodes of an assignment target that only binds names
TARGET_NODES = (ast.Name, ast.Tuple, ast.List, ast.Starred, ast.Store)


def target_names(target: ast.AST) -> set[str]:
    """The names an assignment target binds."""
    return {node.id for node in walk(target) if type(node) is ast.Name}


def bound_by(stmt: ast.stmt) -> set[str]:
    """Names certainly bound once ``stmt`` completed normally (only simple statements count:
    what a compound statement binds may not have run)."""
    kind = type(stmt)
    if kind is ast.Assign:
        names: set[str] = set()
        for target in stmt.targets:  # type: ignore[attr-defined]
            if all(isinstance(node, TARGET_NODES) for node in walk(target)):
                names |= target_names(target)
        return names
    if kind is ast.AnnAssign and stmt.value is not None and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
        return {stmt.target.id}  # type: ignore[attr-defined]
    if kind is ast.AugAssign and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
        return {stmt.target.id}  # type: ignore[attr-defined]
    if kind in (ast.Import, ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in stmt.names if alias.name != "*"}  # type: ignore[attr-defined]
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return {stmt.name}  # type: ignore[attr-defined]
    return set()


def captured_locals(unit: Unit) -> set[str]:
    """Locals of the function that a nested function or class may read or rebind (loading one
    later may not give what loading it now gives)."""
    own = {id(s) for s in code_scopes(unit.scope)}
    captured: set[str] = set()
    for scope in unit.scope.walk():
        if id(scope) not in own:
            captured |= scope.loads | set(scope.bindings) | scope.declared_nonlocal
    return captured


def deletable_locals(unit: Unit) -> set[str]:
    """Names a ``del`` of the function (or of a scope inside it) may unbind."""
    deleted: set[str] = set()
    for scope in unit.scope.walk():
        deleted |= scope.deleted
    return deleted


class BoundLocalsTransformer(FunctionCodeTransformer):
    """A transformer that tracks, block by block, the locals certainly bound at the statement
    being visited (``_certainly_bound``). Subclasses rewrite each statement of a block in
    ``_statement`` and may count more statements as binding in ``_bound_by``."""

    def __init__(self, unit: Unit) -> None:
        super().__init__(unit)
        #: locals a ``del`` may unbind again
        self.deletable = deletable_locals(unit)
        args = unit.node.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        #: per enclosing block: the locals certainly bound at the statement being visited
        self.bound: list[set[str]] = [params]

    def _statement(self, stmt: ast.stmt) -> ast.stmt:
        """``stmt`` rewritten (one statement of a block)."""
        raise NotImplementedError

    def _bound_by(self, stmt: ast.stmt) -> set[str]:
        return bound_by(stmt)

    def visit_statements(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        return self._block(stmts, self._statement)

    def _block(self, stmts: list[ast.stmt], rewrite: Callable[[ast.stmt], ast.stmt]) -> list[ast.stmt]:
        """``stmts`` rewritten one by one as a block: each sees what those before it bound."""
        out: list[ast.stmt] = []
        self.bound.append(set())
        try:
            for stmt in stmts:
                out.append(rewrite(stmt))
                self.bound[-1] |= self._bound_by(stmt)
        finally:
            self.bound.pop()
        return out

    def _in_block(self, names: set[str], stmts: list[ast.stmt]) -> list[ast.stmt]:
        self.bound.append(names)
        try:
            return self.visit_statements(stmts)
        finally:
            self.bound.pop()

    def visit_For(self, node: ast.For) -> ast.AST:
        node.iter = self.visit(node.iter)
        node.body = self._in_block(target_names(node.target), node.body)
        node.orelse = self.visit_statements(node.orelse)
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        names: set[str] = set()
        for item in node.items:
            item.context_expr = self.visit(item.context_expr)
            if item.optional_vars is not None:
                names |= target_names(item.optional_vars)
        node.body = self._in_block(names, node.body)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.type is not None:
            node.type = self.visit(node.type)
        node.body = self._in_block({node.name} if node.name else set(), node.body)
        return node

    def _certainly_bound(self, name: str) -> bool:
        return name not in self.deletable and any(name in names for names in self.bound)
