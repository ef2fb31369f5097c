"""Scopes and bindings: for every scope of a module, which names it binds, declares global or
nonlocal, and loads, plus the constructs that make it impossible to reason about its names.

Passes need to know whether ``len`` in a function is the builtin (nothing in the function or
its enclosing functions binds it, nor the module), whether ``DEBUG`` is the module's global, and
whether a local is bound exactly once. This is the one walk over the whole module that answers
those questions; it changes nothing. The rules follow CPython's symtable: class scopes are not
visible from the functions inside them, comprehension targets are local to the comprehension
while ``:=`` targets bind in the enclosing function, type parameters live in a scope of their own.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import sys
from typing import TYPE_CHECKING, Iterator

from fatopt.analyses.manager import Analysis
from fatopt.nodes import CHILD_FIELDS as _CHILD_FIELDS

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = [
    "Scope",
    "ModuleScopes",
    "analyze_scopes",
    "UNSAFE_NAMES",
    "UNSAFE_ATTRIBUTES",
    "FUNCTION_NODES",
    "COMPREHENSION_NODES",
    "resolve",
    "INLINED_TARGETS_REASON",
    "ScopesOfModule",
]

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSION_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

#: Names whose use lets code read or write namespaces behind the optimizer's back.
UNSAFE_NAMES = frozenset(
    {"exec", "eval", "globals", "locals", "vars", "__builtins__", "breakpoint", "__import__"}
)
#: Attributes giving access to running frames (``sys._getframe``, ``inspect.currentframe``).
UNSAFE_ATTRIBUTES = frozenset({"_getframe", "currentframe", "f_globals", "f_locals", "f_builtins"})


class Scope:
    """What one scope binds and uses. ``kind`` is module, function, lambda, class,
    comprehension or annotation (type parameters, type aliases)."""

    __slots__ = (
        "node", "kind", "parent", "children", "bindings", "declared_global",
        "declared_nonlocal", "loads", "deleted", "unsafe", "has_yield", "has_await",
        "star_import", "hints", "constant_calls", "calls", "attribute_writes",
    )

    def __init__(self, node: ast.AST, kind: str, parent: "Scope | None") -> None:
        self.node = node
        self.kind = kind
        self.parent = parent
        self.children: list[Scope] = []
        #: name -> number of places binding it (assignments, imports, defs, params, targets, del)
        self.bindings: dict[str, int] = {}
        self.declared_global: set[str] = set()
        self.declared_nonlocal: set[str] = set()
        self.loads: set[str] = set()
        self.deleted: set[str] = set()
        #: (reason, lineno) for each unsafe construct used directly in this scope
        self.unsafe: list[tuple[str, int]] = []
        self.has_yield = False
        self.has_await = False
        self.star_import = False
        #: cheap signs of opportunities: "literal_iteration" (a loop or comprehension over a
        #: display or constant), "literal_method" (a method called on a str/bytes literal),
        #: "genexpr_argument" (a name called with a generator expression as its one argument),
        #: "genexpr_str_method" (the same for a method of a constant: ``"".join(g)``)
        self.hints: set[str] = set()
        #: names called with only constant arguments (``len("abc")``, ``range(3)``)
        self.constant_calls: set[str] = set()
        #: the calls this scope's code makes, in the order the walk met them (the call graph
        #: resolves them without walking the tree again)
        self.calls: list[ast.Call] = []
        #: (name, attribute) for each ``name.attribute`` this scope stores or deletes; the name is
        #: "" when the object is another expression
        self.attribute_writes: set[tuple[str, str]] = set()
        if parent is not None:
            parent.children.append(self)

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda")

    def binds(self, name: str) -> bool:
        return name in self.bindings and name not in self.declared_global and (
            name not in self.declared_nonlocal
        )

    def walk(self) -> Iterator["Scope"]:
        """This scope and all scopes nested in it."""
        stack = [self]
        while stack:
            scope = stack.pop()
            yield scope
            stack.extend(reversed(scope.children))

    def release(self) -> None:
        """Unlink this scope from its parent and the scopes nested in it from their children:
        parents and children refer to each other, a reference cycle that would keep the scopes
        and the tree they point into alive until the cyclic garbage collector runs. Call it when
        done with them."""
        for scope in list(self.walk()):
            scope.children = []
        self.parent = None

    def __repr__(self) -> str:
        name = getattr(self.node, "name", type(self.node).__name__)
        return f"<Scope {self.kind} {name}>"


def resolve(scope: Scope, name: str) -> str:
    """Where ``name`` used in ``scope`` binds: ``local``, ``global`` (declared), ``nonlocal``,
    ``free`` (an enclosing function's local), ``class`` (a name of the class body being run) or
    ``module`` (a module global or, if the module does not bind it, a builtin)."""
    if name in scope.declared_global:
        return "global"
    if name in scope.declared_nonlocal:
        return "nonlocal"
    if scope.kind == "module":
        return "module"
    if name in scope.bindings:
        return "class" if scope.kind == "class" else "local"
    parent = scope.parent
    while parent is not None and parent.kind != "module":
        if parent.kind == "class":  # functions do not see class bodies
            parent = parent.parent
            continue
        if name in parent.declared_global:
            return "module"
        if name in parent.bindings or name in parent.declared_nonlocal:
            return "free"
        parent = parent.parent
    return "module"


#: CPython 3.12 inlines list, set and dict comprehensions into their function (PEP 709), and a
#: name bound as the target of one of them is then a local of the whole function inside every
#: other inlined comprehension: ``[len for len in ()]`` then ``[len(s) for s in x]`` raises
#: UnboundLocalError on 3.12 (not on 3.13). fatopt leaves such a function as it is there.
_INLINED_TARGETS_LEAK = sys.version_info[:2] == (3, 12)
INLINED_TARGETS_REASON = "3.12 comprehension scoping (a comprehension reads a name another one binds)"


def _is_inlined(scope: Scope) -> bool:
    return scope.kind == "comprehension" and type(scope.node) is not ast.GeneratorExp


def _inlined(function: Scope) -> list[Scope]:
    """The comprehensions whose code runs in ``function``'s (3.12), nested ones included."""
    found, stack = [], [c for c in function.children if _is_inlined(c)]
    while stack:
        comprehension = stack.pop()
        found.append(comprehension)
        stack.extend(c for c in comprehension.children if _is_inlined(c))
    return found


def _reads_another_comprehensions_target(function: Scope) -> bool:
    comprehensions = _inlined(function)
    if len(comprehensions) < 2:
        return False
    bound = set().union(*(c.bindings for c in comprehensions))
    for comprehension in comprehensions:
        visible = set(comprehension.bindings)
        outer = comprehension.parent
        while outer is not None and _is_inlined(outer):  # an enclosing comprehension's target
            visible.update(outer.bindings)
            outer = outer.parent
        if (comprehension.loads - visible) & bound:
            return True
    return False


class ModuleScopes:
    """The scope tree of a module and the scope of each scope-creating node."""

    __slots__ = ("module", "by_node")

    def __init__(self, module: Scope, by_node: dict[ast.AST, Scope]) -> None:
        self.module = module
        self.by_node = by_node

    def scope_of(self, node: ast.AST) -> Scope:
        return self.by_node[node]

    def all_scopes(self) -> Iterator[Scope]:
        return self.module.walk()

    def release(self) -> None:
        """Break the scope tree's reference cycles (:meth:`Scope.release`) when done with it."""
        self.module.release()


# read for every child: one global lookup each, not two
_Constant, _Name, _Load = ast.Constant, ast.Name, ast.Load


def _bind(scope: Scope, name: str) -> None:
    scope.bindings[name] = scope.bindings.get(name, 0) + 1


class _Builder:
    """One recursive walk; ``scope`` is the scope the node being visited belongs to."""

    def __init__(self) -> None:
        self.by_node: dict[ast.AST, Scope] = {}

    # -- helpers -------------------------------------------------------------------------------
    def new_scope(self, node: ast.AST, kind: str, parent: Scope) -> Scope:
        scope = Scope(node, kind, parent)
        self.by_node[node] = scope
        return scope

    def visit_list(self, nodes: list, scope: Scope) -> None:
        for node in nodes:  # self.visit, inlined: statement lists are long
            if node is not None:
                method = _DISPATCH.get(type(node))
                if method is not None:
                    method(self, node, scope)
                else:
                    self.visit_children(node, scope)

    def visit(self, node: ast.AST, scope: Scope) -> None:
        method = _DISPATCH.get(type(node))
        if method is not None:
            method(self, node, scope)
        else:
            self.visit_children(node, scope)

    def visit_children(self, node: ast.AST, scope: Scope) -> None:
        # the hot loop of the walk (it meets every node): fields are read from the instance
        # dict, only those that can hold nodes; names (a third of all nodes) are recorded here
        # rather than through a call of visit_name; constants have nothing to record
        fields = node.__dict__
        for field in _CHILD_FIELDS[type(node)]:
            value = fields.get(field)
            if value is None:
                continue
            for item in value if type(value) is list else (value,):
                kind = type(item)
                if kind is _Name:
                    name = item.id
                    if type(item.ctx) is _Load:
                        scope.loads.add(name)
                    else:
                        self.visit_name(item, scope)  # a binding: the rare case
                        continue
                    if name in UNSAFE_NAMES:
                        scope.unsafe.append((f"uses {name}", getattr(item, "lineno", 0)))
                elif kind is not _Constant and item is not None:
                    method = _DISPATCH.get(kind)
                    if method is not None:
                        method(self, item, scope)
                    else:
                        self.visit_children(item, scope)

    def type_params_scope(self, node: ast.AST, scope: Scope) -> Scope:
        params = getattr(node, "type_params", None)
        if not params:
            return scope
        inner = Scope(node, "annotation", scope)
        for param in params:
            _bind(inner, param.name)
            for field in ("bound", "default_value"):
                value = getattr(param, field, None)
                if value is not None:
                    self.visit(value, inner)
        return inner

    # -- scope-creating nodes ------------------------------------------------------------------
    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        _bind(scope, node.name)
        self.visit_list(node.decorator_list, scope)
        args = node.args
        self.visit_list(args.defaults, scope)
        self.visit_list(args.kw_defaults, scope)
        outer = self.type_params_scope(node, scope)
        for arg in _all_args(args):
            if arg.annotation is not None:
                self.visit(arg.annotation, outer)
        if node.returns is not None:
            self.visit(node.returns, outer)
        inner = self.new_scope(node, "function", outer)
        for arg in _all_args(args):
            _bind(inner, arg.arg)
        self.visit_list(node.body, inner)

    def visit_lambda(self, node: ast.Lambda, scope: Scope) -> None:
        args = node.args
        self.visit_list(args.defaults, scope)
        self.visit_list(args.kw_defaults, scope)
        inner = self.new_scope(node, "lambda", scope)
        for arg in _all_args(args):
            _bind(inner, arg.arg)
        self.visit(node.body, inner)

    def visit_class(self, node: ast.ClassDef, scope: Scope) -> None:
        _bind(scope, node.name)
        self.visit_list(node.decorator_list, scope)
        outer = self.type_params_scope(node, scope)
        self.visit_list(node.bases, outer)
        self.visit_list(node.keywords, outer)
        inner = self.new_scope(node, "class", outer)
        self.visit_list(node.body, inner)

    def visit_comprehension(self, node: ast.AST, scope: Scope) -> None:
        generators = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter, scope)
        inner = self.new_scope(node, "comprehension", scope)
        if type(node) is not ast.GeneratorExp:
            scope.hints.add("comprehension")
        if _is_literal(generators[0].iter):
            inner.hints.add("literal_iteration")
        for index, generator in enumerate(generators):
            self.visit(generator.target, inner)
            if index:
                self.visit(generator.iter, inner)
            self.visit_list(generator.ifs, inner)
        if type(node) is ast.DictComp:
            self.visit(node.key, inner)
            self.visit(node.value, inner)
        else:
            self.visit(node.elt, inner)  # type: ignore[attr-defined]

    def visit_type_alias(self, node: ast.AST, scope: Scope) -> None:
        self.visit(node.name, scope)  # type: ignore[attr-defined]
        outer = self.type_params_scope(node, scope)
        inner = Scope(node, "annotation", outer)
        self.visit(node.value, inner)  # type: ignore[attr-defined]

    # -- bindings and uses ---------------------------------------------------------------------
    def visit_name(self, node: ast.Name, scope: Scope) -> None:
        name = node.id
        ctx = type(node.ctx)
        if ctx is ast.Load:
            scope.loads.add(name)
        else:
            _bind(scope, name)
            if ctx is ast.Del:
                scope.deleted.add(name)
        if name in UNSAFE_NAMES:
            scope.unsafe.append((f"uses {name}", getattr(node, "lineno", 0)))

    def visit_attribute(self, node: ast.Attribute, scope: Scope) -> None:
        if node.attr in UNSAFE_ATTRIBUTES:
            scope.unsafe.append((f"uses .{node.attr}", node.lineno))
        value = node.value
        if type(node.ctx) is not ast.Load:
            # ("", attr) when the object is not a name: `cls().x = 1`, `type(o).x += 1`
            scope.attribute_writes.add((value.id if type(value) is ast.Name else "", node.attr))
        if type(value) is _Name and type(value.ctx) is _Load:  # the usual `name.attr`
            scope.loads.add(value.id)
            if value.id in UNSAFE_NAMES:
                scope.unsafe.append((f"uses {value.id}", getattr(value, "lineno", 0)))
        else:
            self.visit(value, scope)

    def visit_named_expr(self, node: ast.NamedExpr, scope: Scope) -> None:
        target_scope = scope
        while target_scope.kind == "comprehension" and target_scope.parent is not None:
            target_scope = target_scope.parent
        self.visit(node.target, target_scope)
        self.visit(node.value, scope)

    def visit_global(self, node: ast.Global, scope: Scope) -> None:
        scope.declared_global.update(node.names)

    def visit_nonlocal(self, node: ast.Nonlocal, scope: Scope) -> None:
        scope.declared_nonlocal.update(node.names)

    def visit_import(self, node: ast.Import, scope: Scope) -> None:
        for alias in node.names:
            _bind(scope, alias.asname or alias.name.partition(".")[0])

    def visit_import_from(self, node: ast.ImportFrom, scope: Scope) -> None:
        for alias in node.names:
            if alias.name == "*":
                scope.star_import = True
                scope.unsafe.append(("uses import *", node.lineno))
            else:
                _bind(scope, alias.asname or alias.name)

    def visit_except_handler(self, node: ast.ExceptHandler, scope: Scope) -> None:
        if node.name:
            _bind(scope, node.name)
            scope.deleted.add(node.name)  # the name is deleted when the handler ends
        if node.type is not None:
            self.visit(node.type, scope)
        self.visit_list(node.body, scope)

    def visit_match_binding(self, node: ast.AST, scope: Scope) -> None:
        name = getattr(node, "name", None) or getattr(node, "rest", None)
        if name:
            _bind(scope, name)
        for field in node._fields:
            value = getattr(node, field)
            if type(value) is list:
                self.visit_list([v for v in value if isinstance(v, ast.AST)], scope)
            elif isinstance(value, ast.AST):
                self.visit(value, scope)

    def visit_yield(self, node: ast.AST, scope: Scope) -> None:
        scope.has_yield = True
        self.visit_children(node, scope)  # the value, if any

    def visit_await(self, node: ast.Await, scope: Scope) -> None:
        scope.has_await = True
        self.visit_children(node, scope)  # the value

    def visit_constant(self, node: ast.AST, scope: Scope) -> None:
        pass

    def visit_for(self, node: ast.For, scope: Scope) -> None:
        scope.hints.add("for_loop")
        if _is_literal(node.iter):
            scope.hints.add("literal_iteration")
        self.visit_children(node, scope)  # target, iter, body, orelse

    def visit_call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        scope.calls.append(node)
        if len(node.args) == 1 and type(node.args[0]) is ast.GeneratorExp:
            if type(func) is ast.Name:
                scope.hints.add("genexpr_argument")
            elif type(func) is ast.Attribute and type(func.value) is ast.Constant:
                scope.hints.add("genexpr_str_method")
        if not node.keywords and all(_is_literal(arg) for arg in node.args):
            if type(func) is ast.Name:
                scope.constant_calls.add(func.id)
            elif type(func) is ast.Attribute and type(func.value) is ast.Constant:
                scope.hints.add("literal_method")
        if type(func) is _Name:  # the usual call: visit_name, inlined
            name = func.id
            scope.loads.add(name)
            # vars(obj) is obj.__dict__: only vars() reads the namespace it runs in
            if name in UNSAFE_NAMES and not (name == "vars" and _reads_an_object(node)):
                scope.unsafe.append((f"uses {name}", getattr(func, "lineno", 0)))
        else:
            self.visit(func, scope)
        for arg in node.args:
            kind = type(arg)
            if kind is _Name and type(arg.ctx) is _Load:  # the usual argument: a name read
                scope.loads.add(arg.id)
                if arg.id in UNSAFE_NAMES:
                    scope.unsafe.append((f"uses {arg.id}", getattr(arg, "lineno", 0)))
            elif kind is not _Constant:
                self.visit(arg, scope)
        for keyword in node.keywords:
            self.visit(keyword.value, scope)


