"""Method calls on an object the function has just made: ``v = Vector(...)`` then ``v.dot(w)``
calls ``Vector.dot`` with no check at all, for the inlining pass to inline (issue 17).

A method call on an instance of an ordinary class (with a ``__dict__``) can be inlined exactly
only where no instance attribute can hide the method, and no watcher sees instance attributes
on 3.13.0; a per-call test costs more than the call (docs/optimizer.md,
``specialize_instance_methods``). An object the function made itself needs no test: until the
function hands it to other code, only the function's local reaches it, and its ``__dict__``
holds what ``__init__`` stored (:mod:`fatopt.analyses.fresh_objects`). The pass rewrites, after
``v = C(...)``, each statement with a method call on ``v`` (made linear first where the call is
inside an expression) as long as ``v`` has not escaped::

    cp = Vector(x, y, z)                 cp = Vector(x, y, z)
    v = cp.dot(w)                        if not FLAG:
    return v - cp.dot(cp)      ->            v = cp.dot(w)
                                             return v - cp.dot(cp)
                                         else:
                                             v = Vector.dot(cp, w)           # then inlined
                                         _fatopt_f_1 = cp.dot(cp) if not FLAG else ... (alike)

The branch for an invalid flag runs the rest of the block as written and then what follows the
block, up to a ``return``, the end of the loop body holding it (then ``continue``) or the end
of the function (then ``return``), crossing only ``if`` statements and inlined code
(:meth:`_Region.tail`): once a guard broke, the frame never comes back to specialized code
that assumed it (:mod:`fatopt.passes.scalar_replacement` relies on that). Where that is a
``continue``, ``v``'s value must be read nowhere after the block
(:mod:`fatopt.analyses.local_bindings`): not in the next iteration, not after the loop. A call
of a method that only returns its receiver, called for nothing (``cp.mustBeVector()``) right
after such a test with nothing run since, is dropped.

The object is followed where the inlining takes its calls: into the inlined method (its calls
on ``self``, ``self.scale(1.0 / self.magnitude())``, are calls on ``v``), and into a constructor
whose ``__init__`` keeps it (``Ray(p, v)`` storing ``v.normalized()``), which the inlining then
inlines on 3.13 too (``Unit.constructions_to_inline``). A statement made linear evaluates the
method of a call whose argument holds a site first, as Python does, but as the class's function
(``_fatopt_f_1 = Vector.scale``, then ``_fatopt_f_1(v, ...)``): a bound method object would cost
more than the call saves.

Where the object is made as the last statement of a branch, or of inlined code, that the rest
of the block follows (an operation's inlined dunder: ``cp = Vector(...) if t.isPoint() else
Point(...)``, or ``d = Vector(...)``), the rest of the block and what follows it (when small, as
for the branch above) is copied after the statement that makes it, a conditional expression
written as an ``if``: the other paths run on to the rest as written.

Exactness: ``v.m`` finds ``C.m`` on an object of exactly ``C`` (``object.__new__`` made it)
whose ``__dict__`` has only ``__init__``'s instance attributes, none a method's name, when no
code had it (only loads of those attributes, and methods and constructors that keep it to
themselves, used it since). ``GuardClass`` keeps ``C``'s global name, ``__new__``, ``__init__``,
``__setattr__`` and the methods (their code and defaults) as the analysis saw them, with no
``__getattribute__``/``__getattr__`` added (and a keeping constructor's class alike); a change
while a frame runs empties the validity flag, tested at each rewritten statement. A method
found before an argument runs is the function the flag vouched for then, called as such on the
branch for an invalid flag. Tracebacks: the inlining's handler, as for any inlined method
(copied code of the caller inside it is told apart by its lines).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from collections.abc import Sequence

from fatopt.analyses.class_constants import TopLevelClassNames
from fatopt.analyses.exact_types import _own_class
from fatopt.analyses.fresh_objects import FreshClass, construction_keeps, fresh_class, keeps
from fatopt.analyses.local_bindings import loads, locally_bound, nested_blocks
from fatopt.analyses.method_callees import ModuleMethodCallees, defined_before
from fatopt.analyses.scopes import resolve
from fatopt.guards.class_attributes import GuardClass
from fatopt.nodes import walk
from fatopt.passes._bound_locals import captured_locals, deletable_locals
from fatopt.passes._linearize import Linearizer
from fatopt.passes._rewrite import FreshNames, Pass, Unit, clone
from fatopt.passes.inline_functions import (
    FRESH_PREFIX, LOCAL_FLAG, _bind_local_flag, _is_checked_statement, _is_wrapper, _not_valid,
)

__all__ = ["FreshReceivers"]

#: how many times the function is looked at again after a rest was copied (copies in copies)
_SCANS = 3

#: largest rest of a block copied after the branch that makes the object (nodes)
MAX_COPIED_NODES = 400

#: largest branch for an invalid flag that copies code after the block of the statement (nodes)
MAX_TAIL_NODES = 1500

#: what a copied rest of a block may not hold (a second copy of a def would be another function;
#: a declaration must come before any use of its names)
_NOT_COPIED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.Global, ast.Nonlocal)


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.copy_location(node, like)


def _fast_blocks(stmts: list[ast.stmt]):
    """``stmts`` and the statement lists in it that run while the flag holds: not the branch of
    a checked statement that runs as written, not the handlers of the inlining's wrappers, not
    nested functions or classes."""
    yield stmts
    for stmt in stmts:
        kind = type(stmt)
        if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            continue
        if _is_checked_statement(stmt):
            yield from _fast_blocks(stmt.orelse)  # type: ignore[attr-defined]
            continue
        if _is_wrapper(stmt):
            yield from _fast_blocks(stmt.body)  # type: ignore[attr-defined]
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if type(inner) is list and inner and isinstance(inner[0], ast.stmt):
                yield from _fast_blocks(inner)
        for part in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())):
            yield from _fast_blocks(part.body)


def _returns(stmt: ast.stmt, continues: bool = False) -> bool:
    """Whether every path through ``stmt`` ends in a return or a raise (an inlining's wrapper
    re-raises whatever its body raises); with ``continues``, or a ``continue`` (of the loop
    whose body holds the code asked about)."""
    kind = type(stmt)
    if kind is ast.Return or kind is ast.Raise or (continues and kind is ast.Continue):
        return True
    if kind is ast.If:
        return bool(stmt.body) and bool(stmt.orelse) and _returns(stmt.body[-1], continues) and _returns(stmt.orelse[-1], continues)  # type: ignore[attr-defined]
    if _is_wrapper(stmt):
        return bool(stmt.body) and _returns(stmt.body[-1], continues)  # type: ignore[attr-defined]
    return False


def _path_to(body: list[ast.stmt], target: list[ast.stmt]) -> list[tuple[list[ast.stmt], int, list[ast.stmt]]] | None:
    """The (block, index of the statement holding the next block, that block) steps from the
    function's body down to the statement list ``target``, or None if it is not there."""
    if body is target:
        return []
    for index, stmt in enumerate(body):
        for inner in nested_blocks(stmt):
            found = _path_to(inner, target)
            if found is not None:
                return [(body, index, inner), *found]
    return None


