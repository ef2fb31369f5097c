"""One-level self-inlining of recursive generators and coroutines: a recursive ``yield from`` or
``await`` of the function itself is replaced by the function's own body, once.

``yield from walk(node.left)`` in the generator ``walk`` (a module function), ``yield from
self.left`` in ``Tree.__iter__`` (``iter()`` calls ``Tree.__iter__`` on a ``Tree``), ``await
fib(n - 1)`` in the coroutine ``fib``: every value a recursive generator produces passes through
one generator per level of the recursion, and every level of a recursive coroutine costs a
coroutine object and a frame. With the body inlined once, each frame handles two levels, and the
chains are half as long (pyperformance's ``generators`` and ``coroutines``: DESIGN.md §5b).

The rewrite, for a module function ``def walk(node)``::

    yield from walk(node.left)     ->   _fatopt1_node = node.left    # the arguments, in order
                                        <walk's body: its locals renamed (_fatopt1_*), each
                                         ``return v`` giving the result variable v, once>

guarded by *callee unchanged* on the function's own name (``("callee", "walk")``: the name
keeps this very function; born() reads the guard on the name being defined as a guard on the
function being born, see fatopt/_runtime/registration.c). For ``__iter__`` of a class::

    yield from self.left           ->   _fatopt1_self = self.left
                                        if type(_fatopt1_self) is Tree:
                                            <__iter__'s body, self renamed _fatopt1_self>
                                        else:
                                            yield from _fatopt1_self

guarded by the builtin ``type`` and by ``("class_attrs", "Tree", "__iter__")`` (the global name
keeps the class, ``__iter__`` resolves to this function along the MRO, no ``__getattr__`` or
``__getattribute__`` appears); the class does not exist while its body runs, so that guard is
added by an innermost class decorator (``__fatopt_runtime__.class_born``), see
:mod:`fatopt.emit`. In a coroutine, ``return await fib(n - 1) + await fib(n - 2)`` becomes the
two bodies one after the other, each giving a temporary, then ``return t1 + t2``: the operands
are evaluated in the same order.

What stays as plain does: the values and their order; ``send`` (a value sent arrives at the
inlined ``yield``, which is the one plain Python's innermost generator would receive it at);
``throw`` and ``close`` (raised at that ``yield``); the value of the ``yield from``/``await``;
PEP 479 (the function has no ``try``, so a ``StopIteration`` leaving the inlined body reaches
the frame's end and becomes the same ``RuntimeError``); receivers of another type, subclasses
included, take the original statement. What differs (the inner frame's locals, recursion depth,
profiler events, ``gi_yieldfrom``/``cr_await``): docs/semantics.md.

Left alone: a body with ``try``, ``with``, ``async with``, ``async for``, ``match``, ``global``,
``nonlocal``, nested functions, classes, lambdas, comprehensions or ``:=``; a ``return`` that
cannot be made the last thing the body does (one inside a loop); async generators; decorated
functions and classes; parameters other than plain positional-or-keyword ones, or a call that
does not pass each of them positionally; ``yield from`` of anything but a call of the function
itself (module function) or, in ``__iter__``, anything else than a statement; ``__iter__`` of a
class with a metaclass, keywords, decorators, a base the module does not define, or a
``__getattr__``/``__getattribute__``; a receiver parameter rebound in the method.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Callable

from fatopt.analyses.classes import ClassInfo, ModuleClassTable
from fatopt.analyses.module_facts import FactsOfModule
from fatopt.emit import RUNTIME_NAME
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.guards.callee import GuardCallee
from fatopt.nodes import walk
from fatopt.passes._rewrite import Pass, Unit, clone

__all__ = ["InlineRecursive"]

#: what the inlined body may not contain (the body is copied into its own frame: anything that
#: scopes, catches or cleans up would need more than renaming)
_EXCLUDED = (
    ast.Try, ast.With, ast.AsyncWith, ast.AsyncFor, ast.Match, ast.Global, ast.Nonlocal,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
)
if hasattr(ast, "TryStar"):
    _EXCLUDED += (ast.TryStar,)
#: names whose use depends on the frame the code runs in
_FRAME_NAMES = frozenset({"super", "__class__", "locals", "vars", "dir", "eval", "exec"})
_ATTRIBUTE_GETTERS = ("__getattr__", "__getattribute__")


def _returns(stmts: list[ast.stmt]) -> bool:
    return any(type(n) is ast.Return for s in stmts for n in walk(s))


def _always_returns(stmts: list[ast.stmt]) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if type(last) is ast.Return:
        return True
    if type(last) is ast.If:
        return _always_returns(last.body) and _always_returns(last.orelse)
    return False


def _tail_returns(stmts: list[ast.stmt], result: Callable[[ast.Return | None], ast.stmt | None]) -> list[ast.stmt] | None:
    """``stmts`` with each ``return`` made the last thing the block does and replaced by
    ``result(ret)``, falling off the end giving ``result(None)``; None if a ``return`` sits where
    that cannot be done (a loop). ``if c: ...return`` followed by more code becomes ``if c:
    ...result else: <the rest>``."""
    out: list[ast.stmt] = []
    for index, stmt in enumerate(stmts):
        kind = type(stmt)
        if kind is ast.Return:
            return _plus(out, result(stmt))  # what follows a return never runs
        if kind is ast.If and _returns([stmt]):
            rest = stmts[index + 1:]
            if _always_returns(stmt.body) and not _returns(stmt.orelse):
                body, orelse = _tail_returns(stmt.body, result), _tail_returns(stmt.orelse + rest, result)
            elif _always_returns(stmt.orelse) and not _returns(stmt.body):
                body, orelse = _tail_returns(stmt.body + rest, result), _tail_returns(stmt.orelse, result)
            elif _always_returns(stmt.body) and _always_returns(stmt.orelse):
                body, orelse = _tail_returns(stmt.body, result), _tail_returns(stmt.orelse, result)
            else:
                return None
            if body is None or orelse is None:
                return None
            new = ast.If(test=stmt.test, body=body, orelse=orelse)
            if orelse == [ast.Pass()] or (len(orelse) == 1 and type(orelse[0]) is ast.Pass):
                new.orelse = []
            out.append(_located(ast.copy_location(new, stmt), stmt))
            return out
        if _returns([stmt]):
            return None  # a return inside a loop
        out.append(stmt)
    return _plus(out, result(None))


def _plus(stmts: list[ast.stmt], last: ast.stmt | None) -> list[ast.stmt]:
    if last is not None:
        stmts.append(last)
    elif not stmts:
        stmts.append(ast.Pass())  # an empty branch
    return stmts


def _located(node: ast.AST, like: ast.AST) -> ast.AST:
    """``node`` and every descendant without a position given ``like``'s."""
    for sub in walk(node):
        if "lineno" in sub._attributes and getattr(sub, "lineno", None) is None:
            ast.copy_location(sub, like)
    return node


