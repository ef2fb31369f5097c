"""Loop unrolling: a ``for`` loop over a constant sequence of at most ``Config.unroll_loops``
items becomes one copy of its body per item.

``for x in (1, 2): f(x)`` → ``x = 1; f(1); x = 2; f(2)``. Each copy is preceded by the
assignment of the loop variable (so its final value, and what closures and debuggers see, are
unchanged) and reads the item as a constant when the body does not rebind the variable; the
``else`` clause follows the last copy. A body with ``break`` or ``continue`` is unrolled only when
that is statically resolvable: a single ``break`` as its last statement (only the first item runs,
the ``else`` never does) or a single ``continue`` as its last statement (it is dropped); any other
``break``/``continue`` leaves the loop alone. Bodies over ``MAX_BODY_NODES`` nodes are not copied.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.passes._iteration import constant_items, node_count, target_names
from fatopt.analyses.statements import loop_exits, names_bound_in
from fatopt.blocks import map_blocks
from fatopt.nodes import walk
from fatopt.passes._rewrite import Pass, Unit, clone
from fatopt.passes.propagate_constants import substitute

__all__ = ["UnrollLoops"]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


class UnrollLoops(Pass):
    """Unroll ``for`` loops over small constant sequences (unguarded)."""

    name = "unroll_loops"
    switch = "unroll_loops"
    #: bodies larger than this many AST nodes are not copied
    MAX_BODY_NODES = 200

    makes = frozenset({"constants"})

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            return "literal_iteration" in unit.hints
        return "for_loop" in unit.hints and (
            "literal_iteration" in unit.hints or not unit.made.isdisjoint(("iterables", "constants"))
        )

    def run(self, unit: Unit) -> bool:
        if isinstance(unit.node, ast.Lambda):
            return False
        self.unit = unit
        self.changed = False
        try:
            unit.node.body = self.block(unit.node.body, unit.node.body[0])
        finally:
            del self.unit  # the unit holds this pass (Unit.applied): no reference cycle
        return self.changed

    def block(self, stmts: list[ast.stmt], placeholder: ast.AST) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if isinstance(stmt, _SCOPES):
                out.append(stmt)
                continue
            map_blocks(stmt, lambda inner: self.block(inner, inner[0]))
            if type(stmt) is ast.For:
                unrolled = self.unroll(stmt)
                if unrolled is not None:
                    self.changed = True
                    out.extend(unrolled)
                    continue
            out.append(stmt)
        if not out:
            out.append(ast.copy_location(ast.Pass(), placeholder))
        return out

    def unroll(self, loop: ast.For) -> list[ast.stmt] | None:
        items = constant_items(loop.iter)
        if items is None or len(items) > self.unit.config.unroll_loops:
            return None
        names = target_names(loop.target)
        if names is None:
            return None
        body = loop.body
        exits = loop_exits(body)
        first_only = False
        if exits:
            last = body[-1]
            if len(exits) != 1 or exits[0] is not last:
                return None
            first_only = type(last) is ast.Break
            body = body[:-1]
        if node_count(body) > self.MAX_BODY_NODES:
            return None
        rebound = names_bound_in(body)
        propagate = type(loop.target) is ast.Name and loop.target.id not in rebound
        out: list[ast.stmt] = []
        for item in items:
            assign = ast.Assign(targets=[clone(loop.target)], value=ast.Constant(item))
            out.append(_located(assign, loop.target))
            copies = [clone(stmt) for stmt in body]
            if propagate:
                substitute(self.unit, copies, loop.target.id, item)  # type: ignore[union-attr]
            out.extend(copies)
            if first_only:
                return out
        out.extend(loop.orelse)
        return out


def _located(node: ast.stmt, like: ast.AST) -> ast.stmt:
    for sub in walk(node):
        if "lineno" in sub._attributes:
            ast.copy_location(sub, like)
    return node
