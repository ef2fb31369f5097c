"""What the passes that replace a read of a constant by its value share
(fatopt.passes.module_constants, class_constants, imported_constants): when a value may stand in
for the read, the replacement itself, and which ``NAME.attr`` reads are of a module's global."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.statements import IdentityCompared
from fatopt.folding import NOT_FOLDED, make_constant
from fatopt.passes._rewrite import FunctionCodeTransformer, Unit

__all__ = ["ConstantSubstituter"]

#: Constants whose identity is guaranteed: the only ones substituted next to ``is``/``is not``.
_SINGLETONS = (None, True, False, Ellipsis)


class ConstantSubstituter(FunctionCodeTransformer):
    """A transformer replacing reads of constants; subclasses decide which reads and guard them."""

    def run_on(self, unit: Unit) -> bool:
        # `x is BIG` (or `(x or BIG) is BIG`) compares with the object bound to the global; a
        # substituted constant is an equal object, not necessarily the same one (ints beyond the
        # small-int cache, floats, tuples, most strings). Such a name keeps its global load
        # throughout the function, unless its value is a singleton.
        self._identity_names = unit.fact(IdentityCompared)
        return super().run_on(unit)

    def _usable(self, name: str, value: object) -> bool:
        """Whether ``value`` (NOT_FOLDED: none known) may replace a read through global ``name``."""
        if value is NOT_FOLDED:
            return False
        return name not in self._identity_names or any(value is s for s in _SINGLETONS)

    def _substitute(self, node: ast.AST, value: object) -> ast.AST:
        """The constant ``value`` in place of ``node`` (the caller has required its guard)."""
        if type(value) in (str, bytes):
            self.unit.made.add("string_constants")
        self.changed = True
        return make_constant(value, node)

    def _global_of(self, node: ast.Attribute) -> str | None:
        """The module's global ``NAME`` if ``node`` reads ``NAME.attr`` of it; None otherwise."""
        value = node.value
        if type(value) is not ast.Name or type(node.ctx) is not ast.Load:
            return None
        name = value.id
        if type(value.ctx) is not ast.Load or self.is_shadowed(name) or not self.unit.is_module_name(name):
            return None
        return name
