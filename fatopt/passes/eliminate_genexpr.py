"""Generator-expression elimination: a generator expression consumed whole by ``set``, ``list``,
``tuple``, ``frozenset`` or ``sorted`` becomes the comprehension, guarded on the builtin.

``set(f(x) for x in xs)`` → ``{f(x) for x in xs}``; ``tuple(g)`` → ``tuple([...])``;
``frozenset(g)`` → ``frozenset({...})``; ``sorted(g)`` → ``sorted([...])``; ``list(g)`` →
``[...]``. The generator's frame, its creation and one resumption per item are gone (a
comprehension runs in the caller's frame since 3.12, PEP 709). The same ``__iter__``,
``__next__``, ``__hash__`` and ``__eq__`` calls happen in the same order: these consumers take
every item before doing anything else, and the outermost iterable is evaluated, and ``iter()``
called on it, in the caller as before.

What the generator's own frame showed is rebuilt when something raises: the statement is wrapped
in ``try: ... except: __fatopt_runtime__.genexpr_raised(<spans>); raise``, free until something
raises, whose handler gives the exception the ``<genexpr>`` traceback entry and, for a
``StopIteration``, the ``RuntimeError`` of PEP 479 that plain Python would raise (the mechanism:
``fatopt/_runtime/genexpr_traceback.c``; what it cannot keep: docs/semantics.md).

Left alone: other arguments or keywords, more than one ``for``, ``async for``, a target that is
not made of names, lambdas, comprehensions, ``:=``, ``yield``, ``await`` or ``super`` in the
element or a condition, a local of the function read there that may be unbound at that point
(a plain generator reports it as a free variable, a comprehension as a local: another message),
a generator expression inside another comprehension, and statements other than ``return``,
assignments, expression statements and the test or iterable of ``if``/``while``/``for``.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.purity import contains
from fatopt.analyses.scopes import resolve
from fatopt.emit import RUNTIME_NAME
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.nodes import walk
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit, comprehension_targets

__all__ = ["EliminateGenexpr", "CONSUMERS"]

#: builtin -> how its generator-expression argument is rewritten
CONSUMERS = {
    "set": "setcomp",
    "list": "listcomp",
    "tuple": "call_on_list",
    "sorted": "call_on_list",
    "frozenset": "call_on_set",
}

_FORBIDDEN = (
    ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
    ast.Yield, ast.YieldFrom, ast.Await,
)
_TARGET_NODES = (ast.Name, ast.Tuple, ast.List, ast.Starred, ast.Store)
#: statements whose own expressions may be rewritten (the whole statement is then wrapped)
_WRAPPABLE = (ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.If, ast.While, ast.For)

Span = tuple[int, int, int, int]


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)  # type: ignore[attr-defined,return-value]


def _at(node: ast.AST, span: Span) -> ast.AST:
    node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = span  # type: ignore[attr-defined]
    return node


def _target_names(target: ast.AST) -> set[str]:
    return {node.id for node in walk(target) if type(node) is ast.Name}


def _bound_by(stmt: ast.stmt) -> set[str]:
    """Names certainly bound once ``stmt`` completed normally (only simple statements count:
    what a compound statement binds may not have run)."""
    kind = type(stmt)
    if kind is ast.Assign:
        names: set[str] = set()
        for target in stmt.targets:  # type: ignore[attr-defined]
            if all(isinstance(node, _TARGET_NODES) for node in walk(target)):
                names |= _target_names(target)
        return names
    if kind is ast.AnnAssign and stmt.value is not None and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
        return {stmt.target.id}  # type: ignore[attr-defined]
    if kind is ast.AugAssign and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
        return {stmt.target.id}  # type: ignore[attr-defined]
    if kind in (ast.Import, ast.ImportFrom):
        return {(alias.asname or alias.name).split(".")[0] for alias in stmt.names if alias.name != "*"}  # type: ignore[attr-defined]
    if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return {stmt.name}  # type: ignore[attr-defined]
    return set()


class _Eliminate(FunctionCodeTransformer):
    def __init__(self, unit: Unit) -> None:
        super().__init__(unit)
        deleted: set[str] = set()
        for scope in unit.scope.walk():
            deleted |= scope.deleted
        #: locals that can never be unbound again once bound (no ``del`` anywhere)
        self.deletable = deleted
        args = unit.node.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        #: per enclosing block: the locals certainly bound at the statement being visited
        self.bound: list[set[str]] = [params]
        #: per statement being visited: the (genexpr, iterable, call) spans rewritten in its own
        #: expressions, or None where the statement cannot be wrapped
        self.rewritten: list[list[tuple[Span, Span, Span]] | None] = []

    # -- blocks: which locals are certainly bound ---------------------------------------------
    def visit_statements(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        self.bound.append(set())
        try:
            for stmt in stmts:
                out.append(self._statement(stmt))
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

    # -- statements: rewrite, then wrap ----------------------------------------------------------
    def _statement(self, stmt: ast.stmt) -> ast.stmt:
        found: list[tuple[Span, Span, Span]] | None = [] if isinstance(stmt, _WRAPPABLE) else None
        self.rewritten.append(found)
        try:
            stmt = self.visit(stmt)
        finally:
            self.rewritten.pop()
        return self._wrap(stmt, found) if found else stmt

    def _wrap(self, stmt: ast.stmt, found: list[tuple[Span, Span, Span]]) -> ast.stmt:
        handler_body: list[ast.stmt] = []
        for gen, iterable, call in found:
            runtime = _at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), call)
            helper = _at(ast.Attribute(value=runtime, attr="genexpr_raised", ctx=ast.Load()), call)
            spans = [_at(ast.Constant(value=span), call) for span in (gen, iterable, call)]
            # the call's position: the runtime moves the caller's traceback entry to it
            handler_body.append(_at(ast.Expr(value=_at(ast.Call(func=helper, args=spans, keywords=[]), call)), call))  # type: ignore[arg-type]
        handler_body.append(ast.copy_location(ast.Raise(exc=None, cause=None), stmt))
        # a bare except: `except BaseException` would load a name a module could shadow
        handler = ast.copy_location(ast.ExceptHandler(type=None, name=None, body=handler_body), stmt)
        return ast.copy_location(ast.Try(body=[stmt], handlers=[handler], orelse=[], finalbody=[]), stmt)

    # -- the rewrite --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        found = self.rewritten[-1] if self.rewritten else None
        if found is None or self.shadowed or not self._eligible(node):
            return node
        name = node.func.id  # type: ignore[attr-defined]
        gen: ast.GeneratorExp = node.args[0]  # type: ignore[assignment]
        how = CONSUMERS[name]
        if how in ("setcomp", "call_on_set"):
            comprehension: ast.expr = ast.SetComp(elt=gen.elt, generators=gen.generators)
        else:
            comprehension = ast.ListComp(elt=gen.elt, generators=gen.generators)
        # the comprehension takes the generator expression's position: on 3.12 its GET_ITER and
        # FOR_ITER report it, as the generator's did
        ast.copy_location(comprehension, gen)
        found.append((_span(gen), _span(gen.generators[0].iter), _span(node)))
        self.unit.require(GuardBuiltins, name)
        self.changed = True
        if how in ("setcomp", "listcomp"):
            return comprehension
        node.args = [comprehension]
        return node

    def _eligible(self, node: ast.Call) -> bool:
        func = node.func
        if type(func) is not ast.Name or func.id not in CONSUMERS or node.keywords:
            return False
        if len(node.args) != 1 or type(node.args[0]) is not ast.GeneratorExp:
            return False
        if self.is_shadowed(func.id) or not self.unit.builtin(func.id):
            return False
        gen = node.args[0]
        if len(gen.generators) != 1 or gen.generators[0].is_async:
            return False
        generator = gen.generators[0]
        if not all(isinstance(sub, _TARGET_NODES) for sub in walk(generator.target)):
            return False
        targets = comprehension_targets(gen)
        for part in [gen.elt, *generator.ifs]:
            if contains(part, _FORBIDDEN):
                return False
            for sub in walk(part):
                if type(sub) is not ast.Name or sub.id in targets:
                    continue
                if sub.id == "super":
                    return False  # zero-argument super() finds another first argument
                if resolve(self.unit.scope, sub.id) == "local" and not self._certainly_bound(sub.id):
                    return False
        return True


class EliminateGenexpr(Pass):
    """Generator expressions consumed whole by a builtin become comprehensions (guarded on the
    builtin)."""

    name = "eliminate_genexpr"
    switch = "eliminate_genexpr"
    guarded = True

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            return "genexpr_argument" in unit.hints and any(
                name in unit.loads and unit.builtin(name) for name in CONSUMERS
            )
        return type(self) not in unit.ran  # what it rewrites, no other pass makes

    def run(self, unit: Unit) -> bool:
        return _Eliminate(unit).run_on(unit)
