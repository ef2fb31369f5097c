"""Comprehension unrolling: a list, set or dict comprehension over a constant sequence of at
most ``Config.unroll_comprehensions`` items becomes a display.

``[x * 2 for x in (1, 2, 3)]`` → ``[1 * 2, 2 * 2, 3 * 2]`` (then folded to ``[2, 4, 6]``);
``{k: len(k) for k in ("a", "bc")}`` → ``{"a": len("a"), "bc": len("bc")}``. Only a single
non-async ``for`` with a target made of names; ``if`` clauses must fold to constants once the item
is known. Elements containing lambdas, nested comprehensions, ``:=``, ``yield`` or ``await`` are
left alone (closures would capture a different variable). Generator expressions are lazy and never
unrolled; an empty set comprehension is kept (there is no empty set display). A set's elements
and a dict's keys must fold to hashable constants: a comprehension hashes each as it is made, a
display all at the end, and an unhashable one is reported at another position.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.purity import contains
from fatopt.folding import NOT_FOLDED, constant_value
from fatopt.passes._iteration import bind_target, constant_items, replace_names
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit
from fatopt.passes.fold_constants import ConstantFolder

__all__ = ["UnrollComprehensions"]

_FORBIDDEN = (
    ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
    ast.Yield, ast.YieldFrom, ast.Await,
)


class _Unroll(FunctionCodeTransformer):
    def _visit_comprehension(self, node: ast.AST) -> ast.AST:
        node = super()._visit_comprehension(node)
        unrolled = self.unroll(node)
        if unrolled is None:
            return node
        self.changed = True
        return ast.copy_location(unrolled, node)

    visit_ListComp = _visit_comprehension  # type: ignore[assignment]
    visit_SetComp = _visit_comprehension  # type: ignore[assignment]
    visit_DictComp = _visit_comprehension  # type: ignore[assignment]

    def unroll(self, node: ast.AST) -> ast.expr | None:
        generators = node.generators  # type: ignore[attr-defined]
        if len(generators) != 1 or generators[0].is_async:
            return None
        generator = generators[0]
        items = constant_items(generator.iter)
        if items is None or len(items) > self.unit.config.unroll_comprehensions:
            return None
        parts = [node.key, node.value] if type(node) is ast.DictComp else [node.elt]  # type: ignore[attr-defined]
        if any(contains(p, _FORBIDDEN) for p in parts + generator.ifs):
            return None
        results: list[list[ast.expr]] = []
        for item in items:
            mapping = bind_target(generator.target, item)
            if mapping is None:
                return None
            keep = self.conditions_hold(generator.ifs, mapping)
            if keep is None:
                return None
            if keep:
                results.append([replace_names(p, mapping) for p in parts])  # type: ignore[misc]
        if type(node) is ast.ListComp:
            return ast.List(elts=[r[0] for r in results], ctx=ast.Load())
        keys = self.hashable_constants([r[0] for r in results])
        if keys is None:
            return None
        if type(node) is ast.SetComp:
            return ast.Set(elts=keys) if results else None
        return ast.Dict(keys=keys, values=[r[1] for r in results])

    def hashable_constants(self, exprs: list[ast.expr]) -> list[ast.expr] | None:
        """``exprs`` folded, if each folds to a hashable constant; else None. A comprehension
        hashes each element (key) as soon as it is made, a display only after making them all,
        and reports an unhashable one at its own position, not the element's: the two differ
        observably unless hashing cannot fail or run code."""
        folder = ConstantFolder(self.unit)
        folded = []
        for expr in exprs:
            expr = folder.visit(expr)
            value = constant_value(expr)
            if value is NOT_FOLDED or not _hashable(value):
                return None
            folded.append(expr)
        return folded

    def conditions_hold(self, ifs: list[ast.expr], mapping: dict) -> bool | None:
        """True/False if every ``if`` folds to a constant for this item, None if one does not."""
        folder = ConstantFolder(self.unit)
        for condition in ifs:
            folded = folder.visit(replace_names(condition, mapping))
            value = constant_value(folded)
            if value is NOT_FOLDED:
                return None
            if not value:
                return False
        return True


def _hashable(value: object) -> bool:
    """Whether hashing ``value``, a folded constant, succeeds without running user code."""
    kind = type(value)
    if kind is tuple or kind is frozenset:
        return all(_hashable(item) for item in value)  # type: ignore[attr-defined]
    return kind in (int, float, complex, str, bytes, bool, type(None), type(...))


class UnrollComprehensions(Pass):
    """Unroll comprehensions over small constant sequences into displays (unguarded)."""

    name = "unroll_comprehensions"
    switch = "unroll_comprehensions"

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            return "literal_iteration" in unit.hints
        return "comprehension" in unit.hints and (
            "literal_iteration" in unit.hints or not unit.made.isdisjoint(("iterables", "constants"))
        )

    def run(self, unit: Unit) -> bool:
        return _Unroll(unit).run_on(unit)
