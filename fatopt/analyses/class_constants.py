"""Class constants: which ``ClassName.ATTR`` reads may be replaced by the value the class body
binds (``Direction.FORWARD`` -> ``1``).

A class qualifies when the source shows everything that decides what ``ClassName.ATTR`` is: it
is defined by a top-level ``class`` statement and its name is bound by nothing else in the module
(:attr:`fatopt.analyses.classes.ClassInfo.bound_once`); it and every class on its MRO are classes
of the module, single inheritance down to ``object``, with no decorator, no ``metaclass=`` or
other class keyword (a decorator may return something else, a metaclass may define the
attribute's lookup; an ``enum.Enum`` member is not the constant its body shows); and the
module's namespace is not dynamic (``exec``, ``globals()``, ``import *``: the same condition
module constants have).

An attribute qualifies when the class that binds it first along the MRO binds it once, to a
constant expression (:func:`fatopt.analyses.classes._constants`), and nothing in the module
stores or deletes an attribute of that name through any object (``cls.F = 2`` in a classmethod,
``setattr(x, "F", v)``; a ``setattr`` whose name is not a literal voids them all): a write the
function itself causes would otherwise leave its running frame with the old constant (guards
hold at function entry). A read through an instance (``self.ATTR``) is never one: an instance
attribute may shadow it.

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
from fatopt.analyses.scopes import ModuleScopes, ScopesOfModule
from fatopt.folding import NOT_FOLDED

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = [
    "ConstantClass", "ClassConstants", "ModuleClassConstants", "AttributesWritten", "TopLevelClassNames",
    "attributes_written", "class_constants",
]

#: builtins and methods whose call may change a class's attributes
_ATTRIBUTE_WRITERS = frozenset({"setattr", "delattr"})
_ATTRIBUTE_WRITER_METHODS = frozenset({"__setattr__", "__delattr__"})


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


def attributes_written(scopes: ModuleScopes) -> set[str] | None:
    """Attribute names the module stores or deletes through any object (``cls.F = 2`` in a
    classmethod, ``type(obj).F += 1``, ``setattr(x, "F", v)``, ``x.__setattr__("F", v)``), or
    None when a ``setattr``/``delattr``/``__setattr__``/``__delattr__`` call names its attribute
    by something other than a literal (it could be any). From the scope analysis's records of
    every scope: no walk of the tree."""
    names: set[str] = set()
    for scope in scopes.all_scopes():
        names.update(attr for _name, attr in scope.attribute_writes)
        for call in scope.calls:
            func = call.func
            if type(func) is ast.Name and func.id in _ATTRIBUTE_WRITERS:
                position = 1
            elif type(func) is ast.Attribute and func.attr in _ATTRIBUTE_WRITER_METHODS:
                # `type.__setattr__(cls, "F", v)` names it second, `cls.__setattr__("F", v)` first
                position = 1 if type(func.value) is ast.Name and func.value.id in ("type", "object") else 0
            else:
                continue
            args = call.args
            if len(args) > position and type(args[position]) is ast.Constant and type(args[position].value) is str:
                names.add(args[position].value)
            else:
                return None
    return names


class AttributesWritten(Analysis["set[str] | None"]):
    """:func:`attributes_written` of a :class:`fatopt.module_unit.ModuleUnit` (stable)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> set[str] | None:
        return attributes_written(module.fact(ScopesOfModule))


def _plain(info: ClassInfo) -> bool:
    return not info.decorators and info.metaclass is None and not info.keywords


def _inherited_constants(table: ClassTable, info: ClassInfo, written: set[str]) -> dict[str, Any] | None:
    """``info``'s constants, inherited ones included, if its whole MRO is plain classes of the
    table (else None). An attribute the module stores or deletes anywhere, through any object,
    is none: ``cls.count += 1`` in a classmethod changes it while a specialized frame that
    already read it as a constant runs on."""
    classes = table.mro(info)
    if classes is None or not all(_plain(c) and c.bound_once for c in classes):
        return None
    out: dict[str, Any] = {}
    bound: set[str] = set()  # names bound by a class earlier on the MRO: they hide later ones
    for cls in classes:
        for name, value in cls.constants.items():
            if name not in bound and name not in written:
                out[name] = value
        bound |= set(table._bindings.get(id(cls.node), ()))
    return out


def class_constants(module: ModuleUnit) -> ClassConstants:
    """The :class:`ClassConstants` of ``module``."""
    if module.fact(FactsOfModule).dynamic:
        return ClassConstants({})
    table = module.fact(ModuleClassTable)
    written = module.fact(AttributesWritten)
    if written is None:
        return ClassConstants({})
    top_level = {id(stmt) for stmt in module.tree.body}
    found: dict[str, ConstantClass] = {}
    for info in table:
        if id(info.node) not in top_level or not info.bound_once:
            continue
        constants = _inherited_constants(table, info, written)
        if constants:
            end = info.node.end_lineno or info.node.lineno
            found[info.name] = ConstantClass(info.name, end, constants)
    return ClassConstants(found)


class TopLevelClassNames(Analysis["frozenset[str]"]):
    """Names of the module's top-level ``class`` statements: what a pass asks first, for every
    function (does it read a class name at all), before the class table is built."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> frozenset[str]:
        return frozenset(stmt.name for stmt in module.tree.body if type(stmt) is ast.ClassDef)


class ModuleClassConstants(Analysis[ClassConstants]):
    """:func:`class_constants` of a :class:`fatopt.module_unit.ModuleUnit` (stable)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> ClassConstants:
        return class_constants(module)
