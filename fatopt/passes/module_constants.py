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
from fatopt.folding import NOT_FOLDED, make_constant
from fatopt.guards.global_names import GuardGlobals
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit

__all__ = ["ModuleConstants"]


#: Constants whose identity is guaranteed: the only ones substituted next to ``is``/``is not``.
_SINGLETONS = (None, True, False, Ellipsis)


class _Substitute(FunctionCodeTransformer):
    def run_on(self, unit: Unit) -> bool:
        # `x is BIG` (or `(x or BIG) is BIG`) compares with the object bound to the global; a
        # substituted constant is an equal object, not necessarily the same one (ints beyond the
        # small-int cache, floats, tuples, most strings). Such a name keeps its global load
        # throughout the function, unless its value is a singleton.
        self._identity_names = unit.fact(IdentityCompared)
        return super().run_on(unit)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if type(node.ctx) is not ast.Load or self.is_shadowed(node.id):
            return node
        value = self.unit.module_constant(node.id)
        if value is NOT_FOLDED:
            return node
        if node.id in self._identity_names and not any(value is s for s in _SINGLETONS):
            return node
        self.unit.require(GuardGlobals, node.id, value)
        if type(value) in (str, bytes):
            self.unit.made.add("string_constants")
        self.changed = True
        return make_constant(value, node)


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