def _branches(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The non-empty statement lists of ``stmt`` that run while the flag holds and after which
    the frame goes on with what follows ``stmt``: a checked statement's branch for a valid flag,
    the body of inlined code, an ``if``'s branches."""
    if _is_checked_statement(stmt):
        blocks = [stmt.orelse]  # type: ignore[attr-defined]
    elif _is_wrapper(stmt):
        blocks = [stmt.body]  # type: ignore[attr-defined]
    elif type(stmt) is ast.If:
        blocks = [stmt.body, stmt.orelse]
    else:
        return []
    return [block for block in blocks if block]


def _last_blocks(stmt: ast.stmt):
    """The statement lists inside ``stmt`` that run while the flag holds and after whose last
    statement the frame goes on with what follows ``stmt`` (each statement on the way the last
    of its list): only there is the rest of ``stmt``'s block what runs next."""
    for block in _branches(stmt):
        yield block
        yield from _last_blocks(block[-1])


def _size(stmts: list[ast.stmt]) -> int:
    return sum(1 for stmt in stmts for _node in walk(stmt))


class _Region:
    """The rewrite of one function: bindings ``v = C(...)`` and what follows them."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        module = unit.module
        assert module is not None
        self.module = module
        self.methods = module.fact(ModuleMethodCallees)
        self.classes = module.fact(TopLevelClassNames)
        self.own = _own_class(unit)
        self.captured = captured_locals(unit)
        self.deletable = deletable_locals(unit)
        #: (class name, attribute) the rewritten code relies on
        self.relied: set[tuple[str, str]] = set()
        self.changed = False
        #: a new local's name
        self.fresh_name = FreshNames(unit.node, "_fatopt_f_")
        #: the locals bound to a fresh object's method when a statement was made linear ->
        #: (class name, method name)
        self.unbound: dict[str, tuple[str, str]] = _unbound_methods(unit.node, self.classes)

    # -- what a statement is -------------------------------------------------------------------
    def _stable_local(self, name: str) -> bool:
        if name.startswith(FRESH_PREFIX):
            return True  # a local a pass made (the scopes were computed before it existed)
        return (resolve(self.unit.scope, name) == "local" and name not in self.captured
                and name not in self.deletable)

    def construction(self, value: ast.expr) -> FreshClass | None:
        """The class a call ``C(args)`` makes an instance of, fresh (module docstring), or None."""
        if type(value) is not ast.Call or type(value.func) is not ast.Name:
            return None
        name = value.func.id
        if name not in self.classes or not self.unit.is_module_name(name):
            return None
        if name != self.own and not defined_before(self.module, name, self.unit.node):  # type: ignore[arg-type]
            return None
        if value.keywords or any(type(a) is ast.Starred for a in value.args):
            return None
        found = fresh_class(self.module, name)
        if found is None or len(value.args) != max(len(found.parameters) - 1, 0):
            return None
        return found

    def binding(self, stmt: ast.stmt) -> tuple[str, FreshClass] | None:
        """(v, class) for ``v = C(args)`` making a fresh object into a stable local."""
        if type(stmt) is not ast.Assign or len(stmt.targets) != 1 or type(stmt.targets[0]) is not ast.Name:
            return None
        name = stmt.targets[0].id
        found = self.construction(stmt.value)
        if found is None or not self._stable_local(name):
            return None
        return name, found

    def method(self, fresh: FreshClass, attribute: str):  # type: ignore[no-untyped-def]
        size = self.module.config.max_receiver_inline_size
        return self.methods.get(fresh.name, attribute, size)

    # -- the occurrences of v in a statement ---------------------------------------------------
    def uses(self, stmt: ast.stmt, name: str, fresh: FreshClass, dead: bool = False) -> tuple[bool, list[ast.Call]]:
        """(whether ``v`` stays fresh through ``stmt``'s code that runs while the flag holds,
        the calls ``v.m(...)`` of ``stmt``'s own expressions to rewrite). ``dead``: nothing
        after ``stmt`` reads ``v``, so a branch for an invalid flag that runs code as written
        and falls through is not judged (the frame never reads ``v`` again)."""
        sites: list[ast.Call] = []
        if not self._judge(stmt, name, fresh, dead, sites):
            return False, []
        return True, sites

    def _judge_block(self, stmts: list[ast.stmt], name: str, fresh: FreshClass, dead: bool,
                     sites: list[ast.Call] | None = None) -> bool:
        after = dead or (bool(stmts) and _returns(stmts[-1]))
        return all(self._judge(stmt, name, fresh, after and not loads(stmts[index + 1:], name), sites)
                   for index, stmt in enumerate(stmts))

    def _judge(self, stmt: ast.stmt, name: str, fresh: FreshClass, dead: bool, sites: list[ast.Call] | None) -> bool:
        """Whether the occurrences of ``v`` in ``stmt`` keep it fresh; the rewritable calls of
        its own expressions into ``sites`` (given for the statement being rewritten only)."""
        if _is_checked_statement(stmt):
            body = stmt.body  # type: ignore[attr-defined]
            as_written = [] if (body and _returns(body[-1], True)) or dead else body
            return (self._occurrences(stmt.test, name, fresh, None)  # type: ignore[attr-defined]
                    and self._judge_block(as_written, name, fresh, False)
                    and self._judge_block(stmt.orelse, name, fresh, dead))  # type: ignore[attr-defined]
        if _is_wrapper(stmt):
            return self._judge_block(stmt.body, name, fresh, dead) and all(  # type: ignore[attr-defined]
                self._judge_block(h.body, name, fresh, False) for h in stmt.handlers)  # type: ignore[attr-defined]
        if type(stmt) is ast.If:
            return (self._occurrences(stmt.test, name, fresh, sites) and self._judge_block(stmt.body, name, fresh, dead)
                    and self._judge_block(stmt.orelse, name, fresh, dead))
        simple = type(stmt) in (ast.Assign, ast.Expr, ast.Return, ast.AugAssign, ast.AnnAssign)
        return self._occurrences(stmt, name, fresh, sites if simple else None)

    def _occurrences(self, node: ast.AST, name: str, fresh: FreshClass, sites: list[ast.Call] | None) -> bool:
        """Whether each occurrence of ``v`` in ``node`` (whole) keeps it fresh; its method calls
        into ``sites``."""
        parents: dict[int, ast.AST] = {}
        nodes: list[ast.AST] = []
        for sub in walk(node):
            nodes.append(sub)
            for child in ast.iter_child_nodes(sub):
                parents[id(child)] = sub
        for sub in nodes:
            if type(sub) is not ast.Name or sub.id != name:
                continue
            if type(sub.ctx) is not ast.Load:
                return False  # rebound (or deleted)
            parent = parents.get(id(sub))
            if type(parent) is ast.Attribute and type(parent.ctx) is ast.Load and parent.attr in fresh.attributes:
                continue
            if type(parent) is ast.Attribute and type(parent.ctx) is ast.Load:
                call = parents.get(id(parent))
                if type(call) is ast.Call and call.func is parent and self._keeps_call(call, name, fresh, parents, 0):
                    if sites is not None:
                        sites.append(call)
                    continue
            if type(parent) is ast.Call and sub in parent.args and self._keeps_construction(parent, name, fresh):
                if sites is not None and parent.args.index(sub) == min(
                        i for i, a in enumerate(parent.args) if type(a) is ast.Name and a.id == name):
                    sites.append(parent)  # a constructor that keeps it: run inlined (3.13 too)
                continue
            if type(parent) is ast.Call and parent.args and parent.args[0] is sub and type(parent.func) is ast.Name \
                    and self._attribute(parent.func, fresh) is not None and self._keeps_call(parent, name, fresh, parents, 1):
                if sites is not None:
                    sites.append(parent)  # the method bound to a local when made linear: rewritten too
                continue
            if type(parent) is ast.Call and parent.args and parent.args[0] is sub and type(parent.func) is ast.Attribute \
                    and type(parent.func.value) is ast.Name and parent.func.value.id == fresh.name \
                    and self._keeps_call(parent, name, fresh, parents, 1):
                continue  # a call this pass wrote, through the class, waiting to be inlined
            if type(parent) is ast.Call and sub in parent.args and type(parent.func) is ast.Name and parent.args[0] is not sub:
                first = parent.args[0]
                if type(first) is ast.Name and first.id == name and self._attribute(parent.func, fresh) is not None:
                    continue  # _f(v, ..., v, ...): judged at the first argument
            if type(parent) is ast.Call and sub in parent.args and type(parent.func) is ast.Attribute:
                receiver = parent.func.value
                if type(receiver) is ast.Name and receiver.id == name:
                    continue  # v.m(..., v, ...): judged at the receiver
                first = parent.args[0]
                if (type(receiver) is ast.Name and receiver.id == fresh.name and type(first) is ast.Name
                        and first.id == name and first is not sub):
                    continue  # C.m(v, ..., v, ...): judged at the first argument
            return False
        return True

    def _keeps_call(self, call: ast.Call, name: str, fresh: FreshClass, parents: dict[int, ast.AST], first: int) -> bool:
        """Whether the method call ``call`` (``v.m(args)``, or ``C.m(v, args)`` with ``first``
        = 1) keeps ``v`` to itself."""
        attribute = self._attribute(call.func, fresh)
        if attribute is None or call.keywords or any(type(a) is ast.Starred for a in call.args):
            return False
        args = call.args[first:]
        # (an occurrence inside an argument, `v.scale(1 / v.magnitude())`, is judged where it is)
        positions = {0} | {i + 1 for i, a in enumerate(args) if type(a) is ast.Name and a.id == name}
        if self.method(fresh, attribute) is None:
            return False
        dropped = type(parents.get(id(call))) is ast.Expr
        return keeps(self.module, fresh, attribute, frozenset(positions), dropped)

    def _keeps_construction(self, call: ast.Call, name: str, fresh: FreshClass) -> bool:
        """Whether ``call`` is ``C(..., v, ...)`` of a class of the module whose ``__init__``
        keeps ``v`` (:func:`fatopt.analyses.fresh_objects.construction_keeps`)."""
        func = call.func
        if type(func) is not ast.Name or func.id in self.unbound or func.id not in self.classes:
            return False
        if call.keywords or any(type(a) is ast.Starred for a in call.args) or not self.unit.is_module_name(func.id):
            return False
        if func.id != self.own and not defined_before(self.module, func.id, self.unit.node):  # type: ignore[arg-type]
            return False
        positions = frozenset(i + 1 for i, a in enumerate(call.args) if type(a) is ast.Name and a.id == name)
        return bool(positions) and construction_keeps(self.module, fresh, func.id, positions)

    def _attribute(self, func: ast.expr, fresh: FreshClass) -> str | None:
        """The method's name a call of ``func`` calls: ``v.m`` or ``C.m``, or a local this pass
        bound to ``C.m`` (made linear, :meth:`_linear`)."""
        if type(func) is ast.Attribute:
            return func.attr
        if type(func) is ast.Name:
            found = self.unbound.get(func.id)
            if found is not None and found[0] == fresh.name:
                return found[1]
        return None

    @staticmethod
    def only_read(rest: list[ast.stmt], name: str, fresh: FreshClass) -> bool:
        """Whether ``rest`` uses ``v`` only to read attributes ``__init__`` stores."""
        found = False
        for stmt in rest:
            for node in walk(stmt):
                for child in ast.iter_child_nodes(node):
                    if type(child) is ast.Name and child.id == name:
                        if not (type(node) is ast.Attribute and node.attr in fresh.attributes
                                and type(node.ctx) is ast.Load and type(child.ctx) is ast.Load):
                            return False
                        found = True
        return found

    # -- rewriting a region --------------------------------------------------------------------
    def region(self, block: list[ast.stmt], start: int, name: str, fresh: FreshClass) -> bool:
        """Rewrite the statements of ``block`` from ``start`` that call methods on ``v`` while
        it is fresh; True if something was rewritten."""
        changed = self.changed
        self.changed = False
        try:
            self._region(block, start, name, fresh, [])
            return self.changed
        finally:
            self.changed = self.changed or changed

    def _region(self, block: list[ast.stmt], start: int, name: str, fresh: FreshClass,
                outer: list[tuple[list[ast.stmt], int]]) -> None:
        """``outer``: the (block, index) of the statements holding ``block`` inside the block of
        the binding, outermost first."""
        index = start
        while index < len(block):
            stmt = block[index]
            dead_here = not loads(block[index + 1:], name) and not any(loads(b[i + 1:], name) for b, i in outer)
            ok, sites = self.uses(stmt, name, fresh, dead_here)
            if not ok:
                return
            if _is_checked_statement(stmt):
                self._drop_covered(stmt.orelse, name, fresh)  # type: ignore[attr-defined]
                sites = []
            if not sites:
                for inner in _branches(stmt):  # (calls on v in them are rewritten as in the block)
                    if loads(inner, name):
                        self._region(inner, 0, name, fresh, [*outer, (block, index)])
                index += 1
                continue
            linear = self._linear(stmt, sites, name, fresh)
            if linear is None:
                return
            if len(linear) > 1 and not any(self._binds_unbound(s) for s in linear):
                # each site a statement of its own, as Python evaluates them: rewritten in turn
                # (what runs before the first one runs as written, before its test)
                block[index:index + 1] = linear
                continue
            tail = self.tail(block, index, outer)
            if tail is None:
                return
            block[index] = self._checked(stmt, tail, name, fresh, linear)
            self.changed = True
            index += 1

    def tail(self, block: list[ast.stmt], index: int,
             outer: Sequence[tuple[list[ast.stmt], int]] = ()) -> list[ast.stmt] | None:
        """What the frame runs, as written, from ``block[index]`` on, so that it never comes back
        to code that assumed the flag: the rest of the block, of the blocks ``outer`` holding it,
        then what follows them up to a return, the end of the loop body holding them (then
        ``continue``) or the end of the function; copies. None if that crosses a statement other
        than an ``if`` or inlined code (a ``with``, a ``try``), or is too large."""
        stmts = list(block[index:])
        for holder, position in reversed(outer):
            if stmts and _returns(stmts[-1], True):
                break
            stmts.extend(holder[position + 1:])
        copied_beyond = False
        if not (stmts and _returns(stmts[-1], True)):
            top = outer[0][0] if outer else block
            beyond = self._beyond(top)
            if beyond is None:
                return None
            more, end = beyond
            stmts.extend(more)
            copied_beyond = True
            if not (stmts and _returns(stmts[-1], True)):
                like = stmts[-1]
                stmts.append(_at(ast.Continue(), like) if end == "continue" else _at(ast.Return(value=None), like))  # type: ignore[arg-type]
        if (copied_beyond or outer) and _size(stmts) > MAX_TAIL_NODES:
            return None
        return [clone(s) for s in stmts]  # type: ignore[misc]

    def _beyond(self, block: list[ast.stmt]) -> tuple[list[ast.stmt], str] | None:
        """(what runs after ``block`` up to the end of the loop body or function holding it, how
        that ends: ``"continue"`` or ``"end"``), crossing only ``if`` statements and inlined
        code; None otherwise."""
        path = _path_to(self.unit.node.body, block)  # type: ignore[union-attr]
        if path is None:
            return None
        stmts: list[ast.stmt] = []
        for holder, position, child in reversed(path):
            owner = holder[position]
            if type(owner) in (ast.For, ast.While) and child is owner.body:  # type: ignore[attr-defined]
                return stmts, "continue"
            if not (type(owner) is ast.If or (_is_wrapper(owner) and child is owner.body)):  # type: ignore[attr-defined]
                return None
            stmts.extend(holder[position + 1:])
        return stmts, "end"

    def may_region(self, block: list[ast.stmt], index: int, name: str) -> bool:
        """Whether the statements after the binding ``block[index]`` of ``v`` can be rewritten:
        their rest always returns, or what follows can be copied (:meth:`tail`) and ``v``'s
        value is read nowhere after ``block`` (:mod:`fatopt.analyses.local_bindings`)."""
        rest = block[index + 1:]
        if not rest:
            return False
        if _returns(rest[-1]):
            return True
        beyond = self._beyond(block)
        return beyond is not None and locally_bound(self.unit.node.body, name)  # type: ignore[union-attr]

    def _linear(self, stmt: ast.stmt, sites: list[ast.Call], name: str, fresh: FreshClass) -> list[ast.stmt] | None:
        """``stmt`` with each site a statement of its own where needed: as it is when its one
        site is its whole value, or when every site's method is of one expression."""
        value = getattr(stmt, "value", None)
        whole = type(stmt) in (ast.Expr, ast.Return, ast.Assign) and len(sites) == 1 and value is sites[0]
        if whole and (type(stmt) is not ast.Assign or len(stmt.targets) == 1):  # type: ignore[attr-defined]
            return [stmt]
        # the innermost sites first (`v.scale(1.0 / v.magnitude())`: the call of magnitude): the
        # statement left holds the others, each the whole value in its turn
        ids = {id(s) for s in sites if not any(n is not s and id(n) in {id(t) for t in sites} for n in walk(s))}

        copy = clone(stmt)  # (the statement as written stays for the branch of an invalid flag)
        ids = {id(c) for o, c in zip(walk(stmt), walk(copy), strict=True) if id(o) in ids}

        def site_statements(temp: str, site: ast.expr, pre: list[ast.stmt]) -> None:
            pre.append(_at(ast.Assign(targets=[_at(ast.Name(id=temp, ctx=ast.Store()), site)], value=site), site))  # type: ignore[arg-type]

        def unbound(func: ast.Attribute) -> ast.expr | None:
            # `v.scale(1.0 / v.magnitude())`: Python finds v.scale before the argument runs; on
            # a fresh v that is C.scale, bound to a local as a function (a bound method object
            # would cost more than the call saves), then called with v
            if type(func.value) is not ast.Name or func.value.id != name or self.method(fresh, func.attr) is None:
                return None
            return _at(ast.Attribute(value=_at(ast.Name(id=fresh.name, ctx=ast.Load()), func), attr=func.attr,
                                     ctx=ast.Load()), func)

        linear = Linearizer(lambda n: id(n) in ids, self.fresh_name, site_statements,
                            lambda n: self._stable_local(n), unbound).statement(copy)
        for made in linear or ():
            value = getattr(made, "value", None)
            if (type(made) is ast.Assign and type(value) is ast.Attribute and type(value.value) is ast.Name
                    and value.value.id == fresh.name and type(made.targets[0]) is ast.Name):
                self.unbound[made.targets[0].id] = (fresh.name, value.attr)
                self.relied.add((fresh.name, value.attr))
        return linear

    def _checked(self, stmt: ast.stmt, tail: list[ast.stmt], name: str, fresh: FreshClass,
                 linear: list[ast.stmt]) -> ast.stmt:
        """``if not FLAG: <tail: stmt and what follows, as written> else: <stmt through the
        class>``; a statement made linear (``linear``) is that, its first site through the class
        (the others are rewritten where they are, in turn)."""
        fast = linear[0] if len(linear) == 1 else next(
            s for s in linear if type(s) is ast.Assign and type(s.value) is ast.Call and self._is_site_of(s.value, name, fresh))
        fast = fast if len(linear) > 1 else clone(stmt)
        call = fast.value  # type: ignore[attr-defined]
        func = call.func
        if type(func) is ast.Name and func.id not in self.unbound:
            # a constructor that keeps v: the inlining inlines it (on 3.13 too) under this test
            self.unit.constructions_to_inline.add(id(call))
            self.relied.add((func.id, "__init__"))
            return _at(ast.If(test=_not_valid(LOCAL_FLAG, stmt), body=tail,  # type: ignore[return-value]
                              orelse=linear if len(linear) > 1 else [fast]), stmt)
        attribute = self._attribute(func, fresh)
        assert attribute is not None
        self.relied.add((fresh.name, attribute))
        method = _at(ast.Attribute(value=_at(ast.Name(id=fresh.name, ctx=ast.Load()), func), attr=attribute,
                                   ctx=ast.Load()), func)
        args = call.args if type(func) is ast.Name else [clone(func.value), *call.args]
        fast.value = _at(ast.Call(func=method, args=args, keywords=[]), call)  # type: ignore[attr-defined]
        fast_branch = linear if len(linear) > 1 else [fast]
        return _at(ast.If(test=_not_valid(LOCAL_FLAG, stmt), body=tail, orelse=fast_branch), stmt)  # type: ignore[return-value]

    def _binds_unbound(self, stmt: ast.stmt) -> bool:
        """Whether ``stmt`` binds a method of a fresh object's class made linear (``_f = C.m``)."""
        return (type(stmt) is ast.Assign and type(stmt.targets[0]) is ast.Name and stmt.targets[0].id in self.unbound
                and type(stmt.value) is ast.Attribute)

    def _is_site_of(self, call: ast.Call, name: str, fresh: FreshClass) -> bool:
        """Whether ``call`` is ``v.m(...)``, ``_f(v, ...)`` (a method bound when made linear)
        or a constructor that keeps ``v``."""
        func = call.func
        if type(func) is ast.Attribute:
            return type(func.value) is ast.Name and func.value.id == name
        if self._keeps_construction(call, name, fresh):
            return True
        return (type(func) is ast.Name and func.id in self.unbound and bool(call.args)
                and type(call.args[0]) is ast.Name and call.args[0].id == name)

    def _drop_covered(self, orelse: list[ast.stmt], name: str, fresh: FreshClass) -> None:
        """Drop ``v.m()`` of a method that only returns ``self`` (or a constant), called for
        nothing where nothing ran since the test (only copies between locals and constants)."""
        block = orelse
        while len(block) == 1 and _is_wrapper(block[0]):
            block = block[0].body  # type: ignore[attr-defined]
        for index, stmt in enumerate(block):
            call = stmt.value if type(stmt) is ast.Expr else None  # type: ignore[attr-defined]
            func = call.func if type(call) is ast.Call and not call.keywords else None
            # v.m(), or C.m(v) as this pass writes it
            if type(func) is ast.Attribute and type(func.value) is ast.Name and (
                    (func.value.id == name and not call.args)  # type: ignore[union-attr]
                    or (func.value.id == fresh.name and len(call.args) == 1  # type: ignore[union-attr]
                        and type(call.args[0]) is ast.Name and call.args[0].id == name)):  # type: ignore[union-attr]
                callee = self.method(fresh, func.attr)
                expression = callee.entry.expression if callee is not None else None
                if (type(expression) is ast.Name and expression.id == callee.entry.receiver) or type(expression) is ast.Constant:
                    self.relied.add((fresh.name, func.attr))
                    block[index] = _at(ast.Pass(), stmt)  # type: ignore[call-overload]
                    self.changed = True
                continue
            if not (type(stmt) is ast.Assign and all(type(t) is ast.Name for t in stmt.targets)
                    and type(stmt.value) in (ast.Name, ast.Constant)) and type(stmt) is not ast.Pass:
                return

    # -- copying the rest after the branch that makes the object -------------------------------
    def sink(self, block: list[ast.stmt], index: int) -> bool:
        """Copy ``block[index + 1:]`` after the branch of ``block[index]`` that makes a fresh
        object the rest calls methods on (module docstring); True if done."""
        rest = block[index + 1:]
        if not rest:
            return False
        beyond = None
        if not _returns(rest[-1]):
            # (then what follows the block, up to the end of the loop body or function: the
            # copy must never fall through to the rest as written)
            beyond = self.tail(block, index + 1)
            if beyond is None:
                return False
        if _size(beyond or rest) > MAX_COPIED_NODES:
            return False
        if any(isinstance(n, _NOT_COPIED) or (type(n) is ast.Expr and type(n.value) in (ast.Yield, ast.YieldFrom))
               for stmt in rest for n in walk(stmt)):
            return False
        found = self._made_in_branch(block[index], rest)
        if found is None:
            return False
        holder, position, name, made = found
        if beyond is not None:
            if not locally_bound(self.unit.node.body, name):  # type: ignore[union-attr]
                return False
            rest = beyond
        assign = holder[position]
        branch = self._branch_of(assign, made)  # the Assign turned into ifs, down to `v = C(...)`
        holder[position] = branch
        leaf_block = holder if branch is assign else self._leaf_block(branch, made)
        leaf_block.extend(clone(s) for s in rest)  # type: ignore[misc]
        self.changed = True
        return True

    def _made_in_branch(self, stmt: ast.stmt, rest: list[ast.stmt]):  # type: ignore[no-untyped-def]
        """(the list holding the assignment, its index, v, the call making it) for the last
        assignment ``v = ... C(...) ...`` of a branch of ``stmt`` that the rest calls a method
        of ``v`` after, or None."""
        for block in _last_blocks(stmt):
            last = block[-1] if block else None
            if type(last) is not ast.Assign or len(last.targets) != 1 or type(last.targets[0]) is not ast.Name:
                continue
            name = last.targets[0].id
            if not self._stable_local(name):
                continue
            for made in self._made_values(last.value):  # (`v = C(...)`, or a conditional expression)
                fresh = self.construction(made)
                if fresh is None:
                    continue
                if any(type(n) is ast.Call and ((type(n.func) is ast.Attribute and type(n.func.value) is ast.Name
                       and n.func.value.id == name and self.method(fresh, n.func.attr) is not None)
                       or self._keeps_construction(n, name, fresh))
                       for s in rest for n in walk(s)):
                    return block, len(block) - 1, name, made
        return None

    @staticmethod
    def _made_values(value: ast.expr) -> list[ast.expr]:
        """The values a conditional expression tree may give, leaves only, a call itself not."""
        if type(value) is ast.IfExp:
            return [*_Region._made_values(value.body), *_Region._made_values(value.orelse)]
        return [value] if type(value) is ast.Call else []

    @staticmethod
    def _branch_of(assign: ast.Assign, made: ast.expr) -> ast.stmt:
        """``v = a if t else b`` written as ``if t: v = a`` / ``else: v = b``, recursively along
        the path to ``made`` (the same evaluation: the test, then one value)."""
        value = assign.value
        if type(value) is not ast.IfExp:
            return assign

        def split(expr: ast.expr) -> ast.stmt:
            if type(expr) is ast.IfExp and any(n is made for n in walk(expr)):
                return _at(ast.If(test=expr.test, body=[split(expr.body)], orelse=[split(expr.orelse)]), expr)  # type: ignore[return-value]
            return _at(ast.Assign(targets=[clone(assign.targets[0])], value=expr), assign)  # type: ignore[return-value]

        return split(value)

    @staticmethod
    def _leaf_block(branch: ast.stmt, made: ast.expr) -> list[ast.stmt]:
        """The statement list whose statement assigns ``made``."""
        if type(branch) is ast.If:
            for block in (branch.body, branch.orelse):
                for stmt in block:
                    if any(n is made for n in walk(stmt)):
                        if type(stmt) is ast.If:
                            return _Region._leaf_block(stmt, made)
                        return block
        raise AssertionError("the branch that makes the object is not there")


def _unbound_methods(function: ast.AST, classes) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The locals an earlier round bound to a method of a class of the module when it made a
    statement linear (``_fatopt_f_1 = Vector.scale``) -> (class, method)."""
    found: dict[str, tuple[str, str]] = {}
    for node in walk(function):
        if (type(node) is ast.Assign and len(node.targets) == 1 and type(node.targets[0]) is ast.Name
                and node.targets[0].id.startswith("_fatopt_f_") and type(node.value) is ast.Attribute
                and type(node.value.value) is ast.Name and node.value.value.id in classes):
            found[node.targets[0].id] = (node.value.value.id, node.value.attr)
    return found


def _is_tail(stmt: ast.stmt, continues: bool = True) -> bool:
    """Whether ``stmt`` is a checked statement whose branch for an invalid flag never falls
    through (this pass's: the rest of the block as written, then what follows it, to a return
    or, with ``continues``, to the ``continue`` of the loop whose body holds ``stmt``)."""
    if not _is_checked_statement(stmt):
        return False
    body = stmt.body  # type: ignore[attr-defined]
    return bool(body) and _returns(body[-1], continues)


class FreshReceivers(Pass):
    """Method calls on an object the function just made call the class's method, for the
    inlining to inline (no check: the object cannot have an attribute of its own yet)."""

    name = "fresh_receivers"
    switch = "fresh_receivers"
    guarded = True
    makes = frozenset({"receivers_specialized"})

    def may_apply(self, unit: Unit) -> bool:
        module = unit.module
        if module is None or type(unit.node) not in (ast.FunctionDef, ast.AsyncFunctionDef):
            return False
        classes = module.fact(TopLevelClassNames)
        if unit.started:
            return "receivers_specialized" in unit.made or not unit.loads.isdisjoint(classes)
        return not unit.loads.isdisjoint(classes)

    def run(self, unit: Unit) -> bool:
        if unit.scope.declared_global or unit.scope.declared_nonlocal:
            return False
        region = _Region(unit)
        done: set[int] = set()  # the bindings whose regions were rewritten
        for _pass in range(_SCANS):
            sunk = False
            for block in list(_fast_blocks(unit.node.body)):  # type: ignore[union-attr]
                index = 0
                while index < len(block):
                    stmt = block[index]
                    found = region.binding(stmt)
                    if found is not None:
                        rest = block[index + 1:]
                        if id(stmt) not in done and region.may_region(block, index, found[0]):
                            done.add(id(stmt))
                            if region.region(block, index + 1, *found) or region.only_read(rest, *found):
                                # its methods run inlined, or it is only read: kept as a call for
                                # scalar replacement (3.12 would inline the constructor)
                                unit.kept_constructions.add(id(stmt.value))  # type: ignore[attr-defined]
                    elif region.sink(block, index):
                        sunk = True
                    index += 1
            if not sunk:
                break
        if not region.changed:
            return False
        _bind_local_flag(unit.node.body, unit.validity_flag())  # type: ignore[union-attr]
        own = _own_class(unit)
        by_class: dict[str, set[str]] = {}
        for class_name, attribute in region.relied:
            by_class.setdefault(class_name, {"__new__", "__init__", "__setattr__"}).add(attribute)
        for class_name, attributes in sorted(by_class.items()):
            unit.require_of_class(GuardClass, class_name, *sorted(attributes), own=class_name == own)
        return True
