"""Integer sums computed again in a later statement of the same block are computed once: the first
one is kept in a temporary (``:=`` where it stands, so the order of evaluation is the code's), the
later ones read it. scimark's FFT indexes ``data[j + 1]`` and ``data[i + 1]`` twice per butterfly
and computes ``b + a`` for both ``i`` and ``j``: each repeat is two loads, an addition and, above
256, an int object made and freed (3.12 and 3.13, callgrind: FFT 6.5% fewer instructions)::

    i = 2 * (b + a)                      i = 2 * (_fatopt_cse_1 := b + a)
    j = 2 * (b + a + dual)               j = 2 * (_fatopt_cse_1 + dual)
    z1_imag = data[j + 1]          ->    z1_imag = data[(_fatopt_cse_2 := j + 1)]
    data[j + 1] = data[i + 1] - w        data[_fatopt_cse_2] = data[(_fatopt_cse_3 := i + 1)] - w
    data[i + 1] += w                     data[_fatopt_cse_3] += w

Which expressions: ``+``, ``-``, ``*`` and unary ``-``, ``+``, ``~`` of ints that
:func:`fatopt.analyses.int_locals.pure_int` accepts (int constants and locals that certainly
hold exact ints), with at least one local: such an expression cannot fail and runs no code, so
evaluating it again gives the same int while none of its locals was bound again. Two occurrences
are shared when both are in simple statements of one block (a function's body, a loop's, an
``if``'s branch...), the first is certainly evaluated by its statement (not in a branch of ``x if
c else y``, a later operand of ``and``/``or``, a comprehension or a lambda) and no statement in
between (nor the first's own) binds one of its locals. Within a block, a statement that runs
means every statement before it ran to its end; an exception leaves the block, so a later
statement never reads a temporary its first occurrence did not set. Nested blocks start afresh.

Guarded: the builtins the int facts rely on (``range``, ``len``). The temporaries are locals of
the function (``locals()`` makes a function unsafe to optimize; ``frame.f_locals`` and a
debugger show them: docs/semantics.md). Runs last, after the passes that make such code (inlined
subscripts) and before ``trim_nops``.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass

from fatopt.analyses.int_locals import IntLocals, pure_int
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.passes._rewrite import FreshNames, Pass, Unit
from fatopt.passes.inline_functions import _blocks

__all__ = ["CommonSubexpressions"]

#: simple statements whose expressions are shared (a ``return``, ``raise`` or ``assert`` may use a
#: temporary but ends the block or may be compiled away)
_SOURCES = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
_USERS = (*_SOURCES, ast.Return, ast.Raise, ast.Assert)
#: expressions with their own scope, or whose parts run later or not at all (and f-strings,
#: which passes leave as written: docs/optimizer.md)
_NOT_ENTERED = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.JoinedStr)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass
class _Occurrence:
    """The first occurrence of an expression in a block: where it stands, the locals it reads,
    and its temporary once a later statement reads it."""

    parent: ast.AST
    field: str
    index: int | None
    names: frozenset[str]
    temp: str | None = None


class _Sharer:
    def __init__(self, unit: Unit, ints: frozenset[str]) -> None:
        self.ints = ints
        self.fresh = FreshNames(unit.node, "_fatopt_cse_")
        #: temporary -> the key of the expression it holds
        self.temps: dict[str, tuple] = {}
        self.changed = False

    def _int_name(self, name: str) -> bool:
        return name in self.ints or name in self.temps

    def key(self, node: ast.expr) -> tuple | None:
        """What identifies ``node``'s value (a temporary stands for its expression), or None if it
        is no shareable int expression."""
        kind = type(node)
        if kind is ast.Constant:
            return ("c", node.value)  # type: ignore[attr-defined]
        if kind is ast.Name:
            return self.temps.get(node.id) or ("n", node.id)  # type: ignore[attr-defined]
        if kind is ast.NamedExpr and node.target.id in self.temps:  # type: ignore[attr-defined]
            return self.temps[node.target.id]  # type: ignore[attr-defined]
        if kind is ast.BinOp:
            left, right = self.key(node.left), self.key(node.right)  # type: ignore[attr-defined]
            return ("b", type(node.op), left, right) if left and right else None  # type: ignore[attr-defined]
        if kind is ast.UnaryOp:
            operand = self.key(node.operand)  # type: ignore[attr-defined]
            return ("u", type(node.op), operand) if operand else None  # type: ignore[attr-defined]
        return None

    # -- blocks -----------------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        available: dict[tuple, _Occurrence] = {}
        for stmt in stmts:
            kind = type(stmt)
            if kind in _USERS and available:
                self._use(stmt, available)
            stored = _stored_names(stmt)
            if stored:
                for key in [k for k, found in available.items() if not found.names.isdisjoint(stored)]:
                    del available[key]
            if kind in _SOURCES:
                self._collect(stmt, available, stored)
            elif kind not in _DEFINITIONS:
                for inner in _blocks(stmt):
                    self.block(inner)

    def _use(self, stmt: ast.stmt, available: dict[tuple, _Occurrence]) -> None:
        """Replace the expressions of ``stmt`` that an earlier statement computed (largest
        first) by reads of their temporaries."""
        stack: list[ast.AST] = [stmt]
        while stack:
            node = stack.pop()
            for field, value in _evaluated_fields(node, certainly=False):
                if type(value) is list:
                    for index, item in enumerate(value):
                        if isinstance(item, ast.expr):
                            value[index] = self._replaced(item, available, stack)
                elif isinstance(value, ast.expr):
                    setattr(node, field, self._replaced(value, available, stack))

    def _replaced(self, node: ast.expr, available: dict[tuple, _Occurrence], stack: list[ast.AST]) -> ast.expr:
        if type(node) in _NOT_ENTERED:
            return node
        if type(node) in (ast.BinOp, ast.UnaryOp):
            key = self.key(node)
            found = available.get(key) if key is not None else None  # type: ignore[arg-type]
            if found is not None:
                temp = found.temp or self._name_first(found, key)  # type: ignore[arg-type]
                self.changed = True
                return ast.copy_location(ast.Name(id=temp, ctx=ast.Load()), node)
        stack.append(node)
        return node

    def _name_first(self, found: _Occurrence, key: tuple) -> str:
        """Give the first occurrence its temporary: ``(temp := expression)`` where it stands."""
        temp = found.temp = self.fresh()
        self.temps[temp] = key
        slot = getattr(found.parent, found.field)
        expression = slot[found.index] if found.index is not None else slot
        target = ast.copy_location(ast.Name(id=temp, ctx=ast.Store()), expression)
        named = ast.copy_location(ast.NamedExpr(target=target, value=expression), expression)
        if found.index is not None:
            slot[found.index] = named
        else:
            setattr(found.parent, found.field, named)
        return temp

    def _collect(self, stmt: ast.stmt, available: dict[tuple, _Occurrence], stored: set[str]) -> None:
        """Record the int expressions ``stmt`` certainly evaluates that no later statement has
        seen yet (outermost first: a shared outer one makes its parts' sharing needless)."""
        stack: list[ast.AST] = [stmt]
        while stack:
            node = stack.pop()
            for field, value in _evaluated_fields(node):
                items = enumerate(value) if type(value) is list else [(None, value)]
                for index, item in items:
                    if not isinstance(item, ast.expr) or type(item) in _NOT_ENTERED:
                        continue
                    if type(item) in (ast.BinOp, ast.UnaryOp) and pure_int(item, self._int_name):
                        key = self.key(item)
                        # the locals its value depends on (a temporary's too); none: a constant
                        names = _key_names(key) if key is not None else frozenset()
                        if key is not None and names and key not in available and names.isdisjoint(stored):
                            available[key] = _Occurrence(node, field, index, names)
                    stack.append(item)


def _key_names(key: tuple) -> frozenset[str]:
    """The locals named in a key of :meth:`_Sharer.key`."""
    if key[0] == "n":
        return frozenset((key[1],))
    return frozenset().union(*(_key_names(part) for part in key[1:] if type(part) is tuple))


def _evaluated_fields(node: ast.AST, certainly: bool = True) -> list[tuple[str, object]]:
    """The fields of ``node`` that may run when it does (never a local's annotation: a function
    does not evaluate those); with ``certainly``, only those that do: not the branches of ``x if
    c else y``, nor the operands of ``and``/``or`` after the first."""
    kind = type(node)
    if kind is ast.AnnAssign:
        return [("target", node.target), ("value", node.value)]  # type: ignore[attr-defined]
    if certainly and kind is ast.IfExp:
        return [("test", node.test)]  # type: ignore[attr-defined]
    if certainly and kind is ast.BoolOp:
        return [("values", node.values[:1])]  # type: ignore[attr-defined]
    return list(ast.iter_fields(node))


def _stored_names(stmt: ast.stmt) -> set[str]:
    """The names ``stmt`` binds or deletes (nested blocks included; a definition's own name)."""
    names: set[str] = set()
    for sub in ast.walk(stmt):
        if type(sub) is ast.Name and type(sub.ctx) is not ast.Load:
            names.add(sub.id)
        elif isinstance(sub, _DEFINITIONS):
            names.add(sub.name)  # type: ignore[attr-defined]
    return names


class CommonSubexpressions(Pass):
    """Int expressions a block computes again read the first computation's temporary."""

    name = "common_subexpressions"
    switch = "common_subexpressions"
    guarded = True
    runs_last = True
    requires = (IntLocals,)

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            # ints come from range() loops (the analysis knows others, rarely repeated)
            return "for_loop" in unit.hints and "range" in unit.loads and unit.builtin("range")
        return not isinstance(unit.node, ast.Lambda) and ("range" in unit.loads or "len" in unit.loads)

    def run(self, unit: Unit) -> bool:
        facts = unit.fact(IntLocals)
        if not facts.names:
            return False
        sharer = _Sharer(unit, facts.names)
        sharer.block(unit.node.body)  # type: ignore[attr-defined]
        if not sharer.changed:
            return False
        for name in sorted(facts.builtins):
            unit.require(GuardBuiltins, name)
        return True
