"""Which module-level functions can be inlined into their callers, and why not.

A function is inlinable when nothing in it can tell that it runs in its caller's frame:

- a plain ``def`` at module level, bound once by the module (the global name is what the callers
  call), without decorators, ``*args``, ``**kwargs`` or type parameters; its defaults are small
  constants (``None``, a bool, ``...``, an int in -5..256: one object whatever code holds it, so
  ``is`` answers the same inlined);
- its body (after an optional docstring) is one ``return EXPR`` (the *expression form*), or
  statements (the *statement form*) among assignments to names (one target, or a tuple/list of
  names), augmented assignments to a name, ``if``/``elif``/``else``, ``return`` and ``pass``,
  where an ``if`` holding a return has at most one branch that goes on (what follows it moves
  into that branch, never copied), and every local is certainly bound where it is read;
- at most ``Config.max_inline_size`` expression nodes and statements, the expressions made of
  operators, comparisons, conditional expressions, names, constants, attribute and subscript
  loads, displays and calls; no lambda, comprehension, generator expression, ``:=``, ``yield``,
  ``await``, f-string or starred item (a lambda or comprehension would capture names the
  substitution of parameters changes), and no name the compiler mangles in a class (``__x``);
- it calls only pure builtins (guarded by the caller) and other inlinable functions of the
  module, by name (so nothing it calls looks at the stack and finds the caller instead); calls
  of ``super``, ``locals``, ``vars``, ``globals``, ``eval``, ``exec`` or ``sys._getframe`` are
  not among them, and a function in a call cycle is never inlinable. A method reached through
  its class (:func:`examine` with ``method``) may besides call anything reached through an
  attribute (``other.check()``, ``self.vector.scale(t)``, ``math.sqrt(x)``) and make an
  instance of a plain class of the module (``Vector(x, y)``): those stay calls in the inlined
  code, which runs the same lookups the method would (code they run can see the caller's frame,
  as the dunder of an operator on a parameter can, docs/semantics.md); its statements may also
  be calls made for their effect (``other.check()``).

So an inlinable function has no ``try``, ``with``, loop, closure, ``global`` or ``nonlocal``. The
inlining pass (:mod:`fatopt.passes.inline_functions`) reads this table.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import builtins as _builtins_module
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule, ModuleFacts
from fatopt.emit import RUNTIME_NAME
from fatopt.nodes import walk

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["Inlinable", "InlinableTable", "ModuleInlinable", "SHARED_SMALL_INTS", "inlined_expression", "unpacked_return"]

#: builtins an inlinable function may call (the pure builtins constant folding knows)
CALLABLE_BUILTINS = frozenset({
    "len", "abs", "chr", "ord", "min", "max", "int", "float", "str", "repr", "bool", "divmod",
    "pow", "round", "hex", "oct", "bin",
})

#: builtin exception classes, which an inlinable body may call as what a ``raise`` raises
#: (``raise ValueError(x)``: making the exception runs no user code)
EXCEPTION_BUILTINS = frozenset(
    name for name, value in vars(_builtins_module).items() if isinstance(value, type) and issubclass(value, BaseException))

#: what a method reached through its class may call besides (:func:`examine` with ``receiver``):
#: ``isinstance`` runs ``__instancecheck__`` of user metaclasses only, as an operator would run
#: a dunder (an operator in any inlined code may run user code that sees the caller's frame)
METHOD_BUILTINS = CALLABLE_BUILTINS | {"isinstance"}

#: the runtime function a method's ``raise`` made part of an expression calls (fatopt/_guards.c)
RAISE_EXCEPTION = "raise_exception"

#: ints CPython keeps one object of: a default among them is the same object wherever it is used
SHARED_SMALL_INTS = range(-5, 257)

_ALLOWED = (
    ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Name, ast.Constant,
    ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call,
    ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.Load, ast.keyword,
)
#: and in the targets of a method's item and attribute assignments
_STORE = (ast.Store,)


@dataclass(frozen=True)
class Inlinable:
    """An inlinable function: its def, the expression it returns, its parameters."""

    node: ast.FunctionDef
    #: the returned expression (the def's own node: copy it before use); None for a function of
    #: several statements (``statements``)
    expression: ast.expr | None
    #: positional parameters (positional-only first), then keyword-only ones
    positional: tuple[str, ...]
    positional_only: int
    keyword_only: tuple[str, ...]
    #: parameter -> its default (an ``ast.Constant``)
    defaults: dict
    #: the module functions it calls, by name (each inlinable too)
    calls: frozenset[str]
    #: the builtins it calls (the caller guards them)
    builtins: frozenset[str]
    #: for a function of several statements: its statements (docstring dropped) and the names
    #: they assign (locals; parameters included when assigned)
    statements: tuple[ast.stmt, ...] = ()
    assigned: frozenset[str] = frozenset()
    #: for a ``staticmethod`` or a method reached through its class: the name of the class
    #: that defines it (None for a module function)
    owner: str | None = None
    #: for a method: its first parameter (``self``), which its own calls ``self.m(...)`` are
    #: made on (left calls); None otherwise
    receiver: str | None = None
    #: the module's C functions it calls (``from math import sqrt``: the caller guards their
    #: global bindings)
    imported: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        """What the callee is called by, and named in tracebacks (``co_qualname``): ``g``, or
        ``Cls.helper`` for a staticmethod or method."""
        return self.node.name if self.owner is None else f"{self.owner}.{self.node.name}"

    @property
    def lines(self) -> tuple[int, int]:
        """(first, last) line of the def: where its code is."""
        return (self.node.lineno, self.node.end_lineno or self.node.lineno)


@dataclass
class InlinableTable:
    """Module function name -> :class:`Inlinable`, or the reason it is not inlinable."""

    entries: dict[str, Union[Inlinable, str]]

    def get(self, name: str) -> Inlinable | None:
        found = self.entries.get(name)
        return found if type(found) is Inlinable else None

    def why_not(self, name: str) -> str | None:
        """Why the module function ``name`` is not inlinable (None if it is, or is unknown)."""
        found = self.entries.get(name)
        return found if type(found) is str else None

    def closure(self, name: str) -> set[str]:
        """``name`` and every module function its inlined code may call, transitively."""
        out: set[str] = set()
        pending = [name]
        while pending:
            current = pending.pop()
            if current in out:
                continue
            out.add(current)
            found = self.get(current)
            if found is not None:
                pending.extend(found.calls)
        return out


def _body(node: ast.FunctionDef) -> list[ast.stmt]:
    body = node.body
    if body and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and type(body[0].value.value) is str:
        body = body[1:]
    return body


_STATEMENTS = (ast.Assign, ast.AugAssign, ast.If, ast.Return, ast.Raise, ast.Pass)

#: what a method's body may hold besides: a call made for its effect (``other.check()``)
_METHOD_STATEMENTS = (*_STATEMENTS, ast.Expr)


def has_return(stmts: list[ast.stmt]) -> bool:
    return any(type(sub) is ast.Return for stmt in stmts for sub in walk(stmt))


def always_returns(stmts: list[ast.stmt]) -> bool:
    """True if every path through ``stmts`` (of the kinds of ``_STATEMENTS``) ends in a return
    (or a ``raise``: no path falls off the end there either)."""
    for stmt in stmts:
        if type(stmt) is ast.Return or type(stmt) is ast.Raise:
            return True
        if type(stmt) is ast.If and always_returns(stmt.body) and always_returns(stmt.orelse):
            return True
    return False


def unpacked_return(entry: Inlinable) -> tuple[str, tuple[str, ...], ast.expr] | None:
    """(parameter, targets, returned expression) of a callee of the statement form whose body
    is ``x, y = p`` then ``return E`` (scimark's ``__getitem__(self, x_y)``), ``p`` read only
    there and ``x``, ``y`` bound nowhere else: called with a tuple display of that length, it
    is ``E`` with the display's items read for the targets (the unpacking of an exact tuple of
    the right length cannot fail); None for any other callee."""
    if entry.expression is not None or len(entry.statements) != 2:
        return None
    first, last = entry.statements
    if type(first) is not ast.Assign or len(first.targets) != 1 or type(last) is not ast.Return or last.value is None:
        return None
    target, value = first.targets[0], first.value
    if type(target) not in (ast.Tuple, ast.List) or type(value) is not ast.Name or value.id not in entry.positional:
        return None
    names = tuple(t.id for t in target.elts if type(t) is ast.Name)  # type: ignore[attr-defined]
    if len(names) != len(target.elts) or len(set(names)) != len(names) or set(names) != set(entry.assigned):
        return None
    if set(names) & set(entry.positional) or any(
            type(n) is ast.Name and n.id == value.id for n in walk(last.value)):
        return None
    return value.id, names, last.value


def inlined_expression(entry: Inlinable) -> ast.expr | None:
    """The one expression a call of ``entry`` is inlined as (a tuple display read in place for
    :func:`unpacked_return`'s parameter), or None for a callee spliced in as statements."""
    if entry.expression is not None:
        return entry.expression
    unpacked = unpacked_return(entry)
    return unpacked[2] if unpacked is not None else None


class _NotInlinable(Exception):
    pass


def _is_item_target(target: ast.expr) -> bool:
    """``x[i]`` or ``x.a`` as an assignment target (what a method's statements may store)."""
    return type(target) in (ast.Subscript, ast.Attribute)


def _check_statements(body: list[ast.stmt], params: set[str], stores: bool = False) -> frozenset[str]:
    """The names ``body`` assigns; raises _NotInlinable(reason) if it is not a body the pass can
    splice into a caller: assignments to names, chained or not (with ``stores``, also to items
    and attributes, and augmented assignments to them), ``if``, ``return``, ``pass``; a return ends its block and an ``if`` branch
    holding one always returns; every local read is certainly bound (the temporaries it becomes
    would give another message)."""
    assigned: set[str] = set()
    allowed = _METHOD_STATEMENTS if stores else _STATEMENTS
    for stmt in body:
        for sub in walk(stmt):
            if isinstance(sub, ast.stmt) and not isinstance(sub, allowed):
                raise _NotInlinable(f"uses {type(sub).__name__}")
            if type(sub) is ast.Expr and type(sub.value) is not ast.Call:
                raise _NotInlinable("an expression statement that is not a call")
            if type(sub) is ast.Raise and (sub.exc is None or sub.cause is not None):
                # (a bare raise re-raises what the caller handles either way; kept simple)
                raise _NotInlinable("a bare raise or raise ... from")
            if type(sub) is ast.Assign:
                for target in sub.targets:  # (a chained assignment stores left to right)
                    if stores and _is_item_target(target):
                        continue
                    names = [target] if type(target) is ast.Name else (
                        target.elts if type(target) in (ast.Tuple, ast.List) else None)
                    if names is None or not all(type(n) is ast.Name for n in names):
                        raise _NotInlinable("an assignment to something else than names")
                    assigned.update(n.id for n in names)
            elif type(sub) is ast.AugAssign:
                if stores and _is_item_target(sub.target):
                    continue
                if type(sub.target) is not ast.Name:
                    raise _NotInlinable("an augmented assignment to something else than a name")
                assigned.add(sub.target.id)
    local = assigned | params

    def reads(expr: ast.AST, bound: set[str]) -> None:
        for sub in walk(expr):
            if type(sub) is ast.Name and sub.id in local and sub.id not in bound:
                raise _NotInlinable(f"reads {sub.id} where it may be unbound")

    def block(stmts: list[ast.stmt], bound: set[str]) -> tuple[bool, set[str]]:
        for stmt in stmts:
            kind = type(stmt)
            if kind is ast.Return:
                if stmt.value is not None:
                    reads(stmt.value, bound)
                return True, bound
            if kind is ast.Raise:
                reads(stmt.exc, bound)  # type: ignore[arg-type]
                return True, bound  # (ends its block as a return does)
            if kind is ast.Assign:
                reads(stmt.value, bound)
                for target in stmt.targets:
                    if _is_item_target(target):
                        reads(target, bound)
                    else:
                        bound = bound | {n.id for n in walk(target) if type(n) is ast.Name}
            elif kind is ast.AugAssign:
                reads(stmt.target, bound)
                reads(stmt.value, bound)
            elif kind is ast.Expr:
                reads(stmt.value, bound)
            elif kind is ast.If:
                reads(stmt.test, bound)
                body_returns, body_bound = block(stmt.body, bound)
                else_returns, else_bound = block(stmt.orelse, bound)
                if not body_returns and not else_returns and has_return([stmt]):
                    # what follows would have to be copied into both branches
                    raise _NotInlinable("an if with a return whose two branches may both go on")
                if body_returns and else_returns:
                    return True, bound
                bound = else_bound if body_returns else body_bound if else_returns else body_bound & else_bound
        return False, bound

    block(body, set(params))
    return frozenset(assigned)


def _statement_expressions(stmt: ast.stmt) -> list[ast.AST]:
    """The expressions of a statement of ``_STATEMENTS`` and of the statements nested in it
    (assignment targets are names: loads only are checked)."""
    kind = type(stmt)
    if kind is ast.Return:
        return [stmt.value] if stmt.value is not None else []
    if kind is ast.Raise:
        return [stmt.exc] if stmt.exc is not None else []
    if kind is ast.Expr:
        return [stmt.value]
    if kind is ast.Assign:
        return [stmt.value, *(t for t in stmt.targets if _is_item_target(t))]
    if kind is ast.AugAssign:
        return [stmt.value, stmt.target] if _is_item_target(stmt.target) else [stmt.value]
    if kind is ast.If:
        out: list[ast.AST] = [stmt.test]
        for inner in stmt.body + stmt.orelse:
            out.extend(_statement_expressions(inner))
        return out
    return []


def _small_constant(node: ast.AST) -> bool:
    if type(node) is not ast.Constant:
        return False
    value = node.value
    return value is None or value is Ellipsis or type(value) is bool or (type(value) is int and value in SHARED_SMALL_INTS)


def raise_call(exc: ast.expr, like: ast.stmt) -> ast.Call:
    """``RUNTIME.raise_exception(exc)`` at the position of the statement ``like`` (``raise
    exc``): the runtime raises as the statement does, and the call's traceback entry shows the
    statement's text, as plain Python's does."""
    runtime = ast.copy_location(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), like)
    func = ast.copy_location(ast.Attribute(value=runtime, attr=RAISE_EXCEPTION, ctx=ast.Load()), like)
    return ast.copy_location(ast.Call(func=func, args=[exc], keywords=[]), like)