class _Rename(ast.NodeTransformer):
    """Renames the function's locals in a copy of its body."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        new = self.names.get(node.id)
        if new is not None:
            node.id = new
        return node


class _Inliner:
    """The rewrite of one function (see the module docstring)."""

    def __init__(self, unit: Unit, mode: str, params: list[str], class_name: str | None) -> None:
        self.unit = unit
        self.mode = mode  # "function" or "iter"
        self.params = params
        self.class_name = class_name
        node = unit.node
        self.is_coroutine = type(node) is ast.AsyncFunctionDef
        start = 1 if _docstring(node.body) else 0
        self.template = [clone(s) for s in node.body[start:]]  # type: ignore[index]
        scope = unit.scope
        self.locals = set(scope.bindings) | set(params)
        self.taken = {n.id for n in walk(node) if type(n) is ast.Name} | self.locals
        self.counter = 0
        self.changed = False

    # -- fresh names --------------------------------------------------------------------------
    def _fresh(self, name: str) -> str:
        candidate = f"_fatopt{self.counter}_{name}"
        while candidate in self.taken:
            candidate = "_" + candidate
        self.taken.add(candidate)
        return candidate

    def _copy(self) -> dict[str, str]:
        """A fresh renaming of the locals (one per inlined copy)."""
        self.counter += 1
        return {name: self._fresh(name) for name in sorted(self.locals)}

    def _body(self, renames: dict[str, str], result: str | None, at: ast.AST) -> list[ast.stmt] | None:
        """The template with the locals renamed and returns assigning ``result``."""

        def give(ret: ast.Return | None) -> ast.stmt:
            value = ret.value if ret is not None and ret.value is not None else None
            where = ret if ret is not None else at
            if result is None:
                if value is None:
                    return None  # falling off the end: nothing to do
                return ast.copy_location(ast.Expr(value=value), where)
            if value is None:
                value = ast.copy_location(ast.Constant(value=None), where)
            target = ast.copy_location(ast.Name(id=result, ctx=ast.Store()), where)
            return ast.copy_location(ast.Assign(targets=[target], value=value), where)

        body = _tail_returns([clone(s) for s in self.template], give)  # type: ignore[misc]
        if body is None:
            return None
        renamer = _Rename(renames)
        return [renamer.visit(s) for s in body]

    def _wrapped(self, body: list[ast.stmt], site: ast.expr) -> list[ast.stmt]:
        """``body`` in ``try: ... except: __fatopt_runtime__.inlined_raised(NAME, None, STOP);
        raise``: what escapes it gets the traceback plain Python shows (the caller's entry at the
        ``yield from``/``await``, then one for the function at the raising line: every line of
        the try is the function's own, hence ``None``) and, for a ``StopIteration``, the
        ``RuntimeError`` of PEP 479 the inner generator or coroutine would have raised. The
        handler's call has the position of the ``yield from``/``await`` it replaced."""
        stop = "coroutine raised StopIteration" if self.is_coroutine else "generator raised StopIteration"
        runtime = ast.Name(id=RUNTIME_NAME, ctx=ast.Load())
        helper = ast.Attribute(value=runtime, attr="inlined_raised", ctx=ast.Load())
        args = [ast.Constant(value=self.unit.node.name), ast.Constant(value=None), ast.Constant(value=stop)]
        call = _located(ast.copy_location(ast.Call(func=helper, args=args, keywords=[]), site), site)
        # a bare except: `except BaseException` would load a name a module could shadow
        handler = ast.ExceptHandler(type=None, name=None, body=[
            ast.copy_location(ast.Expr(value=call), site),
            ast.copy_location(ast.Raise(exc=None, cause=None), site),
        ])
        ast.copy_location(handler, site)
        return [ast.copy_location(ast.Try(body=body, handlers=[handler], orelse=[], finalbody=[]), site)]

    # -- sites ----------------------------------------------------------------------------------
    def _self_call(self, node: ast.AST) -> bool:
        """A call of the module function itself passing each parameter positionally."""
        return (
            type(node) is ast.Call
            and type(node.func) is ast.Name
            and node.func.id == self.unit.node.name
            and self.unit.is_module_name(node.func.id)
            and not node.keywords
            and len(node.args) == len(self.params)
            and not any(type(a) is ast.Starred for a in node.args)
        )

    def _site(self, value: ast.AST) -> bool:
        """``value`` is an inlinable ``yield from``/``await``."""
        if self.is_coroutine:
            return type(value) is ast.Await and self.mode == "function" and self._self_call(value.value)
        if type(value) is not ast.YieldFrom:
            return False
        return self.mode == "iter" or self._self_call(value.value)

    def _inline(self, site: ast.expr, result: str | None) -> list[ast.stmt] | None:
        """Statements computing ``site`` (a ``yield from``/``await``) into ``result``."""
        renames = self._copy()
        operand = site.value  # type: ignore[attr-defined]
        if self.mode == "function":
            out: list[ast.stmt] = []
            for param, arg in zip(self.params, operand.args, strict=False):
                target = ast.copy_location(ast.Name(id=renames[param], ctx=ast.Store()), arg)
                out.append(ast.copy_location(ast.Assign(targets=[target], value=arg), arg))
            body = self._body(renames, result, site)
            if body is None:
                return None
            return out + self._wrapped(body, site)
        # __iter__: an exact type check on the receiver, else the original statement
        receiver = renames[self.params[0]]
        store = ast.copy_location(ast.Name(id=receiver, ctx=ast.Store()), operand)
        bind = ast.copy_location(ast.Assign(targets=[store], value=operand), operand)
        body = self._body(renames, result, site)
        if body is None:
            return None
        check = ast.Compare(
            left=ast.Call(func=ast.Name(id="type", ctx=ast.Load()),
                          args=[ast.Name(id=receiver, ctx=ast.Load())], keywords=[]),
            ops=[ast.Is()], comparators=[ast.Name(id=self.class_name, ctx=ast.Load())],
        )
        fallback_value = ast.copy_location(
            ast.YieldFrom(value=ast.copy_location(ast.Name(id=receiver, ctx=ast.Load()), operand)), site)
        if result is None:
            fallback: ast.stmt = ast.Expr(value=fallback_value)
        else:
            fallback = ast.Assign(targets=[ast.Name(id=result, ctx=ast.Store())], value=fallback_value)
        branch = ast.If(test=check, body=self._wrapped(body, site), orelse=[_located(fallback, site)])
        return [bind, _located(branch, site)]  # type: ignore[list-item]

    def _operands(self, value: ast.expr) -> list[ast.expr] | None:
        """The sites of a statement's value: itself, or both operands of a binary operation
        whose other operand cannot change meaning when read after them (a constant, or a
        parameter never rebound)."""
        if self._site(value):
            return [value]
        if type(value) is ast.BinOp:
            sites = [side for side in (value.left, value.right) if self._site(side)]
            others = [side for side in (value.left, value.right) if not self._site(side)]
            if sites and all(self._stable(side) for side in others):
                return sites
        return None

    def _stable(self, node: ast.expr) -> bool:
        if type(node) is ast.Constant:
            return True
        return (
            type(node) is ast.Name and node.id in self.params
            and self.unit.scope.bindings.get(node.id) == 1
            and not any(node.id in s.deleted for s in self.unit.scope.walk())
        )

    def statement(self, stmt: ast.stmt) -> list[ast.stmt] | None:
        """The statements replacing ``stmt``, or None to keep it."""
        kind = type(stmt)
        if kind is ast.Expr:
            value, target = stmt.value, None
        elif kind is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
            value, target = stmt.value, stmt.targets[0]
        elif kind is ast.Return and stmt.value is not None:
            value, target = stmt.value, None
        else:
            return None
        sites = self._operands(value)
        if sites is None:
            return None
        out: list[ast.stmt] = []
        temps: dict[int, ast.Name] = {}
        whole = len(sites) == 1 and sites[0] is value
        for site in sites:
            needs_value = not (whole and kind is ast.Expr)
            result = self._fresh("result") if needs_value else None
            code = self._inline(site, result)
            if code is None:
                return None
            out.extend(code)
            if result is not None:
                temps[id(site)] = ast.copy_location(ast.Name(id=result, ctx=ast.Load()), site)
        if whole and kind is ast.Expr:
            return out
        if whole:
            new_value: ast.expr = temps[id(value)]
        else:
            binop = value
            new_value = ast.copy_location(ast.BinOp(
                left=temps.get(id(binop.left), binop.left), op=binop.op,
                right=temps.get(id(binop.right), binop.right)), binop)
        if kind is ast.Assign:
            last: ast.stmt = ast.Assign(targets=[target], value=new_value)
        else:
            last = ast.Return(value=new_value)
        out.append(ast.copy_location(last, stmt))
        return out

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            new = self.statement(stmt)
            if new is not None:
                self.changed = True
                out.extend(new)
                continue
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if type(inner) is list and inner and isinstance(inner[0], ast.stmt) and type(stmt) in (
                    ast.If, ast.For, ast.While,
                ):
                    setattr(stmt, field, self.block(inner))
            out.append(stmt)
        return out


def _docstring(body: list[ast.stmt]) -> bool:
    return bool(body) and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and (
        type(body[0].value.value) is str
    )


def _plain_params(args: ast.arguments) -> list[str] | None:
    if args.posonlyargs or args.vararg or args.kwonlyargs or args.kwarg:
        return None
    return [a.arg for a in args.args]


def _template_ok(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for sub in walk(node):
        if sub is node:
            continue
        if isinstance(sub, _EXCLUDED):
            return False
        if type(sub) is ast.Name and sub.id in _FRAME_NAMES:
            return False
        if type(node) is ast.AsyncFunctionDef and type(sub) in (ast.Yield, ast.YieldFrom):
            return False  # an async generator
        if type(node) is ast.FunctionDef and type(sub) is ast.Await:
            return False
    return True


def _owner_class(unit: Unit) -> ClassInfo | None:
    """The class of the class table ``unit``'s function is a method of, if any."""
    parent = unit.scope.parent
    if parent is None or parent.kind != "class" or unit.module is None:
        return None
    return unit.module.fact(ModuleClassTable).by_node.get(parent.node)


def _iter_class_ok(unit: Unit, info: ClassInfo) -> bool:
    """``Tree.__iter__`` may be inlined into itself: ``iter()`` of an exact ``Tree`` calls it."""
    table = unit.module.fact(ModuleClassTable)  # type: ignore[union-attr]
    if not info.bound_once or info.decorators or info.metaclass is not None or info.keywords:
        return False
    mro = table.mro(info)
    if mro is None:
        return False
    found = table.lookup(info, "__iter__")
    if found is None or found[0] is not info or found[1].node is not unit.scope.node or found[1].kind != "function":
        return False
    if any(name in cls.methods or name in table._bindings.get(id(cls.node), ())
           for cls in mro for name in _ATTRIBUTE_GETTERS):
        return False
    return unit.builtin("type") and unit.is_module_name(info.name)


class InlineRecursive(Pass):
    """Recursive ``yield from``/``await`` of the function itself inlined once (guarded)."""

    name = "inline_recursive"
    switch = "inline_recursive"
    guarded = True
    #: one level only: once inlined, never again (the inlined copies' calls stay calls)
    makes = frozenset({"self_inlined"})

    def may_apply(self, unit: Unit) -> bool:
        if unit.started:
            return type(self) not in unit.ran  # it inlines the body once
        node = unit.node
        if isinstance(node, ast.Lambda) or node.decorator_list:
            return False
        if type(node) is ast.AsyncFunctionDef:
            return not unit.scope.has_yield and node.name in unit.loads
        if not unit.scope.has_yield:
            return False
        return node.name in unit.loads or node.name == "__iter__"

    def run(self, unit: Unit) -> bool:
        if "self_inlined" in unit.made:
            return False
        node = unit.node
        params = _plain_params(node.args)
        if params is None or not _template_ok(node):
            return False
        info = _owner_class(unit)
        if info is None:
            if unit.scope.parent is None or unit.scope.parent.kind != "module":
                return False
            facts = unit.facts if unit.module is None else unit.module.fact(FactsOfModule)
            if facts.binding_count(node.name) != 1 or not unit.is_module_name(node.name):
                return False
            mode, class_name = "function", None
        else:
            if node.name != "__iter__" or type(node) is not ast.FunctionDef or len(params) != 1:
                return False
            if unit.scope.bindings.get(params[0]) != 1 or not _iter_class_ok(unit, info):
                return False
            mode, class_name = "iter", info.name
        inliner = _Inliner(unit, mode, params, class_name)
        start = 1 if _docstring(node.body) else 0
        new_body = inliner.block(node.body[start:])  # type: ignore[index]
        if not inliner.changed:
            return False
        node.body[start:] = new_body  # type: ignore[index]
        if mode == "function":
            unit.require(GuardCallee, node.name)
        else:
            unit.require(GuardBuiltins, "type")
            # the class does not exist when the method is born: its class decorator adds this
            unit.class_recipes.append((class_name, node.name, ("class_attrs", class_name, node.name)))
        return True
