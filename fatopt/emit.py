"""Emission: build the optimized module from the original tree and the optimized functions.

A function changed by a guarded pass becomes two statements, in place of its ``def``::

    def f(x, y, ...):                        # original body; same parameters, without defaults,
        <original body>                      # annotations or decorators (they run once, below)
    @user_decorator
    @__fatopt_runtime__.born(f, ("builtins", "len"), ...)   # the guards' recipes, as constants
    def f(x, y=1, ...):                      # same signature, docstring, decorators, lines
        <specialized body>

Both ``def`` statements are in the same scope, so free variables match, and have the same name,
so every code object nested in either (closures, generator expressions) has the qualified name
plain CPython gives it: the compiler merges equal nested code objects of the two, so a private
name for the fallback would leak into the specialized function's closures. The second ``def``
rebinds the name at once; the optimizer does not specialize a function whose decorators,
defaults or annotations use its own name (``@x.setter``), since they would see the fallback.
``born`` registers the original code as the fallback before any user decorator sees the
function. A function changed
only by unguarded passes keeps its ``def`` with the new body. Nothing else in the module changes,
and the input tree is never modified (changed statements are shallow copies).

The runtime requires both codes to agree on arguments, kind and free variables. Passes may drop
the last use of a name, the last ``yield`` or a ``global`` statement; :func:`preserve_scope` puts
back a never-executed ``if False:`` block naming them (the compiler drops its code, the symbol
table still sees it).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import copy
from dataclasses import dataclass
from typing import Any, Union

from fatopt.analyses.scopes import Scope, analyze_scopes
from fatopt.blocks import map_blocks
from fatopt.guards import source
from fatopt.nodes import walk

__all__ = [
    "RUNTIME_NAME",
    "VALID_FLAG_PREFIX",
    "needs_runtime",
    "RUNTIME_MODULE",
    "EXACT_TYPES_NAME",
    "Specialization",
    "Rewrite",
    "emit_module",
    "refers_to_own_name",
    "preserve_scope",
    "guard_sources",
    "specialized_statements",
    "class_decorators",
    "rewritten_def",
    "runtime_import_position",
    "runtime_imports",
]

RUNTIME_NAME = "__fatopt_runtime__"
#: How the global names of validity flags start (``born(..., valid=NAME)``, see
#: :meth:`fatopt.passes._rewrite.Unit.validity_flag`)
VALID_FLAG_PREFIX = "__fatopt_valid_"
#: What optimized modules import as RUNTIME_NAME: the C runtime itself, whose ``born`` registers
#: specialized functions (no Python module to import, no Python frame while the module body runs).
#: The import hook checks for this name in a module's code to know that it needs the runtime.
RUNTIME_MODULE = "fatopt._guards"
#: The runtime's ``exact_types``, bound as a global of its own in a module whose code calls it
#: (fatopt.passes.merge_type_tests) or may be specialized again at a first call: one load less
#: than the runtime's attribute, at each site that tests types
EXACT_TYPES_NAME = "__fatopt_exact_types__"

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass
class Specialization:
    """A function born specialized: ``body`` holds while the guards hold. ``guards`` are their
    recipes (``("builtins", "len")``, see :mod:`fatopt.guards`), whose arguments are constants."""

    original: FunctionNode
    body: list[ast.stmt]
    guards: tuple[tuple, ...]
    #: (class name, method name, recipe): guards naming the class the method is defined in,
    #: added by the class statement's innermost decorator (:func:`class_decorators`)
    class_recipes: tuple[tuple[str, str, tuple], ...] = ()
    #: the global name of the validity flag its inlined call sites test, if any
    valid_flag: str | None = None


@dataclass
class Rewrite:
    """A function whose body was rewritten by unguarded passes only."""

    original: FunctionNode
    body: list[ast.stmt]


Change = Union[Specialization, Rewrite]


def guard_sources(recipes: tuple[tuple, ...]) -> tuple[str, ...]:
    """The guards as calls of their classes (``GuardBuiltins('len')``), each value written as
    the optimized source writes constants: what reports show."""
    return tuple(source(recipe, _constant_source) for recipe in recipes)


def _constant_source(value: Any) -> str:
    return ast.unparse(ast.Constant(value))


def _runtime_attr(name: str) -> ast.Attribute:
    return ast.Attribute(value=ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), attr=name, ctx=ast.Load())


def _locate(node: ast.AST, like: ast.AST) -> ast.AST:
    """Give ``node`` and its descendants that have no position the position of ``like``."""
    for sub in walk(node):
        if "lineno" in sub._attributes and getattr(sub, "lineno", None) is None:
            ast.copy_location(sub, like)
    return node


def _has_docstring(body: list[ast.stmt]) -> bool:
    return bool(body) and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and (
        type(body[0].value.value) is str
    )


def _function_scope(node: FunctionNode) -> Scope:
    scopes = analyze_scopes(ast.Module(body=[node], type_ignores=[]))
    return scopes.scope_of(node)


def _all_loads(scope: Scope) -> set[str]:
    names: set[str] = set()
    for inner in scope.walk():
        names |= inner.loads
    return names


def _binding_scope(scope: Scope, name: str) -> Scope | None:
    """The function-like scope ``name`` used in ``scope`` binds in, None for module/builtins."""
    current: Scope | None = scope
    first = True
    while current is not None and current.kind != "module":
        if name in current.declared_global:
            return None
        if (first or current.kind != "class") and (
            name in current.bindings or name in current.declared_nonlocal
        ):
            if name not in current.declared_nonlocal:
                return current
        first = False
        current = current.parent
    return None


def free_names(scope: Scope) -> set[str]:
    """Names the code of ``scope`` takes from enclosing functions (its ``co_freevars``, except
    the implicit ``__class__``), from the module's real scope tree."""
    inside = set(map(id, scope.walk()))
    free: set[str] = set()
    for inner in scope.walk():
        for name in inner.loads | inner.declared_nonlocal | set(inner.bindings):
            home = _binding_scope(inner, name)
            if home is not None and id(home) not in inside:
                free.add(name)
    return free


