"""Instance methods under the entry check: where :mod:`fatopt.passes.specialize_types` put a
function's body under ``type(v) is C`` at entry, a call ``v.m(...)`` in a loop of that body
becomes ``C.m(v, ...)`` behind the validity flag, so that the inlining pass inlines the method
(issue 17). It finds the calls that inlining brought in too: scimark SOR's ``G[x, y]`` becomes
``G.data[G._idx(x, y)]`` once ``__getitem__`` is inlined, and then ``_idx`` is inlined as well::

    if type(G) is Array2D:                    if type(G) is Array2D and unshadowed(G, ('_idx',)):
        for ...:                                  for ...:
            t = G.data[G._idx(x, y)]     ->            t1 = G.data
                                                       if not FLAG:
                                                           t2 = G._idx(x, y)
                                                       else:
                                                           t2 = Array2D._idx(G, x, y)  # inlined next
                                                       t = t1[t2]

Which calls: the receiver is a name the entry check tests (never rebound in the function); the
call is in a loop of the function's own code (outside comprehensions), with no ``*``/``**``
argument; ``m`` resolves along ``C``'s MRO to a method the inlining can inline
(:mod:`fatopt.analyses.method_callees`), and no code of the module stores an attribute named
``m`` (an instance that has one would fail the entry check at every call). A call that is a
statement's whole value becomes a checked statement; a call inside an expression becomes a
checked expression, and, when the method has several statements, the statement is made linear
(:mod:`fatopt.passes._linearize`) so that the call is a statement's whole value.

Exactness: plain Python looks ``v.m`` up before it evaluates the arguments; under ``type(v) is
C`` that finds ``C.m`` when ``C``'s attribute is what the source shows (``GuardClass``: also no
``__getattribute__``/``__getattr__`` of its own, metaclass ``type``) and ``v`` has no instance
attribute ``m``. Instances of a class with ``__slots__`` only have none. For instances with a
``__dict__`` the entry check asks the runtime, ``unshadowed(v, names)``, which watches the
instance's dict from then on; a later write of one of the names there fails
``GuardInstanceAttrsAbsent`` and empties the validity flag, which each site tests first (the
site then does what plain Python does). Only where that is exact and free per load: CPython
3.13+ (on 3.12 a watched, materialized instance dict makes every attribute load on the object
slower, measured: benchmarks/handedits/sor_idx_inlined.py), and ``runtime_info()
["instance_attrs_checkable"]``. One write is not seen: replacing the whole ``v.__dict__``
while the function runs (docs/semantics.md); the next call checks the new dict.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import functools
import sys

from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.exact_types import _own_class
from fatopt.analyses.method_callees import MethodCallee, ModuleMethodCallees, defined_before, plain_class
from fatopt.emit import RUNTIME_NAME
from fatopt.guards.class_attributes import GuardClass
from fatopt.guards.instance_attributes import GuardInstanceAttrsAbsent
from fatopt.nodes import walk
from fatopt.passes._linearize import Linearizer
from fatopt.passes._rewrite import Pass, Unit, clone
from fatopt.passes.inline_functions import LOCAL_FLAG, _bind_local_flag, _blocks, _is_check, _not_valid

__all__ = ["SpecializeInstanceMethods", "instance_dicts_supported"]

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
UNSHADOWED = "unshadowed"
#: the prefixes of the linearizers' fresh locals (specialize_types's, this pass's)
_TEMPORARIES = ("_fatopt_t_", "_fatopt_m_")


@functools.cache
def instance_dicts_supported() -> bool:
    """Whether methods of instances with a ``__dict__`` may be called through their class here:
    3.13+ (loads stay specialized on a watched instance dict) and a runtime that can watch them
    exactly (3.13.0: by closing the class's shared keys)."""
    if sys.version_info < (3, 13):
        return False
    try:
        from fatopt import _guards
    except ImportError:  # pragma: no cover - no C runtime: nothing is specialized anyway
        return False
    return bool(_guards.runtime_info()["instance_attrs_checkable"])


def _at(node: ast.AST, like: ast.AST) -> ast.AST:
    return ast.copy_location(node, like)


def _type_test(node: ast.expr) -> tuple[str, str] | None:
    """(name, class) of ``type(name) is Class``."""
    if (type(node) is ast.Compare and len(node.ops) == 1 and type(node.ops[0]) is ast.Is
            and type(node.left) is ast.Call and type(node.left.func) is ast.Name and node.left.func.id == "type"
            and len(node.left.args) == 1 and not node.left.keywords and type(node.left.args[0]) is ast.Name
            and type(node.comparators[0]) is ast.Name):
        return node.left.args[0].id, node.comparators[0].id
    return None


def _unshadowed_test(node: ast.expr) -> str | None:
    """The receiver of ``__fatopt_runtime__.unshadowed(name, (...))`` (this pass's)."""
    if (type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr == UNSHADOWED
            and type(node.func.value) is ast.Name and node.func.value.id == RUNTIME_NAME
            and len(node.args) == 2 and type(node.args[0]) is ast.Name):
        return node.args[0].id
    return None


class _EntryCheck:
    """The ``if`` specialize_types made at the top of the body, read: which names it tests."""

    def __init__(self, stmt: ast.If) -> None:
        self.stmt = stmt
        tests = stmt.test.values if type(stmt.test) is ast.BoolOp and type(stmt.test.op) is ast.And else [stmt.test]
        self.tests: list[ast.expr] = list(tests)
        self.typed: dict[str, str] = {}
        #: name -> the method names its unshadowed() call asks for (an earlier round's)
        self.asked: dict[str, list[str]] = {}
        for test in self.tests:
            found = _type_test(test)
            if found is not None:
                self.typed[found[0]] = found[1]
            elif (name := _unshadowed_test(test)) is not None:
                self.asked[name] = [e.value for e in test.args[1].elts]  # type: ignore[attr-defined]

    @staticmethod
    def of(node: ast.FunctionDef) -> _EntryCheck | None:
        """The entry check of the function's body (after its docstring), if it has one."""
        first = node.body[0] if node.body else None
        docstring = type(first) is ast.Expr and type(first.value) is ast.Constant and type(first.value.value) is str
        return _EntryCheck.find(node.body, 1 if docstring else 0)

    @staticmethod
    def find(body: list[ast.stmt], start: int) -> _EntryCheck | None:
        if len(body) != start + 1 or type(body[start]) is not ast.If:
            return None
        check = _EntryCheck(body[start])  # type: ignore[arg-type]
        if not check.typed or len(check.typed) + len(check.asked) != len(check.tests):
            return None  # not (only) type tests: not specialize_types's check
        return check

    def ask(self, name: str, methods: set[str]) -> None:
        """Add ``unshadowed(name, (methods...))`` to the test (or widen this name's)."""
        names = sorted(set(self.asked.get(name, ())) | methods)
        like = self.stmt.test
        elts: list = [_at(ast.Constant(value=m), like) for m in names]
        args: list = [_at(ast.Name(id=name, ctx=ast.Load()), like), _at(ast.Tuple(elts=elts, ctx=ast.Load()), like)]
        func = _at(ast.Attribute(value=_at(ast.Name(id=RUNTIME_NAME, ctx=ast.Load()), like), attr=UNSHADOWED,
                                 ctx=ast.Load()), like)
        call = _at(ast.Call(func=func, args=args, keywords=[]), like)
        self.tests = [t for t in self.tests if _unshadowed_test(t) != name] + [call]  # type: ignore[list-item]
        self.asked[name] = names
        self.stmt.test = _at(ast.BoolOp(op=ast.And(), values=self.tests), like)  # type: ignore[assignment]


class _Sites:
    """Rewrites the qualifying calls of the checked body, statement by statement."""

    def __init__(self, unit: Unit, check: _EntryCheck, own: str | None, dicts: bool) -> None:
        self.unit = unit
        self.check = check
        self.own = own
        self.dicts = dicts
        self.methods = unit.module.fact(ModuleMethodCallees)  # type: ignore[union-attr]
        self.table = unit.module.fact(ModuleClassTable)  # type: ignore[union-attr]
        self.flag = unit.validity_flag()
        self.taken = {n.id for n in walk(unit.node) if type(n) is ast.Name}
        self.counter = 0
        self.stored = {n.attr for n in walk(unit.module.tree)  # type: ignore[union-attr]
                       if type(n) is ast.Attribute and type(n.ctx) is not ast.Load}
        self.rebound = {n.id for n in walk(unit.node) if type(n) is ast.Name and type(n.ctx) is not ast.Load}
        #: (class, method) of each rewritten site; receivers with a dict, and their methods
        self.called: set[tuple[str, str]] = set()
        self.unshadowed: dict[str, set[str]] = {}
        #: class -> whether its instances have a __dict__ (None: not a plain class)
        self.dict_classes: dict[str, bool | None] = {}
        #: the checked expressions made here, by id (the linearizer's sites)
        self.made: set[int] = set()

    def fresh(self) -> str:
        while True:
            self.counter += 1
            name = f"_fatopt_m_{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def _has_dict(self, class_name: str) -> bool | None:
        """Whether instances of the plain class have a ``__dict__`` (None: not a plain class)."""
        if class_name not in self.dict_classes:
            info = plain_class(self.unit.module, class_name)  # type: ignore[arg-type]
            self.dict_classes[class_name] = None if info is None else not self.table.slots_only(info)
        return self.dict_classes[class_name]

    def _method(self, node: ast.AST) -> MethodCallee | None:
        """The method a qualifying call ``v.m(...)`` runs, or None."""
        if type(node) is not ast.Call or type(node.func) is not ast.Attribute or type(node.func.value) is not ast.Name:
            return None
        receiver, method = node.func.value.id, node.func.attr
        class_name = self.check.typed.get(receiver)
        if class_name is None or receiver in self.rebound or method in self.stored:
            return None
        if any(type(a) is ast.Starred for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        if not self.unit.is_module_name(class_name):
            return None
        has_dict = self._has_dict(class_name)
        if has_dict is None or (has_dict and not self.dicts):
            return None
        if class_name != self.own and not defined_before(self.unit.module, class_name, self.unit.node):  # type: ignore[arg-type]
            return None
        return self.methods.get(class_name, method)

    def _through_class(self, call: ast.Call, found: MethodCallee) -> ast.Call:
        """``C.m(v, *args)`` for ``v.m(*args)``, recorded."""
        func = call.func
        receiver = func.value.id  # type: ignore[attr-defined]
        class_name = found.class_name
        self.called.add((class_name, func.attr))  # type: ignore[attr-defined]
        if self._has_dict(class_name):
            self.unshadowed.setdefault(receiver, set()).add(func.attr)  # type: ignore[attr-defined]
        method = _at(ast.Attribute(value=_at(ast.Name(id=class_name, ctx=ast.Load()), func), attr=func.attr,  # type: ignore[attr-defined]
                                   ctx=ast.Load()), func)
        args: list = [clone(func.value), *[clone(a) for a in call.args]]  # type: ignore[attr-defined]
        keywords: list = [clone(k) for k in call.keywords]
        return _at(ast.Call(func=method, args=args, keywords=keywords), call)  # type: ignore[return-value]

    def _flag(self) -> str:
        return LOCAL_FLAG  # sites are in loops: the local copy bound before the outermost one

    # -- statements ----------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], loops: int) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            kind = type(stmt)
            if kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                out.append(stmt)
                continue
            if kind is ast.If and _is_check(stmt.test):  # type: ignore[attr-defined]
                # as written, then its checked copy: only the copy is rewritten
                stmt.orelse = self.block(stmt.orelse, loops)  # type: ignore[attr-defined]
                out.append(stmt)
                continue
            inner = loops + (kind in _LOOPS)
            for block in _blocks(stmt):
                block[:] = self.block(block, inner)
            out.extend(self.statement(stmt) if loops else [stmt])
        return out

    def statement(self, stmt: ast.stmt) -> list[ast.stmt]:
        kind = type(stmt)
        value = getattr(stmt, "value", None)
        whole = kind in (ast.Expr, ast.Return) or (
            kind is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name)  # type: ignore[attr-defined]
        if whole and value is not None and (found := self._method(value)) is not None and not self._has_site(value.args, value.keywords):
            fast = clone(stmt)
            fast.value = self._through_class(value, found)  # type: ignore[attr-defined]
            test = _not_valid(self._flag(), value)
            return [_at(ast.If(test=test, body=[stmt], orelse=[fast]), stmt)]  # type: ignore[list-item]
        several = False
        blocks = _blocks(stmt)
        for field, part in ast.iter_fields(stmt):
            if any(part is b for b in blocks):
                continue
            if isinstance(part, ast.AST):
                new, many = self._expression(part)  # type: ignore[arg-type]
                setattr(stmt, field, new)
                several = several or many
            elif type(part) is list:  # an assignment's targets
                for index, item in enumerate(part):
                    if isinstance(item, ast.expr):
                        part[index], many = self._expression(item)
                        several = several or many
        if not several:
            return [stmt]
        linear = Linearizer(lambda n: id(n) in self.made, self.fresh, self._site_statements, self._temporary).statement(stmt)
        return linear if linear is not None else [stmt]

    def _temporary(self, name: str) -> bool:
        """A local a linearizer made (bound before every read, by the function's own code only)."""
        return name.startswith(_TEMPORARIES) and name not in self.unit.scope.loads

    def _has_site(self, *parts: list) -> bool:
        return any(self._method(n) is not None for part in parts for item in part for n in walk(item))

    def _expression(self, node: ast.expr) -> tuple[ast.expr, bool]:
        """``node`` with its qualifying calls checked; and whether one runs a method of several
        statements (the statement must then be made linear)."""
        several = False

        def visit(n: ast.AST) -> ast.AST:
            nonlocal several
            if isinstance(n, _NESTED):
                return n
            if type(n) is ast.IfExp and _is_check(n.test):
                n.orelse = visit(n.orelse)  # type: ignore[assignment]  # (as written, then the checked copy)
                return n
            for field, value in ast.iter_fields(n):
                if isinstance(value, ast.AST):
                    setattr(n, field, visit(value))
                elif type(value) is list:
                    value[:] = [visit(v) if isinstance(v, ast.AST) else v for v in value]
            found = self._method(n)
            if found is None:
                return n
            several = several or found.entry.expression is None
            checked = _at(ast.IfExp(test=_not_valid(self._flag(), n), body=clone(n),
                                    orelse=self._through_class(n, found)), n)  # type: ignore[arg-type]
            self.made.add(id(checked))
            return checked

        return visit(node), several  # type: ignore[return-value]

    def _site_statements(self, name: str, site: ast.expr, pre: list[ast.stmt]) -> None:
        """``if not FLAG: name = v.m(...) else: name = C.m(v, ...)``."""
        assert type(site) is ast.IfExp

        def assign(value: ast.expr) -> ast.stmt:
            return _at(ast.Assign(targets=[_at(ast.Name(id=name, ctx=ast.Store()), site)], value=value), site)  # type: ignore[return-value]

        pre.append(_at(ast.If(test=site.test, body=[assign(site.body)], orelse=[assign(site.orelse)]), site))  # type: ignore[arg-type]


class SpecializeInstanceMethods(Pass):
    """Method calls on objects the entry check typed call the class's method behind the flag
    (with the runtime's ``unshadowed`` check at entry for instances with a ``__dict__``), for
    the inlining to inline."""

    name = "specialize_instance_methods"
    switch = "specialize_instance_methods"
    guarded = True
    makes = frozenset({"receivers_specialized"})

    def may_apply(self, unit: Unit) -> bool:
        # only on the entry check specialize_types made: nothing to look at before the first round
        return unit.started and "type_specialized" in unit.made

    def run(self, unit: Unit) -> bool:
        node: ast.FunctionDef = unit.node  # type: ignore[assignment]
        check = _EntryCheck.of(node)
        if check is None:
            return False
        own = _own_class(unit)
        sites = _Sites(unit, check, own, instance_dicts_supported())
        check.stmt.body = sites.block(check.stmt.body, 0)
        if not sites.called:
            return False
        for receiver, methods in sorted(sites.unshadowed.items()):
            check.ask(receiver, methods)
        _bind_local_flag(check.stmt.body, unit.validity_flag())
        by_class: dict[str, set[str]] = {}
        for class_name, method in sites.called:
            by_class.setdefault(class_name, set()).add(method)
        with_dict = {check.typed[r] for r in sites.unshadowed}
        for class_name, methods in sorted(by_class.items()):
            unit.require_of_class(GuardClass, class_name, *sorted(methods), own=class_name == own)
            if class_name in with_dict:
                unit.require_of_class(GuardInstanceAttrsAbsent, class_name, *sorted(methods), own=class_name == own)
        return True
