"""Validity tests that an outer one covers: inlined code inside inlined code tests the flag again
at its own site, since the outer body may have run code that broke a guard. Where nothing ran
since the outer test (only copies between locals, and loads of instance attributes that the
class cannot intercept), the inner test is dropped (issue 17: scimark SOR's ``_idx`` inside
the inlined ``__getitem__``, 3.13: some 70 instructions a site)::

    if not FLAG:                              if not FLAG:
        t = G[x, y]                               t = G[x, y]
    else:                                     else:
        try:                                      try:
            m1 = G.data                               m1 = G.data
            if not FLAG:                 ->           try:
                m2 = G._idx(x, y)                         <_idx inlined>
            else:                                     except: ...
                try:                                  t = m1[m2]
                    <_idx inlined>                except: ...
                except: ...
            t = m1[m2]
        except: ...

What runs no code between two points of straight-line code (no call, no backward jump: the
interpreter runs signal handlers, other threads and the garbage collector only at calls and
backward jumps): assignments to locals of constants, locals and tuples of them, and ``v.a``
where the entry check tested ``type(v) is C`` (``v`` never rebound) and no class of ``C``'s MRO
has ``a`` (``GuardClassAttrsAbsent``: no descriptor, no ``__getattribute__``/``__getattr__``:
the load gives the instance's own value or raises ``AttributeError``). A store may free the
local's previous value; a finalizer that then breaks a guard is not seen before the inner site,
as it is not seen inside any inlined body that stores locals after its site's test.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.exact_types import _own_class
from fatopt.analyses.method_callees import plain_class
from fatopt.analyses.scopes import ScopesOfModule, resolve
from fatopt.guards.class_attributes_absent import GuardClassAttrsAbsent
from fatopt.nodes import walk
from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes.inline_functions import FRESH_PREFIX, HANDLER, Span, _is_check, _is_checked_statement
from fatopt.passes.specialize_instance_methods import _EntryCheck
from fatopt.passes.specialize_types import _own_parts

__all__ = ["DropCoveredChecks"]


class _Silence:
    """Which statements of the function run no Python code (and so cannot break a guard)."""

    def __init__(self, unit: Unit, typed: dict[str, str]) -> None:
        self.unit = unit
        module = unit.module
        self.table = module.fact(ModuleClassTable)  # type: ignore[union-attr]
        rebound = {n.id for n in walk(unit.node) if type(n) is ast.Name and type(n.ctx) is not ast.Load}
        #: receiver -> class, for the names the entry check tests and the function never rebinds
        self.typed = {name: cls for name, cls in typed.items() if name not in rebound}
        #: (name, attribute) stored or deleted anywhere in the module (``Grid.data = ...`` could
        #: give the class one): the scope analysis's record
        self.writes: set[tuple[str, str]] = set()
        for scope in module.fact(ScopesOfModule).all_scopes():  # type: ignore[union-attr]
            self.writes |= scope.attribute_writes

    def _absent(self, class_name: str, attr: str) -> bool:
        """Whether, as far as the module shows, no class of ``class_name``'s MRO has ``attr``
        (the guard checks it for real: a wrong answer costs the specialization, not exactness)."""
        if hasattr(object, attr) or attr.startswith("__"):
            return False
        info = plain_class(self.unit.module, class_name)  # type: ignore[arg-type]
        classes = self.table.mro(info) if info is not None else None
        if classes is None:
            return False
        for cls in classes:
            if self.table.binds(cls, attr) or attr in (cls.slots or ()):
                return False
            if (cls.name, attr) in self.writes:
                return False
        return True

    def expression(self, node: ast.expr, relied: set[tuple[str, str]]) -> bool:
        """Whether evaluating ``node`` runs no code; the (class, attribute) pairs that needs
        absent are added to ``relied``."""
        kind = type(node)
        if kind is ast.Constant:
            return True
        if kind is ast.Name:
            return self._local(node.id)  # type: ignore[attr-defined]
        if kind is ast.Tuple:
            return all(self.expression(e, relied) for e in node.elts)  # type: ignore[attr-defined]
        if kind is ast.Attribute and type(node.value) is ast.Name:  # type: ignore[attr-defined]
            class_name = self.typed.get(node.value.id)  # type: ignore[attr-defined]
            if class_name is not None and self._absent(class_name, node.attr):  # type: ignore[attr-defined]
                relied.add((class_name, node.attr))  # type: ignore[attr-defined]
                return True
        return False

    def _local(self, name: str) -> bool:
        return resolve(self.unit.scope, name) == "local" or (
            name.startswith(FRESH_PREFIX) and name not in self.unit.scope.loads)

    def statement(self, stmt: ast.stmt) -> frozenset[tuple[str, str]] | None:
        """The (class, attribute) pairs ``stmt`` needs absent to run no code, or None if it may
        run code."""
        if type(stmt) is ast.Pass:
            return frozenset()
        if type(stmt) is not ast.Assign:
            return None
        targets = [n for t in stmt.targets for n in walk(t)]  # type: ignore[attr-defined]
        relied: set[tuple[str, str]] = set()
        if not (all(type(n) in (ast.Name, ast.Tuple, ast.Store) for n in targets)
                and all(self._local(n.id) for n in targets if type(n) is ast.Name)
                and self.expression(stmt.value, relied)):  # type: ignore[attr-defined]
            return None
        # unpacking iterates the value (its `__iter__` may be Python code) unless the value is
        # a display of as many items: `a, b = (x, y)` compiles to no iteration
        for target in stmt.targets:  # type: ignore[attr-defined]
            if type(target) is ast.Tuple and not (
                    type(stmt.value) is ast.Tuple and len(stmt.value.elts) == len(target.elts)  # type: ignore[attr-defined]
                    and len(stmt.targets) == 1 and all(type(e) is ast.Name for e in target.elts)):  # type: ignore[attr-defined]
                return None
        return frozenset(relied)


#: the state of the walk: None, code may have run since the last flag test; else the (class,
#: attribute) pairs the statements since it needed absent to run none
Covered = frozenset[tuple[str, str]] | None


class _Drop:
    """Walks the body, dropping the flag tests that an earlier one covers."""

    def __init__(self, silence: _Silence) -> None:
        self.silence = silence
        self.dropped = 0
        #: the (class, attribute) pairs a dropped test relied on being absent
        self.relied: set[tuple[str, str]] = set()
        #: the call positions the handlers around the statement scan for (SITES of a callee
        #: inlined at several calls): a test there is what tells its copy, and stays
        self.markers: frozenset[Span] = frozenset()

    def block(self, stmts: list[ast.stmt], covered: Covered) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        queue = list(reversed(stmts))  # (popped from the end: the next statement last)
        while queue:
            stmt = queue.pop()
            if type(stmt) in _SIMPLE:
                self._inner_checks(stmt)
            if _is_checked_statement(stmt):
                if covered is not None and not _is_or_test(stmt):
                    self.dropped += 1
                    self.relied |= covered
                    queue.extend(reversed(stmt.orelse))  # type: ignore[attr-defined]
                    continue
                stmt.body = self.block(stmt.body, None)  # type: ignore[attr-defined]
                stmt.orelse = self.block(stmt.orelse, frozenset())  # type: ignore[attr-defined]
                covered = None
            elif type(stmt) is ast.Try:
                # the body runs on from here; the handlers after something raised
                outer = self.markers
                self.markers = outer | _scanned_sites(stmt)  # type: ignore[arg-type]
                stmt.body = self.block(stmt.body, covered)  # type: ignore[attr-defined]
                self.markers = outer
                self._nested(stmt, ("orelse", "finalbody"))
                covered = None
            elif covered is not None and (needs := self.silence.statement(stmt)) is not None:
                covered = covered | needs
            elif covered is not None and type(stmt) is ast.Assign and self._first_check(stmt, covered):
                covered = None
            else:
                self._nested(stmt, ("body", "orelse", "finalbody"))
                covered = None
            out.append(stmt)
        return out

    def _first_check(self, stmt: ast.Assign, covered: frozenset[tuple[str, str]]) -> bool:
        """Drop the test of a checked expression (``CALL if not FLAG else INLINED``) that the
        assignment evaluates before anything that may run code: ``t = G.data[<checked>]``, or
        ``G.data[<checked>] = t`` (the value first). Whether one was dropped."""
        relied: set[tuple[str, str]] = set()
        if len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Subscript and self.silence.expression(stmt.value, relied):
            target: ast.Subscript = stmt.targets[0]  # type: ignore[assignment]
            found = self._leading(target, relied)
        else:
            found = self._leading(stmt.value, relied)
        return self._drop(found, covered | relied)

    def _drop(self, found: tuple[ast.AST, str] | None, relied: set[tuple[str, str]] | frozenset[tuple[str, str]]) -> bool:
        """Replace the checked expression at ``found`` (parent, field) by its inlined part,
        unless its test is at a call position a handler scans for. Whether it was dropped."""
        if found is None:
            return False
        parent, field = found
        checked: ast.IfExp = getattr(parent, field)
        test = checked.test
        if (test.lineno, test.end_lineno, test.col_offset, test.end_col_offset) in self.markers:
            return False
        setattr(parent, field, checked.orelse)
        self.dropped += 1
        self.relied |= relied
        return True

    def _inner_checks(self, stmt: ast.stmt) -> None:
        """Drop the tests that an enclosing test of the same expression covers: a checked
        expression ``CALL if not FLAG else INLINED`` whose inlined part evaluates another one
        first, after nothing that runs code (``G.data[<checked>]``: scimark SOR's ``_idx``
        inside each inlined ``__getitem__`` of one statement)."""
        for node in [n for part in _own_parts(stmt) for n in walk(part)]:
            if not _flag_only_check(node):
                continue
            while True:
                relied: set[tuple[str, str]] = set()
                found = (node, "orelse") if _flag_only_check(node.orelse) else self._leading(node.orelse, relied)  # type: ignore[attr-defined]
                if not self._drop(found, relied):
                    break

    def _leading(self, node: ast.expr, relied: set[tuple[str, str]]) -> tuple[ast.AST, str] | None:
        """(parent, field) of the checked expression ``node`` evaluates first, everything
        evaluated before it running no code (only subscripts are followed: the value, then the
        index), or None."""
        if type(node) is not ast.Subscript or not self.silence.expression(node.value, relied):
            return None
        index = node.slice
        if _flag_only_check(index):
            return node, "slice"
        return self._leading(index, relied)

    def _nested(self, stmt: ast.stmt, fields: tuple[str, ...]) -> None:
        """The statement's blocks (and handlers, cases), each walked from an untested state."""
        for field in fields:
            inner = getattr(stmt, field, None)
            if type(inner) is list and inner and isinstance(inner[0], ast.stmt):
                setattr(stmt, field, self.block(inner, None))
        for handler in getattr(stmt, "handlers", ()):
            handler.body = self.block(handler.body, None)
        for case in getattr(stmt, "cases", ()):
            case.body = self.block(case.body, None)