def _is_generator(scope: Scope) -> bool:
    return scope.has_yield


_CLASS_CELL_NAMES = frozenset({"super", "__class__"})


def preserve_scope(
    original: FunctionNode, body: list[ast.stmt], scope: Scope | None = None, after: Scope | None = None,
) -> list[ast.stmt]:
    """``body`` (the specialized body of ``original``), with what it must keep to compile to the
    same kind of code with the same locals, free variables and docstring as the original.
    ``scope`` is the original's scope in the module's analysis (needed for free variables of
    nested functions; without it only ``super``/``__class__`` are kept); ``after`` the scope
    analysis of the specialized function (``CurrentScope``; computed here if not given)."""
    before = scope if scope is not None else _function_scope(original)
    if after is None:
        spec_node = copy.copy(original)
        spec_node.body = body
        after = _function_scope(spec_node)
    stub: list[ast.stmt] = []
    lost_globals = sorted(before.declared_global - after.declared_global)
    if lost_globals:
        stub.append(ast.Global(names=lost_globals))
    lost_nonlocals = sorted(before.declared_nonlocal - after.declared_nonlocal)
    if lost_nonlocals:
        stub.append(ast.Nonlocal(names=lost_nonlocals))
    for name in sorted(set(before.bindings) - set(after.bindings)):
        stub.append(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=ast.Constant(None)))
    loads_before = _all_loads(before)
    needed = (loads_before & _CLASS_CELL_NAMES) | (free_names(scope) if scope is not None else set())
    lost_loads = sorted(needed - _all_loads(after) - set(after.declared_nonlocal))
    if lost_loads:
        names = [ast.Name(id=name, ctx=ast.Load()) for name in lost_loads]
        stub.append(ast.Expr(value=ast.Tuple(elts=names, ctx=ast.Load())))
    if _is_generator(before) and not _is_generator(after):
        stub.append(ast.Expr(value=ast.Yield(value=None)))
    start = 1 if _has_docstring(original.body) else 0
    anchor = body[start] if len(body) > start else body[0]
    if stub:
        block = ast.If(test=ast.Constant(False), body=stub, orelse=[])
        _locate(block, anchor)
        return body[:start] + [block] + body[start:]
    if start == 0 and _has_docstring(body):
        # a string statement moved to the front would become a docstring
        return [_locate(ast.Pass(), anchor)] + body  # type: ignore[list-item]
    return body


