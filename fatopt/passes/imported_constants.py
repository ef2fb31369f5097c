"""Imported-constant substitution: a constant another module of the program defines, read in a
function as ``DEBUG`` (after ``from .config import DEBUG``) or ``config.DEBUG`` (after
``import config`` or ``from . import config``), becomes its value.

The value is speculated from the imported module's source (:mod:`fatopt.analyses.imports`:
found as the import system would find it, never imported by the optimizer) and made exact at
run time by a guard on what the function really reads: the importer's own binding for a name
imported by ``from`` (``GuardGlobals``, as for a module constant), the importer's binding of the
module and the module's dict entry for an attribute (``GuardModuleConstant``). So a sibling whose
source changed after the importer's optimized code was cached, or whose value some code changes
at run time (``config.DEBUG = True``), makes the original code run at once.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.imports import ImportBoundNames, ImportedNames, Imports
from fatopt.analyses.statements import IdentityCompared
from fatopt.guards.global_names import GuardGlobals
from fatopt.guards.module_constant import GuardModuleConstant
from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes._substitute_constants import ConstantSubstituter

__all__ = ["ImportedConstants"]

def _imports_of(unit: Unit) -> Imports | None:
    if unit.module is None:
        return None  # a unit built alone (tests): no module file, no siblings
    found = unit.module.fact(ImportedNames)
    return found if found.names and not found.dynamic else None


class _Substitute(ConstantSubstituter):
    def run_on(self, unit: Unit) -> bool:
        self._imports = _imports_of(unit)
        if self._imports is None:
            return False
        self._line = unit.node.lineno
        return super().run_on(unit)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        name = node.id
        if type(node.ctx) is not ast.Load or self.is_shadowed(name) or not self.unit.is_module_name(name):
            return node
        value = self._imports.speculated(name, None, self._line)  # type: ignore[union-attr]
        # `x is DEBUG_LEVEL` compares with the object the module holds (see _substitute_constants)
        if not self._usable(name, value):
            return node
        self.unit.require(GuardGlobals, name, value)
        return self._substitute(node, value)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        name = self._global_of(node)
        if name is None:
            return self.generic_visit(node)
        constant = self._imports.speculated(name, node.attr, self._line)  # type: ignore[union-attr]
        if not self._usable(name, constant):
            return self.generic_visit(node)
        self.unit.require(GuardModuleConstant, name, node.attr, constant)
        return self._substitute(node, constant)


class ImportedConstants(Pass):
    """Replace reads of constants imported from the program's other modules by their value
    (guarded)."""

    name = "imported_constants"
    switch = "imported_constants"
    guarded = True
    makes = frozenset({"constants"})
    requires = (ImportBoundNames, ImportedNames, IdentityCompared)

    def may_apply(self, unit: Unit) -> bool:
        # one run substitutes every read; later rewrites only copy substituted code
        if type(self) in unit.ran or unit.module is None:
            return False
        if unit.loads.isdisjoint(unit.module.fact(ImportBoundNames)):
            return False
        return _imports_of(unit) is not None

    def run(self, unit: Unit) -> bool:
        return _Substitute(unit).run_on(unit)
