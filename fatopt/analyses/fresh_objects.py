"""Which classes' new instances a function can reason about until they escape, and which of
their methods keep an instance to themselves.

An object a function has just made, ``v = C(...)``, is reachable only through the function's
local ``v`` until the function hands it to code that could keep it (an argument, a store, a
return). Until then, no code of the program can give it an attribute of its own: its
``__dict__`` holds what ``C.__init__`` stored, so a method call ``v.m(...)`` finds ``C.m`` with no
check at all (:mod:`fatopt.passes.fresh_receivers`). That needs, of ``C`` as the source shows it
(:func:`fresh_class`, guarded at run time by ``GuardClass`` on ``__init__``, ``__setattr__``
and the methods called):

- a plain top-level class (:func:`fatopt.analyses.method_callees.plain_class`) whose instances
  ``object.__new__`` makes (no ``__new__`` along the MRO);
- no ``__getattribute__``, ``__getattr__``, ``__setattr__`` or ``__delattr__`` along the MRO;
- an ``__init__`` that is ``object``'s or a plain ``def`` whose body only stores its parameters
  (or small constants) into attributes of ``self`` that no class of the MRO binds: instance
  attributes, which no method name can be.

A method keeps an instance passed as its parameter to itself (:func:`keeps`) when the body
only loads such instance attributes from it, or calls a method of the class on it (as the
receiver, or as an argument too: ``self.dot(self)``) that keeps it in turn and, where the call's
value is used, does not return it. A constructor keeps it (:func:`construction_keeps`) when its
class's ``__init__`` keeps it that way (``Ray(p, v)`` storing ``v.normalized()``, not ``v``).
Anything else (passing it on, storing it, returning it, an operator on it) counts as letting it
escape.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.manager import Analysis
from fatopt.analyses.method_callees import ModuleMethodCallees, plain_class
from fatopt.nodes import walk

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["FreshClass", "FreshClasses", "ModuleFreshClasses", "construction_keeps", "fresh_class", "keeps", "ATTRIBUTE_HOOKS"]

#: what would run code at an attribute load or store of an instance
ATTRIBUTE_HOOKS = ("__getattribute__", "__getattr__", "__setattr__", "__delattr__")

#: how deep :func:`keeps` follows method calls
_DEPTH = 8


@dataclass(frozen=True)
class FreshClass:
    """A class whose new instances hold only what its ``__init__`` stores."""

    name: str
    #: the attributes ``__init__`` stores, in the order it stores them
    attributes: tuple[str, ...]
    #: for each of them, the index of the ``__init__`` parameter stored (self is 0), or the
    #: constant node stored
    values: tuple[int | ast.Constant, ...]
    #: ``__init__``'s parameters (``self`` first), or () for ``object``'s
    parameters: tuple[str, ...]


def _init_stores(node: ast.FunctionDef) -> tuple[tuple[str, ...], tuple[int | ast.Constant, ...]] | None:
    """(attributes, values) of an ``__init__`` made of ``self.a = param`` statements only."""
    args = node.args
    if (node.decorator_list or args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs
            or args.defaults or not args.args):
        return None
    params = [a.arg for a in args.args]
    body = node.body
    if body and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and type(body[0].value.value) is str:
        body = body[1:]  # the docstring
    attributes: list[str] = []
    values: list[int | ast.Constant] = []
    for stmt in body:
        if type(stmt) is not ast.Assign or len(stmt.targets) != 1:
            return None
        target, value = stmt.targets[0], stmt.value
        if (type(target) is not ast.Attribute or type(target.value) is not ast.Name
                or target.value.id != params[0] or target.attr in attributes):
            return None
        if type(value) is ast.Name and value.id in params[1:]:
            values.append(params.index(value.id))
        elif type(value) is ast.Constant and (value.value is None or type(value.value) in (bool, int, float, str)):
            values.append(value)
        else:
            return None
        attributes.append(target.attr)
    if len(set(v for v in values if type(v) is int)) != sum(1 for v in values if type(v) is int):
        return None  # a parameter stored twice
    return tuple(attributes), tuple(values)


class FreshClasses:
    """Class name -> :class:`FreshClass` or None, computed when asked."""

    def __init__(self, module: ModuleUnit) -> None:
        self.module = module
        self.cache: dict[str, FreshClass | None] = {}

    def get(self, class_name: str) -> FreshClass | None:
        if class_name not in self.cache:
            self.cache[class_name] = _fresh_class(self.module, class_name)
        return self.cache[class_name]


class ModuleFreshClasses(Analysis[FreshClasses]):
    """The :class:`FreshClasses` of a module (stable: it describes the module's original
    classes)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> FreshClasses:  # type: ignore[override]
        return FreshClasses(module)


def fresh_class(module: ModuleUnit, class_name: str) -> FreshClass | None:
    """:class:`FreshClass` for the top-level class ``class_name``, or None (module docstring)."""
    return module.fact(ModuleFreshClasses).get(class_name)


