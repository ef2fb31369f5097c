"""Simplify iterables: ``range()`` of constants iterated over by a ``for`` loop or a
comprehension becomes a constant tuple, guarded on ``range``.

``for i in range(3)`` → ``for i in (0, 1, 2)``, for ranges of at most ``Config.max_seq_len``
items. This is what lets such loops and comprehensions be unrolled. Lists of constants
(``for x in [1, 2]``, ``x in [1, 2]``) and sets in membership tests are already turned into tuples
and frozensets by CPython's compiler, so they are left to it (the unrolling passes accept them as
they are); a set iterated over is left alone (a tuple would iterate in another order).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.folding import constant_value, is_foldable_value, make_constant
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit, comprehension_targets
from fatopt.passes.call_pure_builtins import calls_trigger_builtin

__all__ = ["SimplifyIterable"]


class _Simplify(FunctionCodeTransformer):
    def simplify(self, node: ast.expr) -> ast.expr:
        config = self.unit.config
        if (
            type(node) is ast.Call and type(node.func) is ast.Name and node.func.id == "range"
            and not node.keywords and 1 <= len(node.args) <= 3
            and not self.is_shadowed("range") and self.unit.builtin("range")
        ):
            args = [constant_value(a) for a in node.args]
            if not all(type(a) is int for a in args):
                return node
            try:
                span = range(*args)
            except Exception:
                return node
            if len(span) > config.max_seq_len:
                return node
            value = tuple(span)
        else:
            return node
        if not is_foldable_value(value, config):
            return node
        self.unit.require(GuardBuiltins, "range")
        self.changed = True
        return make_constant(value, node)

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.iter = self.simplify(node.iter)
        return node

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.AST:
        node = super().visit_GeneratorExp(node)  # type: ignore[assignment]
        node.generators[0].iter = self.simplify(node.generators[0].iter)
        return node

    def _visit_comprehension(self, node: ast.AST) -> ast.AST:
        node = super()._visit_comprehension(node)
        first = node.generators[0]  # type: ignore[attr-defined]
        first.iter = self.simplify(first.iter)
        self.shadowed.append(comprehension_targets(node))  # later iterables run inside it
        try:
            for generator in node.generators[1:]:  # type: ignore[attr-defined]
                generator.iter = self.simplify(generator.iter)
        finally:
            self.shadowed.pop()
        return node

    visit_ListComp = _visit_comprehension  # type: ignore[assignment]
    visit_SetComp = _visit_comprehension  # type: ignore[assignment]
    visit_DictComp = _visit_comprehension  # type: ignore[assignment]


class SimplifyIterable(Pass):
    """Turn constant lists and ``range(consts)`` iterated over into tuples (range: guarded)."""

    name = "simplify_iterable"
    switch = "simplify_iterable"
    guarded = True

    makes = frozenset({"iterables"})

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            return calls_trigger_builtin(unit)
        return "range" in unit.loads

    def run(self, unit: Unit) -> bool:
        return _Simplify(unit).run_on(unit)
