"""Generator-expression elimination: a generator expression consumed by a builtin becomes a
comprehension or a loop run in the caller's frame, guarded on the builtin.

Comprehensions, for the consumers that take every item before doing anything else:
``set(f(x) for x in xs)`` → ``{f(x) for x in xs}``; ``tuple(g)`` → ``tuple([...])``;
``frozenset(g)`` → ``frozenset({...})``; ``sorted(g)`` → ``sorted([...])``; ``list(g)`` →
``[...]``; ``"<literal>".join(g)`` → ``"<literal>".join([...])`` (``str.join`` makes that list
itself; no guard: a literal's method cannot be replaced). The same ``__iter__``, ``__next__``,
``__hash__`` and ``__eq__`` calls happen in the same order, and the outermost iterable is
evaluated, and ``iter()`` called on it, in the caller as before.

Loops, for the consumers that stop early or keep one value: ``any``, ``all``, ``min``, ``max``
and ``sum`` of items that are exact ints whatever the operands' types (see ``_exact_int``: 3.12+
``sum`` compensates float rounding, which a loop adding with ``+`` would not). The loop needs
statements, so it runs just before the statement that used the call, which then reads its
result from a temporary: only where the call is the first thing that statement evaluates
(``return any(g)``, ``x = max(g)``, ``if not all(g) and ...``; not ``y + max(g)``, a ``while``
test or an augmented assignment), so nothing of the statement runs before the loop that ran
before the call in plain Python. The loop does what the builtin does: the same truth tests
(``any`` stops at the first true item), the same comparison (``item < kept`` for ``min``,
``item > kept`` for ``max``: the first of equal items stays), the builtin's ValueError when empty,
each item dropped before the next is asked for. The generator's names become temporaries of the
caller (``__fatopt_<n>_v_<name>``), set to None after the loop.

The generator's creation, frame and one resumption per item are gone (a comprehension runs in
the caller's frame since 3.12, PEP 709). What the generator's own frame showed is rebuilt when
something raises: the statement is wrapped in ``try: ... except:
__fatopt_runtime__.genexpr_raised(<spans>); raise``, free until something raises, whose handler
gives the exception the ``<genexpr>`` traceback entry and, for a ``StopIteration``, the
``RuntimeError`` of PEP 479 that plain Python would raise (the mechanism:
``fatopt/_runtime/genexpr_traceback.c``; what it cannot keep: docs/semantics.md). It reads the
position of the instruction that raised, so a loop's parts carry the positions the handler
expects (see ``_Eliminate._loop``).

Left alone: other arguments or keywords, ``dict(g)`` (it hashes each key before asking for the
next item: a list first would change the order of ``__hash__`` and element calls), an inner
``for`` over anything but a display, a str/bytes/tuple constant or ``range(...)`` (the handler
takes an inner ``iter()`` for the caller's own: only those cannot fail), ``any``/``all`` with
more than one ``for``, ``async for``, a target that is not made of names, lambdas, comprehensions, ``:=``, ``yield``, ``await``
or ``super`` in the element or a condition, a local of the function read there that may be
unbound at that point (a plain generator reports it as a free variable, a comprehension as a
local: another message), a generator expression inside another comprehension, and statements
other than ``return``, assignments, expression statements and the test or iterable of
``if``/``while``/``for``.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.purity import contains
from fatopt.analyses.scopes import resolve
from fatopt.emit import RUNTIME_NAME
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.nodes import walk
from fatopt.passes._bound_locals import TARGET_NODES, BoundLocalsTransformer
from fatopt.passes._rewrite import Pass, Unit, comprehension_targets

__all__ = ["EliminateGenexpr", "CONSUMERS"]

#: builtin -> how its generator-expression argument is rewritten
CONSUMERS = {
    "set": "setcomp",
    "list": "listcomp",
    "tuple": "call_on_list",
    "sorted": "call_on_list",
    "frozenset": "call_on_set",
    "any": "loop",
    "all": "loop",
    "min": "loop",
    "max": "loop",
    "sum": "loop",
}
#: ``"<literal>".join(g)``: ``str.join`` makes a list of a non-list argument before joining
#: (``PySequence_Fast``), so a list comprehension is what it joins in plain Python too
STR_METHOD_CONSUMERS = {"join": "call_on_list"}

_FORBIDDEN = (
    ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
    ast.Yield, ast.YieldFrom, ast.Await,
)
#: statements whose own expressions may be rewritten (the whole statement is then wrapped)
_WRAPPABLE = (ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.If, ast.While, ast.For)

Span = tuple[int, int, int, int]


class _Found:
    """What was rewritten in one statement's own expressions."""

    __slots__ = ("spans", "first", "before", "after")

    def __init__(self, stmt: ast.stmt) -> None:
        #: (genexpr, iterable, call) spans, one per rewrite: the handler's arguments
        self.spans: list[tuple[Span, Span, Span]] = []
        #: the expressions the statement evaluates first (see _first_evaluated)
        self.first = _first_evaluated(stmt)
        #: a loop computing a value the statement reads, run before it, and what clears the
        #: loop's result after the statement
        self.before: list[ast.stmt] = []
        self.after: list[ast.stmt] = []


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)  # type: ignore[attr-defined,return-value]