def _original_def(node: FunctionNode) -> FunctionNode:
    """The fallback ``def``: the original body under the same name, parameters without
    defaults or annotations (evaluated once, for the specialized def), no decorators."""
    args = copy.copy(node.args)
    strip = lambda arg: ast.copy_location(ast.arg(arg=arg.arg, annotation=None), arg)  # noqa: E731
    args.posonlyargs = [strip(a) for a in node.args.posonlyargs]
    args.args = [strip(a) for a in node.args.args]
    args.vararg = strip(node.args.vararg) if node.args.vararg else None
    args.kwonlyargs = [strip(a) for a in node.args.kwonlyargs]
    args.kwarg = strip(node.args.kwarg) if node.args.kwarg else None
    args.defaults = []
    args.kw_defaults = [None] * len(node.args.kwonlyargs)
    orig = copy.copy(node)
    orig.args = args
    orig.decorator_list = []
    orig.returns = None
    orig.type_comment = None
    if getattr(node, "type_params", None):
        # the body may use the type parameters: keep them (bounds are lazy, never evaluated)
        orig.type_params = copy.deepcopy(node.type_params)
    return orig


def specialized_statements(change: Specialization) -> list[FunctionNode]:
    """The two statements replacing the ``def`` of a specialized function."""
    node = change.original
    orig = _original_def(node)
    # The recipes as constants: no guard objects, no dict built at each import (registration
    # runs at every import of the module, in C: fatopt/_guards.c).
    decorator = ast.Call(
        func=_runtime_attr("born"),
        args=[ast.Name(id=orig.name, ctx=ast.Load()), *(ast.Constant(recipe) for recipe in change.guards)],
        keywords=[ast.keyword(arg="valid", value=ast.Constant(change.valid_flag))] if change.valid_flag else [],
    )
    _locate(decorator, node)
    spec = copy.copy(node)
    spec.decorator_list = [*node.decorator_list, decorator]
    spec.body = change.body
    return [orig, spec]


def refers_to_own_name(node: FunctionNode) -> bool:
    """Whether evaluating the ``def`` (decorators, defaults, annotations, type parameters) may
    read the name it binds: with the fallback emitted under that name, it would see the
    fallback instead of the previous binding (``@x.setter`` reads the previous ``x``)."""
    parts: list[ast.AST] = [*node.decorator_list, *node.args.defaults, *filter(None, node.args.kw_defaults)]
    parts += [a.annotation for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                                     node.args.vararg, node.args.kwarg) if a is not None and a.annotation is not None]
    parts += [node.returns] if node.returns is not None else []
    parts += getattr(node, "type_params", None) or []
    return any(type(n) is ast.Name and n.id == node.name for part in parts for n in walk(part))


def rewritten_def(change: Rewrite) -> FunctionNode:
    """The ``def`` replacing a function changed by unguarded passes only: its new body."""
    node = copy.copy(change.original)
    node.body = change.body
    return node


def first_call_statement(
    node: FunctionNode, owner: ast.ClassDef | None, parameters: tuple[str, ...], classes: tuple[str, ...], digest: str,
) -> ast.stmt:
    """The statement after a ``def`` (after its class statement, for a method of ``owner``)
    whose parameters want a type (:mod:`fatopt.analyses.typed_parameters`):
    ``__fatopt_runtime__.first_call_types(f, ("A",), ("ArrayList",), DIGEST)``, which has
    :mod:`fatopt.first_call_types` watch the function's first call. ``DIGEST`` names the
    module's source text, which the specialization made then must be made from."""
    function: ast.expr = ast.Name(id=node.name, ctx=ast.Load())
    if owner is not None:
        function = ast.Attribute(value=ast.Name(id=owner.name, ctx=ast.Load()), attr=node.name, ctx=ast.Load())
    call = ast.Call(
        func=_runtime_attr("first_call_types"),
        args=[function, ast.Constant(parameters), ast.Constant(classes), ast.Constant(digest)],
        keywords=[],
    )
    return _locate(ast.Expr(value=call), owner or node)  # type: ignore[return-value]


def _rewrite_block(
    stmts: list[ast.stmt], changes: dict[ast.AST, Change], watches: dict[ast.AST, list[ast.stmt]],
) -> list[ast.stmt] | None:
    out: list[ast.stmt] = []
    changed = False
    for stmt in stmts:
        change = changes.get(stmt)
        watch = watches.get(stmt)
        if watch is not None:
            changed = True
        if type(change) is Specialization:
            out.extend(specialized_statements(change))
            changed = True
        elif type(change) is Rewrite:
            out.append(rewritten_def(change))
            changed = True
        if change is not None:
            out.extend(watch or ())
            continue
        new = _rewrite_children(stmt, changes, watches)
        if type(stmt) is ast.ClassDef and new is not stmt:
            new.decorator_list = [*new.decorator_list, *class_decorators(stmt, changes)]  # type: ignore[attr-defined]
        changed = changed or new is not stmt
        out.append(new)
        out.extend(watch or ())
    return out if changed else None


