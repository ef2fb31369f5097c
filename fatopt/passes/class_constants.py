"""Class-constant substitution: ``Direction.FORWARD``, read in a function, becomes the constant
the class body binds (``1``), guarded by ``GuardClassConstant`` on the class's global name and
the attribute.

Which reads qualify is decided by :mod:`fatopt.analyses.class_constants`. The read it replaces
is a global load and a class attribute load (about 70 instructions on 3.13); the constant then
folds further (``d == 1`` with a constant ``d``, dead branches). If anything later rebinds the
class's name or sets, deletes or shadows the attribute anywhere along the MRO, the guard brings
the original code back.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.class_constants import ClassConstants, ModuleClassConstants, TopLevelClassNames
from fatopt.analyses.statements import IdentityCompared
from fatopt.guards.class_constant import GuardClassConstant
from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes._substitute_constants import ConstantSubstituter

__all__ = ["SubstituteClassConstants"]


def _constants_of(unit: Unit) -> ClassConstants | None:
    if unit.module is None:
        return None  # a unit built alone (tests): no module, no class table
    found = unit.module.fact(ModuleClassConstants)
    return found if found.classes else None


class _Substitute(ConstantSubstituter):
    def run_on(self, unit: Unit) -> bool:
        self._classes = _constants_of(unit)
        if self._classes is None:
            return False
        self._line = unit.node.lineno
        return super().run_on(unit)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        name = self._global_of(node)
        if name is None:
            return self.generic_visit(node)
        constant = self._classes.value(name, node.attr, self._line)  # type: ignore[union-attr]
        # `x is Direction.FORWARD` compares with the class's object, which an equal constant
        # need not be (see _substitute_constants): such a class keeps its reads, singletons aside
        if not self._usable(name, constant):
            return node
        self.unit.require(GuardClassConstant, name, node.attr, constant)
        return self._substitute(node, constant)


class SubstituteClassConstants(Pass):
    """Replace reads of class constants (``ClassName.ATTR``) by their value (guarded)."""

    name = "class_constants"
    switch = "class_constants"
    guarded = True
    makes = frozenset({"constants"})
    requires = (TopLevelClassNames, ModuleClassConstants, IdentityCompared)

    def may_apply(self, unit: Unit) -> bool:
        # one run substitutes every read; later rewrites only copy substituted code
        if type(self) in unit.ran or unit.module is None:
            return False
        if unit.loads.isdisjoint(unit.module.fact(TopLevelClassNames)):
            return False  # (cheap: the class table is built only for a module where this holds)
        found = _constants_of(unit)
        return found is not None and not unit.loads.isdisjoint(found.classes)

    def run(self, unit: Unit) -> bool:
        return _Substitute(unit).run_on(unit)
