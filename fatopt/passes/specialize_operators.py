"""Operator specialization: ``a - b`` where both operands are exactly of one class of the module
whose ``__sub__`` is a plain ``def`` becomes ``C.__sub__(a, b)`` under an exact-type check at the
site, so that the inlining pass inlines the dunder (issue 17, DESIGN.md §5b).

A binary operator on instances of a Python class costs a call through the type's slot (~810
instructions on 3.13 over an empty loop; a plain Python call ~310, a ``type(x) is C`` test
~157); inlined, the dunder's frame is gone. A statement whose whole value is the operation
(an assignment or a ``return``: an operation computed for nothing is left alone, its object
would live on in the inlined code's temporaries until the function returns) becomes a checked
statement (the operands first bound to locals of their own, in order)::

    cp = self.centre - ray.point        _fatopt_t_1 = self.centre
                                  ->    _fatopt_t_2 = ray.point
                                        if not FLAG or type(_fatopt_t_1) is not Point or type(_fatopt_t_2) is not Point:
                                            cp = _fatopt_t_1 - _fatopt_t_2
                                        else:
                                            cp = Point.__sub__(_fatopt_t_1, _fatopt_t_2)   # then inlined

Where the classes come from: a recorded profile's operand types at that very site
(:mod:`fatopt.analyses.operand_types`), else the known classes of two local names
(:mod:`fatopt.analyses.exact_types`: ``self``, annotations, a profile's parameter types, ``v =
C(...)``). Only a class's operation with itself: both operands of exactly ``C``.

An operation inside an expression is made a statement of its own where what runs before it is
names and constants. Where it is an argument of a constructor of a plain class of the module
(raytrace's ``o.intersectionTime(Ray(p, l - p))``), the construction becomes a statement of its
own whatever runs before it (the method, ``o.intersectionTime``, bound first: fresh_receivers
then follows the operation's new object into the inlined ``__init__``, which pays for that);
the class is loaded first, as Python does, and the call goes through the class's global name
only where it is still that class::

    _t1 = o.intersectionTime        # in plain Python's order
    _t2 = Ray
    _t3 = p
    <the operation's checked statement: _t4 = l - p>
    if not FLAG or _t2 is not Ray:
        _t5 = _t2(_t3, _t4)
    else:
        _t5 = Ray(_t3, _t4)         # inlined, with _t4 followed (fresh_receivers)
    t = _t1(_t5)

Exactness: for ``a OP b`` with ``type(a) is type(b) is C``, CPython calls ``C``'s dunder
(looked up on the type, never the instance) and, if that returns ``NotImplemented``, raises
``TypeError`` (the reflected dunder of the same type is not tried). The pass rewrites only
dunders that cannot return ``NotImplemented`` (every ``return`` gives a new instance of a
plain class of the module, an operation, a comparison or a constant), so the call's value is
the operation's. The dunder's resolution along the MRO (no data descriptor, ``__getattribute__``
or ``__getattr__`` in the way, the function's code and defaults) and the class's global name
are guarded (``GuardClass``); ``type`` is the builtin (``GuardBuiltins``); a change while a
frame runs empties the validity flag, tested first at the site. A subclass instance, another
class, a ``__class__`` assigned before the site: the check fails and the operation runs as
written. Exceptions raised in the dunder keep their traceback (the inlining pass's handler).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.exact_types import ExactTypes, _own_class
from fatopt.analyses.fresh_objects import construction_keeps, fresh_class
from fatopt.analyses.method_callees import ModuleMethodCallees, defined_before, plain_class
from fatopt.analyses.operand_types import OperandTypes
from fatopt.analyses.scopes import resolve
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.guards.class_attributes import GuardClass
from fatopt.guards.class_attributes_absent import GuardClassAttrsAbsent
from fatopt.nodes import walk
from fatopt.passes._linearize import Linearizer
from fatopt.passes._rewrite import FreshNames, LoopCountingTransformer, Pass, Unit, clone
from fatopt.passes.inline_functions import LOCAL_FLAG, _bind_local_flag, _not_valid

__all__ = ["SpecializeOperators", "OPERATOR_DUNDERS"]

#: the dunder ``a OP b`` calls first
OPERATOR_DUNDERS: dict[type, str] = {
    ast.Add: "__add__", ast.Sub: "__sub__", ast.Mult: "__mul__", ast.Div: "__truediv__",
    ast.FloorDiv: "__floordiv__", ast.Mod: "__mod__", ast.Pow: "__pow__", ast.MatMult: "__matmul__",
    ast.LShift: "__lshift__", ast.RShift: "__rshift__", ast.BitAnd: "__and__", ast.BitOr: "__or__",
    ast.BitXor: "__xor__",
}


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.copy_location(node, like)


def _never_not_implemented(expr: ast.expr | None, classes: set[str]) -> bool:
    """Whether ``expr`` (a returned value) cannot be ``NotImplemented``: a call of a plain
    class of the module whose instances ``object.__new__`` makes (``classes``), a binary
    operation or comparison (CPython turns a ``NotImplemented`` of both sides into
    ``TypeError``), ``not``, a constant, or a conditional expression of those."""
    kind = type(expr)
    if kind is ast.Call:
        return type(expr.func) is ast.Name and expr.func.id in classes  # type: ignore[union-attr]
    if kind in (ast.BinOp, ast.Compare, ast.Constant):
        return True
    if kind is ast.UnaryOp:
        return type(expr.op) is ast.Not  # type: ignore[union-attr]
    if kind is ast.IfExp:
        return _never_not_implemented(expr.body, classes) and _never_not_implemented(expr.orelse, classes)  # type: ignore[union-attr]
    return False


def _returned(entry) -> list[ast.expr | None]:  # type: ignore[no-untyped-def]
    """The values a method returns: its one expression, or each ``return``'s value."""
    if entry.expression is not None:
        return [entry.expression]
    return [s.value for stmt in entry.statements for s in walk(stmt) if type(s) is ast.Return]