def _at(node: ast.AST, span: Span) -> ast.AST:
    node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = span  # type: ignore[attr-defined]
    return node


def _fill(node: ast.AST, span: Span) -> ast.AST:
    """``node`` and the nodes made with it get ``span`` where they have no position yet (the
    user's nodes moved into it keep theirs)."""
    for sub in walk(node):
        if "lineno" in type(sub)._attributes and not hasattr(sub, "lineno"):
            _at(sub, span)
    return node


def _name(id: str, span: Span, store: bool = False) -> ast.Name:
    return _at(ast.Name(id=id, ctx=ast.Store() if store else ast.Load()), span)  # type: ignore[return-value]


def _exact_int(node: ast.expr) -> bool:
    """Whether ``node`` evaluates to an exact ``int`` or ``bool`` whatever the operands' types
    (``len`` aside, which the caller checks is the builtin): the items ``sum`` adds on its own
    in C, calling no method, where a loop's ``+`` computes the same value."""
    kind = type(node)
    if kind is ast.Constant:
        return type(node.value) in (int, bool)
    if kind is ast.UnaryOp:
        if type(node.op) is ast.Not:
            return True
        return type(node.operand) is ast.Constant and type(node.operand.value) is int  # ~True warns
    if kind is ast.IfExp:
        return _exact_int(node.body) and _exact_int(node.orelse)
    if kind is ast.BoolOp:
        return all(_exact_int(value) for value in node.values)
    if kind is ast.Compare:
        # `in` and `is` always give a bool; ==, < ... give what the method returns
        return all(type(op) in (ast.In, ast.NotIn, ast.Is, ast.IsNot) for op in node.ops)
    if kind is ast.Call:
        return (
            type(node.func) is ast.Name and node.func.id == "len" and not node.keywords
            and len(node.args) == 1 and type(node.args[0]) is not ast.Starred
        )
    return False


def _first_evaluated(stmt: ast.stmt) -> set[int]:
    """The ids of the expressions ``stmt`` starts by evaluating: its first operand, that
    operand's first operand, and so on. A loop computed before the statement keeps the caller's
    order of evaluation only for a call among them (nothing of the statement ran before it)."""
    kind = type(stmt)
    if kind in (ast.Return, ast.Expr, ast.Assign):
        node = stmt.value  # type: ignore[attr-defined]
    elif kind is ast.If:
        node = stmt.test  # type: ignore[attr-defined]
    elif kind is ast.For:
        node = stmt.iter  # type: ignore[attr-defined]
    else:
        return set()  # a while test runs again; an augmented assignment loads its target first
    path: set[int] = set()
    while node is not None:
        path.add(id(node))
        kind = type(node)
        if kind is ast.UnaryOp:
            node = node.operand
        elif kind is ast.BinOp:
            node = node.left
        elif kind is ast.BoolOp or kind is ast.Compare:
            node = node.values[0] if kind is ast.BoolOp else node.left
        elif kind is ast.Attribute or kind is ast.Subscript:
            node = node.value
        elif kind is ast.Call:
            node = node.func
        elif kind is ast.IfExp:
            node = node.test
        elif kind in (ast.Tuple, ast.List) and node.elts and type(node.elts[0]) is not ast.Starred:
            node = node.elts[0]
        else:
            node = None
    return path


