"""Module-wide facts: which globals are constants for good, which builtins may be assumed, and
whether anything makes the module's namespace unknowable.

A global is a *module constant* when it is bound exactly once, by a top-level ``NAME = <constant
expression>`` or an unpacking of constants (``EMPTY, WHITE, BLACK = 0, 1, 2``), and nothing else
anywhere in the module binds it: no other assignment or augmented assignment, no ``global NAME``
in a function or class that binds it, no ``del``, import, ``for``/``with``/``except``/``match``
target, ``:=``, class or function of that name.
A builtin may be assumed when the module never binds its name. Both are void when the module
uses ``exec``, ``eval``, ``globals()``, ``vars()``, ``import *``, ``__builtins__`` or frame
access anywhere: any global could then be rebound while a specialized frame runs.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import builtins
import importlib
import types
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fatopt.analyses.manager import Analysis
from fatopt.analyses.scopes import INLINED_TARGETS_REASON, ModuleScopes, Scope, ScopesOfModule

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit
from fatopt.config import Config
from fatopt.folding import NOT_FOLDED, evaluate

__all__ = ["ModuleFacts", "FactsOfModule", "analyze_module"]

_BUILTIN_NAMES = frozenset(dir(builtins))

#: modules whose functions are C functions that see no Python frame (they call back only into
#: ``__float__``, ``__index__`` and the like, as an operator would): a call of one from inlined
#: code behaves as from the callee
C_FUNCTION_MODULES = ("math", "cmath")


def _c_functions(tree: ast.Module, counts: dict[str, int]) -> frozenset[str]:
    """Names the module's top level binds once by ``from math import f`` (or cmath) to a C
    function of that module (as the optimizing interpreter's module has it; the caller's guard
    on the global keeps the binding)."""
    out = set()
    for stmt in tree.body:
        if type(stmt) is not ast.ImportFrom or stmt.level or stmt.module not in C_FUNCTION_MODULES:
            continue
        module = importlib.import_module(stmt.module)
        for alias in stmt.names:
            local = alias.asname or alias.name
            if counts.get(local) == 1 and type(getattr(module, alias.name, None)) is types.BuiltinFunctionType:
                out.add(local)
    return frozenset(out)


@dataclass(frozen=True)
class ModuleFacts:
    """What the optimizer may assume about a module's global namespace."""

    #: name -> value of each module constant (empty if the module is dynamic)
    constants: dict[str, Any]
    #: every name some statement of the module may bind in the module's namespace
    module_bound: frozenset[str]
    #: why the namespace is unknowable (empty tuple: it is known)
    dynamic: tuple[str, ...]
    #: name -> number of statements that may bind it in the module namespace
    binding_counts: dict[str, int] = field(default_factory=dict)
    #: names bound once, by ``from math import sqrt`` (or cmath) at the module's top level, to a
    #: C function of that module: inlined code may call them (:data:`C_FUNCTION_MODULES`)
    c_functions: frozenset[str] = frozenset()

    def binding_count(self, name: str) -> int:
        """How many statements of the module may bind ``name`` in its namespace."""
        return self.binding_counts.get(name, 0)

    def assumable_builtin(self, name: str) -> bool:
        """True if ``name``, used as a global in this module, is the builtin unless something
        shadows it at run time. A dynamic module (``exec``, ``globals()``, ``import *``) may
        shadow any builtin that way, but the guard on the builtin watches the module's namespace
        for exactly that, so only names the module's own code binds are excluded."""
        return name in _BUILTIN_NAMES and name not in self.module_bound


def _module_level_bindings(modscope: Scope) -> dict[str, int]:
    """name -> binding sites in the module namespace, counting ``global`` writers elsewhere."""
    counts = dict(modscope.bindings)
    for scope in modscope.walk():
        if scope is modscope:
            continue
        for name in scope.declared_global:
            if name in scope.bindings:
                counts[name] = counts.get(name, 0) + scope.bindings[name]
    return counts