#: statements whose expressions are walked for covered tests (compound ones: their blocks are)
_SIMPLE = (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)



def _flag_only_check(node: ast.AST) -> bool:
    """``CALL if not FLAG else INLINED`` testing the flag only (a ``specialize_receivers`` site
    tests a type too: never dropped)."""
    return type(node) is ast.IfExp and _is_check(node.test) and type(node.test) is not ast.BoolOp


def _scanned_sites(stmt: ast.Try) -> frozenset[Span]:
    """The call positions (SITES) the inlining's handlers of the wrapper ``stmt`` pass."""
    found: set[Span] = set()
    for handler in stmt.handlers:
        for part in handler.body:
            call = part.value if type(part) is ast.Expr else None  # type: ignore[attr-defined]
            if (type(call) is ast.Call and type(call.func) is ast.Attribute and call.func.attr == HANDLER
                    and len(call.args) == 4 and type(call.args[3]) is ast.Constant):
                sites: object = call.args[3].value
                if type(sites) is tuple:
                    found.update(sites)
    return frozenset(found)


def _is_or_test(stmt: ast.stmt) -> bool:
    """``not FLAG or type(v) is not C`` (specialize_receivers's sites test a type too)."""
    return type(stmt.test) is ast.BoolOp  # type: ignore[attr-defined]


