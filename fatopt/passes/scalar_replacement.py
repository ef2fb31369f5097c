"""Scalar replacement: an object the function makes and then only reads attributes of is not
made; its attributes are locals (issue 17, item 4).

Making an instance of a Python class costs, on 3.13, far more than its call: the object, its
``__init__`` frame, its deallocation and the garbage collector's share of it (raytrace's
``Sphere.intersectionTime``, 3.13, callgrind: ~1,700 instructions per vector, most of the
function). Once :mod:`fatopt.passes.fresh_receivers` and the inlining have made ``cp.dot(cp)``
into reads of ``cp.x``, ``cp.y``, ``cp.z``, the object is only a holder of three values::

    cp = Vector(a.x - b.x, ...)          if not FLAG:
    <the rest, which always returns,        cp = Vector(a.x - b.x, ...)
     reading only cp.x, cp.y, cp.z>  ->     <the rest as written>
                                        else:
                                            _fatopt_c_1 = Vector
                                            _fatopt_cp_x_2 = a.x - b.x
                                            ...
                                        <the rest, cp.x read as _fatopt_cp_x_2>

Which objects: ``v = C(args)`` of a class whose new instances hold only what ``__init__`` stores
from its parameters (:mod:`fatopt.analyses.fresh_objects`), with no ``__del__``, in a block whose
last statement always returns, or whose value of ``v`` is read nowhere after the block
(:mod:`fatopt.analyses.local_bindings`: a loop body, where a ``break`` or ``continue`` of that
loop may then end the code after the binding); in the code that runs while the flag holds,
``v`` is only read as ``v.a`` for the attributes ``__init__`` stores; anywhere else only in a
branch for an invalid flag that never falls through (:mod:`fatopt.passes.fresh_receivers`' rest
as written) or after which nothing reads ``v``. That branch starts by making the object as plain
Python had it then (``materialize``, the runtime: the class the function made it from, the
stored values in ``__init__``'s order, no code run).

Exactness: the arguments are evaluated as the call evaluates them (the class's global name
first, then each argument in order; an exception there has the same traceback entry), and
``__init__`` would only have stored them (``GuardClass`` on ``__new__``, ``__init__`` and ``__setattr__``, no
descriptor of the attributes' names along the MRO and no ``__del__``:
``GuardClassAttrsAbsent``; tested by the flag before the arguments). What differs, documented
(docs/semantics.md): the object never exists while the flag holds, so ``gc.get_objects()``,
``id``-based bookkeeping and weak references of other code cannot see it; a class changed by
code that the frame runs after its last test of the flag, to give an attribute of those names a
descriptor, is seen by the next test or call, not by a read in between.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Callable, TypeVar

from fatopt.analyses.class_constants import TopLevelClassNames
from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.exact_types import _own_class
from fatopt.analyses.fresh_objects import FreshClass
from fatopt.analyses.local_bindings import loads
from fatopt.analyses.method_callees import plain_class
from fatopt.emit import RUNTIME_NAME
from fatopt.guards.class_attributes import GuardClass
from fatopt.guards.class_attributes_absent import GuardClassAttrsAbsent
from fatopt.nodes import walk
from fatopt.passes._rewrite import Pass, Unit, clone
from fatopt.passes.fresh_receivers import _fast_blocks, _is_tail, _Region, _returns
from fatopt.passes.inline_functions import LOCAL_FLAG, _bind_local_flag, _is_checked_statement, _is_wrapper, _not_valid

__all__ = ["ScalarReplacement"]

#: the runtime function that makes the object where the code as written needs it
MATERIALIZE = "materialize"


_Node = TypeVar("_Node", bound=ast.AST)


def _at(node: _Node, like: ast.AST) -> _Node:
    return ast.copy_location(node, like)


class _Replace:
    """One object's replacement: which reads become which locals, which branches make it."""

    def __init__(self, name: str, fresh: FreshClass, locals_: dict[str, str], holder: str,
                 spare: Callable[[], str], jumps: bool = False) -> None:
        #: a ``break`` or ``continue`` of the loop whose body holds the binding may end the
        #: code after it (the object's value is read nowhere after: local_bindings)
        self.jumps = jumps
        #: how many loops of that code the statement surveyed is in
        self.loops = 0
        #: a fresh local's name, for an argument ``__init__`` does not store
        self.spare = spare
        self.name = name
        self.fresh = fresh
        self.locals = locals_
        self.holder = holder
        #: the branches for an invalid flag that use the object
        self.tails: list[ast.If] = []
        #: the ``v.a`` reads to replace
        self.reads: list[tuple[ast.AST, str, ast.Attribute]] = []

    def survey(self, stmts: list[ast.stmt], dead: bool = True) -> bool:
        """Whether every use of ``v`` in ``stmts`` (the code after the binding) is a read of a
        stored attribute, or in a branch for an invalid flag that never falls through, or after
        which nothing reads ``v`` (``dead``: nothing after ``stmts`` does)."""
        for index, stmt in enumerate(stmts):
            if not self._statement(stmt, dead and not loads(stmts[index + 1:], self.name)):
                return False
        return True

    def _statement(self, stmt: ast.stmt, dead: bool) -> bool:
        if type(stmt) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Break, ast.Continue):
            return not any(type(n) is ast.Name and n.id == self.name for n in walk(stmt)) and (
                type(stmt) not in (ast.Break, ast.Continue) or (self.jumps and not self.loops))
        if _is_checked_statement(stmt) and (dead or _is_tail(stmt, continues=self.jumps and not self.loops)):
            if any(type(n) is ast.Name and n.id == self.name for s in stmt.body for n in walk(s)):  # type: ignore[attr-defined]
                self.tails.append(stmt)  # type: ignore[arg-type]
            return self._expressions(stmt, {id(s) for s in (*stmt.body, *stmt.orelse)}) and self.survey(stmt.orelse, dead)  # type: ignore[attr-defined]
        if _is_wrapper(stmt):
            return self.survey(stmt.body, dead)  # type: ignore[attr-defined]
        blocks = [getattr(stmt, f) for f in ("body", "orelse", "finalbody")
                  if type(getattr(stmt, f, None)) is list and getattr(stmt, f) and isinstance(getattr(stmt, f)[0], ast.stmt)]
        blocks += [part.body for part in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ()))]
        inner = {id(s) for block in blocks for s in block}
        loop = type(stmt) in (ast.For, ast.AsyncFor, ast.While)
        # (an `if`'s branches run once, then what follows: nothing inside a loop or a try is)
        dead_inside = dead and type(stmt) is ast.If
        self.loops += loop
        try:
            for block in blocks:
                if not self.survey(block, dead_inside):
                    return False
        finally:
            self.loops -= loop
        return self._expressions(stmt, inner)

    def _expressions(self, stmt: ast.stmt, inner: set[int]) -> bool:
        """The statement's own expressions (not its blocks'): ``v`` only as ``v.a``."""
        parents: dict[int, ast.AST] = {}
        stack: list[ast.AST] = [stmt]
        while stack:
            node = stack.pop()
            for child in ast.iter_child_nodes(node):
                if id(child) in inner:
                    continue
                parents[id(child)] = node
                stack.append(child)
                if type(child) is ast.Name and child.id == self.name:
                    parent = node
                    if (type(parent) is ast.Attribute and type(parent.ctx) is ast.Load and type(child.ctx) is ast.Load
                            and parent.attr in self.locals):
                        self.reads.append((parents.get(id(parent), stmt), self.locals[parent.attr], parent))
                    else:
                        return False
        return True

    def materialize(self, like: ast.AST) -> ast.stmt:
        """``v = RUNTIME.materialize(holder, names, (locals...))``."""
        runtime = _at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), like)
        func = _at(ast.Attribute(value=runtime, attr=MATERIALIZE, ctx=ast.Load()), like)
        names = _at(ast.Tuple(elts=[_at(ast.Constant(value=a), like) for a in self.fresh.attributes],  # type: ignore[misc]
                              ctx=ast.Load()), like)
        values = _at(ast.Tuple(elts=[_at(ast.Name(id=self.locals[a], ctx=ast.Load()), like)  # type: ignore[misc]
                                     for a in self.fresh.attributes], ctx=ast.Load()), like)
        call = _at(ast.Call(func=func, args=[_at(ast.Name(id=self.holder, ctx=ast.Load()), like), names, values],
                            keywords=[]), like)
        return _at(ast.Assign(targets=[_at(ast.Name(id=self.name, ctx=ast.Store()), like)], value=call), like)  # type: ignore[return-value]