class _Eliminate(BoundLocalsTransformer):
    def __init__(self, unit: Unit) -> None:
        super().__init__(unit)
        #: per statement being visited: what was rewritten in its own expressions, or None where
        #: the statement cannot be wrapped
        self.rewritten: list[_Found | None] = []
        #: loops made so far (their temporaries are numbered)
        self.loops = 0

    # -- statements: rewrite, then wrap ----------------------------------------------------------
    def _statement(self, stmt: ast.stmt) -> ast.stmt:
        found = _Found(stmt) if isinstance(stmt, _WRAPPABLE) else None
        self.rewritten.append(found)
        try:
            stmt = self.visit(stmt)
        finally:
            self.rewritten.pop()
        return self._wrap(stmt, found) if found is not None and found.spans else stmt

    def _wrap(self, stmt: ast.stmt, found: _Found) -> ast.stmt:
        handler_body: list[ast.stmt] = []
        for gen, iterable, call in found.spans:
            runtime = _at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), call)
            helper = _at(ast.Attribute(value=runtime, attr="genexpr_raised", ctx=ast.Load()), call)
            spans = [_at(ast.Constant(value=span), call) for span in (gen, iterable, call)]
            # the call's position: the runtime moves the caller's traceback entry to it
            handler_body.append(_at(ast.Expr(value=_at(ast.Call(func=helper, args=spans, keywords=[]), call)), call))  # type: ignore[arg-type]
        handler_body.append(ast.copy_location(ast.Raise(exc=None, cause=None), stmt))
        # a bare except: `except BaseException` would load a name a module could shadow
        handler = ast.copy_location(ast.ExceptHandler(type=None, name=None, body=handler_body), stmt)
        after = found.after if type(stmt) is not ast.Return else []
        body = [*found.before, stmt, *after]
        return ast.copy_location(ast.Try(body=body, handlers=[handler], orelse=[], finalbody=[]), stmt)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        # a call as a statement: rewritten too (FunctionCodeTransformer visits only its parts,
        # to never make a docstring of a statement's value)
        if type(node.value) is ast.Call:
            node.value = self.visit(node.value)
            return node
        return super().visit_Expr(node)

    # -- the rewrite --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        found = self.rewritten[-1] if self.rewritten else None
        if found is None or self.shadowed:
            return node
        how = self._how(node, found)
        if how is None or not self._eligible(node):
            return node
        gen: ast.GeneratorExp = node.args[0]  # type: ignore[assignment]
        found.spans.append((_span(gen), _span(gen.generators[0].iter), _span(node)))
        self.changed = True
        if type(node.func) is ast.Name:
            self.unit.require(GuardBuiltins, node.func.id)
            if node.func.id in ("min", "max"):
                self.unit.require(GuardBuiltins, "ValueError")
            if node.func.id == "sum" and self._lens(gen.elt):
                self.unit.require(GuardBuiltins, "len")
        if any(type(g.iter) is ast.Call for g in gen.generators[1:]):
            self.unit.require(GuardBuiltins, "range")  # _iterable
        if how == "loop":
            return self._loop(node, gen, found)
        if how in ("setcomp", "call_on_set"):
            comprehension: ast.expr = ast.SetComp(elt=gen.elt, generators=gen.generators)
        else:
            comprehension = ast.ListComp(elt=gen.elt, generators=gen.generators)
        # the comprehension takes the generator expression's position: on 3.12 its GET_ITER and
        # FOR_ITER report it, as the generator's did
        ast.copy_location(comprehension, gen)
        if how in ("setcomp", "listcomp"):
            return comprehension
        node.args = [comprehension]
        return node

    def _how(self, node: ast.Call, found: _Found) -> str | None:
        """How the call is rewritten, if its function is a consumer; None otherwise."""
        func = node.func
        if type(func) is ast.Attribute:
            if type(func.value) is ast.Constant and type(func.value.value) is str:
                return STR_METHOD_CONSUMERS.get(func.attr)
            return None
        if type(func) is not ast.Name or func.id not in CONSUMERS:
            return None
        if self.is_shadowed(func.id) or not self.unit.builtin(func.id):
            return None
        how = CONSUMERS[func.id]
        if how == "loop":
            if func.id in ("any", "all") and node.args and type(node.args[0]) is ast.GeneratorExp and (
                len(node.args[0].generators) > 1
            ):
                return None  # its `break` would leave only the innermost loop
            if id(node) not in found.first or found.before:
                return None  # something of the statement would run before the loop
            if func.id in ("min", "max") and not self._is_builtin("ValueError"):
                return None  # the loop raises the builtin's error
            if func.id == "sum":
                # 3.12+ sum compensates float rounding; only the exact-int items it adds in C
                # are added the same by a loop (docs/optimizer.md)
                if type(node.args[0]) is not ast.GeneratorExp or not _exact_int(node.args[0].elt):
                    return None
                if self._lens(node.args[0].elt) and not self._is_builtin("len"):
                    return None
        return how

    def _is_builtin(self, name: str) -> bool:
        return not self.is_shadowed(name) and self.unit.builtin(name)

    @staticmethod
    def _lens(elt: ast.expr) -> bool:
        """Whether ``_exact_int(elt)`` relied on ``len`` being the builtin."""
        return any(
            type(sub) is ast.Call and type(sub.func) is ast.Name and sub.func.id == "len"
            for sub in walk(elt)
        )

    def _eligible(self, node: ast.Call) -> bool:
        if node.keywords or len(node.args) != 1 or type(node.args[0]) is not ast.GeneratorExp:
            return False
        gen = node.args[0]
        generators = gen.generators
        for generator in generators:
            if generator.is_async:
                return False
            if not all(isinstance(sub, TARGET_NODES) for sub in walk(generator.target)):
                return False
        # an inner `for` calls iter() inside the generator in plain Python, but its GET_ITER is
        # what the handler takes for the caller's own: only iterables whose iter() cannot fail
        if not all(self._iterable(generator.iter) for generator in generators[1:]):
            return False
        targets = comprehension_targets(gen)
        parts = [gen.elt, *(g.iter for g in generators[1:]), *(test for g in generators for test in g.ifs)]
        for part in parts:
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

    def _iterable(self, node: ast.expr) -> bool:
        """Whether ``iter()`` of what ``node`` evaluates to cannot raise: a display, a str,
        bytes or tuple constant, a call of the builtin ``range`` (guarded)."""
        kind = type(node)
        if kind in (ast.List, ast.Tuple, ast.Set):
            return True
        if kind is ast.Constant:
            return type(node.value) in (str, bytes, tuple)  # type: ignore[attr-defined]
        return (
            kind is ast.Call and type(node.func) is ast.Name and node.func.id == "range"  # type: ignore[attr-defined]
            and not node.keywords and 1 <= len(node.args) <= 3  # type: ignore[attr-defined]
            and all(type(arg) is not ast.Starred for arg in node.args)  # type: ignore[attr-defined]
            and self._is_builtin("range")
        )

    # -- any, all, min, max: a loop run before the statement --------------------------------------
    def _loop(self, node: ast.Call, gen: ast.GeneratorExp, found: _Found) -> ast.expr:
        """The loop that does what the consumer does with the generator's items, appended to
        ``found.before``; returns the name holding its result.

        The generator's names become temporaries of the caller (``__fatopt_<n>_v_<name>``), set to
        None after the loop so that no item outlives the call longer than in plain Python. The
        loop's parts carry the positions the genexpr_raised handler reads: the ``for`` the
        generator expression's (its ``GET_ITER`` is the caller's, its ``FOR_ITER`` the
        generator's), the element and the conditions their own, and what the builtin does with
        an item (truth test, comparison, the empty error) the call's: the caller's entry then
        stays at the call, as when the builtin raises.
        """
        consumer = node.func.id  # type: ignore[attr-defined]
        number = self.loops
        self.loops += 1
        call, elt_span = _span(node), _span(gen.elt)
        generators = gen.generators
        # `v_` keeps the generator's names apart from the item and the result: a target may be
        # called `item` or, as the consumer, `min` (`min(x for min in xs)`)
        renamed = {name: f"__fatopt_{number}_v_{name}" for name in comprehension_targets(gen)}
        elt = gen.elt
        parts = [elt, *(g.target for g in generators), *(g.iter for g in generators[1:])]
        for part in parts + [test for g in generators for test in g.ifs]:
            for sub in walk(part):
                if type(sub) is ast.Name and sub.id in renamed:
                    sub.id = renamed[sub.id]
        item = f"__fatopt_{number}_item"
        result = f"__fatopt_{number}_result"
        take_item = _at(ast.Assign(targets=[_name(item, elt_span, True)], value=elt), elt_span)
        # the builtin lets go of an item before asking for the next one (a finalizer or a weak
        # reference callback runs then in plain Python)
        drop_item = ast.Delete(targets=[_name(item, call, False)])
        drop_item.targets[0].ctx = ast.Del()
        before: list[ast.stmt]
        on_item: list[ast.stmt]
        if consumer in ("any", "all"):
            decided = consumer == "any"  # the result once an item's truth is `decided`
            test: ast.expr = _name(item, call)
            if not decided:
                test = ast.UnaryOp(op=ast.Not(), operand=test)
            before = [ast.Assign(targets=[_name(result, call, True)], value=ast.Constant(not decided))]
            on_item = [take_item, ast.If(test=test, body=[
                ast.Assign(targets=[_name(result, call, True)], value=ast.Constant(decided)),
                ast.Break(),
            ], orelse=[]), drop_item]
            after_loop: list[ast.stmt] = []
        elif consumer == "sum":
            # exact ints only (_exact_int): `+` gives what sum's C loop gives, calling nothing
            before = [ast.Assign(targets=[_name(result, call, True)], value=ast.Constant(0))]
            on_item = [_at(ast.AugAssign(target=_name(result, call, True), op=ast.Add(), value=elt), call)]
            after_loop = []
        else:
            # the builtin: the first item is kept; each next one replaces it when
            # `item < kept` (min) or `item > kept` (max) is true -- the same comparison, the
            # same operand order, so the first of equal items stays
            empty = f"__fatopt_{number}_empty"
            compare = ast.Compare(
                left=_name(item, call), ops=[ast.Lt() if consumer == "min" else ast.Gt()],
                comparators=[_name(result, call)],
            )
            before = [ast.Assign(targets=[_name(empty, call, True)], value=ast.Constant(True))]
            on_item = [take_item, ast.If(test=_name(empty, call), body=[
                ast.Assign(targets=[_name(result, call, True)], value=_name(item, call)),
                ast.Assign(targets=[_name(empty, call, True)], value=ast.Constant(False)),
            ], orelse=[ast.If(test=compare, body=[
                ast.Assign(targets=[_name(result, call, True)], value=_name(item, call)),
            ], orelse=[])]), drop_item]
            message = f"{consumer}() iterable argument is empty"  # 3.12 and 3.13 alike
            error = ast.Call(func=_name("ValueError", call), args=[ast.Constant(message)], keywords=[])
            after_loop = [ast.If(test=_name(empty, call), body=[ast.Raise(exc=error, cause=None)], orelse=[])]
            found.after.append(_fill(ast.Assign(
                targets=[_name(result, call, True)], value=ast.Constant(None)), call))  # type: ignore[arg-type]
        body = on_item
        for generator in reversed(generators):
            for condition in reversed(generator.ifs):
                body = [_at(ast.If(test=condition, body=body, orelse=[]), _span(condition))]  # type: ignore[list-item]
            body = [_at(ast.For(target=generator.target, iter=generator.iter, body=body, orelse=[]), _span(gen))]  # type: ignore[list-item]
        loop = body[0]
        temporaries = sorted(renamed.values()) + ([item] if consumer != "sum" else [])
        clear = ast.Assign(targets=[_name(name, call, True) for name in temporaries], value=ast.Constant(None))
        for stmt in [*before, loop, *after_loop, clear]:
            found.before.append(_fill(stmt, call))  # type: ignore[arg-type]
        return _name(result, call)


class EliminateGenexpr(Pass):
    """Generator expressions consumed whole by a builtin become comprehensions (guarded on the
    builtin)."""

    name = "eliminate_genexpr"
    switch = "eliminate_genexpr"
    guarded = True

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            hints = unit.hints
            return ("genexpr_argument" in hints and any(
                name in unit.loads and unit.builtin(name) for name in CONSUMERS
            )) or "genexpr_str_method" in hints
        return type(self) not in unit.ran  # what it rewrites, no other pass makes

    def run(self, unit: Unit) -> bool:
        return _Eliminate(unit).run_on(unit)