def _returned_expression(body: list[ast.stmt], raises: list[ast.Call]) -> ast.expr | None:
    """The expression a body of returns under ``if``/``else`` gives, as one conditional
    expression (``if c: return a`` / ``else: return b`` is ``a if c else b``: the same
    evaluation), or None if the body is not made of those only. A ``raise X`` (no ``from``)
    counts as :func:`raise_call` (appended to ``raises``): ``if 0 <= i < n: return i`` /
    ``raise IndexError`` is ``i if 0 <= i < n else raise_exception(IndexError)``."""
    if len(body) == 1 and type(body[0]) is ast.Return:
        return body[0].value
    if len(body) == 1 and type(body[0]) is ast.Raise and body[0].exc is not None and body[0].cause is None:
        raises.append(raise_call(body[0].exc, body[0]))
        return raises[-1]
    if len(body) == 1 and type(body[0]) is ast.If:
        stmt = body[0]
        chosen, other = _returned_expression(stmt.body, raises), _returned_expression(stmt.orelse, raises)
    elif len(body) >= 2 and type(body[0]) is ast.If and not body[0].orelse:
        stmt = body[0]
        chosen, other = _returned_expression(stmt.body, raises), _returned_expression(body[1:], raises)
    else:
        return None
    if chosen is None or other is None:
        return None
    return ast.copy_location(ast.IfExp(test=stmt.test, body=chosen, orelse=other), stmt)