def _assign(name: str, value: ast.expr, like: ast.AST) -> ast.Assign:
    """``name = value`` at the position of ``like``."""
    return _at(ast.Assign(targets=[_at(ast.Name(id=name, ctx=ast.Store()), like)], value=value), like)


def _replace_read(parent: ast.AST, attribute: ast.Attribute, local: str) -> None:
    """Put the local ``local`` where ``parent`` holds ``attribute``."""
    name = _at(ast.Name(id=local, ctx=ast.Load()), attribute)
    for field, value in ast.iter_fields(parent):
        if value is attribute:
            setattr(parent, field, name)
            return
        if type(value) is list:
            for index, item in enumerate(value):
                if item is attribute:
                    value[index] = name
                    return
                if type(item) is ast.keyword and item.value is attribute:
                    item.value = name  # type: ignore[assignment]
                    return
    raise AssertionError("the read is not where it was found")


def _has_del(unit: Unit, class_name: str) -> bool:
    """Whether a class of ``class_name``'s MRO binds ``__del__`` (its instances' finalizer)."""
    module = unit.module
    assert module is not None
    table = module.fact(ModuleClassTable)
    info = plain_class(module, class_name)
    classes = table.mro(info) if info is not None else None
    return classes is None or any(table.binds(c, "__del__") for c in classes)


