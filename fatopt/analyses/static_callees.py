"""Staticmethods that may be inlined where they are called through their class:
``Cls.helper(x)`` with ``helper`` a ``@staticmethod`` of the module's top-level class ``Cls``.

Such a call runs ``helper``'s function as a call of a module function would, once the class
and the attribute are known to be what the source shows. The source shows it when:

- ``Cls`` is defined by a top-level ``class`` statement, its name bound by nothing else in the
  module (:attr:`fatopt.analyses.classes.ClassInfo.bound_once`), without decorator,
  ``metaclass=`` or other class keyword (a decorator may return anything, a metaclass may define
  the attribute's lookup);
- ``helper`` is a ``def`` in the class body decorated exactly ``@staticmethod`` (the builtin:
  the module binds no ``staticmethod`` of its own), bound once in the body, not a name the
  compiler mangles (``__x``) or a dunder name;
- nothing in the module stores or deletes an attribute of that name through any object
  (``Cls.helper = ...``, ``setattr(x, "helper", v)``; a ``setattr`` whose name is not a literal
  voids them all: :func:`fatopt.analyses.class_constants.attributes_written`), since a write the
  caller itself causes would leave its running frame with the old body (guards hold at function
  entry), and the module is not dynamic (``exec``, ``globals()``, ``import *``);
- the function is inlinable by the rules of a module function
  (:func:`fatopt.analyses.inlinable.examine`), and every module function it calls is too.

Everything else (the class's bases, what the builtin ``staticmethod`` made) is checked at run
time by ``GuardStaticCallee``. The pass (:mod:`fatopt.passes.inline_functions`) decides where
the guard can be built: in a function defined after the class statement, or in a method of the
class itself (through the class statement's decorator).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from fatopt.analyses.class_constants import AttributesWritten
from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.inlinable import Inlinable, ModuleInlinable, examine
from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["StaticCallee", "StaticCallees", "ModuleStaticCallees"]


@dataclass(frozen=True)
class StaticCallee:
    """An inlinable staticmethod: its entry (``owner`` set) and its class statement."""

    entry: Inlinable
    class_node: ast.ClassDef


@dataclass(frozen=True)
class StaticCallees:
    """(class name, attribute) -> :class:`StaticCallee`, or why that staticmethod is not
    inlinable (only ``@staticmethod`` defs of top-level classes are keys)."""

    entries: dict[tuple[str, str], Union[StaticCallee, str]]

    def get(self, class_name: str, attribute: str) -> StaticCallee | None:
        found = self.entries.get((class_name, attribute))
        return found if type(found) is StaticCallee else None

    def why_not(self, class_name: str, attribute: str) -> str | None:
        found = self.entries.get((class_name, attribute))
        return found if type(found) is str else None


def static_callees(module: ModuleUnit) -> StaticCallees:
    """The :class:`StaticCallees` of ``module``."""
    facts = module.fact(FactsOfModule)
    if facts.dynamic:
        return StaticCallees({})
    written = module.fact(AttributesWritten)
    functions = module.fact(ModuleInlinable)
    top_level = {id(stmt) for stmt in module.tree.body}
    builtin_staticmethod = facts.assumable_builtin("staticmethod")
    entries: dict[tuple[str, str], Union[StaticCallee, str]] = {}
    for info in module.fact(ModuleClassTable):
        if id(info.node) not in top_level:
            continue
        for attribute, method in info.methods.items():
            if method.kind != "staticmethod":
                continue
            key = (info.name, attribute)
            if not info.bound_once:
                entries[key] = "the class's name is bound more than once"
            elif info.decorators or info.metaclass is not None or info.keywords:
                entries[key] = "the class has a decorator, a metaclass or class keywords"
            elif not builtin_staticmethod:
                entries[key] = "the module binds staticmethod"
            elif attribute.startswith("__"):
                entries[key] = "a mangled or dunder name"
            elif written is None or attribute in written:
                entries[key] = "the module assigns or deletes an attribute of that name"
            else:
                entry, why, calls = examine(method.node, facts, module.config.max_inline_size, info.name)
                if entry is None:
                    entries[key] = why
                else:
                    missing = sorted(c for c in calls if functions.get(c) is None)
                    entries[key] = (f"calls {missing[0]}, which is not inlinable" if missing
                                    else StaticCallee(entry, info.node))
    return StaticCallees(entries)


class ModuleStaticCallees(Analysis[StaticCallees]):
    """:func:`static_callees` of a :class:`fatopt.module_unit.ModuleUnit` (stable: it describes
    the module's original classes)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> StaticCallees:
        return static_callees(module)
