"""Plain methods that may be inlined where they are called through a class: ``Cls.m(obj, x)``
with ``m`` a ``def`` that ``Cls`` (a top-level class of the module) finds along its MRO.

The type specialization (:mod:`fatopt.passes.specialize_types`) writes ``obj[i]`` as
``Cls.__getitem__(obj, i)`` where ``type(obj) is Cls`` is known; such a call runs the
method's function as a call of a module function would, once the class and the attribute are
what the source shows. The source shows it when:

- ``Cls`` is defined by a top-level ``class`` statement, its name bound once in the module,
  without decorator, ``metaclass=`` or class keyword, and its MRO is known (every base a class
  of the module defined before it, or ``object``: :meth:`fatopt.analyses.classes.ClassTable.mro`);
- ``m`` resolves along that MRO to a plain ``def`` (no decorator) bound once in its class body,
  not a name the compiler mangles (``__x``);
- the function is inlinable by the rules of a method (:func:`fatopt.analyses.inlinable.examine`
  with ``method``: calls on its own first parameter stay calls), and every module function it
  calls is inlinable too;
- the module is not dynamic (``exec``, ``globals()``, ``import *``).

Everything else is checked at run time: ``GuardClass`` (the class's name, the attribute along
the MRO and the function's code and defaults); a change while a caller runs empties the
caller's validity flag, which the inlined site tests.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from fatopt.analyses.class_constants import TopLevelClassNames
from fatopt.analyses.classes import ClassInfo, ModuleClassTable
from fatopt.analyses.inlinable import Inlinable, ModuleInlinable, examine
from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["MethodCallee", "MethodCallees", "ModuleMethodCallees", "defined_before", "plain_class"]


@dataclass(frozen=True)
class MethodCallee:
    """An inlinable method as seen through ``class_name``: its entry (``owner`` is the class
    that defines it) and the class statement of ``class_name``."""

    entry: Inlinable
    class_name: str
    class_node: ast.ClassDef


def plain_class(module: ModuleUnit, name: str) -> ClassInfo | None:
    """The top-level class ``name`` if its instances' attribute lookups are what the source
    shows: bound once, no decorator, metaclass or keyword, a known MRO."""
    table = module.fact(ModuleClassTable)
    info = table.by_qualname.get(name)
    if info is None or not info.bound_once or info.decorators or info.metaclass is not None or info.keywords:
        return None
    if info.node not in module.tree.body or table.mro(info) is None:
        return None
    return info


def defined_before(module: ModuleUnit, class_name: str, node: ast.AST) -> bool:
    """True if the plain class ``class_name``'s statement ends before ``node`` (a ``def``)
    starts: the class exists when that function is born."""
    info = plain_class(module, class_name)
    return info is not None and info.node.end_lineno is not None and info.node.end_lineno < node.lineno  # type: ignore[attr-defined]


@dataclass
class MethodCallees:
    """(class name, attribute) -> :class:`MethodCallee` or why not, computed when asked."""

    module: ModuleUnit
    cache: dict[tuple[str, str, int], Union[MethodCallee, str]] = field(default_factory=dict)

    def resolves_to_def(self, class_name: str, attribute: str) -> bool:
        """True if ``class_name`` (a plain top-level class) resolves ``attribute`` along its
        MRO to a plain ``def`` of the module, inlinable or not."""
        info = plain_class(self.module, class_name)
        if info is None:
            return False
        found = self.module.fact(ModuleClassTable).lookup(info, attribute)
        return found is not None and found[1].kind == "function"

    def get(self, class_name: str, attribute: str, max_size: int | None = None) -> MethodCallee | None:
        """The method, if inlinable within ``max_size`` nodes (``Config.max_inline_size`` by
        default)."""
        found = self.entry(class_name, attribute, max_size)
        return found if type(found) is MethodCallee else None

    def entry(self, class_name: str, attribute: str, max_size: int | None = None) -> Union[MethodCallee, str]:
        size = self.module.config.max_inline_size if max_size is None else max_size
        key = (class_name, attribute, size)
        if key not in self.cache:
            self.cache[key] = self._compute(class_name, attribute, size)
        return self.cache[key]

    def _compute(self, class_name: str, attribute: str, max_size: int) -> Union[MethodCallee, str]:
        module = self.module
        facts = module.fact(FactsOfModule)
        if facts.dynamic:
            return "the module is dynamic"
        info = plain_class(module, class_name)
        if info is None:
            return f"{class_name} is not a plain top-level class"
        if attribute.startswith("__") and not attribute.endswith("__"):
            return "a mangled name"
        found = module.fact(ModuleClassTable).lookup(info, attribute)
        if found is None:
            return f"{class_name}.{attribute} does not resolve to a def of the module"
        owner, method = found
        if method.kind != "function":
            return f"{owner.name}.{attribute} is not a plain function"
        classes = frozenset(name for name in module.fact(TopLevelClassNames) if plain_class(module, name) is not None)
        entry, why, calls = examine(method.node, facts, max_size, owner.name, method=True, classes=classes)
        if entry is None:
            return why
        functions = module.fact(ModuleInlinable)
        missing = sorted(c for c in calls if functions.get(c) is None)
        if missing:
            return f"calls {missing[0]}, which is not inlinable"
        return MethodCallee(entry, class_name, info.node)


class ModuleMethodCallees(Analysis[MethodCallees]):
    """The :class:`MethodCallees` of a :class:`fatopt.module_unit.ModuleUnit` (stable: it
    describes the module's original classes)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> MethodCallees:
        return MethodCallees(module)
