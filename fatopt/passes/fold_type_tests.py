"""Type tests of locals whose exact type is known: ``isinstance(i, tuple)`` becomes ``False``
where ``i`` certainly holds an exact ``int`` (:mod:`fatopt.analyses.int_locals`).

A false ``isinstance`` costs ~500 instructions on 3.13 (it then looks up ``i.__class__``); it is
what a subscript dunder inlined with an int index typically tests first
(:mod:`fatopt.passes.specialize_types`), after which dead code removal keeps only the branch
that runs. Guarded: the builtins ``isinstance``, the types named, and those the int facts rely
on (``range``, ``len``). Only where the local is certainly bound: loading an unbound local
raises, which the constant would not.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.int_locals import IntLocals
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.passes._bound_locals import BoundLocalsTransformer
from fatopt.passes._rewrite import Pass, Unit

__all__ = ["FoldTypeTests"]

#: builtin types by name, for ``issubclass(int, T)``
_BUILTIN_TYPES = {
    "int": int, "bool": bool, "float": float, "complex": complex, "str": str, "bytes": bytes,
    "bytearray": bytearray, "tuple": tuple, "list": list, "dict": dict, "set": set,
    "frozenset": frozenset, "object": object, "type": type, "range": range, "slice": slice,
}


class _Fold(BoundLocalsTransformer):
    def __init__(self, unit: Unit, ints: frozenset[str]) -> None:
        super().__init__(unit)
        self.ints = ints
        self.builtins: set[str] = set()

    def _statement(self, stmt: ast.stmt) -> ast.stmt:
        return self.visit(stmt)

    def _types(self, node: ast.expr) -> list[str] | None:
        names = node.elts if type(node) is ast.Tuple else [node]  # type: ignore[attr-defined]
        out = []
        for name in names:
            if type(name) is not ast.Name or name.id not in _BUILTIN_TYPES or not self.unit.builtin(name.id) \
                    or self.is_shadowed(name.id):
                return None
            out.append(name.id)
        return out

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if (type(func) is not ast.Name or func.id != "isinstance" or node.keywords or len(node.args) != 2
                or not self.unit.builtin("isinstance") or self.is_shadowed("isinstance")):
            return node
        subject, types = node.args
        if (type(subject) is not ast.Name or subject.id not in self.ints or self.is_shadowed(subject.id)
                or not self._certainly_bound(subject.id)):
            return node
        names = self._types(types)
        if names is None:
            return node
        self.builtins |= {"isinstance", *names}
        self.changed = True
        value = any(issubclass(int, _BUILTIN_TYPES[name]) for name in names)
        return ast.copy_location(ast.Constant(value=value), node)


class FoldTypeTests(Pass):
    """``isinstance`` of locals known to hold exact ints folded (guarded builtins)."""

    name = "fold_type_tests"
    switch = "fold_type_tests"
    guarded = True
    requires = (IntLocals,)

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            return False  # it only follows other rewrites (an inlined dunder)
        # a type test of this kind comes from inlined code, which tests the validity flag
        return unit.valid_flag is not None or "type_specialized" in unit.made

    def run(self, unit: Unit) -> bool:
        facts = unit.fact(IntLocals)
        if not facts.names:
            return False
        fold = _Fold(unit, facts.names)
        if not fold.run_on(unit):
            return False
        for name in sorted(fold.builtins | facts.builtins):
            unit.require(GuardBuiltins, name)
        return True