def _hookless_class(module: ModuleUnit, class_name: str):  # type: ignore[no-untyped-def]
    """(class info, class table, MRO) of a plain top-level class whose instances
    ``object.__new__`` makes and whose MRO binds no attribute hook, or None."""
    info = plain_class(module, class_name)
    table = module.fact(ModuleClassTable)
    if info is None or not table.object_new(info):
        return None
    classes = table.mro(info)
    if classes is None or any(table.binds(c, hook) for c in classes for hook in ATTRIBUTE_HOOKS):
        return None
    return info, table, classes


def _fresh_class(module: ModuleUnit, class_name: str) -> FreshClass | None:
    found_class = _hookless_class(module, class_name)
    if found_class is None:
        return None
    info, table, classes = found_class
    if any(c.instances_have_dict is not True or table.binds(c, "__slots__") for c in classes):
        return None  # (slots are descriptors of the class: instances of ordinary classes only)
    found = table.lookup(info, "__init__")
    if found is None:
        if any(table.binds(c, "__init__") for c in classes):
            return None  # bound otherwise than by a def
        return FreshClass(class_name, (), (), ())
    _owner, method = found
    if method.kind != "function" or type(method.node) is not ast.FunctionDef:
        return None
    stores = _init_stores(method.node)
    if stores is None:
        return None
    attributes, values = stores
    if any(table.binds(c, name) for c in classes for name in attributes):
        return None  # a class attribute of that name: a descriptor could be in the way
    return FreshClass(class_name, attributes, values, tuple(a.arg for a in method.node.args.args))


def keeps(
    module: ModuleUnit, fresh: FreshClass, method: str, positions: frozenset[int], dropped: bool = False, depth: int = 0,
    owner: str | None = None,
) -> bool:
    """Whether ``fresh``'s method ``method`` (or the method of the class ``owner``), given an
    instance of ``fresh``'s class at the parameter indices ``positions`` (``self`` is 0), keeps
    it to itself (module docstring); with ``dropped`` (the call's value is not used), returning
    it counts as keeping it."""
    if depth > _DEPTH:
        return False
    callee = module.fact(ModuleMethodCallees).get(owner or fresh.name, method, module.config.max_receiver_inline_size)
    if callee is None:
        return False
    entry = callee.entry
    names = {entry.positional[i] for i in positions if i < len(entry.positional)}
    if len(names) != len(positions) or names & entry.assigned:
        return False
    parts: list[ast.AST] = [entry.expression] if entry.expression is not None else list(entry.statements)
    parents: dict[int, ast.AST] = {}
    for part in parts:
        for node in walk(part):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
    for part in parts:
        for node in walk(part):
            if type(node) is not ast.Name or node.id not in names:
                continue
            parent = parents.get(id(node))
            if dropped and (parent is None or type(parent) is ast.Return):
                continue  # returned to a caller that drops it
            if type(parent) is ast.Attribute and type(parent.ctx) is ast.Load and parent.attr in fresh.attributes:
                continue  # an instance attribute's value
            if type(parent) is ast.Attribute and type(parent.ctx) is ast.Load:
                call = parents.get(id(parent))
                if type(call) is ast.Call and call.func is parent and _keeping_call(
                        module, fresh, call, names, type(parents.get(id(call))) is ast.Expr, depth):
                    continue  # a method of its own, which keeps it too
            if type(parent) is ast.Call and node in parent.args and type(parent.func) is ast.Attribute \
                    and type(parent.func.value) is ast.Name and parent.func.value.id in names:
                continue  # self.m(..., self, ...): judged at the receiver
            return False
    return True


def _keeping_call(module: ModuleUnit, fresh: FreshClass, call: ast.Call, names: set[str], dropped: bool, depth: int) -> bool:
    """Whether ``call``, ``self.m(args)`` on an instance named by ``names``, keeps it: the
    instance passed only as the receiver or as a whole argument, to a method that keeps it at
    those positions (returning it counts as keeping it only when the value is ``dropped``)."""
    if call.keywords or any(type(a) is ast.Starred for a in call.args):
        return False
    # (an occurrence inside an argument, `self.scale(1 / self.magnitude())`, is judged where it is)
    positions = {0} | {i + 1 for i, a in enumerate(call.args) if type(a) is ast.Name and a.id in names}
    func = call.func
    assert type(func) is ast.Attribute
    return keeps(module, fresh, func.attr, frozenset(positions), dropped, depth + 1)


def construction_keeps(module: ModuleUnit, fresh: FreshClass, class_name: str, positions: frozenset[int]) -> bool:
    """Whether ``class_name(...)``, given a new instance of ``fresh``'s class as the arguments
    at ``positions`` (the first is 1), keeps it to itself: a plain class of the module whose
    instances ``object.__new__`` makes, with no attribute hooks, whose ``__init__`` (a ``def``)
    keeps it (``Ray(p, v)`` with ``self.vector = vector.normalized()``)."""
    found_class = _hookless_class(module, class_name)
    if found_class is None:
        return False
    info, table, _classes = found_class
    found = table.lookup(info, "__init__")
    if found is None or found[1].kind != "function" or type(found[1].node) is not ast.FunctionDef:
        return False
    return keeps(module, fresh, "__init__", positions, False, 1, owner=class_name)
