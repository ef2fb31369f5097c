"""Constant propagation of locals: a local assigned a constant exactly once, by a statement at
the top level of the function body (not inside a conditional, loop, ``try`` or ``with``), is
replaced by its value in the statements that follow.

``n = 4`` then ``return n * 2`` → ``return 4 * 2`` (then folded to ``8``). The assignment stays,
so the local still exists for debuggers and ``locals()``-free introspection. A local bound
anywhere else (another assignment, ``+=``, ``del``, ``for``/``with``/``except`` target, import, a
nested ``nonlocal`` write, a parameter) is not propagated. No guard: locals are private to the
frame.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Any

from fatopt.folding import NOT_FOLDED, constant_value, is_foldable_value, make_constant
from fatopt.analyses.statements import LocalBindings
from fatopt.nodes import walk
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit

__all__ = ["ConstantPropagation", "substitute"]


class _Substitute(FunctionCodeTransformer):
    def __init__(self, unit: Unit, name: str, value: Any) -> None:
        super().__init__(unit)
        self.name = name
        self.value = value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id == self.name and type(node.ctx) is ast.Load and not self.is_shadowed(node.id):
            self.changed = True
            return make_constant(self.value, node)
        return node


def substitute(unit: Unit, stmts: list[ast.stmt], name: str, value: Any) -> bool:
    """Replace loads of the local ``name`` by ``value`` in ``stmts`` (function code only)."""
    transformer = _Substitute(unit, name, value)
    stmts[:] = transformer.visit_statements(stmts)
    return transformer.changed


class ConstantPropagation(Pass):
    """Propagate locals assigned a constant once (unguarded)."""

    name = "constant_propagation"
    switch = "constant_propagation"
    enables_only = True
    makes = frozenset({"constants", "locals_propagated"})
    requires = (LocalBindings,)

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            # a top-level `name = <constant>` of a local bound once and read somewhere
            scope = unit.scope
            return any(
                type(stmt) is ast.Assign and type(stmt.value) is ast.Constant
                and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name
                and scope.bindings.get(stmt.targets[0].id) == 1 and stmt.targets[0].id in unit.loads
                for stmt in unit.body
            )
        return any(
            type(stmt) is ast.Assign and type(stmt.value) is ast.Constant for stmt in unit.body
        )

    def run(self, unit: Unit) -> bool:
        node = unit.node
        if isinstance(node, ast.Lambda):
            return False
        scope = unit.scope
        # read only once a statement qualifies: most runs meet none, and a binding count walks
        # the whole function
        params: set[str] | None = None
        counts: dict[str, int] | None = None
        changed = False
        for index, stmt in enumerate(node.body):
            if not (type(stmt) is ast.Assign and len(stmt.targets) == 1):
                continue
            target = stmt.targets[0]
            if type(target) is not ast.Name:
                continue
            name = target.id
            if name in scope.declared_global or name in scope.declared_nonlocal or name in scope.deleted:
                continue
            value = constant_value(stmt.value)
            if value is NOT_FOLDED or not is_foldable_value(value, unit.config):
                continue
            if counts is None:
                counts = unit.fact(LocalBindings)
                params = {a.arg for a in walk(node.args) if type(a) is ast.arg}
            if counts.get(name) != 1 or name in params:  # type: ignore[operator]
                continue
            rest = node.body[index + 1:]
            if substitute(unit, rest, name, value):
                node.body[index + 1:] = rest
                changed = True
        return changed
