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
from fatopt.folding import NOT_FOLDED, make_constant
from fatopt.guards.class_constant import GuardClassConstant
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit

__all__ = ["SubstituteClassConstants"]

#: Constants whose identity is guaranteed: the only ones substituted next to ``is``/``is not``.
_SINGLETONS = (None, True, False, Ellipsis)


def _constants_of(unit: Unit) -> ClassConstants | None:
    if unit.module is None:
        return None  # a unit built alone (tests): no module, no class table
    found = unit.module.fact(ModuleClassConstants)
    return found if found.classes else None


class _Substitute(FunctionCodeTransformer):
    def run_on(self, unit: Unit) -> bool:
        self._classes = _constants_of(unit)
        if self._classes is None:
            return False
        # `x is Direction.FORWARD` compares with the class's object, which an equal constant
        # need not be (see module_constants): such a class keeps its reads, singletons aside
        self._identity_names = unit.fact(IdentityCompared)
        self._line = unit.node.lineno
        return super().run_on(unit)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        value = node.value
        if type(value) is not ast.Name or type(node.ctx) is not ast.Load:
            return self.generic_visit(node)
        name = value.id
        if type(value.ctx) is not ast.Load or self.is_shadowed(name) or not self.unit.is_module_name(name):
            return node
        constant = self._classes.value(name, node.attr, self._line)  # type: ignore[union-attr]
        if constant is NOT_FOLDED:
            return node
        if name in self._identity_names and not any(constant is s for s in _SINGLETONS):
            return node
        self.unit.require(GuardClassConstant, name, node.attr, constant)
        if type(constant) in (str, bytes):
            self.unit.made.add("string_constants")
        self.changed = True
        return make_constant(constant, node)


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