def _reads_an_object(call: ast.Call) -> bool:
    """True for ``vars(obj)``: one positional argument, no ``*``, no keyword. Only ``vars()``
    without an argument reads the namespace it runs in (the module's, or a function's locals)."""
    return len(call.args) == 1 and type(call.args[0]) is not ast.Starred and not call.keywords


def _is_literal(node: ast.AST) -> bool:
    """A constant, a negated number, or a tuple/list display of those."""
    kind = type(node)
    if kind is ast.Constant:
        return True
    if kind is ast.UnaryOp:
        return type(node.operand) is ast.Constant  # type: ignore[attr-defined]
    if kind in (ast.Tuple, ast.List):
        return all(_is_literal(elt) for elt in node.elts)  # type: ignore[attr-defined]
    return False


def _all_args(args: ast.arguments) -> list[ast.arg]:
    out = [*args.posonlyargs, *args.args]
    if args.vararg is not None:
        out.append(args.vararg)
    out.extend(args.kwonlyargs)
    if args.kwarg is not None:
        out.append(args.kwarg)
    return out


_DISPATCH: dict = {
    ast.FunctionDef: _Builder.visit_function,
    ast.AsyncFunctionDef: _Builder.visit_function,
    ast.Lambda: _Builder.visit_lambda,
    ast.ClassDef: _Builder.visit_class,
    ast.ListComp: _Builder.visit_comprehension,
    ast.SetComp: _Builder.visit_comprehension,
    ast.DictComp: _Builder.visit_comprehension,
    ast.GeneratorExp: _Builder.visit_comprehension,
    ast.Name: _Builder.visit_name,
    ast.Attribute: _Builder.visit_attribute,
    ast.NamedExpr: _Builder.visit_named_expr,
    ast.Global: _Builder.visit_global,
    ast.Nonlocal: _Builder.visit_nonlocal,
    ast.Import: _Builder.visit_import,
    ast.ImportFrom: _Builder.visit_import_from,
    ast.ExceptHandler: _Builder.visit_except_handler,
    ast.MatchAs: _Builder.visit_match_binding,
    ast.MatchStar: _Builder.visit_match_binding,
    ast.MatchMapping: _Builder.visit_match_binding,
    ast.Yield: _Builder.visit_yield,
    ast.YieldFrom: _Builder.visit_yield,
    ast.Await: _Builder.visit_await,
    ast.Constant: _Builder.visit_constant,
    ast.For: _Builder.visit_for,
    ast.Call: _Builder.visit_call,
}
if hasattr(ast, "TypeAlias"):
    _DISPATCH[ast.TypeAlias] = _Builder.visit_type_alias


