"""Module-constant propagation: a global bound once to a constant, and never rebound anywhere in
the module, is replaced by its value in functions, guarded on that global.

``DEBUG = False`` at module level makes ``if DEBUG: ...`` in a function ``if False: ...``, which
dead-code removal then drops. The guard ``GuardGlobals(values={'DEBUG': False})`` brings the
original code back if anything (another module, a test's ``mock.patch``) rebinds ``DEBUG`` later.
Which globals qualify is decided by :mod:`fatopt.analyses.module_facts`.
"""

from __future__ import annotations

import ast

from fatopt.folding import NOT_FOLDED, make_constant
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit

__all__ = ["ModuleConstants"]


class _Substitute(FunctionCodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if type(node.ctx) is not ast.Load or self.is_shadowed(node.id):
            return node
        value = self.unit.module_constant(node.id)
        if value is NOT_FOLDED:
            return node
        self.unit.global_guards[node.id] = value
        self.changed = True
        return make_constant(value, node)


class ModuleConstants(Pass):
    """Replace loads of module constants by their value (guarded on each global)."""

    name = "module_constants"
    switch = "module_constants"
    guarded = True

    def worth_trying(self, unit: Unit) -> bool:
        # one run substitutes every use; later rewrites only copy substituted code
        return self.name not in unit.ran and not unit.loads.isdisjoint(unit.facts.constants)

    def run(self, unit: Unit) -> bool:
        if not unit.facts.constants:
            return False
        return _Substitute(unit).run_on(unit)