def examine(
    node: ast.AST, facts: ModuleFacts, max_size: int, owner: str | None = None, method: bool = False,
    classes: frozenset[str] = frozenset(),
) -> tuple[Inlinable | None, str, set[str]]:
    """(the entry, or None and why not; the module names it calls). ``owner``: the class whose
    ``@staticmethod`` ``node`` is (its one decorator, which the class table checked), or, with
    ``method``, whose plain method it is: then its calls ``self.m(...)`` on its first parameter
    stay calls, it may call ``isinstance`` (:data:`METHOD_BUILTINS`), and a body of returns under
    ``if``/``else`` counts as the conditional expression it amounts to."""
    if type(node) is not ast.FunctionDef:
        return None, "not a plain def", set()
    if node.decorator_list and (owner is None or method):
        return None, "decorated", set()
    if getattr(node, "type_params", None):
        return None, "type parameters", set()
    args = node.args
    if args.vararg is not None or args.kwarg is not None:
        return None, "*args or **kwargs", set()
    body = _body(node)
    if not body:
        return None, "no statement", set()
    positional = [a.arg for a in args.posonlyargs + args.args]
    defaults: dict[str, ast.expr] = {}
    for name, default in zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True):
        defaults[name] = default
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if default is not None:
            defaults[arg.arg] = default
    if not all(_small_constant(d) for d in defaults.values()):
        return None, "a default that is not a small constant", set()
    params = set(positional) | {a.arg for a in args.kwonlyargs}
    receiver = positional[0] if method and positional else None
    if method and receiver is None:
        return None, "a method without parameters", set()
    allowed_builtins = METHOD_BUILTINS if method else CALLABLE_BUILTINS
    expression: ast.expr | None = None
    statements: tuple[ast.stmt, ...] = ()
    assigned: frozenset[str] = frozenset()
    raises: list[ast.Call] = []
    returned = _returned_expression(body, raises) if method else None
    if returned is not None and all(type(stmt) is ast.Raise for stmt in body):
        returned = None  # (a method that only raises: nothing to gain)
    if returned is None:
        raises.clear()  # (made on the way to no expression)
    if returned is not None:
        expression = returned
        expressions: list[ast.AST] = [expression]
    elif len(body) == 1 and type(body[0]) is ast.Return and body[0].value is not None:
        expression = body[0].value
        expressions = [expression]
    else:
        try:
            assigned = _check_statements(body, params, stores=method)
        except _NotInlinable as exc:
            return None, str(exc), set()
        statements = tuple(body)
        expressions = [e for stmt in body for e in _statement_expressions(stmt)]
    size = 0
    calls: set[str] = set()
    builtins: set[str] = set()
    #: the calls that make what a raise raises
    raised = {id(sub.exc) for stmt in statements for sub in walk(stmt) if type(sub) is ast.Raise}
    raised |= {id(call.args[0]) for call in raises}
    made = {id(call) for call in raises}
    imported: set[str] = set()
    for sub in (sub for e in expressions for sub in walk(e)):
        if not isinstance(sub, _ALLOWED) and not (method and isinstance(sub, _STORE)):
            return None, f"uses {type(sub).__name__}", set()
        if isinstance(sub, ast.expr):
            size += 1
        kind = type(sub)
        if kind is ast.Name or kind is ast.Attribute:
            name = sub.id if kind is ast.Name else sub.attr  # type: ignore[attr-defined]
            if name.startswith("__") and not name.endswith("__"):
                return None, "a name mangled in a class", set()
        elif kind is ast.Call:
            func = sub.func  # type: ignore[attr-defined]
            if id(sub) in made:
                continue  # a raise (:func:`raise_call`): the runtime raises what it is given
            if receiver is not None and type(func) is ast.Attribute:
                if any(type(a) is ast.Starred for a in sub.args) or any(k.arg is None for k in sub.keywords):  # type: ignore[attr-defined]
                    return None, "a call with *args or **kwargs", set()
                # a method of the receiver, of another parameter, of a local or of what an
                # attribute holds, a function of a module the method's module names
                # (``math.sqrt(x)``): stays a call, looked up where the method would look it up
                # (it runs code of the program, as an operator on a parameter does; the inlining
                # checks that the caller's global names mean the same)
                continue
            if receiver is not None and type(func) is ast.Name and func.id in classes and func.id not in params | assigned:
                if any(type(a) is ast.Starred for a in sub.args) or any(k.arg is None for k in sub.keywords):  # type: ignore[attr-defined]
                    return None, "a call with *args or **kwargs", set()
                continue  # a plain class of the module made: stays a call (the inlining may make it)
            if type(func) is not ast.Name or func.id in params:
                return None, "calls something that is not a module function or builtin by name", set()
            if any(type(a) is ast.Starred for a in sub.args) or any(k.arg is None for k in sub.keywords):  # type: ignore[attr-defined]
                return None, "a call with *args or **kwargs", set()
            if func.id in facts.c_functions and not sub.keywords:  # type: ignore[attr-defined]
                imported.add(func.id)
            elif facts.binding_count(func.id):
                calls.add(func.id)
            elif ((func.id in allowed_builtins or (id(sub) in raised and func.id in EXCEPTION_BUILTINS))
                  and facts.assumable_builtin(func.id) and not sub.keywords):  # type: ignore[attr-defined]
                builtins.add(func.id)
            else:
                return None, f"calls {func.id}, not a pure builtin", set()
    size += sum(1 for stmt in statements for sub in walk(stmt) if isinstance(sub, ast.stmt))
    if size > max_size:
        return None, f"{size} expression nodes and statements (max_inline_size is {max_size})", set()
    entry = Inlinable(
        node, expression, tuple(positional), len(args.posonlyargs), tuple(a.arg for a in args.kwonlyargs),
        defaults, frozenset(calls), frozenset(builtins), statements, assigned, owner, receiver, frozenset(imported),
    )
    return entry, "", calls


