"""Inlining: a call of a small module-level function becomes the expression it returns, guarded
by *function unchanged* on the callee (``("callee", name)``).

``partial_sum += eval_A(i, j) * u_j`` with ``def eval_A(i, j): return 1.0 / ((i + j) * ...)``
becomes ``partial_sum += 1.0 / ((i + j) * ...) * u_j``: the call, its frame and the argument
binding are gone. Which functions qualify: :mod:`fatopt.analyses.inlinable` (one ``return
EXPR``, at most ``Config.max_inline_size`` expression nodes, calling only pure builtins and
other inlinable functions, defined before the caller).

Exactness:

- the call is left alone if it would raise ``TypeError`` (too many positional arguments, an
  unknown, duplicate or positional-only keyword, a missing argument, ``*``/``**`` arguments);
- arguments are evaluated once, in call order, before anything of the body runs: a constant or
  a local of the caller that is certainly bound (and captured by no nested function, so nothing
  can rebind it meanwhile) is substituted for the parameter; any other argument is bound to a
  fresh local ``_fatopt_<param>_<n>`` by ``:=`` at the parameter's first use, which must come
  before the body's first operation and in call order (otherwise the call stays). Defaults are
  small constants (:mod:`fatopt.analyses.inlinable`) and substituted;
- the callee's global names must mean the same in the caller (module or builtin there too,
  not shadowed by a comprehension variable); builtins it calls are guarded
  (``GuardBuiltins``), and so is every module function its code may call (``GuardCallee``);
- the inlined expression keeps the callee's line numbers and columns, so warnings report the
  callee's line. Tracebacks: the statement is wrapped in ``try: ... except:
  __fatopt_runtime__.inlined_raised(NAME, (FIRST, LAST), None); raise`` whose handler call has
  the position of the call it replaced; the runtime (``fatopt/_runtime/inline_traceback.c``)
  moves the caller's entry to the call and adds the callee's entry, as plain Python shows them.
  A callee is inlined at most once per statement (two copies of its lines could not be told
  apart); a call inside inlined code is inlined in the next round, and its handler runs first.

Only the statements of ``_WRAPPABLE`` are rewritten (not ``with``, ``raise``, ``assert``...),
and ``:=`` is never written inside a comprehension (where it is forbidden in iterables).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.inlinable import Inlinable, InlinableTable, ModuleInlinable
from fatopt.analyses.scopes import resolve
from fatopt.emit import RUNTIME_NAME
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.guards.callee import GuardCallee
from fatopt.nodes import walk
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit, clone, code_scopes

__all__ = ["InlineFunctions", "HANDLER"]

#: the runtime function the handler calls
HANDLER = "inlined_raised"

#: statements whose own expressions may hold inlined code (the whole statement is then wrapped)
_WRAPPABLE = (ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.If, ast.While, ast.For)
_TARGET_NODES = (ast.Name, ast.Tuple, ast.List, ast.Starred, ast.Store)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
#: nodes that evaluate their children and then do nothing that can run code or fail
_EFFECT_FREE = (ast.Name, ast.Constant)

Span = tuple[int, int, int, int]


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)  # type: ignore[attr-defined,return-value]


def _at(node: ast.AST, span: Span) -> ast.AST:
    node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = span  # type: ignore[attr-defined]
    return node


def _target_names(target: ast.AST) -> set[str]:
    return {node.id for node in walk(target) if type(node) is ast.Name}


def _bound_by(stmt: ast.stmt) -> set[str]:
    """Names certainly bound once ``stmt`` completed normally (simple statements only)."""
    kind = type(stmt)
    if kind is ast.Assign:
        names: set[str] = set()
        for target in stmt.targets:  # type: ignore[attr-defined]
            if all(isinstance(node, _TARGET_NODES) for node in walk(target)):
                names |= _target_names(target)
        return names
    if kind in (ast.AnnAssign, ast.AugAssign) and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
        if kind is ast.AugAssign or stmt.value is not None:  # type: ignore[attr-defined]
            return {stmt.target.id}  # type: ignore[attr-defined]
    if kind in (ast.Import, ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in stmt.names if alias.name != "*"}  # type: ignore[attr-defined]
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return {stmt.name}  # type: ignore[attr-defined]
    return set()


def _evaluation_prefix(expr: ast.AST) -> list[ast.Name]:
    """The names ``expr`` loads, in evaluation order, before its first operation (anything but
    loading a name or a constant): what runs before any code of the callee can."""
    out: list[ast.Name] = []

    def visit(node: ast.AST) -> bool:  # False once an operation is reached
        kind = type(node)
        if kind is ast.Name:
            out.append(node)  # type: ignore[arg-type]
            return True
        if kind is ast.Constant:
            return True
        if kind is ast.BinOp:
            children = [node.left, node.right]  # type: ignore[attr-defined]
        elif kind is ast.UnaryOp:
            children = [node.operand]  # type: ignore[attr-defined]
        elif kind is ast.Compare:
            children = [node.left, node.comparators[0]]  # type: ignore[attr-defined]
        elif kind is ast.BoolOp:
            children = [node.values[0]]  # type: ignore[attr-defined]
        elif kind is ast.IfExp:
            children = [node.test]  # type: ignore[attr-defined]
        elif kind is ast.Call:
            children = [node.func, *node.args, *(k.value for k in node.keywords)]  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            children = [node.value]  # type: ignore[attr-defined]
        elif kind is ast.Subscript:
            children = [node.value, node.slice]  # type: ignore[attr-defined]
        else:
            return False  # displays, slices: stop early (never wrong, only less inlined)
        for child in children:
            if not visit(child):
                return False
        return False  # the node's own operation

    visit(expr)
    return out


def _is_wrapper(stmt: ast.stmt) -> bool:
    """True for a ``try`` this pass wrapped around a statement."""
    if type(stmt) is not ast.Try or len(stmt.body) != 1 or len(stmt.handlers) != 1 or stmt.orelse or stmt.finalbody:
        return False
    handler = stmt.handlers[0]
    if handler.type is not None or len(handler.body) < 2:
        return False
    first = handler.body[0]
    return (
        type(first) is ast.Expr and type(first.value) is ast.Call
        and type(first.value.func) is ast.Attribute and first.value.func.attr == HANDLER
        and type(first.value.func.value) is ast.Name and first.value.func.value.id == RUNTIME_NAME
    )


def _wrapper_names(stmt: ast.Try) -> set[str]:
    """The callees whose handlers the wrapper ``stmt`` holds."""
    names = set()
    for part in stmt.handlers[0].body:
        if type(part) is ast.Expr:
            names.add(part.value.args[0].value)  # type: ignore[attr-defined]
    return names


class _Site:
    """A statement being rewritten: the callees inlined into it and the calls they replaced."""

    __slots__ = ("taken", "found")

    def __init__(self, taken: set[str]) -> None:
        #: callees whose handlers already wrap the statement
        self.taken = taken
        #: (callee, span of the call) per inlined call
        self.found: list[tuple[Inlinable, Span]] = []

    def names(self) -> set[str]:
        return self.taken | {entry.name for entry, _span in self.found}


class _Inline(FunctionCodeTransformer):
    def __init__(self, unit: Unit, table: InlinableTable) -> None:
        super().__init__(unit)
        self.table = table
        deleted: set[str] = set()
        for scope in unit.scope.walk():
            deleted |= scope.deleted
        #: locals a ``del`` may unbind again
        self.deletable = deleted
        own = {id(s) for s in code_scopes(unit.scope)}
        captured: set[str] = set()
        for scope in unit.scope.walk():
            if id(scope) not in own:
                captured |= scope.loads | set(scope.bindings) | scope.declared_nonlocal
        #: locals a nested function or class may read or rebind
        self.captured = captured
        args = unit.node.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        #: per enclosing block: the locals certainly bound at the statement being visited
        self.bound: list[set[str]] = [params]
        self.sites: list[_Site | None] = []
        self.comprehensions = 0
        self.used = {n.id for n in walk(unit.node) if type(n) is ast.Name} | {
            n.arg for n in walk(unit.node) if type(n) is ast.arg}
        self.counter = 0

    # -- blocks: which locals are certainly bound ---------------------------------------------
    def visit_statements(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        self.bound.append(set())
        try:
            for stmt in stmts:
                out.append(self._statement(stmt, set()))
                self.bound[-1] |= _bound_by(stmt)
        finally:
            self.bound.pop()
        return out

    def _in_block(self, names: set[str], stmts: list[ast.stmt]) -> list[ast.stmt]:
        self.bound.append(names)
        try:
            return self.visit_statements(stmts)
        finally:
            self.bound.pop()

    def visit_For(self, node: ast.For) -> ast.AST:
        node.iter = self.visit(node.iter)
        node.body = self._in_block(_target_names(node.target), node.body)
        node.orelse = self.visit_statements(node.orelse)
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        names: set[str] = set()
        for item in node.items:
            item.context_expr = self.visit(item.context_expr)
            if item.optional_vars is not None:
                names |= _target_names(item.optional_vars)
        node.body = self._in_block(names, node.body)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.type is not None:
            node.type = self.visit(node.type)
        node.body = self._in_block({node.name} if node.name else set(), node.body)
        return node

    def _certainly_bound(self, name: str) -> bool:
        return name not in self.deletable and any(name in names for names in self.bound)

    def _visit_comprehension(self, node: ast.AST) -> ast.AST:
        self.comprehensions += 1
        try:
            return super()._visit_comprehension(node)
        finally:
            self.comprehensions -= 1

    visit_ListComp = _visit_comprehension  # type: ignore[assignment]
    visit_SetComp = _visit_comprehension  # type: ignore[assignment]
    visit_DictComp = _visit_comprehension  # type: ignore[assignment]

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.AST:
        self.comprehensions += 1
        try:
            return super().visit_GeneratorExp(node)
        finally:
            self.comprehensions -= 1

    # -- statements: rewrite, then wrap ----------------------------------------------------------
    def _statement(self, stmt: ast.stmt, taken: set[str]) -> ast.stmt:
        if _is_wrapper(stmt):
            stmt.body[0] = self._statement(stmt.body[0], taken | _wrapper_names(stmt))  # type: ignore[attr-defined]
            return stmt
        site = _Site(taken) if isinstance(stmt, _WRAPPABLE) else None
        self.sites.append(site)
        try:
            stmt = self.visit(stmt)
        finally:
            self.sites.pop()
        return self._wrap(stmt, site.found) if site is not None and site.found else stmt

    def _wrap(self, stmt: ast.stmt, found: list[tuple[Inlinable, Span]]) -> ast.stmt:
        handler_body: list[ast.stmt] = []
        for entry, call in found:
            runtime = _at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), call)
            helper = _at(ast.Attribute(value=runtime, attr=HANDLER, ctx=ast.Load()), call)
            args = [_at(ast.Constant(value=value), call) for value in (entry.name, entry.lines, None)]
            # the call's position: the runtime moves the caller's traceback entry to it
            handler_body.append(_at(ast.Expr(value=_at(ast.Call(func=helper, args=args, keywords=[]), call)), call))  # type: ignore[arg-type]
        handler_body.append(ast.copy_location(ast.Raise(exc=None, cause=None), stmt))
        # a bare except: `except BaseException` would load a name a module could shadow
        handler = ast.copy_location(ast.ExceptHandler(type=None, name=None, body=handler_body), stmt)
        return ast.copy_location(ast.Try(body=[stmt], handlers=[handler], orelse=[], finalbody=[]), stmt)

    # -- the rewrite --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        site = self.sites[-1] if self.sites else None
        func = node.func
        if site is None or type(func) is not ast.Name:
            return node
        entry = self.table.get(func.id)
        if entry is None or func.id in site.names() or self.is_shadowed(func.id) or not self.unit.is_module_name(func.id):
            return node
        if entry.node.end_lineno >= self.unit.node.lineno:  # type: ignore[operator]
            return node  # defined after the caller: the guard could not hold at registration
        result = self._inline(node, entry)
        if result is None:
            return node
        site.found.append((entry, _span(node)))
        for name in self.table.closure(entry.name):
            self.unit.require(GuardCallee, name)
            callee = self.table.get(name)
            for builtin in callee.builtins if callee is not None else ():
                self.unit.require(GuardBuiltins, builtin)
        self.changed = True
        return result

    def _arguments(self, node: ast.Call, entry: Inlinable) -> dict[str, ast.expr] | None:
        """Parameter -> the expression it is bound to (call order kept by the dict), or None
        if the call would raise TypeError or passes ``*``/``**`` arguments."""
        if any(type(a) is ast.Starred for a in node.args) or len(node.args) > len(entry.positional):
            return None
        bound: dict[str, ast.expr] = dict(zip(entry.positional, node.args))
        allowed = set(entry.positional[entry.positional_only:]) | set(entry.keyword_only)
        for keyword in node.keywords:
            if keyword.arg is None or keyword.arg not in allowed or keyword.arg in bound:
                return None
            bound[keyword.arg] = keyword.value
        defaults: dict[str, ast.expr] = {}
        for name in (*entry.positional, *entry.keyword_only):
            if name not in bound:
                if name not in entry.defaults:
                    return None
                defaults[name] = entry.defaults[name]
        bound.update(defaults)  # after the arguments: they are evaluated first
        return bound

    def _substitutable(self, value: ast.expr) -> bool:
        """A local of the caller that loading later gives the same, and cannot fail."""
        if type(value) is not ast.Name:
            return False
        name = value.id
        if self.is_shadowed(name):
            return True  # a comprehension variable, bound while the comprehension runs
        return (
            resolve(self.unit.scope, name) == "local" and name not in self.captured
            and self._certainly_bound(name)
        )

    def _fresh(self, param: str) -> str:
        while True:
            self.counter += 1
            name = f"_fatopt_{param}_{self.counter}"
            if name not in self.used:
                self.used.add(name)
                return name

    def _inline(self, node: ast.Call, entry: Inlinable) -> ast.expr | None:
        bound = self._arguments(node, entry)
        if bound is None:
            return None
        expression = entry.expression
        params = set(bound)
        for sub in walk(expression):
            if type(sub) is ast.Name and sub.id not in params:
                if self.is_shadowed(sub.id) or not self.unit.is_module_name(sub.id):
                    return None  # the callee's global means something else here
        for value in bound.values():
            if any(type(sub) in (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await) for sub in walk(value)):
                return None
        self.used |= {sub.id for sub in walk(expression) if type(sub) is ast.Name}
        prefix = [name.id for name in _evaluation_prefix(expression)]
        temps: dict[str, str] = {}
        order: list[str] = []  # the parameters bound to temporaries, in call order
        for param, value in bound.items():
            if type(value) is ast.Constant or self._substitutable(value):
                continue
            if self.comprehensions or param not in prefix:
                return None
            temps[param] = self._fresh(param)
            order.append(param)
        firsts = sorted(order, key=prefix.index)
        if firsts != order:
            return None  # the arguments would be evaluated in another order
        result = clone(expression)
        first_use: set[str] = set()

        class Substitute(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.AST:
                if name.id not in bound:
                    return name
                value = bound[name.id]
                if name.id in temps:
                    if name.id in first_use:
                        return ast.copy_location(ast.Name(id=temps[name.id], ctx=ast.Load()), name)
                    first_use.add(name.id)
                    target = ast.copy_location(ast.Name(id=temps[name.id], ctx=ast.Store()), value)
                    return ast.copy_location(ast.NamedExpr(target=target, value=value), value)
                if type(value) is ast.Constant:
                    return ast.copy_location(ast.Constant(value=value.value), name)
                return ast.copy_location(ast.Name(id=value.id, ctx=ast.Load()), name)  # type: ignore[attr-defined]

        # the evaluation order of a NodeTransformer is the fields' order: for the prefix (the
        # only place a first use of a temporary can be) it is the evaluation order
        return Substitute().visit(result)


class InlineFunctions(Pass):
    """Calls of small module-level functions become the expression they return (guarded: the
    callee unchanged)."""

    name = "inline_functions"
    switch = "inline_functions"
    guarded = True

    def __init__(self) -> None:
        self.again = True

    def _table(self, unit: Unit) -> InlinableTable | None:
        module = unit.module
        if module is None or isinstance(unit.node, ast.Lambda):
            return None
        return module.fact(ModuleInlinable)

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            if unit.module is None or isinstance(unit.node, ast.Lambda):
                return False
            table = self._table(unit)
            return table is not None and any(table.get(name) is not None for name in unit.loads)
        return self.again  # a round that inlined may have brought calls to inline next

    def run(self, unit: Unit) -> bool:
        table = self._table(unit)
        if table is None:
            self.again = False
            return False
        changed = _Inline(unit, table).run_on(unit)
        self.again = changed
        return changed