def _dynamic_reasons(modscope: Scope) -> tuple[str, ...]:
    reasons: set[str] = set()
    for scope in modscope.walk():
        for reason, _line in scope.unsafe:
            # locals() in a function reads that function's locals only; 3.12's comprehension
            # scoping concerns one function's names
            if (reason == "uses locals" and scope.kind != "module") or reason == INLINED_TARGETS_REASON:
                continue
            reasons.add(reason)
    return tuple(sorted(reasons))


def _constant_assignment(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
        return stmt.targets[0].id, stmt.value
    if (
        type(stmt) is ast.AnnAssign
        and stmt.value is not None
        and stmt.simple
        and type(stmt.target) is ast.Name
    ):
        return stmt.target.id, stmt.value
    return None


def _unpacked_constants(stmt: ast.stmt, config: Config) -> list[tuple[str, Any]]:
    """``EMPTY, WHITE, BLACK = 0, 1, 2`` (a tuple or list of names, nested ones too, assigned
    constants of the same shape): each name with its value; [] for anything else (a starred
    target, a shape that does not match: the statement would raise)."""
    if type(stmt) is not ast.Assign or len(stmt.targets) != 1 or type(stmt.targets[0]) not in _SEQUENCES:
        return []
    out: list[tuple[str, Any]] = []
    return out if _unpack(stmt.targets[0], stmt.value, config, out) else []


_SEQUENCES = (ast.Tuple, ast.List)


def _unpack(target: ast.expr, value: ast.expr | Any, config: Config, out: list[tuple[str, Any]]) -> bool:
    """Pair ``target`` with ``value`` (a node, or a value already computed) into ``out``."""
    if type(target) is ast.Name:
        if isinstance(value, ast.AST):
            value = evaluate(value, config)
        out.append((target.id, value))
        return True
    if type(target) not in _SEQUENCES:
        return False  # a starred, attribute or subscript target
    if type(value) in _SEQUENCES:
        # a literal display: each item by itself (the limits apply per value, not to the whole)
        items = value.elts  # type: ignore[union-attr]
        if any(type(item) is ast.Starred for item in items):
            return False
    else:
        items = evaluate(value, config) if isinstance(value, ast.AST) else value
        if type(items) is not tuple:
            return False
    elts = target.elts  # type: ignore[attr-defined]
    return len(elts) == len(items) and all(_unpack(t, v, config, out) for t, v in zip(elts, items, strict=True))


def analyze_module(tree: ast.Module, scopes: ModuleScopes, config: Config) -> ModuleFacts:
    """Module facts of ``tree``; ``scopes`` is its :func:`~fatopt.analyses.scopes.analyze_scopes`."""
    modscope = scopes.module
    counts = _module_level_bindings(modscope)
    dynamic = _dynamic_reasons(modscope)
    constants: dict[str, Any] = {}
    if not dynamic:
        for stmt in tree.body:
            found = _constant_assignment(stmt)
            if found is None:
                bound = _unpacked_constants(stmt, config)
            else:
                bound = [(found[0], evaluate(found[1], config))]
            for name, value in bound:
                if counts.get(name) != 1 or name in modscope.deleted:
                    continue
                if name.startswith("__") and name.endswith("__"):
                    continue  # set by the import system before the module runs
                if value is not NOT_FOLDED:
                    constants[name] = value
    return ModuleFacts(constants=constants, module_bound=frozenset(counts), dynamic=dynamic, binding_counts=counts,
                       c_functions=_c_functions(tree, counts) if not dynamic else frozenset())


class FactsOfModule(Analysis[ModuleFacts]):
    """:func:`analyze_module` of a :class:`fatopt.module_unit.ModuleUnit` (stable: it describes
    the module's source, which the optimizer never rewrites outside function bodies)."""

    stable = True

    @classmethod
    def compute(cls, module: "ModuleUnit") -> ModuleFacts:
        return analyze_module(module.tree, module.fact(ScopesOfModule), module.config)
