"""Which parameters of a function would gain from knowing their exact class, and which classes
of the module could be it: what :mod:`fatopt.first_call_types` watches for at the function's
first call.

Without a profile, a parameter's class is unknown where the caller passes it (scimark's
``LU_factor(A, pivot)``, ``SOR_execute(omega, G, cycles, Array)``), and the function's subscripts
on it each pay a full call of the class's ``__getitem__``. A parameter is *wanting* a type when:

- the function is a plain ``def`` at module level or in the body of a top-level class (not a
  generator or coroutine, no decorator: its name is bound to the function itself), and the
  optimizer did not leave it out (``exec``, ``locals()``, ...);
- the parameter is positional or keyword-only (not ``*args``/``**kwargs``), not the first
  parameter of a method (``self`` is already speculated), not a parameter of an ``__init__``
  (3.13 enters it past the hook that watches a first call), not annotated with a class of the
  module (the annotation is already speculated), never rebound or deleted;
- it is subscripted (``p[i]``, ``p[i] = x``) inside a ``for`` or ``while`` loop of the function:
  where the calls add up. (A loop statement also keeps the function from being inlined into its
  callers, whose guards would then hold the code the watch replaces on 3.12.)

The classes are the module's plain top-level classes (:func:`~fatopt.analyses.method_callees.
plain_class`) whose MRO defines ``__getitem__`` or ``__setitem__`` in the source: the only ones
:mod:`fatopt.passes.specialize_types` could inline into such a function. None: nothing to
watch in the module (most modules).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import TYPE_CHECKING

from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.manager import Analysis
from fatopt.analyses.method_callees import plain_class

if TYPE_CHECKING:
    from fatopt.analyses.scopes import Scope
    from fatopt.module_unit import ModuleUnit

__all__ = ["SubscriptClasses", "subscript_classes", "wanting_parameters"]

#: the dunders whose inlining a parameter's exact class enables
SUBSCRIPT_DUNDERS = ("__getitem__", "__setitem__")
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def subscript_classes(module: ModuleUnit) -> tuple[str, ...]:
    """Names of the module's plain top-level classes whose MRO defines a subscript dunder, in
    source order."""
    table = module.fact(ModuleClassTable)
    out = []
    for info in table.classes:
        if plain_class(module, info.qualname) is not info:
            continue
        mro = table.mro(info) or []
        if any(name in klass.methods for klass in mro for name in SUBSCRIPT_DUNDERS):
            out.append(info.name)
    return tuple(out)


class SubscriptClasses(Analysis["tuple[str, ...]"]):
    """:func:`subscript_classes` of a :class:`fatopt.module_unit.ModuleUnit` (stable)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> tuple[str, ...]:  # type: ignore[override]
        return subscript_classes(module)


def _in_loops(node: ast.AST):
    """The nodes inside loops of ``node``'s own code (not of nested functions or classes): a
    loop's whole statement, so ``for`` targets and iterables too."""
    stack = [(child, False) for child in ast.iter_child_nodes(node)]
    while stack:
        current, looped = stack.pop()
        if isinstance(current, _SCOPES):
            continue
        looped = looped or isinstance(current, _LOOPS)
        if looped:
            yield current
        stack.extend((child, looped) for child in ast.iter_child_nodes(current))


def wanting_parameters(node: ast.AST, scope: Scope, method: bool, class_names: frozenset[str]) -> tuple[str, ...]:
    """The parameters of the function ``node`` (its scope ``scope``; ``method`` if it is
    defined in a class body) that want a type, in their order (see the module docstring)."""
    if type(node) is not ast.FunctionDef or node.decorator_list or scope.has_yield or scope.has_await:
        return ()
    if method and node.name == "__init__":
        return ()  # 3.13 enters a class's __init__ past the watch's hook (fatopt/_runtime/swap.c)
    args = node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if method:
        params = params[1:] if len(args.posonlyargs) + len(args.args) else []
    candidates = set()
    for param in params:
        name = param.arg
        annotation = param.annotation
        if type(annotation) is ast.Name and annotation.id in class_names:
            continue
        if scope.bindings.get(name, 0) != 1 or name in scope.deleted:
            continue
        if any(name in inner.declared_nonlocal for inner in scope.walk() if inner is not scope):
            continue
        candidates.add(name)
    if not candidates:
        return ()
    used = set()
    for inner in _in_loops(node):
        if type(inner) is ast.Subscript and type(inner.value) is ast.Name and inner.value.id in candidates:
            used.add(inner.value.id)
    return tuple(p.arg for p in params if p.arg in used)
