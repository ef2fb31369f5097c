"""Inlining: a call of a small module-level function becomes the expression it returns (or its
statements, spliced in before the caller's statement), guarded by *function unchanged* on the
callee (``("callee", name)``).

``partial_sum += eval_A(i, j) * u_j`` with ``def eval_A(i, j): return 1.0 / ((i + j) * ...)``
becomes ``partial_sum += 1.0 / ((i + j) * ...) * u_j``: the call, its frame and the argument
binding are gone. Which functions qualify: :mod:`fatopt.analyses.inlinable` (one ``return
EXPR``, at most ``Config.max_inline_size`` expression nodes, calling only pure builtins and
other inlinable functions, defined before the caller). A ``@staticmethod`` reached through its
class, ``Vec.dot(a, b)``, is inlined the same way (:mod:`fatopt.analyses.static_callees`),
guarded by ``GuardStaticCallee`` (``("static_callee", "Vec", "dot")``) in a function defined
after the class; in a method of the class, which is born before the class exists, that guard is
added by the class statement's ``class_born`` decorator (the method is born guarded by the
class's name keeping its binding). Its traceback entry is named ``Vec.dot`` (``co_qualname``).

Exactness:

- the call is left alone if it would raise ``TypeError`` (too many positional arguments, an
  unknown, duplicate or positional-only keyword, a missing argument, ``*``/``**`` arguments);
- arguments are evaluated once, in call order, before anything of the body runs: a constant or
  a local of the caller that is certainly bound (and captured by no nested function, so nothing
  can rebind it meanwhile) is substituted for the parameter, and so is an int expression of
  those (:func:`fatopt.analyses.int_locals.pure_int`: it cannot fail and runs no code) for a
  parameter read at most twice; any other argument is bound to a
  fresh local ``_fatopt_<param>_<n>`` by ``:=`` at the parameter's first use, which must come
  before the body's first operation and in call order (otherwise the call stays). Defaults are
  small constants (:mod:`fatopt.analyses.inlinable`) and substituted. A callee ``x, y = p;
  return E`` called with a tuple display of such items is ``E`` with the items read for ``x``
  and ``y`` (:func:`~fatopt.analyses.inlinable.unpacked_return`);
- the callee's global names must mean the same in the caller (module or builtin there too,
  not shadowed by a comprehension variable); builtins it calls are guarded
  (``GuardBuiltins``), and so is every module function its code may call (``GuardCallee``);
- the inlined expression keeps the callee's line numbers and columns, so warnings report the
  callee's line. Tracebacks: the statement is wrapped in ``try: ... except:
  __fatopt_runtime__.inlined_raised(NAME, (FIRST, LAST), None); raise`` whose handler call has
  the position of the call it replaced; the runtime (``fatopt/_runtime/inline_traceback.c``)
  moves the caller's entry to the call and adds the callee's entry, as plain Python shows them.
  A callee inlined as an expression (:func:`copies_apart`) is inlined at every call of a
  statement where no call of it holds another's copy: its one handler then passes the
  positions of its calls, and the runtime tells the copy that raised by the call position
  nearest before the raising instruction (found in the innermost callee's entry when copies
  of the callee's own callees raised: their handlers run first). A call inside inlined code is
  inlined in the next round, and its handler runs first; copies of it in several copies of
  its caller share one position, and its handler passes none. A callee of several statements
  is inlined once per statement;
- a frame keeps running the code it started with, so the callee may change while inlined code
  of it is about to run (a ``mock.patch`` in the caller). Each inlined call becomes ``CALL if not
  FLAG else INLINED`` (spliced statements: ``if not FLAG: STATEMENT else: ...``), with the call
  or statement as written, which later rounds leave alone. FLAG is the global name of the
  specialization's validity flag (``Unit.validity_flag``, bound by ``born(..., valid=FLAG)``), a
  list the runtime keeps ``[True]`` while every guard holds and empties when one breaks (swap.c's
  ``show_validity``); in a loop, the local ``LOCAL_FLAG``, loaded from it right before the
  outermost loop. It is tested before the arguments are evaluated, where plain Python loads the
  callee: an argument that rebinds the callee does not change which one is called.

A function of several statements (the statement form of :mod:`fatopt.analyses.inlinable`) is
inlined where a statement's whole value is its call: ``x = f(...)`` (any targets: they are
evaluated after the value), ``return f(...)``, ``f(...)``. The statement becomes: each argument
that is not substituted assigned to a fresh local (in call order, at the argument's position),
the callee's statements with its locals renamed fresh and each ``return X`` made ``_fatopt_result_
<n> = X`` (an ``if`` with a returning branch takes what follows into its other branch; falling off
the end assigns ``None``), then the statement with the result. All of it is wrapped as above.

Only the statements of ``_WRAPPABLE`` are rewritten (not ``with``, ``raise``, ``assert``...),
and ``:=`` is never written inside a comprehension (where it is forbidden in iterables).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import sys

from fatopt.analyses.class_constants import TopLevelClassNames
from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.inlinable import (
    Inlinable, InlinableTable, ModuleInlinable, always_returns, has_return, inlined_expression, unpacked_return,
)
from fatopt.analyses.int_locals import IntLocals, pure_int
from fatopt.analyses.scopes import resolve
from fatopt.analyses.method_callees import MethodCallee, MethodCallees, ModuleMethodCallees, plain_class
from fatopt.analyses.static_callees import ModuleStaticCallees, StaticCallee, StaticCallees
from fatopt.emit import RUNTIME_NAME, VALID_FLAG_PREFIX
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.guards.callee import GuardCallee
from fatopt.guards.class_attributes import GuardClass
from fatopt.guards.global_names import GuardGlobals
from fatopt.guards.static_callee import GuardStaticCallee
from fatopt.nodes import walk
from fatopt.passes._bound_locals import BoundLocalsTransformer, bound_by, captured_locals
from fatopt.passes._rewrite import Pass, Unit, clone

__all__ = ["InlineFunctions", "HANDLER", "copies_apart"]

#: the runtime function the handler calls
HANDLER = "inlined_raised"

#: statements whose own expressions may hold inlined code (the whole statement is then wrapped)
_WRAPPABLE = (ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.If, ast.While, ast.For)

Span = tuple[int, int, int, int]

#: the local the inlined sites of a loop or comprehension test: the flag loaded once before the
#: statement (a global load costs ~40 instructions on 3.13, a local one ~8; the list itself is
#: what changes)
LOCAL_FLAG = "_fatopt_valid_flag"

_LOOPS = (ast.For, ast.AsyncFor, ast.While)

#: how the names of the locals fatopt's passes make start
FRESH_PREFIX = "_fatopt_"

#: what an argument of an inlined call may not hold
_NOT_IN_ARGUMENTS = (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await)


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)  # type: ignore[attr-defined,return-value]


def _at(node: ast.AST, span: Span) -> ast.AST:
    node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = span  # type: ignore[attr-defined]
    return node


def _evaluation_prefix(expr: ast.AST, params: set[str]) -> list[ast.Name]:
    """The parameters ``expr`` loads, in evaluation order, before its first operation (anything
    but loading a parameter or a constant, or the name of a function it calls, which a guard
    keeps bound; a global may be unbound): what runs before any code of the callee can."""
    out: list[ast.Name] = []

    def visit(node: ast.AST) -> bool:  # False once an operation is reached
        kind = type(node)
        if kind is ast.Name:
            if node.id not in params:  # type: ignore[attr-defined]
                return False
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
            children = [*node.args, *(k.value for k in node.keywords)]  # type: ignore[attr-defined]
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


def copies_apart(entry: Inlinable) -> bool:
    """Whether the copies of ``entry`` at several calls of one statement can be told apart by
    the runtime: those of a callee inlined as an expression (each comes right after its call's
    own instructions; copies of its own callees inside a copy leave the raising instruction in
    the innermost callee's traceback entry, where the runtime looks)."""
    return inlined_expression(entry) is not None


def _within(inner: Span, outer: Span) -> bool:
    """Whether the source span ``inner`` lies inside ``outer``."""
    return (inner[0], inner[2]) >= (outer[0], outer[2]) and (inner[1], inner[3]) <= (outer[1], outer[3])


def _is_wrapper(stmt: ast.stmt) -> bool:
    """True for a ``try`` this pass wrapped around a statement."""
    if type(stmt) is not ast.Try or len(stmt.handlers) != 1 or stmt.orelse or stmt.finalbody:
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


def _is_check(node: ast.AST) -> bool:
    """True for the test ``not FLAG`` of the specialization's validity flag (``FLAG`` is
    ``__fatopt_valid_...__``, or the local it is loaded into before a loop), alone or first of
    an ``or`` (``not FLAG or type(v) is not C``: fatopt.passes.specialize_receivers)."""
    if type(node) is ast.BoolOp and type(node.op) is ast.Or:  # type: ignore[attr-defined]
        node = node.values[0]  # type: ignore[attr-defined]
    if type(node) is not ast.UnaryOp or type(node.op) is not ast.Not:  # type: ignore[attr-defined]
        return False
    name = node.operand  # type: ignore[attr-defined]
    return type(name) is ast.Name and (name.id.startswith(VALID_FLAG_PREFIX) or name.id == LOCAL_FLAG)


def _not_valid(flag: str, like: ast.AST) -> ast.expr:
    """``not FLAG``: the call as written comes first and the inlined code last, so that the
    usual path jumps once (into the inlined code) and then runs on, with no jump over the
    call (3.13: some 15 instructions less per site)."""
    name = ast.copy_location(ast.Name(id=flag, ctx=ast.Load()), like)
    return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=name), like)