class ScalarReplacement(Pass):
    """An object the function makes and only reads attributes of is not made (its attributes
    are locals), while the flag holds."""

    name = "scalar_replacement"
    switch = "scalar_replacement"
    guarded = True

    def may_apply(self, unit: Unit) -> bool:
        module = unit.module
        # (the class may come from inlined code: ``unit.loads`` are the names the function's own
        # code loads)
        return unit.started and module is not None and (
            "receivers_specialized" in unit.made or not unit.loads.isdisjoint(module.fact(TopLevelClassNames)))

    def run(self, unit: Unit) -> bool:
        if unit.scope.declared_global or unit.scope.declared_nonlocal:
            return False
        region = _Region(unit)
        changed = False
        relied: dict[str, set[str]] = {}
        for block in list(_fast_blocks(unit.node.body)):  # type: ignore[union-attr]
            for index, stmt in enumerate(block):
                found = region.binding(stmt)
                rest = block[index + 1:]
                if found is None or not region.may_region(block, index, found[0]):
                    continue
                name, fresh = found
                if not fresh.attributes or _has_del(unit, fresh.name):
                    continue
                # the code as written from the binding on, never falling through (fresh_receivers)
                general = region.tail(block, index)
                if general is None:
                    continue
                locals_ = {a: region.fresh_name() for a in fresh.attributes}
                jumps = not _returns(rest[-1])  # (then the value is read nowhere after the block)
                replace = _Replace(name, fresh, locals_, region.fresh_name(), region.fresh_name, jumps)
                if not replace.survey(rest) or not replace.reads:
                    continue
                for parent, local, attribute in replace.reads:
                    _replace_read(parent, attribute, local)
                for tail in replace.tails:
                    tail.body.insert(0, replace.materialize(tail))
                block[index] = self._checked(stmt, general, replace, LOCAL_FLAG)  # type: ignore[arg-type]
                relied.setdefault(fresh.name, set()).update(fresh.attributes)
                changed = True
                break  # (the block changed: its other objects next round)
        if not changed:
            return False
        _bind_local_flag(unit.node.body, unit.validity_flag())  # type: ignore[union-attr]
        own = _own_class(unit)
        for class_name, attributes in sorted(relied.items()):
            unit.require_of_class(GuardClass, class_name, "__new__", "__init__", "__setattr__", own=class_name == own)
            unit.require_of_class(GuardClassAttrsAbsent, class_name, "__del__", *sorted(attributes), own=class_name == own)
        return True

    @staticmethod
    def _checked(stmt: ast.Assign, general: list[ast.stmt], replace: _Replace, flag: str) -> ast.stmt:
        """``if not FLAG: <the binding and the rest as written> else: <the holder and locals>``:
        the class's global name loaded first, then each argument, as the call does."""
        call = stmt.value
        assert type(call) is ast.Call
        fast: list[ast.stmt] = [_assign(replace.holder, clone(call.func), stmt)]  # type: ignore[arg-type]
        fresh = replace.fresh
        stored = {source: attribute for attribute, source in zip(fresh.attributes, fresh.values, strict=True)
                  if type(source) is int}
        # the arguments in call order, each into the local of the attribute it is stored in (an
        # argument stored nowhere is still evaluated); then the constants __init__ stores
        for position, argument in enumerate(call.args, start=1):
            attribute = stored.get(position)
            target = replace.locals[attribute] if attribute is not None else replace.spare()
            fast.append(_assign(target, clone(argument), stmt))  # type: ignore[arg-type]
        for attribute, source in zip(fresh.attributes, fresh.values, strict=True):
            if type(source) is not int:
                fast.append(_assign(replace.locals[attribute], clone(source), stmt))  # type: ignore[arg-type]
        return _at(ast.If(test=_not_valid(flag, stmt), body=general, orelse=fast), stmt)  # type: ignore[return-value]