def inlinable_table(tree: ast.Module, facts: ModuleFacts, max_size: int) -> InlinableTable:
    """The :class:`InlinableTable` of a module."""
    entries: dict[str, Union[Inlinable, str]] = {}
    calls_of: dict[str, set[str]] = {}
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if facts.binding_count(stmt.name) != 1:
            entries[stmt.name] = "its global name is bound more than once"
            continue
        entry, why, calls = examine(stmt, facts, max_size)
        entries[stmt.name] = entry if entry is not None else why
        calls_of[stmt.name] = calls
    # a cycle (f calls g calls f) is never inlinable
    for name in list(entries):
        if type(entries[name]) is not Inlinable:
            continue
        seen: set[str] = set()
        pending = list(calls_of[name])
        while pending:
            current = pending.pop()
            if current == name:
                entries[name] = "it is part of a call cycle"
                break
            if current not in seen:
                seen.add(current)
                pending.extend(calls_of.get(current, ()))
    # what it calls must be inlinable too: drop until nothing changes
    changed = True
    while changed:
        changed = False
        for name, calls in calls_of.items():
            if type(entries.get(name)) is not Inlinable:
                continue
            for callee in sorted(calls):
                if type(entries.get(callee)) is not Inlinable:
                    entries[name] = f"calls {callee}, which is not inlinable"
                    changed = True
                    break
    return InlinableTable(entries)


class ModuleInlinable(Analysis[InlinableTable]):
    """The :class:`InlinableTable` of a :class:`fatopt.module_unit.ModuleUnit` (stable: it
    describes the module's original functions, which are what the callers call)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> InlinableTable:
        return inlinable_table(module.tree, module.fact(FactsOfModule), module.config.max_inline_size)