def analyze_scopes(tree: ast.Module) -> ModuleScopes:
    """The scope tree of ``tree`` (a pure function of the tree: it is not modified)."""
    builder = _Builder()
    module = Scope(tree, "module", None)
    builder.by_node[tree] = module
    builder.visit_list(tree.body, module)
    if _INLINED_TARGETS_LEAK:
        for scope in module.walk():
            if scope.is_function and _reads_another_comprehensions_target(scope):
                scope.unsafe.append((INLINED_TARGETS_REASON, getattr(scope.node, "lineno", 0)))
    return ModuleScopes(module, builder.by_node)


def function_scope_names(scope: Scope) -> dict[str, str]:
    """name -> resolution for every name used or bound in a function scope (for reports)."""
    names = set(scope.bindings) | scope.loads | scope.declared_global | scope.declared_nonlocal
    return {name: resolve(scope, name) for name in sorted(names)}


class ScopesOfModule(Analysis[ModuleScopes]):
    """The module's scope tree (:func:`analyze_scopes`), as a managed analysis of a
    :class:`fatopt.module_unit.ModuleUnit`. Stable: emission keeps every function's names, so
    how a name resolves never changes with rewrites."""

    stable = True

    @classmethod
    def compute(cls, module: "ModuleUnit") -> ModuleScopes:
        return analyze_scopes(module.tree)
