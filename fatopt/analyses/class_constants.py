"""Class constants: which ``ClassName.ATTR`` reads may be replaced by the value the class body
binds (``Direction.FORWARD`` -> ``1``).

A class qualifies when the source shows everything that decides what ``ClassName.ATTR`` is: it
is defined by a top-level ``class`` statement and its name is bound by nothing else in the module
(:attr:`fatopt.analyses.classes.ClassInfo.bound_once`); it and every class on its MRO are classes
of the module, single inheritance down to ``object``, with no decorator, no ``metaclass=`` or
other class keyword (a decorator may return something else, a metaclass may define the
attribute's lookup; an ``enum.Enum`` member is not the constant its body shows); nothing calls
``setattr``/``delattr`` on its name; and the module's namespace is not dynamic (``exec``,
``globals()``, ``import *``: the same condition module constants have).

An attribute qualifies when the class that binds it first along the MRO binds it once, to a
constant expression, and nothing in the module assigns or deletes ``ClassName.ATTR`` for any
class of that MRO (:func:`fatopt.analyses.classes._constants`). A read through an instance
(``self.ATTR``) is never one: an instance attribute may shadow it.

All this is speculation from the source. ``GuardClassConstant`` makes it exact at run time: the
global name keeps the class it held when the function was defined (metaclass ``type``), and the
attribute resolves along the real MRO to the same constant. That guard cannot hold for a
function defined before the class (the name is unbound at its registration), so each class
records where its statement ends: only functions defined after that line may use it.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fatopt.analyses.classes import ClassInfo, ClassTable, ModuleClassTable
from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule
from fatopt.analyses.scopes import ScopesOfModule
from fatopt.folding import NOT_FOLDED
from fatopt.nodes import walk

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["ConstantClass", "ClassConstants", "ModuleClassConstants", "class_constants"]

#: builtins whose call with a class as first argument may change the class's attributes
_ATTRIBUTE_WRITERS = frozenset({"setattr", "delattr"})


@dataclass(frozen=True)
class ConstantClass:
    """A class whose constant attributes may be substituted."""

    name: str
    #: the last line of its ``class`` statement: functions defined after it may rely on it
    end_line: int
    #: attribute -> value, inherited constants included
    constants: dict[str, Any]


@dataclass(frozen=True)
class ClassConstants:
    """The module's classes with constant attributes, by global name."""

    classes: dict[str, ConstantClass]

    def value(self, class_name: str, attribute: str, line: int) -> Any:
        """The constant ``class_name.attribute`` is for a function defined at ``line``, or
        ``NOT_FOLDED``."""
        found = self.classes.get(class_name)
        if found is None or line <= found.end_line:
            return NOT_FOLDED
        return found.constants.get(attribute, NOT_FOLDED)


def _written_through_builtins(tree: ast.Module) -> set[str]:
    """Names passed first to ``setattr``/``delattr`` anywhere in the module."""
    names: set[str] = set()
    for node in walk(tree):
        if (
            type(node) is ast.Call
            and type(node.func) is ast.Name
            and node.func.id in _ATTRIBUTE_WRITERS
            and node.args
            and type(node.args[0]) is ast.Name
        ):
            names.add(node.args[0].id)
    return names


def _plain(info: ClassInfo) -> bool:
    return not info.decorators and info.metaclass is None and not info.keywords


def _inherited_constants(
    table: ClassTable, info: ClassInfo, writes: set[tuple[str, str]],
) -> dict[str, Any] | None:
    """``info``'s constants, inherited ones included, if its whole MRO is plain classes of the
    table (else None). An attribute stored or deleted through the name of any class of the MRO
    (``Sub.FORWARD = 5`` hides ``Base.FORWARD`` for ``Sub``) is none."""
    classes = table.mro(info)
    if classes is None or not all(_plain(c) and c.bound_once for c in classes):
        return None
    names = {c.name for c in classes}
    out: dict[str, Any] = {}
    bound: set[str] = set()  # names bound by a class earlier on the MRO: they hide later ones
    for cls in classes:
        for name, value in cls.constants.items():
            if name not in bound and not any((owner, name) in writes for owner in names):
                out[name] = value
        bound |= set(table._bindings.get(id(cls.node), ()))
    return out


def class_constants(module: ModuleUnit) -> ClassConstants:
    """The :class:`ClassConstants` of ``module``."""
    if module.fact(FactsOfModule).dynamic:
        return ClassConstants({})
    table = module.fact(ModuleClassTable)
    written = _written_through_builtins(module.tree)
    writes: set[tuple[str, str]] = set()  # (name, attribute) stored or deleted anywhere
    for scope in module.fact(ScopesOfModule).all_scopes():
        writes |= scope.attribute_writes
    top_level = {id(stmt) for stmt in module.tree.body}
    found: dict[str, ConstantClass] = {}
    for info in table:
        if id(info.node) not in top_level or not info.bound_once:
            continue
        classes = table.mro(info) or []
        if any(c.name in written for c in classes):
            continue
        constants = _inherited_constants(table, info, writes)
        if constants:
            end = info.node.end_lineno or info.node.lineno
            found[info.name] = ConstantClass(info.name, end, constants)
    return ClassConstants(found)


class ModuleClassConstants(Analysis[ClassConstants]):
    """:func:`class_constants` of a :class:`fatopt.module_unit.ModuleUnit` (stable)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> ClassConstants:
        return class_constants(module)