class _Sites(LoopCountingTransformer):
    """Rewrites the statements whose whole value is a qualifying operation."""

    def __init__(self, unit: Unit, by_site: dict[tuple[int, int], tuple[str, str]], typed: dict[str, str]) -> None:
        super().__init__(unit)
        self.by_site = by_site
        self.typed = typed
        module = unit.module
        self.methods = module.fact(ModuleMethodCallees)  # type: ignore[union-attr]
        table = module.fact(ModuleClassTable)  # type: ignore[union-attr]
        #: plain classes of the module whose calls make an instance (no ``__new__`` of their own)
        self.new_instances = {info.name for info in table if plain_class(module, info.name) is info  # type: ignore[arg-type]
                              and table.object_new(info)}
        self.table = table
        self.own = _own_class(unit)
        #: (class name, dunder) of each rewritten site
        self.called: set[tuple[str, str]] = set()
        #: (class name, reflected dunder) the right operand's class must not gain
        self.absent: set[tuple[str, str]] = set()
        #: a new local's name
        self.fresh = FreshNames(unit.node, "_fatopt_o_")

    def _classes(self, node: ast.BinOp) -> tuple[str, str] | None:
        """(left class, right class) the operands of ``node`` are checked for, if the site
        qualifies (module docstring)."""
        dunder = OPERATOR_DUNDERS.get(type(node.op))
        if dunder is None:
            return None
        pair = self.by_site.get((node.end_lineno, node.end_col_offset))  # type: ignore[arg-type]
        if pair is None and type(node.left) is ast.Name and type(node.right) is ast.Name:
            left, right = self.typed.get(node.left.id), self.typed.get(node.right.id)
            if left is not None and right is not None and not self.is_shadowed(node.left.id) \
                    and not self.is_shadowed(node.right.id):
                pair = (left, right)
        if pair is None or self.is_shadowed("type") or not self.unit.builtin("type"):
            return None
        for class_name in set(pair):
            if self.is_shadowed(class_name) or not self.unit.is_module_name(class_name):
                return None
            if class_name != self.own and not defined_before(self.unit.module, class_name, self.unit.node):  # type: ignore[arg-type]
                return None
        left, right = pair
        if left != right and not self._no_reflected(right, dunder):
            return None
        size = self.unit.module.config.max_receiver_inline_size  # type: ignore[union-attr]
        found = self.methods.get(left, dunder, size)
        if found is None or len(found.entry.positional) < 2:
            return None  # not a method the inlining can inline: the operation stays as written
        returns = _returned(found.entry)
        if not returns or not all(_never_not_implemented(value, self.new_instances) for value in returns):
            return None
        return pair

    def _no_reflected(self, class_name: str, dunder: str) -> bool:
        """Whether no class of ``class_name``'s MRO (as the source shows it) binds the reflected
        form of ``dunder``: CPython then calls the left operand's dunder first, whatever the
        right operand's class."""
        module = self.unit.module
        info = plain_class(module, class_name)  # type: ignore[arg-type]
        classes = self.table.mro(info) if info is not None else None
        reflected = "__r" + dunder[2:]
        return classes is not None and not any(self.table.binds(c, reflected) for c in classes)

    def _operand(self, value: ast.expr, pre: list[ast.stmt]) -> ast.expr:
        """``value`` as the site reads it twice (the check, the call): a name as it is (loading
        it again gives the same object, or the same ``NameError``), anything else bound first
        to a local of its own (itself a site if it is a qualifying operation)."""
        if type(value) is ast.Name:
            return value
        temp = self.fresh()
        bind = _at(ast.Assign(targets=[_at(ast.Name(id=temp, ctx=ast.Store()), value)], value=value), value)
        rewritten = self._statement(bind)  # type: ignore[arg-type]
        pre.extend(rewritten if type(rewritten) is list else [rewritten])  # type: ignore[list-item]
        return _at(ast.Name(id=temp, ctx=ast.Load()), value)  # type: ignore[return-value]

    def _test(self, left: ast.expr, right: ast.expr, classes: tuple[str, str], like: ast.AST) -> ast.expr:
        """``not FLAG or type(l) is not L or type(r) is not R``."""
        # the local copy of the flag (bound once before the statement: ~20 instructions a test
        # against ~80 for the global's): the sites of the inlined code test it again
        tests = [_not_valid(LOCAL_FLAG, like)]
        for operand, class_name in zip((left, right), classes, strict=True):
            kind = _at(ast.Call(func=_at(ast.Name(id="type", ctx=ast.Load()), like), args=[clone(operand)], keywords=[]), like)
            tests.append(_at(ast.Compare(left=kind, ops=[ast.IsNot()], comparators=[
                _at(ast.Name(id=class_name, ctx=ast.Load()), like)]), like))  # type: ignore[list-item]
        return _at(ast.BoolOp(op=ast.Or(), values=tests), like)  # type: ignore[return-value]

    def _statement(self, stmt: ast.stmt) -> ast.AST | list[ast.stmt]:
        value = stmt.value  # type: ignore[attr-defined]
        classes = self._classes(value) if type(value) is ast.BinOp else None
        if classes is None:
            return self._nested(stmt)
        pre: list[ast.stmt] = []
        left, right = self._operand(value.left, pre), self._operand(value.right, pre)
        written = clone(stmt)
        written.value = _at(ast.BinOp(left=clone(left), op=value.op, right=clone(right)), value)  # type: ignore[attr-defined]
        dunder = OPERATOR_DUNDERS[type(value.op)]
        method = _at(ast.Attribute(value=_at(ast.Name(id=classes[0], ctx=ast.Load()), value), attr=dunder,
                                   ctx=ast.Load()), value)
        fast = clone(stmt)
        fast.value = _at(ast.Call(func=method, args=[clone(left), clone(right)], keywords=[]), value)  # type: ignore[attr-defined]
        self.called.add((classes[0], dunder))
        if classes[1] != classes[0]:
            self.absent.add((classes[1], "__r" + dunder[2:]))
        self.changed = True
        return [*pre, _at(ast.If(test=self._test(left, right, classes, value), body=[written], orelse=[fast]), stmt)]  # type: ignore[list-item]

    def _nested(self, stmt: ast.stmt) -> ast.AST | list[ast.stmt]:
        """A statement holding qualifying operations inside its value: made linear, each
        operation a statement of its own (``fatopt/passes/_linearize.py``), then rewritten."""
        sites = {id(n) for n in walk(stmt) if type(n) is ast.BinOp and self._classes(n) is not None}
        if not sites or any(type(n) in (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)
                            for n in walk(stmt)):
            return self.generic_visit(stmt)

        def site_statements(name: str, site: ast.expr, pre: list[ast.stmt]) -> None:
            bind = _at(ast.Assign(targets=[_at(ast.Name(id=name, ctx=ast.Store()), site)], value=site), site)
            rewritten = self._statement(bind)  # type: ignore[arg-type]
            pre.extend(rewritten if type(rewritten) is list else [rewritten])  # type: ignore[list-item]

        constructions = {id(n) for n in walk(stmt) if self._construction_of_operation(n, sites)}
        if constructions:
            # the operation's new object goes to a constructor (raytrace's `Ray(p, l - p)`): the
            # construction a statement of its own, whatever it takes to keep the order (a bound
            # method), for fresh_receivers to follow the object into the inlined __init__
            def construction_statements(name: str, site: ast.expr, pre: list[ast.stmt]) -> None:
                self._construction(name, site, sites, pre)  # type: ignore[arg-type]

            linear = Linearizer(lambda n: id(n) in constructions, self.fresh, construction_statements).statement(stmt)
            return linear if linear is not None else self.generic_visit(stmt)
        if not self._hoists_only_names(stmt, sites):
            return self.generic_visit(stmt)
        linear = Linearizer(lambda n: id(n) in sites, self.fresh, site_statements).statement(stmt)
        return linear if linear is not None else self.generic_visit(stmt)

    def _construction_of_operation(self, node: ast.AST, sites: set[int]) -> bool:
        """Whether ``node`` is ``C(..., a OP b, ...)``: a plain class of the module that makes
        its instances with ``object.__new__``, called with positional arguments, one of them a
        qualifying operation (a site)."""
        if type(node) is not ast.Call or type(node.func) is not ast.Name or node.keywords:
            return False
        name = node.func.id
        if name not in self.new_instances or self.is_shadowed(name) or not self.unit.is_module_name(name):
            return False
        if name != self.own and not defined_before(self.unit.module, name, self.unit.node):  # type: ignore[arg-type]
            return False
        if any(type(a) is ast.Starred for a in node.args):
            return False
        # (only where its __init__ keeps the operation's new object: otherwise the bound method
        # made for the order costs and nothing pays for it)
        return any(id(a) in sites and self._kept_by(a, name, position + 1)  # type: ignore[arg-type]
                   for position, a in enumerate(node.args))

    def _kept_by(self, operation: ast.BinOp, class_name: str, position: int) -> bool:
        """Whether a new object the dunder of ``operation`` makes is of a fresh class whose
        instance ``class_name``'s ``__init__`` keeps at ``position`` (fresh_receivers follows
        it there)."""
        classes = self._classes(operation)
        size = self.unit.module.config.max_receiver_inline_size  # type: ignore[union-attr]
        found = self.methods.get(classes[0], OPERATOR_DUNDERS[type(operation.op)], size) if classes else None
        if found is None:
            return False
        made = {n.func.id for value in _returned(found.entry) for n in walk(value)  # type: ignore[union-attr]
                if type(n) is ast.Call and type(n.func) is ast.Name and n.func.id in self.new_instances}
        module = self.unit.module
        return any((fresh := fresh_class(module, kind)) is not None  # type: ignore[arg-type]
                   and construction_keeps(module, fresh, class_name, frozenset({position})) for kind in sorted(made))

    def _construction(self, name: str, call: ast.Call, sites: set[int], pre: list[ast.stmt]) -> None:
        """``name = C(args)`` as statements in ``pre``: the class loaded first, each argument in
        order (an operation rewritten, anything else but a constant into a local), then
        ``if not FLAG or _c is not C: name = _c(...) else: name = C(...)``: the call through the
        global name, which the inlining inlines, only where it is the class loaded first."""
        def at(node: ast.AST) -> ast.AST:
            return _at(node, call)

        class_name = call.func.id  # type: ignore[attr-defined]
        loaded = self.fresh()
        pre.append(at(ast.Assign(targets=[at(ast.Name(id=loaded, ctx=ast.Store()))], value=clone(call.func))))  # type: ignore[arg-type,call-overload]
        args: list[ast.expr] = []
        for argument in call.args:
            if type(argument) is ast.Constant:
                args.append(argument)
                continue
            temp = self.fresh()
            bind = _at(ast.Assign(targets=[_at(ast.Name(id=temp, ctx=ast.Store()), argument)], value=argument), argument)
            rewritten = self._statement(bind) if id(argument) in sites else bind  # type: ignore[arg-type]
            pre.extend(rewritten if type(rewritten) is list else [rewritten])  # type: ignore[list-item]
            args.append(_at(ast.Name(id=temp, ctx=ast.Load()), argument))  # type: ignore[arg-type]

        def assign(func: str) -> ast.stmt:
            value = at(ast.Call(func=at(ast.Name(id=func, ctx=ast.Load())), args=[clone(a) for a in args], keywords=[]))  # type: ignore[misc]
            return at(ast.Assign(targets=[at(ast.Name(id=name, ctx=ast.Store()))], value=value))  # type: ignore[return-value,call-overload]

        other = at(ast.Compare(left=at(ast.Name(id=loaded, ctx=ast.Load())), ops=[ast.IsNot()],
                               comparators=[at(ast.Name(id=class_name, ctx=ast.Load()))]))
        test = at(ast.BoolOp(op=ast.Or(), values=[_not_valid(LOCAL_FLAG, call), other]))
        pre.append(at(ast.If(test=test, body=[assign(loaded)], orelse=[assign(class_name)])))  # type: ignore[arg-type]
        self.changed = True

    @staticmethod
    def _hoists_only_names(stmt: ast.stmt, sites: set[int]) -> bool:
        """Whether making ``stmt`` linear around ``sites`` hoists only names and constants into
        locals of their own: hoisting an attribute (a bound method object made where the call
        would make none), a call or a subscript costs more than a site gains (raytrace's
        ``o.intersectionTime(Ray(p, l - p))``). Asked of a copy, with plain site statements."""
        copy = clone(stmt)
        originals = [n for n in walk(stmt)]
        copies = [n for n in walk(copy)]
        wanted = {id(c) for o, c in zip(originals, copies, strict=True) if id(o) in sites}
        made: set[int] = set()
        names = iter(range(1 << 30))

        def plain_site(name: str, site: ast.expr, pre: list[ast.stmt]) -> None:
            pre.append(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=site))
            made.add(id(pre[-1]))

        linear = Linearizer(lambda n: id(n) in wanted, lambda: f"_t{next(names)}", plain_site).statement(copy)
        return linear is not None and all(
            id(s) in made or s is linear[-1] or (type(s) is ast.Assign and type(s.value) in (ast.Name, ast.Constant))
            for s in linear)

    def visit_Return(self, node: ast.Return) -> ast.AST | list[ast.stmt]:
        return self._statement(node) if node.value is not None else node

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt]:
        return self._statement(node)


