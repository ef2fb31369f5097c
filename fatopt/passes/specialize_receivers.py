"""Receiver specialization: a method call ``v.m(...)`` whose receiver a recorded profile saw
of one class, a class whose instances have no ``__dict__``, becomes ``C.m(v, ...)`` under a
``type(v) is C`` check at the call, so that the inlining pass can inline the method (issue 17).

A call of a small method costs a frame (~300 instructions on 3.13); the check, ~100. Where the
receiver keeps no binding the function could check once at its entry (a loop variable, ``nxt =
nxt.step()``: :mod:`fatopt.passes.specialize_types` needs one), the check goes to the call::

    for p in points:                    for p in points:
        p.normalize()          ->           if not FLAG or type(p) is not Point:
                                                p.normalize()
                                            else:
                                                Point.normalize(p)     # then inlined

Which sites: :mod:`fatopt.analyses.receiver_types` (a profile, ``-X fatopt=profile=FILE``, names
the receiver's class; every class of its MRO has ``__slots__`` without ``__dict__``). Only a
local receiver (of the function or of a comprehension); ``m`` must resolve along the class's MRO to a method the inlining can inline
(:mod:`fatopt.analyses.method_callees`). A call that is a statement's whole value (an
expression statement, ``x = v.m(...)``, ``return v.m(...)``) becomes a checked statement, so
that a method of several statements is spliced in; elsewhere a checked expression.

Exactness: plain Python looks ``v.m`` up before it evaluates the arguments. Under ``type(v) is
C``, with no ``__dict__`` on the instance and ``C``'s ``__getattribute__`` object's (no
``__getattr__``: ``GuardClass``), that finds what ``C.m`` finds; ``C.m(v, ...)`` loads ``v``
before the arguments too. The class's global name and attribute are guarded (``GuardClass``);
a change while a frame runs empties the validity flag, tested first at each site.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.exact_types import _own_class
from fatopt.analyses.method_callees import ModuleMethodCallees, defined_before
from fatopt.analyses.receiver_types import ReceiverTypes
from fatopt.analyses.scopes import resolve
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.guards.class_attributes import GuardClass
from fatopt.passes._rewrite import LoopCountingTransformer, Pass, Unit, clone
from fatopt.passes.inline_functions import LOCAL_FLAG, _bind_local_flag, _not_valid

__all__ = ["SpecializeReceivers"]


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.copy_location(node, like)


class _Sites(LoopCountingTransformer):
    """Rewrites the qualifying method calls of the function's own code."""

    def __init__(self, unit: Unit, classes: dict[tuple[int, int], str], own: str | None) -> None:
        super().__init__(unit)
        self.classes = classes
        self.own = own
        self.methods = unit.module.fact(ModuleMethodCallees)  # type: ignore[union-attr]
        #: (class name, method) of each rewritten site
        self.called: set[tuple[str, str]] = set()

    def _class_of(self, node: ast.AST) -> str | None:
        """The class a qualifying call ``v.m(...)`` is specialized for, or None."""
        if type(node) is not ast.Call or type(node.func) is not ast.Attribute or type(node.func.value) is not ast.Name:
            return None
        class_name = self.classes.get((node.end_lineno, node.end_col_offset))  # type: ignore[arg-type]
        receiver = node.func.value.id
        if class_name is None or self.is_shadowed(class_name) or not self.unit.is_module_name(class_name):
            return None
        if self.is_shadowed("type") or not self.unit.builtin("type"):
            return None  # the check's `type` would not be the builtin
        # a local of the function, or of the comprehension being visited
        if not self.is_shadowed(receiver) and resolve(self.unit.scope, receiver) != "local":
            return None
        if any(type(a) is ast.Starred for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        if self.methods.get(class_name, node.func.attr, self.unit.module.config.max_receiver_inline_size) is None:  # type: ignore[union-attr]
            return None  # not a method the inlining can inline: the call stays as written
        if class_name != self.own and not defined_before(self.unit.module, class_name, self.unit.node):  # type: ignore[arg-type]
            return None
        return class_name

    def _test(self, call: ast.Call, class_name: str) -> ast.expr:
        """``not FLAG or type(v) is not C``."""
        flag = LOCAL_FLAG if self.loops or self.comprehensions else self.unit.validity_flag()
        receiver = call.func.value  # type: ignore[attr-defined]
        kind = _at(ast.Call(func=_at(ast.Name(id="type", ctx=ast.Load()), call), args=[clone(receiver)], keywords=[]), call)
        other = _at(ast.Compare(left=kind, ops=[ast.IsNot()], comparators=[_at(ast.Name(id=class_name, ctx=ast.Load()), call)]), call)
        return _at(ast.BoolOp(op=ast.Or(), values=[_not_valid(flag, call), other]), call)  # type: ignore[return-value]

    def _through_class(self, call: ast.Call, class_name: str) -> ast.Call:
        """``C.m(v, *args)`` for ``v.m(*args)``."""
        func = call.func
        method = _at(ast.Attribute(value=_at(ast.Name(id=class_name, ctx=ast.Load()), func), attr=func.attr, ctx=ast.Load()), func)  # type: ignore[attr-defined]
        self.called.add((class_name, func.attr))  # type: ignore[attr-defined]
        self.changed = True
        return _at(ast.Call(func=method, args=[clone(func.value), *call.args], keywords=call.keywords), call)  # type: ignore[attr-defined,return-value]

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        class_name = self._class_of(node)
        if class_name is None:
            return node
        test = self._test(node, class_name)
        return _at(ast.IfExp(test=test, body=clone(node), orelse=self._through_class(node, class_name)), node)

    def _statement(self, stmt: ast.stmt) -> ast.AST:
        """A statement whose whole value is a qualifying call: checked as a statement."""
        value = stmt.value  # type: ignore[attr-defined]
        class_name = self._class_of(value)
        if class_name is None:
            return self.generic_visit(stmt)
        stmt.value = value = _at(ast.Call(func=value.func, args=self._visit_list(value.args),  # type: ignore[attr-defined]
                                          keywords=self._visit_list(value.keywords)), value)
        fast = clone(stmt)
        fast.value = self._through_class(value, class_name)  # type: ignore[attr-defined]
        return _at(ast.If(test=self._test(value, class_name), body=[stmt], orelse=[fast]), stmt)

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        return self._statement(node)

    def visit_Return(self, node: ast.Return) -> ast.AST:
        return self._statement(node) if node.value is not None else node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if len(node.targets) != 1 or type(node.targets[0]) is not ast.Name:
            return self.generic_visit(node)
        return self._statement(node)


class SpecializeReceivers(Pass):
    """Method calls on receivers of a profiled ``__slots__`` class call the class's method
    under a type check at the call, for the inlining to inline."""

    name = "specialize_receivers"
    switch = "specialize_receivers"
    guarded = True
    #: (the inlining then looks for methods through classes the function did not name)
    makes = frozenset({"receivers_specialized"})
    requires = (ReceiverTypes,)

    def may_apply(self, unit: Unit) -> bool:
        if unit.started:
            return type(self) not in unit.ran
        return unit.module is not None and type(unit.node) in (ast.FunctionDef, ast.AsyncFunctionDef) and bool(
            unit.fact(ReceiverTypes))

    def run(self, unit: Unit) -> bool:
        classes = unit.fact(ReceiverTypes)
        if not classes:
            return False
        own = _own_class(unit)
        sites = _Sites(unit, classes, own)
        if not sites.run_on(unit):
            return False
        _bind_local_flag(unit.node.body, unit.validity_flag())  # type: ignore[union-attr]
        unit.require(GuardBuiltins, "type")
        for class_name, method in sorted(sites.called):
            unit.require_of_class(GuardClass, class_name, method, own=class_name == own)
        return True