def _uses_local_flag(node: ast.AST) -> bool:
    return any(type(n) is ast.Name and n.id == LOCAL_FLAG for n in walk(node))  # type: ignore[attr-defined]


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists a compound statement holds (none for a simple statement)."""
    blocks = [getattr(stmt, field) for field in ("body", "orelse", "finalbody")
              if type(getattr(stmt, field, None)) is list and getattr(stmt, field)
              and isinstance(getattr(stmt, field)[0], ast.stmt)]
    return blocks + [part.body for part in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ()))]


def _bind_local_flag(body: list[ast.stmt], flag: str) -> None:
    """``LOCAL_FLAG = FLAG`` right before each outermost statement of ``body`` whose inlined sites
    test ``LOCAL_FLAG``: a loop, or a statement whose own expressions do (a comprehension); in
    other compound statements, inside them (once: a later round finds it there)."""
    index = 0
    while index < len(body):
        stmt = body[index]
        if type(stmt) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef) or not _uses_local_flag(stmt):
            index += 1
            continue
        blocks = _blocks(stmt)
        own = [value for field, value in ast.iter_fields(stmt) if not any(value is block for block in blocks)]
        if type(stmt) in _LOOPS or any(isinstance(v, ast.AST) and _uses_local_flag(v) for v in own):
            before = body[index - 1] if index else None
            bound = (type(before) is ast.Assign and type(before.targets[0]) is ast.Name
                     and before.targets[0].id == LOCAL_FLAG)
            if not bound:
                target = ast.copy_location(ast.Name(id=LOCAL_FLAG, ctx=ast.Store()), stmt)
                value = ast.copy_location(ast.Name(id=flag, ctx=ast.Load()), stmt)
                body.insert(index, ast.copy_location(ast.Assign(targets=[target], value=value), stmt))
                index += 1
        else:
            for block in blocks:
                _bind_local_flag(block, flag)
        index += 1


def _runs_no_code(stmt: ast.stmt, classes: frozenset[str] | set[str]) -> bool:
    """Whether ``stmt`` is a copy that runs no code of the program: ``t = name``, ``t =
    constant``, or ``t = C.m`` (the function of a guarded class of the module, which
    fresh_receivers binds when it makes a statement linear)."""
    if type(stmt) is not ast.Assign or len(stmt.targets) != 1 or type(stmt.targets[0]) is not ast.Name:
        return False
    value = stmt.value
    return type(value) in (ast.Name, ast.Constant) or (
        type(value) is ast.Attribute and type(value.value) is ast.Name and value.value.id in classes
        and stmt.targets[0].id.startswith("_fatopt_f_"))


def _is_checked_statement(stmt: ast.stmt) -> bool:
    """True for ``if not FLAG: <the statement as written> else: <inlined>`` (this pass's)."""
    return type(stmt) is ast.If and _is_check(stmt.test)


def _checked(flag: str, inlined: ast.expr, call: ast.Call) -> ast.expr:
    """``call if not FLAG else inlined``: the inlined copy runs only while the specialization
    is valid (a frame that started before the callee changed must call the new one)."""
    return ast.copy_location(ast.IfExp(test=_not_valid(flag, call), body=clone(call), orelse=inlined), call)


def _propagate_first_copy(body: list[ast.stmt], own: set[str], substituted: set[str]) -> list[ast.stmt]:
    """Without its first statement when that only copies: ``x, y = (a, 0)`` (a method's
    ``x, y = xy``, the tuple display substituted for ``xy``) or ``b = a``, its targets locals
    of the callee (``own``) that nothing else in the body assigns, its values constants,
    locals of the callee or caller locals substituted for parameters (``substituted``: no code
    can rebind them meanwhile), none assigned in the body: the values are read where the
    targets were. The copy could not fail and runs no code. (A global name is never a value:
    code the body calls could rebind it.)"""
    if not body or type(body[0]) is not ast.Assign or len(body[0].targets) != 1:
        return body
    first: ast.Assign = body[0]  # type: ignore[assignment]
    target, value = first.targets[0], first.value
    if type(target) is ast.Tuple and type(value) is ast.Tuple and len(target.elts) == len(value.elts):
        pairs = list(zip(target.elts, value.elts, strict=True))
    elif type(target) is ast.Name:
        pairs = [(target, value)]
    else:
        return body
    if not all(type(t) is ast.Name and t.id in own and (
            type(v) is ast.Constant or (type(v) is ast.Name and (v.id in own or v.id in substituted))) for t, v in pairs):
        return body
    names = [t.id for t, _ in pairs]  # type: ignore[attr-defined]
    reads = {v.id for _, v in pairs if type(v) is ast.Name}  # type: ignore[attr-defined]
    if len(set(names)) != len(names):
        return body
    rest = body[1:]
    stored = {sub.id for stmt in rest for sub in walk(stmt) if type(sub) is ast.Name and type(sub.ctx) is not ast.Load}
    if stored & (set(names) | reads):
        return body
    values = dict(zip(names, (v for _, v in pairs), strict=True))

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            found = values.get(node.id)
            return ast.copy_location(clone(found), node) if found is not None else node

    return [Substitute().visit(stmt) for stmt in rest]


def _temporary_target(stmt: ast.stmt, substitutes: dict[str, ast.expr]) -> str | None:
    """The target of ``_fatopt_... = CALL`` when it is one of the temporaries fatopt's passes
    make (plain locals, bound nowhere else before this statement), read by no argument."""
    targets = stmt.targets  # type: ignore[attr-defined]
    if len(targets) != 1 or type(targets[0]) is not ast.Name:
        return None
    name = targets[0].id
    if not name.startswith(_TEMPORARY_PREFIXES):
        return None
    if any(type(sub) is ast.Name and sub.id == name for value in substitutes.values() for sub in walk(value)):
        return None
    return name


#: the temporaries of the linearizers (specialize_types, specialize_instance_methods)
_TEMPORARY_PREFIXES = ("_fatopt_t_", "_fatopt_m_")


def _wrapper_names(stmt: ast.Try) -> set[str]:
    """The callees whose handlers the wrapper ``stmt`` holds."""
    names = set()
    for part in stmt.handlers[0].body:
        if type(part) is ast.Expr:
            names.add(part.value.args[0].value)  # type: ignore[attr-defined]
    return names


def _implicit_return(entry: Inlinable) -> ast.stmt:
    """``return None`` at the end of the callee (what falling off its end does)."""
    last = entry.statements[-1]
    return ast.copy_location(ast.Return(value=None), last)


def _lower(stmts: list[ast.stmt], result: str) -> list[ast.stmt]:
    """``stmts`` (the callee's, ending in a return on every path) with each ``return X`` made
    ``result = X`` and the statements after an ``if`` one branch of which returns moved into the
    other branch (fatopt.analyses.inlinable admits no other use of ``return``), so that every
    path ends having assigned ``result`` and nothing after runs."""
    out: list[ast.stmt] = []
    for index, stmt in enumerate(stmts):
        if type(stmt) is ast.Return:
            value = stmt.value if stmt.value is not None else ast.copy_location(ast.Constant(value=None), stmt)
            target = ast.copy_location(ast.Name(id=result, ctx=ast.Store()), stmt)
            out.append(ast.copy_location(ast.Assign(targets=[target], value=value), stmt))
            return out
        if type(stmt) is ast.If and has_return([stmt]):
            rest = stmts[index + 1:]
            # (what follows a raise never runs: the implicit `return None` after it)
            reached = next((rest[:i + 1] for i, s in enumerate(rest) if type(s) is ast.Raise), rest)
            if (len(stmt.body) == 1 and type(stmt.body[0]) is ast.Return and not has_return(stmt.orelse + reached)
                    and _always_raises(stmt.orelse + reached)):
                # `if C: return X` and otherwise a raise: `if C: pass else: <raise>` and the
                # return last, so that its value can go where the call was
                returned = stmt.body[0]
                stmt.body = [ast.copy_location(ast.Pass(), returned)]
                stmt.orelse = stmt.orelse + reached
                return out + [stmt] + _lower([returned], result)
            stmt.body = _lower(stmt.body if always_returns(stmt.body) else stmt.body + rest, result)
            stmt.orelse = _lower(stmt.orelse if always_returns(stmt.orelse) else stmt.orelse + rest, result)
            out.append(stmt)
            return out
        out.append(stmt)
    return out


def _always_raises(stmts: list[ast.stmt]) -> bool:
    """True if running ``stmts`` (without a return) always ends in a ``raise``."""
    last = stmts[-1] if stmts else None
    if type(last) is ast.Raise:
        return True
    return type(last) is ast.If and _always_raises(last.body) and _always_raises(last.orelse)


def _assigns_itself(stmt: ast.stmt, value: ast.expr) -> bool:
    """True for ``x = <value>`` where the value is the name ``x`` itself (a no-op where ``x``
    is a local certainly bound: the caller checks)."""
    targets = stmt.targets  # type: ignore[attr-defined]
    return (len(targets) == 1 and type(targets[0]) is ast.Name and type(value) is ast.Name
            and value.id == targets[0].id)


def _only_result(body: list[ast.stmt], result: str) -> ast.expr | None:
    """The value of ``result = X`` if that is ``body``'s last statement and no other statement
    names ``result`` (the callee returned only there); else None."""
    last = body[-1] if body else None
    if type(last) is not ast.Assign or type(last.targets[0]) is not ast.Name or last.targets[0].id != result:
        return None
    if any(type(n) is ast.Name and n.id == result for stmt in body[:-1] for n in walk(stmt)):
        return None
    return last.value


class _Rename(ast.NodeTransformer):
    """The callee's locals renamed, parameters substituted (constants, the caller's locals, a
    tuple display of those for a parameter used once)."""

    def __init__(self, renames: dict[str, str], substitutes: dict[str, ast.expr]) -> None:
        self.renames = renames
        self.substitutes = substitutes

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.renames:
            return ast.copy_location(ast.Name(id=self.renames[node.id], ctx=node.ctx), node)
        value = self.substitutes.get(node.id)
        if value is None:
            return node
        return _substituted(value, node)


def _substituted(value: ast.expr, at: ast.AST) -> ast.expr:
    """A fresh copy of a parameter's substitute (a constant, a local, a tuple display of those)
    at the position of the parameter's read ``at``."""
    if type(value) is ast.Constant:
        return ast.copy_location(ast.Constant(value=value.value), at)
    if type(value) is ast.Name:
        return ast.copy_location(ast.Name(id=value.id, ctx=ast.Load()), at)
    # a tuple display, an int expression (int_locals.pure_int)
    return ast.copy_location(clone(value), at)  # type: ignore[return-value]


def _drop_last(body: list[ast.stmt]) -> None:
    """Remove ``body``'s last statement (a ``pass`` instead if it is the only one)."""
    body[-1:] = [] if len(body) > 1 else [ast.copy_location(ast.Pass(), body[-1])]


def _constant_substitutable(value: ast.expr, entry: Inlinable, param: str) -> bool:
    """A constant argument that can stand for ``param`` where the callee reads it: not a bool
    the callee inverts (``~p``), which CPython's compiler would fold at compile time, dropping the
    DeprecationWarning the plain call raises at run time (the argument gets a temporary then,
    or the call stays as it is)."""
    if type(value) is not ast.Constant:
        return False
    if type(value.value) is not bool:
        return True
    return not any(type(n) is ast.UnaryOp and type(n.op) is ast.Invert and type(n.operand) is ast.Name
                   and n.operand.id == param for n in walk(entry.node))


def reads_of(entry: Inlinable, name: str) -> int:
    """How many times the callee's code reads ``name``; -1 if it has a loop (a read there may
    run many times)."""
    parts = [entry.expression] if entry.expression is not None else list(entry.statements)
    nodes = [sub for part in parts for sub in walk(part)]
    if any(type(sub) in (ast.For, ast.While) for sub in nodes):
        return -1
    return sum(1 for sub in nodes if type(sub) is ast.Name and sub.id == name)


def _own_class(unit: Unit) -> tuple[str, ast.ClassDef] | None:
    """(name, node) of the top-level class ``unit`` is a method of, if its class statement can
    add guards to it (``class_born`` finds the method in the class's dict: bound once there, a
    plain function, staticmethod or classmethod), else None."""
    parent = unit.scope.parent
    if parent is None or parent.kind != "class" or unit.module is None:
        return None
    info = unit.module.fact(ModuleClassTable).by_node.get(parent.node)
    if info is None or info.decorators:
        return None
    method = info.methods.get(unit.scope.node.name)  # type: ignore[union-attr]
    if method is None or method.node is not unit.scope.node or method.kind not in ("function", "staticmethod", "classmethod"):
        return None
    return info.name, info.node


class _Site:
    """A statement being rewritten: the callees inlined into it and the calls they replaced."""

    __slots__ = ("taken", "found")

    def __init__(self, taken: set[str]) -> None:
        #: callees whose handlers already wrap the statement
        self.taken = taken
        #: (callee, span of the call) per inlined call
        self.found: list[tuple[Inlinable, Span]] = []


class _Inline(BoundLocalsTransformer):
    def __init__(
        self, unit: Unit, table: InlinableTable, statics: StaticCallees | None, methods: MethodCallees | None,
    ) -> None:
        super().__init__(unit)
        self.table = table
        self.statics = statics
        self.methods = methods
        #: the call that is the whole value of a checked branch's statement (its check is there)
        self.unchecked: ast.Call | None = None
        #: ids of the calls ``C.m(v, ...)`` of specialize_receivers' sites (behind ``not FLAG or
        #: type(v) is not C``): a profile saw them, so methods up to
        #: ``Config.max_receiver_inline_size`` are inlined there
        self.receiver_calls: set[int] = set()
        #: id(entry of a method) -> (class name, attribute) it was reached through
        self.via: dict[int, tuple[str, str]] = {}
        #: the class this function is a method of (defined directly in its body, by a ``def``
        #: the class binds once, plain, staticmethod or classmethod), for the staticmethods of
        #: that class: (class name, class node), or None
        self.own_class = _own_class(unit)
        #: locals a nested function or class may read or rebind
        self.captured = captured_locals(unit)
        self.sites: list[_Site | None] = []
        self.used = {n.id for n in walk(unit.node) if type(n) is ast.Name} | {
            n.arg for n in walk(unit.node) if type(n) is ast.arg} | {LOCAL_FLAG}
        self.counter = 0
        #: loops of the function's own code around the statement being rewritten, and
        #: generator expressions (their own code: the function's locals are not theirs) around
        #: the node being visited
        self.loops = 0
        self.genexprs = 0

    # -- blocks: which locals are certainly bound (BoundLocalsTransformer) -------------------
    def _bound_by(self, stmt: ast.stmt) -> set[str]:
        if _is_checked_statement(stmt):  # one branch ran whole
            inlined = set().union(*map(self._bound_by, stmt.orelse))  # type: ignore[attr-defined]
            return inlined & set().union(*map(bound_by, stmt.body))  # type: ignore[attr-defined]
        if _is_wrapper(stmt):  # its handler re-raises: completed normally, its body ran whole
            return set().union(*map(self._bound_by, stmt.body))  # type: ignore[attr-defined]
        return bound_by(stmt)


    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.AST:
        self.comprehensions += 1
        self.genexprs += 1
        try:
            return super().visit_GeneratorExp(node)
        finally:
            self.comprehensions -= 1
            self.genexprs -= 1

    def _flag(self) -> str:
        """The name an inlined site here tests: in a loop or a comprehension (of the function's
        own code: not a generator expression), the local loaded before it."""
        flag = self.unit.validity_flag()
        return LOCAL_FLAG if (self.loops or self.comprehensions) and not self.genexprs else flag

    # -- statements: rewrite, then wrap ----------------------------------------------------------
    def _statement(self, stmt: ast.stmt) -> ast.stmt:
        return self._rewrite(stmt, set())

    def _rewrite(self, stmt: ast.stmt, taken: set[str]) -> ast.stmt:
        """``stmt`` with calls inlined, but not those of ``taken`` (whose handlers wrap it)."""
        if _is_checked_statement(stmt):  # the statement as written (body) stays as it is
            orelse = stmt.orelse  # type: ignore[attr-defined]
            # the checked branch's call statement: its only statement, or the first one after
            # copies that run no code (fresh_receivers' statement made linear)
            classes = self.unit.module.fact(TopLevelClassNames) if self.unit.module is not None else frozenset()
            first = next((i for i, s in enumerate(orelse) if not _runs_no_code(s, classes)), None)
            if first is not None and (len(orelse) == 1 or type(getattr(orelse[first], "value", None)) is ast.Call) \
                    and not _is_wrapper(orelse[first]):
                call_stmt = orelse[first]
                if type(stmt.test) is ast.BoolOp and type(getattr(call_stmt, "value", None)) is ast.Call:  # type: ignore[attr-defined]
                    self.receiver_calls.add(id(call_stmt.value))  # type: ignore[attr-defined]
                # the checked branch of a call written for a statement (specialize_types):
                # spliced in place, under the check that is there
                spliced = self._splice(call_stmt, taken, checked=True)
                if spliced is not None:
                    orelse[first] = spliced
                    rest = orelse[first + 1:]
                    orelse[first + 1:] = self._block(rest, lambda part: self._rewrite(part, taken)) if rest else []
                    return stmt
                if type(getattr(call_stmt, "value", None)) is ast.Call:
                    self.unchecked = call_stmt.value  # type: ignore[attr-defined]
            stmt.orelse = self._block(orelse, lambda part: self._rewrite(part, taken))  # type: ignore[attr-defined]
            return stmt
        if _is_wrapper(stmt):
            inner = taken | _wrapper_names(stmt)  # type: ignore[arg-type]
            stmt.body = self._block(stmt.body, lambda part: self._rewrite(part, inner))  # type: ignore[attr-defined]
            return stmt
        spliced = self._splice(stmt, taken)
        if spliced is not None:
            return spliced
        site = _Site(taken) if isinstance(stmt, _WRAPPABLE) else None
        self.sites.append(site)
        loop = type(stmt) in _LOOPS
        self.loops += loop
        try:
            stmt = self.visit(stmt)
        finally:
            self.sites.pop()
            self.loops -= loop
        return self._wrap(stmt, site.found) if site is not None and site.found else stmt

    def _wrap(self, stmt: ast.stmt, found: list[tuple[Inlinable, Span]], body: list[ast.stmt] | None = None) -> ast.stmt:
        handler_body: list[ast.stmt] = []
        calls: dict[str, tuple[Inlinable, list[Span]]] = {}  # one handler per callee
        for entry, span in found:
            calls.setdefault(entry.name, (entry, []))[1].append(span)
        for entry, spans in calls.values():
            call = spans[0]
            runtime = _at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), call)
            helper = _at(ast.Attribute(value=runtime, attr=HANDLER, ctx=ast.Load()), call)
            # copies of one call of another callee's code share its position: no need to scan
            distinct = tuple(dict.fromkeys(spans))
            values = (entry.name, entry.lines, None) + ((distinct,) if len(distinct) > 1 else ())
            args = [_at(ast.Constant(value=value), call) for value in values]
            # the call's position: the runtime moves the caller's traceback entry to it
            handler_body.append(_at(ast.Expr(value=_at(ast.Call(func=helper, args=args, keywords=[]), call)), call))  # type: ignore[arg-type]
        handler_body.append(ast.copy_location(ast.Raise(exc=None, cause=None), stmt))
        # a bare except: `except BaseException` would load a name a module could shadow
        handler = ast.copy_location(ast.ExceptHandler(type=None, name=None, body=handler_body), stmt)
        return ast.copy_location(ast.Try(body=body or [stmt], handlers=[handler], orelse=[], finalbody=[]), stmt)

    # -- functions of several statements: spliced in before the statement --------------------
    def _splice(self, stmt: ast.stmt, taken: set[str], checked: bool = False) -> ast.stmt | None:
        """``x = f(...)``, ``return f(...)`` or ``f(...)`` where f has several statements:
        the arguments bound, f's statements (returns assigning a result), then the statement
        with the result; wrapped as inlined code is. None if not such a statement."""
        kind = type(stmt)
        if kind not in (ast.Assign, ast.Return, ast.Expr) or type(stmt.value) is not ast.Call:  # type: ignore[attr-defined]
            return None
        call: ast.Call = stmt.value  # type: ignore[attr-defined,assignment]
        entry = self._callee(call.func, id(call) in self.receiver_calls)
        made = None if entry is not None else self._constructor(call)
        if made is not None:
            entry = made[1]
        if entry is None or entry.name in taken or entry.expression is not None or self.comprehensions:
            return None
        obj = self._fresh("self") if made is not None else None
        # a constructor: __init__'s own parameter is the new object (bound after the arguments)
        binding = call if obj is None else ast.copy_location(ast.Call(
            func=call.func, args=[ast.Name(id=obj, ctx=ast.Load()), *call.args], keywords=call.keywords), call)
        bound = self._arguments(binding, entry)
        if bound is None or not self._globals_mean_the_same(entry, set(bound) | entry.assigned):
            return None
        if made is None and self._unpacked(entry, bound) is not None:
            return None  # an expression where the call is (visit_Call)
        if any(type(sub) in _NOT_IN_ARGUMENTS for value in bound.values() for sub in walk(value)):
            return None  # (:= could rebind a local substituted for another parameter)
        # (the arguments and the targets, evaluated after the value, are not visited now: as
        # statements of the wrapper they are in the next round)
        as_written = clone(stmt)  # the fallback; stmt itself is rewritten below
        renames: dict[str, str] = {}
        substitutes: dict[str, ast.expr] = {}
        prologue: list[ast.stmt] = []
        for param, value in bound.items():
            if obj is not None and param == entry.receiver:
                substitutes[param] = value  # the new object's local
                continue
            if param not in entry.assigned and (_constant_substitutable(value, entry, param)
                                                or self._substitutable(value) or self._display_once(value, entry, param)):
                substitutes[param] = value
                continue
            renames[param] = self._fresh(param)
            target = ast.copy_location(ast.Name(id=renames[param], ctx=ast.Store()), value)
            prologue.append(ast.copy_location(ast.Assign(targets=[target], value=value), value))
        if made is not None and obj is not None:
            prologue.append(self._new_object(obj, made[0], call))
        for name in sorted(entry.assigned - set(renames)):
            renames[name] = self._fresh(name)
        result = self._fresh("result")
        body = _lower([clone(s) for s in entry.statements] + [_implicit_return(entry)], result)
        body = [_Rename(renames, substitutes).visit(s) for s in body]
        body = _propagate_first_copy(body, set(renames.values()), {
            n.id for v in substitutes.values() for n in ([v] if type(v) is ast.Name else getattr(v, "elts", ()))
            if type(n) is ast.Name})
        tail: list[ast.stmt] = []
        last = _only_result(body, result)
        if obj is not None:
            # __init__ returns None (a constructor's value is the new object)
            if last is not None:
                _drop_last(body)
            if kind is not ast.Expr:
                stmt.value = ast.copy_location(ast.Name(id=obj, ctx=ast.Load()), call)  # type: ignore[attr-defined]
                tail = [stmt]
        elif last is not None:
            # one return, the last statement: its value goes where the call was
            if kind is ast.Expr and type(last) is not ast.Constant:
                body[-1] = ast.copy_location(ast.Expr(value=last), last)
            elif kind is ast.Expr or (  # nothing to evaluate, or `q = q` (`q = q.step()` returning q)
                    kind is ast.Assign and _assigns_itself(stmt, last) and self._substitutable(last)):
                _drop_last(body)
            else:
                stmt.value = last  # type: ignore[attr-defined]
                body[-1] = stmt
        elif kind is ast.Assign and (target := _temporary_target(stmt, substitutes)) is not None:
            # several returns into one of fatopt's own temporaries: each return assigns it
            # directly (a return ends the callee: nothing runs between it and the assignment)
            for node in body:
                for sub in walk(node):
                    if type(sub) is ast.Name and sub.id == result:
                        sub.id = target
        elif kind in (ast.Assign, ast.Return):
            stmt.value = ast.copy_location(ast.Name(id=result, ctx=ast.Load()), call)  # type: ignore[attr-defined]
            tail = [stmt]
        self._require(entry)
        self.changed = True
        inlined = self._wrap(stmt, [(entry, _span(call))], prologue + body + tail)
        if checked:
            return inlined
        test = _not_valid(self._flag(), call)
        return ast.copy_location(ast.If(test=test, body=[as_written], orelse=[inlined]), stmt)

    def _constructor(self, call: ast.Call) -> tuple[str, Inlinable] | None:
        """(class, its ``__init__``) for a call ``C(...)`` of a plain top-level class whose MRO
        binds no ``__new__`` (``object.__new__`` makes the instance) and whose ``__init__`` is a
        method the inlining can splice that returns nothing else than None; the class defined
        before the caller, or the caller a method of it. Not on 3.13+ for a class whose instances
        have a ``__dict__``, called with one argument per parameter: the interpreter runs that
        call through ``CALL_ALLOC_AND_ENTER_INIT``, cheaper than ``object.__new__`` and the
        stores (micro case ``constructor``: 1,504 against 1,742 instructions)."""
        func = call.func
        if type(func) is not ast.Name or self.methods is None or id(call) in self.unit.kept_constructions:
            return None  # (a fresh object's construction: scalar replacement may not make it)
        name = func.id
        if self.is_shadowed(name) or not self.unit.is_module_name(name):
            return None
        info = plain_class(self.unit.module, name)  # type: ignore[arg-type]
        table = self.unit.module.fact(ModuleClassTable)  # type: ignore[union-attr]
        if info is None or not table.object_new(info):
            return None
        found = self.methods.get(name, "__init__")
        if found is None or found.entry.expression is not None:
            return None
        if (sys.version_info >= (3, 13) and not table.slots_only(info) and not call.keywords
                and len(call.args) == len(found.entry.positional) - 1 and id(call) not in self.unit.constructions_to_inline):
            return None
        if any(type(n) is ast.Return and n.value is not None and not (type(n.value) is ast.Constant and n.value.value is None)
               for stmt in found.entry.statements for n in walk(stmt)):
            return None  # (type.__call__ raises TypeError for another value)
        if found.class_node.end_lineno >= self.unit.node.lineno and (  # type: ignore[operator]
                self.own_class is None or self.own_class[1] is not found.class_node):
            return None
        self.via[id(found.entry)] = (name, "__init__")
        return name, found.entry

    def _new_object(self, obj: str, class_name: str, call: ast.Call) -> ast.stmt:
        """``obj = object.__new__(C)``: what ``type.__call__`` makes before it calls
        ``__init__`` (guarded: ``C.__new__`` object's), spelled
        ``__fatopt_runtime__.object_new(C)`` (3.13 does not specialize ``object.__new__``:
        some 300 instructions, against a few for a module attribute)."""
        self._require_attribute(class_name, "__new__", GuardClass)

        def at(node: ast.AST) -> ast.AST:
            return ast.copy_location(node, call)

        new = at(ast.Attribute(value=at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load())), attr="object_new", ctx=ast.Load()))
        value = at(ast.Call(func=new, args=[at(ast.Name(id=class_name, ctx=ast.Load()))], keywords=[]))
        return at(ast.Assign(targets=[at(ast.Name(id=obj, ctx=ast.Store()))], value=value))  # type: ignore[return-value,call-overload]

    def _callee(self, func: ast.expr, at_receiver: bool = False) -> Inlinable | None:
        """The inlinable function a call of ``func`` runs, if its guard can be built for this
        caller: a module function by its global name, defined before the caller; a
        staticmethod through its class's global name, the class defined before the caller or
        the caller a method of that class (``at_receiver``: a specialize_receivers site, where
        a larger method qualifies)."""
        if type(func) is ast.Name:
            entry = self.table.get(func.id)
            if entry is None or self.is_shadowed(func.id) or not self.unit.is_module_name(func.id):
                return None
            if entry.node.end_lineno >= self.unit.node.lineno:  # type: ignore[operator]
                return None  # defined after the caller: the guard could not hold at registration
            return entry
        if type(func) is not ast.Attribute or type(func.value) is not ast.Name:
            return None
        class_name = func.value.id
        found: StaticCallee | MethodCallee | None = (
            self.statics.get(class_name, func.attr) if self.statics is not None else None)
        if found is None and self.methods is not None:
            limit = self.unit.module.config.max_receiver_inline_size if at_receiver else None  # type: ignore[union-attr]
            found = self.methods.get(class_name, func.attr, limit)
            if found is not None:
                self.via[id(found.entry)] = (class_name, func.attr)
        if found is None or self.is_shadowed(class_name) or not self.unit.is_module_name(class_name):
            return None
        if found.class_node.end_lineno < self.unit.node.lineno:  # type: ignore[operator]
            return found.entry
        if self.own_class is not None and self.own_class[1] is found.class_node:
            return found.entry  # a method of the class: its class statement adds the guard
        return None

    def _require(self, entry: Inlinable) -> None:
        if entry.owner is None:
            names = self.table.closure(entry.name)
        else:
            names = set().union(*(self.table.closure(name) for name in entry.calls))
            for builtin in entry.builtins:
                self.unit.require(GuardBuiltins, builtin)
            for imported in entry.imported:
                self.unit.require(GuardGlobals, imported)
            self._require_static(entry)
        for name in names:
            self.unit.require(GuardCallee, name)
            callee = self.table.get(name)
            for builtin in callee.builtins if callee is not None else ():
                self.unit.require(GuardBuiltins, builtin)
            for imported in callee.imported if callee is not None else ():
                self.unit.require(GuardGlobals, imported)

    def _require_static(self, entry: Inlinable) -> None:
        """``GuardStaticCallee`` on the staticmethod (``GuardClass`` on the attribute, for a
        method reached through a class): required of the function, or, in a method of the
        class (which does not exist yet when the method is born), added by the class
        statement's innermost decorator (``class_born``); the method is then born guarded by
        the class's global name keeping its binding (unbound then), which the decorator
        builds again once it binds the class."""
        owner = entry.owner
        assert owner is not None
        kind: type[GuardStaticCallee] | type[GuardClass] = GuardStaticCallee
        attribute = entry.node.name
        if entry.receiver is not None:
            kind = GuardClass
            owner, attribute = self.via[id(entry)]
        self._require_attribute(owner, attribute, kind)

    def _require_attribute(self, owner: str, attribute: str, kind: type[GuardStaticCallee] | type[GuardClass]) -> None:
        """``kind(owner, attribute)`` of the function, or of its class statement (see
        :meth:`_require_static`)."""
        self.unit.require_of_class(kind, owner, attribute, own=self.own_class is not None and self.own_class[0] == owner)

    def _globals_mean_the_same(self, entry: Inlinable, local: set[str]) -> bool:
        """The callee's global names mean the same here (module or builtin, not shadowed)."""
        parts = [entry.expression] if entry.expression is not None else list(entry.statements)
        for part in parts:
            for sub in walk(part):
                if type(sub) is ast.Name and sub.id not in local:
                    if self.is_shadowed(sub.id) or not self.unit.is_module_name(sub.id):
                        return False
                    self.used.add(sub.id)
        return True

    # -- the rewrite --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        result = self._inlined_call(node)
        if result is None:
            return node
        # the whole value of a checked branch's statement: inlined under the check there
        return result if node is self.unchecked else _checked(self._flag(), result, node)

    def _inlined_call(self, node: ast.Call) -> ast.expr | None:
        """The inlined expression for the call ``node`` (its parts visited), or None."""
        site = self.sites[-1] if self.sites else None
        if site is None:
            return None
        entry = self._callee(node.func, id(node) in self.receiver_calls)
        if entry is None or not copies_apart(entry) or not self._another_copy_apart(site, entry, node):
            return None
        result = self._inline(node, entry)
        if result is None:
            return None
        site.found.append((entry, _span(node)))
        self._require(entry)
        self.changed = True
        return result

    @staticmethod
    def _another_copy_apart(site: _Site, entry: Inlinable, node: ast.Call) -> bool:
        """Whether ``entry`` may be inlined at ``node`` in the statement of ``site``: its first
        call there, or another call of a callee whose copies the runtime tells apart (SITES of
        the handler): its expression calls nothing this pass could inline into a copy later
        (only builtins and the module's C functions), and this call holds no other copy."""
        if entry.name in site.taken:
            return False  # (a wrapper of an earlier round: one call of it per statement)
        spans = [span for other, span in site.found if other.name == entry.name]
        if not spans:
            return True
        here = _span(node)
        # (a call at the same position as another: both are copies of one call in the code of
        # a callee inlined twice, neither holds the other)
        return copies_apart(entry) and not any(span != here and _within(span, here) for span in spans)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        if not _is_check(node.test):
            return self.generic_visit(node)
        # the call as written (body) stays as it is; a call in the checked branch (a subscript
        # written as its dunder's call: fatopt.passes.specialize_types) is inlined in place
        if type(node.orelse) is ast.Call:
            if type(node.test) is ast.BoolOp:
                self.receiver_calls.add(id(node.orelse))
            self.generic_visit(node.orelse)
            result = self._inlined_call(node.orelse)
            if result is not None:
                node.orelse = result
            return node
        node.orelse = self.visit(node.orelse)
        return node

    def _arguments(self, node: ast.Call, entry: Inlinable) -> dict[str, ast.expr] | None:
        """Parameter -> the expression it is bound to (call order kept by the dict), or None
        if the call would raise TypeError or passes ``*``/``**`` arguments."""
        if any(type(a) is ast.Starred for a in node.args) or len(node.args) > len(entry.positional):
            return None
        bound: dict[str, ast.expr] = dict(zip(entry.positional, node.args, strict=False))  # fewer arguments: defaults
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
        # a local fatopt made (``_fatopt_...``, unknown to the original scopes) is one too
        local = resolve(self.unit.scope, name) == "local" or (
            name.startswith(FRESH_PREFIX) and name not in self.unit.scope.loads)
        return local and name not in self.captured and self._certainly_bound(name)

    def _display_once(self, value: ast.expr, entry: Inlinable, param: str) -> bool:
        """A tuple display of constants, substitutable locals and int expressions of them, for
        a parameter the callee reads once: the tuple is built where the parameter is read (for
        ``x, y = p``, not at all: the compiler assigns the parts), which makes the same tuple;
        its parts give the same values there, and cannot fail."""
        if type(value) is not ast.Tuple or not value.elts:
            return False
        if not all(self._copyable(e) for e in value.elts):
            return False
        return reads_of(entry, param) == 1

    def _copyable(self, value: ast.expr) -> bool:
        """A constant, a substitutable local, or an int expression of those (read again where
        it is used: it cannot fail and runs no code)."""
        return type(value) is ast.Constant or self._substitutable(value) or self._pure_int(value)

    def _pure_int(self, value: ast.expr) -> bool:
        """:func:`fatopt.analyses.int_locals.pure_int`, its names the caller's int locals that
        are substitutable (the builtins that make them ints are guarded)."""
        if type(value) not in (ast.BinOp, ast.UnaryOp):
            return False
        facts = self.unit.fact(IntLocals)
        if not pure_int(value, lambda name: name in facts.names and not self.is_shadowed(name)
                        and self._substitutable(ast.Name(id=name, ctx=ast.Load()))):
            return False
        for builtin in facts.builtins:
            self.unit.require(GuardBuiltins, builtin)
        return True

    def _int_copy(self, value: ast.expr, entry: Inlinable, param: str) -> bool:
        """An int expression (:meth:`_pure_int`) for a parameter the callee reads at most
        twice: substituted as a constant is, evaluated at each read."""
        return 0 <= reads_of(entry, param) <= 2 and self._pure_int(value)

    def _fresh(self, param: str) -> str:
        while True:
            self.counter += 1
            name = f"_fatopt_{param}_{self.counter}"
            if name not in self.used:
                self.used.add(name)
                return name

    def _unpacked(self, entry: Inlinable, bound: dict[str, ast.expr]) -> tuple[str, dict[str, ast.expr], ast.expr] | None:
        """For a callee ``x, y = p; return E`` (:func:`~fatopt.analyses.inlinable.
        unpacked_return`) called with a tuple display for ``p`` of copyable items, each read at
        most twice by ``E``: (``p``, target -> item, ``E``)."""
        found = unpacked_return(entry)
        if found is None:
            return None
        param, targets, expression = found
        display = bound.get(param)
        if type(display) is not ast.Tuple or len(display.elts) != len(targets):
            return None
        items: dict[str, ast.expr] = {}
        for target, item in zip(targets, display.elts, strict=True):
            reads = sum(1 for n in walk(expression) if type(n) is ast.Name and n.id == target)
            if not (type(item) is ast.Constant or self._substitutable(item) or (reads <= 2 and self._pure_int(item))):
                return None
            items[target] = item
        return param, items, expression

    def _inline(self, node: ast.Call, entry: Inlinable) -> ast.expr | None:
        bound = self._arguments(node, entry)
        if bound is None:
            return None
        expression = entry.expression
        unpacked: dict[str, ast.expr] = {}
        if expression is None:
            found = self._unpacked(entry, bound)
            if found is None:
                return None
            display, unpacked, expression = found
            bound = {param: value for param, value in bound.items() if param != display}
        if not self._globals_mean_the_same(entry, set(bound) | set(unpacked) | set(entry.positional)):
            return None  # the callee's global means something else here
        for value in bound.values():
            if any(type(sub) in _NOT_IN_ARGUMENTS for sub in walk(value)):
                return None
        prefix = [name.id for name in _evaluation_prefix(expression, set(bound))]
        temps: dict[str, str] = {}
        order: list[str] = []  # the parameters bound to temporaries, in call order
        for param, value in bound.items():
            if (_constant_substitutable(value, entry, param) or self._substitutable(value)
                    or self._display_once(value, entry, param) or self._int_copy(value, entry, param)):
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
        values: dict[str, ast.expr] = {**bound, **unpacked}

        class Substitute(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.AST:
                if name.id not in values:
                    return name
                value = values[name.id]
                if name.id in temps:
                    if name.id in first_use:
                        return ast.copy_location(ast.Name(id=temps[name.id], ctx=ast.Load()), name)
                    first_use.add(name.id)
                    target = ast.copy_location(ast.Name(id=temps[name.id], ctx=ast.Store()), value)
                    return ast.copy_location(ast.NamedExpr(target=target, value=value), value)
                return _substituted(value, name)

        # the evaluation order of a NodeTransformer is the fields' order: for the prefix (the
        # only place a first use of a temporary can be) it is the evaluation order
        return Substitute().visit(result)


class InlineFunctions(Pass):
    """Calls of small module-level functions become the expression they return (guarded: the
    callee unchanged)."""

    name = "inline_functions"
    switch = "inline_functions"
    guarded = True
    requires = (IntLocals,)

    def __init__(self) -> None:
        self.again = True

    def _table(self, unit: Unit) -> InlinableTable | None:
        module = unit.module
        if module is None or isinstance(unit.node, ast.Lambda):
            return None
        return module.fact(ModuleInlinable)

    @staticmethod
    def _statics(unit: Unit) -> StaticCallees | None:
        """The module's inlinable staticmethods, if the function loads a top-level class name
        (cheap: the class table is built only then)."""
        module = unit.module
        if module is None or unit.loads.isdisjoint(module.fact(TopLevelClassNames)):
            return None
        found = module.fact(ModuleStaticCallees)
        return found if any(type(v) is not str for v in found.entries.values()) else None

    @staticmethod
    def _methods(unit: Unit) -> MethodCallees | None:
        """The module's methods reached through a class, if the function loads a top-level
        class name."""
        module = unit.module
        if module is None or (unit.loads.isdisjoint(module.fact(TopLevelClassNames))
                              and unit.made.isdisjoint(("type_specialized", "receivers_specialized"))):
            return None
        return module.fact(ModuleMethodCallees)

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            if unit.module is None or isinstance(unit.node, ast.Lambda):
                return False
            table = self._table(unit)
            if table is not None and any(table.get(name) is not None for name in unit.loads):
                return True
            statics = self._statics(unit)
            if statics is not None and any(
                    type(v) is not str and name in unit.loads for (name, _attr), v in statics.entries.items()):
                return True
            methods = self._methods(unit)
            if methods is None:
                return False
            classes = unit.loads & unit.module.fact(TopLevelClassNames)
            return any(methods.get(name, "__init__") is not None for name in classes) or any(
                type(n) is ast.Attribute and type(n.value) is ast.Name and methods.get(n.value.id, n.attr) is not None
                for n in walk(unit.node))
        return self.again  # a round that inlined may have brought calls to inline next

    def run(self, unit: Unit) -> bool:
        table = self._table(unit)
        if table is None:
            self.again = False
            return False
        changed = _Inline(unit, table, self._statics(unit), self._methods(unit)).run_on(unit)
        if changed:
            _bind_local_flag(unit.node.body, unit.validity_flag())  # type: ignore[union-attr]
        self.again = changed
        return changed