def _typed_classes(unit: Unit) -> dict[str, str]:
    """Local name -> its known or entry-speculated class (:mod:`fatopt.analyses.exact_types`)."""
    return {name: typed.class_name for name, typed in unit.fact(ExactTypes).items()
            if resolve(unit.scope, name) == "local"}


class SpecializeOperators(Pass):
    """Binary operations on two instances of one class of the module call the class's dunder
    under a type check at the site, for the inlining to inline."""

    name = "specialize_operators"
    switch = "specialize_operators"
    guarded = True
    #: (the inlining then looks for methods through classes the function did not name)
    makes = frozenset({"receivers_specialized"})
    requires = (OperandTypes, ExactTypes)

    def may_apply(self, unit: Unit) -> bool:
        if unit.started:
            return type(self) not in unit.ran
        if unit.module is None or type(unit.node) not in (ast.FunctionDef, ast.AsyncFunctionDef):
            return False
        if not any(type(n) is ast.BinOp and type(n.op) in OPERATOR_DUNDERS for n in walk(unit.node)):
            return False
        return bool(unit.fact(OperandTypes)) or len(unit.fact(ExactTypes)) > 0

    def run(self, unit: Unit) -> bool:
        by_site = unit.fact(OperandTypes)
        typed = _typed_classes(unit)
        if not by_site and not typed:
            return False
        sites = _Sites(unit, by_site, typed)
        if not sites.run_on(unit):
            return False
        _bind_local_flag(unit.node.body, unit.validity_flag())  # type: ignore[union-attr]
        unit.require(GuardBuiltins, "type")
        own = sites.own
        for class_name, dunder in sorted(sites.called):
            unit.require_of_class(GuardClass, class_name, dunder, own=class_name == own)
        for class_name, reflected in sorted(sites.absent):
            unit.require_of_class(GuardClassAttrsAbsent, class_name, reflected, own=class_name == own)
        return True