class DropCoveredChecks(Pass):
    """Inner validity tests of inlined code that an outer test covers (nothing ran between)
    are dropped."""

    name = "drop_covered_checks"
    switch = "drop_covered_checks"
    guarded = True

    def may_apply(self, unit: Unit) -> bool:
        # inlined code tests the flag: under an entry check, or at sites that test a type
        # themselves (specialize_operators, fresh_receivers)
        return unit.started and ("type_specialized" in unit.made or unit.valid_flag is not None)

    def run(self, unit: Unit) -> bool:
        node: ast.FunctionDef = unit.node  # type: ignore[assignment]
        check = _EntryCheck.of(node)
        drop = _Drop(_Silence(unit, check.typed if check is not None else {}))
        if check is not None:
            check.stmt.body = drop.block(check.stmt.body, None)
        else:
            # no object typed at entry: only copies between locals run no code, so a test is
            # dropped where it directly follows the branch of another that found the flag set
            # (``if not FLAG or c is not C: ... elif not FLAG: ...``; a wrapper's first test)
            node.body = drop.block(node.body, None)
        if not drop.dropped:
            return False
        own = _own_class(unit)
        by_class: dict[str, set[str]] = {}
        for class_name, attr in drop.relied:
            by_class.setdefault(class_name, set()).add(attr)
        for class_name, attrs in sorted(by_class.items()):
            unit.require_of_class(GuardClassAttrsAbsent, class_name, *sorted(attrs), own=class_name == own)
        return True
