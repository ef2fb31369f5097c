"""Module-constant propagation: a global bound once to a constant, and never rebound anywhere in
the module, is replaced by its value in functions, guarded on that global.

``DEBUG = False`` at module level makes ``if DEBUG: ...`` in a function ``if False: ...``, which
dead-code removal then drops. The guard ``GuardGlobals(objects={'DEBUG': False})`` brings the
original code back if anything (another module, a test's ``mock.patch``) rebinds ``DEBUG`` later.
Which globals qualify is decided by :mod:`fatopt.analyses.module_facts`.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.statements import IdentityCompared
from fatopt.guards.global_names import GuardGlobals
from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes._substitute_constants import ConstantSubstituter

__all__ = ["ModuleConstants"]


class _Substitute(ConstantSubstituter):
    def visit_Name(self, node: ast.Name) -> ast.AST:
        if type(node.ctx) is not ast.Load or self.is_shadowed(node.id):
            return node
        value = self.unit.module_constant(node.id)
        if not self._usable(node.id, value):
            return node
        self.unit.require(GuardGlobals, node.id, value)
        return self._substitute(node, value)


class ModuleConstants(Pass):
    """Replace loads of module constants by their value (guarded on each global)."""

    name = "module_constants"
    switch = "module_constants"
    guarded = True
    makes = frozenset({"constants"})
    requires = (IdentityCompared,)

    def may_apply(self, unit: Unit) -> bool:
        # one run substitutes every use; later rewrites only copy substituted code
        return type(self) not in unit.ran and not unit.loads.isdisjoint(unit.facts.constants)

    def run(self, unit: Unit) -> bool:
        if not unit.facts.constants:
            return False
        return _Substitute(unit).run_on(unit)
