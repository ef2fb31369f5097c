"""Which names of a function hold an object of a known exact class (``type(x) is C``), and
whether that is speculation to check at entry or known.

Operator and subscript dunders are looked up on an object's type, so where ``type(v) is C``
is known, ``v[i]`` can run ``C.__getitem__`` directly (:mod:`fatopt.passes.specialize_types`).
A name qualifies when the function never rebinds it (one binding, no ``del``, no ``nonlocal``
in a nested function) and ``C`` is a plain top-level class of the module
(:func:`fatopt.analyses.method_callees.plain_class`) that the function's code reaches by its
global name. Where the class comes from, in order:

- ``self``: the first parameter of a plain method of such a class (speculation: a subclass
  instance, or the function called through the class with anything, fails the entry check);
- an annotation ``def f(v: C)`` (speculation, checked at entry like the rest);
- a recorded type profile (``-X fatopt=profile=FILE``, :mod:`fatopt.profile`): the types of the
  most frequent call recorded for the function, where one is a class of this module
  (speculation, checked at entry);
- a local bound once, by ``v = C(...)``, where the class's MRO defines no ``__new__`` (so
  ``object.__new__`` makes an instance of exactly ``C``): known, no check.

The answer is speculation about the source; the guards the pass requires (the class's global
name and attributes, ``__new__`` resolving to object's, no ``__class__`` assignment to an
instance: :class:`fatopt.guards.instance_class.GuardInstanceClass`) make it exact at run time.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fatopt.analyses.class_constants import TopLevelClassNames
from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.manager import Analysis
from fatopt.analyses.method_callees import plain_class
from fatopt.analyses.scopes import resolve

if TYPE_CHECKING:
    from fatopt.passes._rewrite import Unit

__all__ = ["TypedName", "ExactTypes", "exact_types"]


@dataclass(frozen=True)
class TypedName:
    """A local of the function whose object is exactly of class ``class_name``."""

    name: str
    class_name: str
    #: "self", "annotation", "profile" (checked at entry) or "constructor" (known)
    source: str

    @property
    def checked(self) -> bool:
        """True if the function's entry must check ``type(name) is class_name``."""
        return self.source != "constructor"


def _rebound_elsewhere(unit: Unit, name: str) -> bool:
    """True if ``name`` may change: bound more than once, deleted, or ``nonlocal`` in a
    nested function."""
    if unit.scope.bindings.get(name, 0) != 1 or name in unit.scope.deleted:
        return True
    return any(name in scope.declared_nonlocal for scope in unit.scope.walk() if scope is not unit.scope)


def _class_here(unit: Unit, name: str) -> str | None:
    """``name`` if the function reaches a plain top-level class by that global name."""
    module = unit.module
    if module is None or resolve(unit.scope, name) not in ("module", "global"):
        return None
    return name if plain_class(module, name) is not None else None


def _own_class(unit: Unit) -> str | None:
    """The plain top-level class whose plain method this function is, if any."""
    parent = unit.scope.parent
    if parent is None or parent.kind != "class" or unit.module is None:
        return None
    info = unit.module.fact(ModuleClassTable).by_node.get(parent.node)
    if info is None or plain_class(unit.module, info.name) is not info:
        return None
    method = info.methods.get(unit.node.name)  # type: ignore[union-attr]
    if method is None or method.node is not unit.node or method.kind != "function":
        return None
    return info.name


def _statements(body: list[ast.stmt]):
    """The statements of a block and of the blocks nested in it (not in nested functions or
    classes): a walk that skips expressions, which are most of a tree's nodes."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if type(inner) is list and inner and isinstance(inner[0], ast.stmt):
                yield from _statements(inner)
        for part in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())):
            yield from _statements(part.body)


def _constructed(unit: Unit) -> dict[str, str]:
    """Locals bound once, by ``v = C(...)`` of a class without ``__new__`` of its own."""
    out: dict[str, str] = {}
    module = unit.module
    assert module is not None
    table = module.fact(ModuleClassTable)
    for node in _statements(unit.node.body):  # type: ignore[union-attr]
        if type(node) is not ast.Assign or len(node.targets) != 1 or type(node.targets[0]) is not ast.Name:
            continue
        value = node.value
        if type(value) is not ast.Call or type(value.func) is not ast.Name:
            continue
        name, class_name = node.targets[0].id, _class_here(unit, value.func.id)
        if class_name is None or resolve(unit.scope, name) != "local" or _rebound_elsewhere(unit, name):
            continue
        if table.object_new(table.by_qualname[class_name]):
            out[name] = class_name
    return out


def _profiled(unit: Unit, params: list[str]) -> dict[str, str]:
    """Parameter -> class, from the most frequent types the profile recorded for the function
    (when its ``def`` is unchanged since): those that name a plain top-level class of this
    module. A class of another module with the same name only fails the entry check."""
    module = unit.module
    profile = getattr(module, "profile", None)
    if profile is None:
        return {}
    node = unit.node
    text = module.def_source(node)  # type: ignore[union-attr,arg-type]
    if text is None:
        return {}
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])  # type: ignore[union-attr]
    tuples = profile.types_for_def(os.path.abspath(module.filename), unit.qualname, first, text)  # type: ignore[union-attr]
    if not tuples:
        return {}
    out = {}
    for param, type_name in zip(params, tuples[0], strict=False):
        class_name = _class_here(unit, type_name.qualname)
        if class_name is not None:
            out[param] = class_name
    return out


def exact_types(unit: Unit) -> dict[str, TypedName]:
    """Name -> :class:`TypedName` for the function of ``unit`` (empty for a lambda)."""
    node = unit.node
    if type(node) not in (ast.FunctionDef, ast.AsyncFunctionDef) or unit.module is None:
        return {}
    # cheap first: a class of the module is named, or the function is a method, or a profile
    # may say something (most functions of most modules are none of these)
    classes = unit.module.fact(TopLevelClassNames)
    if (not classes or (unit.loads.isdisjoint(classes) and unit.scope.parent.kind != "class"  # type: ignore[union-attr]
                        and getattr(unit.module, "profile", None) is None
                        and not any(type(a.annotation) is ast.Name for a in node.args.args + node.args.kwonlyargs  # type: ignore[union-attr]
                                    + node.args.posonlyargs))):  # type: ignore[union-attr]
        return {}
    out: dict[str, TypedName] = {}
    args = node.args  # type: ignore[union-attr]
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    own = _own_class(unit)
    profiled = _profiled(unit, [param.arg for param in params])
    for index, param in enumerate(params):
        if _rebound_elsewhere(unit, param.arg):
            continue
        if index == 0 and own is not None and param in (args.posonlyargs + args.args):
            out[param.arg] = TypedName(param.arg, own, "self")
            continue
        annotation = param.annotation
        if type(annotation) is ast.Name:
            class_name = _class_here(unit, annotation.id)
            if class_name is not None:
                out[param.arg] = TypedName(param.arg, class_name, "annotation")
                continue
        if param.arg in profiled:
            out[param.arg] = TypedName(param.arg, profiled[param.arg], "profile")
    if not unit.loads.isdisjoint(classes):  # a constructor call names its class
        for name, class_name in _constructed(unit).items():
            out.setdefault(name, TypedName(name, class_name, "constructor"))
    return out


class ExactTypes(Analysis["dict[str, TypedName]"]):
    """:func:`exact_types` of a function unit (stable: it reads the original parameters and
    bindings, which the passes keep)."""

    stable = True

    @classmethod
    def compute(cls, unit: Unit) -> dict[str, TypedName]:  # type: ignore[override]
        return exact_types(unit)