def class_decorators(original: ast.ClassDef, changes: dict[ast.AST, Change]) -> list[ast.expr]:
    """The decorators a class statement gets, innermost, to add the guards its specialized
    methods could not have when they were born, because they name the class:
    ``@__fatopt_runtime__.class_born("Tree", "__iter__", ("class_attrs", "Tree", "__iter__"))``,
    one per method. They run on the new class before its name is bound (the optimizer emits
    them only on classes without decorators of their own)."""
    decorators: list[ast.expr] = []
    for stmt in original.body:
        change = changes.get(stmt)
        if type(change) is not Specialization or not change.class_recipes:
            continue
        by_method: dict[tuple[str, str], list[tuple]] = {}
        for class_name, method, recipe in change.class_recipes:
            by_method.setdefault((class_name, method), []).append(recipe)
        for (class_name, method), recipes in by_method.items():
            call = ast.Call(
                func=_runtime_attr("class_born"),
                args=[ast.Constant(class_name), ast.Constant(method), *(ast.Constant(r) for r in recipes)],
                keywords=[],
            )
            decorators.append(_locate(call, original))  # type: ignore[arg-type]
    return decorators


def _rewrite_children(stmt: ast.stmt, changes: dict[ast.AST, Change], watches: dict[ast.AST, list[ast.stmt]]) -> ast.stmt:
    """``stmt`` itself, or a shallow copy whose nested statement lists were rewritten."""
    return map_blocks(stmt, lambda block: _rewrite_block(block, changes, watches), copy=True)


def needs_runtime(changes: dict[ast.AST, Change], watches: dict[ast.AST, list[ast.stmt]] | None = None) -> bool:
    """Whether the changed module imports the runtime: something is specialized or watched for
    its first call, or a body rewritten in place calls it (eliminate_genexpr's handler for
    ``"".join(g)``, unguarded)."""
    if watches:
        return True
    for change in changes.values():
        if type(change) is Specialization:
            return True
        for stmt in change.body:
            if any(type(node) is ast.Name and node.id == RUNTIME_NAME for node in ast.walk(stmt)):
                return True
    return False


def runtime_imports(changes: dict[ast.AST, Change], watches: dict[ast.AST, list[ast.stmt]] | None = None) -> list[ast.stmt]:
    """The statements that bind the runtime's names in the changed module (none if it needs no
    runtime): the runtime as RUNTIME_NAME; its ``exact_types`` as EXACT_TYPES_NAME where code
    calls it or a function may be specialized again at its first call (whose code may)."""
    if not needs_runtime(changes, watches):
        return []
    imports: list[ast.stmt] = [ast.Import(names=[ast.alias(name=RUNTIME_MODULE, asname=RUNTIME_NAME)])]
    if watches or any(type(node) is ast.Name and node.id == EXACT_TYPES_NAME
                      for change in changes.values() for stmt in change.body for node in ast.walk(stmt)):
        imports.append(ast.ImportFrom(module=RUNTIME_MODULE, names=[ast.alias(name="exact_types", asname=EXACT_TYPES_NAME)],
                                      level=0))
    return imports


def runtime_import_position(body: list[ast.stmt]) -> int:
    """Where the runtime import goes among a module's statements: after the docstring and the
    ``__future__`` imports."""
    index = 1 if _has_docstring(body) else 0
    while index < len(body):
        stmt = body[index]
        if type(stmt) is ast.ImportFrom and stmt.module == "__future__" and not stmt.level:
            index += 1
        else:
            break
    return index


def emit_module(tree: ast.Module, changes: dict[ast.AST, Change], watches: dict[ast.AST, list[ast.stmt]] | None = None) -> ast.Module:
    """A new module: ``tree`` with each changed function replaced as the module docstring says,
    each watched one followed by its :func:`first_call_statement` (a method's after its class
    statement), and the runtime imported after the docstring and ``__future__`` imports if
    anything is specialized or watched. ``changes`` is keyed by the original function nodes,
    ``watches`` by the original statements the watches follow."""
    watches = watches or {}
    body = _rewrite_block(tree.body, changes, watches)
    if body is None:
        return tree
    imports = runtime_imports(changes, watches)
    if imports:
        position = runtime_import_position(body)
        anchor = body[position] if position < len(body) else body[-1]
        for stmt in imports:
            _locate(stmt, anchor)
        body[position:position] = imports
    return ast.Module(body=body, type_ignores=list(tree.type_ignores))
