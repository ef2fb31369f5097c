"""What every pass shares: the unit being optimized, the pass interface, and a transformer that
stays inside the code of one function.

A function's code includes the list, set and dict comprehensions it runs (inlined since 3.12) and
the parts of nested definitions evaluated when the definition runs (decorators, defaults, class
bases). It excludes the bodies of nested functions, lambdas, classes and generator expressions:
they run later, possibly after a guard broke, so guarded assumptions must never be written into
them. Annotations, f-strings and ``match`` patterns are left alone: rewriting them would change
``__annotations__`` or produce syntax that cannot be printed back.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Any, ClassVar, Hashable, TypeVar

from fatopt.analyses.manager import Analysis, AnalysisCache
from fatopt.analyses.module_facts import ModuleFacts
from fatopt.analyses.scopes import Scope, analyze_scopes, resolve
from fatopt.config import Config
from fatopt.emit import VALID_FLAG_PREFIX
from fatopt.folding import NOT_FOLDED
from fatopt.guards import Guard
from fatopt.guards.global_names import GuardGlobals
from fatopt.nodes import CHILD_FIELDS as _CHILD_FIELDS, walk

__all__ = [
    "Unit", "Pass", "FunctionCodeTransformer", "OriginalCode", "CurrentScope", "clone",
    "code_scopes", "comprehension_targets",
]

T = TypeVar("T")


def clone(node: ast.AST) -> ast.AST:
    """A deep copy of an AST (about 9x faster than ``copy.deepcopy``); context singletons such as
    ``ast.Load()`` are shared, as the parser shares them."""
    cls = type(node)
    new = cls.__new__(cls)
    fields = node.__dict__.copy()
    # only the fields that can hold nodes need copying (positions, names and numbers are
    # immutable; the copied dict becomes the new node's)
    for key in _CHILD_FIELDS[cls]:
        value = fields.get(key)
        if value is None:
            continue
        if type(value) is list:
            fields[key] = [clone(v) if v is not None else v for v in value]
        else:
            fields[key] = clone(value)
    # lists of operators or names: a list of the copy's own (a pass may edit it in place)
    for key in _OTHER_LISTS.get(cls, ()):
        value = fields.get(key)
        if type(value) is list:
            fields[key] = value[:]
    new.__dict__ = fields
    return new


#: node class -> its list fields that hold no node with fields (Compare.ops, Global.names)
_OTHER_LISTS = {
    ast.Compare: ("ops",), ast.Global: ("names",), ast.Nonlocal: ("names",),
    ast.MatchClass: ("kwd_attrs",),
}


class Unit:
    """A function under optimization: a private copy of its node (passes rewrite it freely, the
    original stays untouched as the fallback), the guards its rewrites rely on, the facts the
    passes recorded, and the cache of its analyses (:mod:`fatopt.analyses.manager`)."""

    def __init__(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scope: Scope,
        facts: ModuleFacts,
        config: Config,
        qualname: str,
        module: Any = None,
    ) -> None:
        self.node = node
        self.scope = scope
        self.facts = facts
        self.config = config
        self.qualname = qualname
        #: the :class:`fatopt.module_unit.ModuleUnit` this function belongs to (None when a
        #: test builds a unit alone)
        self.module = module
        self.analyses = AnalysisCache(self)
        #: what the passes' rewrites made so far, as facts other passes' ``may_apply`` read:
        #: "constants" (new constant operands may exist), "string_constants" (a str/bytes module
        #: constant was substituted), "locals_propagated", "iterables" (a ``range`` became a tuple)
        self.made: set[str] = set()
        #: True while the pipeline runs (before it, ``may_apply`` answers the cheap entry question)
        self.started = False
        #: pass classes that already ran at least once
        self.ran: set[type] = set()
        #: the passes that changed something, in the order they first did
        self.applied: list["Pass"] = []
        #: (class name, method name, recipe) for guards that name the class this method is
        #: defined in: the class does not exist when the method is born, so the class statement's
        #: innermost decorator adds them (``__fatopt_runtime__.class_born``, see fatopt.emit)
        self.class_recipes: list[tuple[str, str, tuple]] = []
        #: the global name of the specialization's validity flag, once inlined code tests it
        #: (:meth:`validity_flag`)
        self.valid_flag: str | None = None
        #: ids of the calls ``C(...)`` whose new object a pass reasons about as it is made
        #: (fatopt.passes.fresh_receivers): the inlining leaves those constructor calls alone
        self.kept_constructions: set[int] = set()
        #: ids of the calls ``C(..., v, ...)`` whose ``__init__`` keeps a fresh object ``v``
        #: (fatopt.passes.fresh_receivers): the inlining inlines them, on 3.13 too
        self.constructions_to_inline: set[int] = set()
        #: guard kind -> request key -> arguments: what the rewrites so far rely on
        self._guard_requests: dict[type[Guard], dict[Hashable, tuple]] = {}

    def validity_flag(self) -> str:
        """The global name of the list that tells the specialized code, while it runs, whether
        its specialization is still valid (``born(..., valid=NAME)`` binds it; the runtime
        empties it on invalidation): code inlined from another function tests it before running,
        so that a frame that started before the callee changed calls the new one as plain
        Python does. Named after the ``def``'s position, unique in its module."""
        if self.valid_flag is None:
            self.valid_flag = f"{VALID_FLAG_PREFIX}{self.node.lineno}_{self.node.col_offset}__"
        return self.valid_flag

    def require(self, kind: type[Guard], *args: Any) -> None:
        """Record that a rewrite holds only while the guard ``kind(*args)`` holds (requests of a
        kind are merged into its recipes by ``kind.merge``)."""
        self._guard_requests.setdefault(kind, {})[kind.request_key(args)] = args

    def require_of_class(self, kind: type[Guard], class_name: str, *args: Any, own: bool) -> None:
        """``kind(class_name, *args)``; for ``own``, the class the function is a method of,
        which does not exist yet when the method is born, the recipe goes to the class
        statement (its innermost decorator adds it, ``class_born``: fatopt.emit) and the method
        is born guarded by the class's name."""
        if not own:
            self.require(kind, class_name, *args)
            return
        wanted = (class_name, self.node.name, (kind.kind, class_name, *args))  # type: ignore[union-attr]
        if wanted not in self.class_recipes:
            self.class_recipes.append(wanted)
        self.require(GuardGlobals, class_name)

    def requested(self, kind: type[Guard]) -> list[tuple]:
        """The arguments of every request of ``kind`` so far."""
        return list(self._guard_requests.get(kind, {}).values())

    @property
    def guarded(self) -> bool:
        return bool(self._guard_requests)

    def guard_recipes(self) -> tuple[tuple, ...]:
        """The recipes of the guards requested, ordered by kind name (as ``born`` receives
        them)."""
        recipes: list[tuple] = []
        for kind in sorted(self._guard_requests, key=lambda kind: kind.kind):
            recipes.extend(kind.merge(list(self._guard_requests[kind].values())))
        return tuple(recipes)

    def fact(self, analysis: type[Analysis[T]]) -> T:
        """The result of a managed analysis of this function (computed once per tree state)."""
        return self.analyses.get(analysis)

    def changed(self, by: "Pass") -> None:
        """Record that ``by`` rewrote the tree: its facts are recorded, stale analyses dropped."""
        self.made |= by.makes
        self.analyses.invalidate()
        if by not in self.applied:
            self.applied.append(by)

    @property
    def loads(self) -> set[str]:
        """Names loaded by the original code of the function (its comprehensions included)."""
        return self.fact(OriginalCode).loads

    @property
    def hints(self) -> set[str]:
        """Hints (:class:`fatopt.analyses.scopes.Scope`) of the original code of the function."""
        return self.fact(OriginalCode).hints

    def is_module_name(self, name: str) -> bool:
        """True if ``name`` used directly in this function's code is a module global/builtin."""
        return resolve(self.scope, name) in ("module", "global")

    def builtin(self, name: str) -> bool:
        """True if ``name`` here can only be the builtin of that name (once guarded)."""
        return self.is_module_name(name) and self.facts.assumable_builtin(name)

    def module_constant(self, name: str) -> Any:
        """The module constant ``name`` refers to here, or ``NOT_FOLDED``."""
        if name in self.facts.constants and self.is_module_name(name):
            return self.facts.constants[name]
        return NOT_FOLDED

    @property
    def body(self) -> list[ast.stmt]:
        node = self.node
        return node.body if not isinstance(node, ast.Lambda) else []


class Pass:
    """A rewrite of one function. Subclasses set ``name`` (used in warnings and reports),
    ``switch`` (the :class:`~fatopt.config.Config` field that enables it) and ``guarded``
    (True if its rewrites hold only while guards hold). A pass object serves one function's
    pipeline run and may keep state for it; the driver makes new ones for each function."""

    name: ClassVar[str]
    switch: ClassVar[str]
    guarded: ClassVar[bool] = False
    #: True if CPython's compiler does the same rewrite itself: such a pass alone is no reason
    #: to emit a function anew (it only helps other passes)
    compiler_does_it: ClassVar[bool] = False
    #: True if the rewrite gains nothing by itself, only through the folding it enables
    #: (a local read becomes a constant read)
    enables_only: ClassVar[bool] = False
    #: True for a pass that only tidies what the others made: it runs once, after the others
    #: reached their fixed point (a change by it is no reason for another round)
    runs_last: ClassVar[bool] = False
    #: facts (``Unit.made``) a change by this pass records
    makes: ClassVar[frozenset[str]] = frozenset()
    #: the managed analyses the pass reads (documentation, and what tests check it declares)
    requires: ClassVar[tuple[type, ...]] = ()

    @classmethod
    def enabled(cls, config: Config) -> bool:
        return bool(getattr(config, cls.switch))

    def may_apply(self, unit: "Unit") -> bool:
        """From the unit's facts alone (no tree walk): False if running the pass now cannot
        change anything. Before the pipeline starts (``unit.started`` false) it answers the
        entry question: does the function show an opportunity for this pass at all."""
        return unit.started

    def run(self, unit: Unit) -> bool:
        """Rewrite ``unit.node`` in place; return True if anything changed."""
        raise NotImplementedError


class OriginalCode(Analysis["OriginalCode"]):
    """Names loaded, hints and constant-argument calls of the function's original code (its
    comprehensions included), from the module's scope analysis. Stable: it describes the
    original, and the passes' later opportunities are recorded in ``Unit.made`` instead."""

    stable = True
    __slots__ = ("loads", "hints", "constant_calls")

    def __init__(self, loads: set[str], hints: set[str], constant_calls: set[str]) -> None:
        self.loads = loads
        self.hints = hints
        self.constant_calls = constant_calls

    @classmethod
    def compute(cls, unit: "Unit") -> "OriginalCode":  # type: ignore[override]
        loads: set[str] = set()
        hints: set[str] = set()
        calls: set[str] = set()
        for inner in code_scopes(unit.scope):
            loads |= inner.loads
            hints |= inner.hints
            calls |= inner.constant_calls
        return cls(loads, hints, calls)


class CurrentScope(Analysis[Scope]):
    """The scope analysis of the function's current code, alone (emission compares it with the
    original's to keep the same locals, free variables and kind)."""

    @classmethod
    def compute(cls, unit: "Unit") -> Scope:
        node = unit.node
        return analyze_scopes(ast.Module(body=[node], type_ignores=[])).scope_of(node)


def code_scopes(scope: Scope) -> list[Scope]:
    """The scope of a function and of the comprehensions its code runs."""
    out = [scope]
    for child in scope.children:
        if child.kind == "comprehension":
            out.extend(code_scopes(child))
    return out


def comprehension_targets(node: ast.AST) -> set[str]:
    """Names bound by the ``for`` targets of a comprehension (local to it)."""
    names: set[str] = set()
    for generator in node.generators:  # type: ignore[attr-defined]
        for sub in walk(generator.target):
            if type(sub) is ast.Name:
                names.add(sub.id)
    return names


def _keep_bool_from_invert(before: ast.expr, result: Any) -> Any:
    """CPython's compiler folds ``~True`` itself, at compile time, which drops the
    DeprecationWarning the plain code (``~FLAG``, ``~bool(x)``) raises at run time: whatever a
    pass makes of an operand of ``~``, it never becomes a bool constant."""
    if (
        type(result) is ast.UnaryOp
        and type(result.op) is ast.Invert
        and type(result.operand) is ast.Constant
        and type(result.operand.value) is bool
    ):
        result.operand = before
    return result


class FreshNames:
    """New local names ``<prefix><n>`` that the function does not use yet (a pass's temporaries:
    each pass its own prefix, so that two passes never make the same name)."""

    def __init__(self, node: ast.AST, prefix: str) -> None:
        self.prefix = prefix
        self.counter = 0
        self.taken = {n.id for n in walk(node) if type(n) is ast.Name} | {
            n.arg for n in walk(node) if type(n) is ast.arg}

    def __call__(self) -> str:
        while True:
            self.counter += 1
            name = f"{self.prefix}{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name


# read for every node visited: one global lookup each, not two
_UnaryOp, _Name, _Constant = ast.UnaryOp, ast.Name, ast.Constant


class FunctionCodeTransformer(ast.NodeTransformer):
    """A ``NodeTransformer`` over the code of one function (see the module docstring).

    ``self.shadowed`` holds the names bound by the comprehensions being visited: a name in it is
    not the function's name. Subclasses set ``self.changed`` when they rewrite something.
    """

    _methods: dict = {}
    #: no ``visit_Name``: a name (a string and a context) then has nothing to visit, and
    #: ``generic_visit`` passes it by without a call (names are a third of all nodes)
    _names_are_leaves = True

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.shadowed: list[set[str]] = []
        self.changed = False
        #: list, set and dict comprehensions around the node being visited
        self.comprehensions = 0

    def run_on(self, unit: Unit) -> bool:
        node = unit.node
        if isinstance(node, ast.Lambda):
            node.body = self.visit(node.body)
        else:
            start = 1 if _has_docstring(node.body) else 0
            node.body[start:] = self.visit_statements(node.body[start:])
        return self.changed

    def visit(self, node: ast.AST) -> Any:
        # NodeVisitor.visit builds "visit_" + class name for every node: cache per class
        kind = type(node)
        method = type(self)._methods.get(kind)
        if method is None:
            method = getattr(type(self), "visit_" + kind.__name__, None) or type(self).generic_visit
            type(self)._methods[kind] = method
        if kind is _UnaryOp and type(node.op) is ast.Invert and type(node.operand) is not ast.Constant:  # type: ignore[attr-defined]
            return _keep_bool_from_invert(node.operand, method(self, node))  # type: ignore[attr-defined]
        return method(self, node)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}
        cls._names_are_leaves = getattr(cls, "visit_Name", None) is None

    def visit_statements(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            result = self.visit(stmt)
            if result is None:
                continue
            if isinstance(result, list):
                out.extend(result)
            else:
                out.append(result)
        return out

    def is_shadowed(self, name: str) -> bool:
        return any(name in names for names in self.shadowed)

    def _visit_list(self, nodes: list) -> list:
        return [self.visit(n) if n is not None else None for n in nodes]

    # -- nested definitions: only what runs now ------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.decorator_list = self._visit_list(node.decorator_list)
        node.args.defaults = self._visit_list(node.args.defaults)
        node.args.kw_defaults = self._visit_list(node.args.kw_defaults)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node.args.defaults = self._visit_list(node.args.defaults)
        node.args.kw_defaults = self._visit_list(node.args.kw_defaults)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        if getattr(node, "type_params", None):
            return node  # bases are evaluated in the type-parameter scope
        node.decorator_list = self._visit_list(node.decorator_list)
        node.bases = self._visit_list(node.bases)
        for keyword in node.keywords:
            keyword.value = self.visit(keyword.value)
        return node

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.AST:
        first = node.generators[0]
        first.iter = self.visit(first.iter)
        return node

    def _visit_comprehension(self, node: ast.AST) -> ast.AST:
        generators = node.generators  # type: ignore[attr-defined]
        generators[0].iter = self.visit(generators[0].iter)
        self.shadowed.append(comprehension_targets(node))
        self.comprehensions += 1
        try:
            for index, generator in enumerate(generators):
                if index:
                    generator.iter = self.visit(generator.iter)
                generator.ifs = self._visit_list(generator.ifs)
            if type(node) is ast.DictComp:
                node.key = self.visit(node.key)
                node.value = self.visit(node.value)
            else:
                node.elt = self.visit(node.elt)  # type: ignore[attr-defined]
        finally:
            self.shadowed.pop()
            self.comprehensions -= 1
        return node

    visit_ListComp = _visit_comprehension  # type: ignore[assignment]
    visit_SetComp = _visit_comprehension  # type: ignore[assignment]
    visit_DictComp = _visit_comprehension  # type: ignore[assignment]

    # -- parts never rewritten ------------------------------------------------------------------
    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        # the statement's own value is never replaced: a str constant as first statement would
        # become a docstring, and its value is discarded anyway; its parts are rewritten
        if type(node.value) in _FOLDABLE_TOPS:
            self.generic_visit(node.value)
        else:
            node.value = self.visit(node.value)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node

    def visit_match_case(self, node: ast.match_case) -> ast.AST:
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = self.visit_statements(node.body)
        return node

    def visit_TypeAlias(self, node: ast.AST) -> ast.AST:
        return node

    # -- statement lists: a visit may return several statements ---------------------------------
    def generic_visit(self, node: ast.AST) -> ast.AST:
        # fields live in the instance dict, and only those that can hold nodes are read;
        # constants and context singletons are never rewritten
        fields = node.__dict__
        leaf = _Name if type(self)._names_are_leaves else _Constant
        for field in _CHILD_FIELDS[type(node)]:
            old = fields.get(field)
            if old is None:
                continue
            if type(old) is list:
                if not old:
                    continue
                if isinstance(old[0], ast.stmt):
                    fields[field] = self.visit_statements(old)
                    continue
                new = []
                for item in old:
                    kind = type(item)
                    if kind is not _Constant and kind is not leaf and item is not None:
                        item = self.visit(item)
                        if item is None:
                            continue
                    new.append(item)
                fields[field] = new
            elif type(old) is not _Constant and type(old) is not leaf:
                fields[field] = self.visit(old)
        return node


_FOLDABLE_TOPS = frozenset(
    {ast.Name, ast.BinOp, ast.BoolOp, ast.IfExp, ast.Subscript, ast.UnaryOp, ast.Compare,
     ast.Call, ast.Tuple, ast.Attribute}
)


class LoopCountingTransformer(FunctionCodeTransformer):
    """A :class:`FunctionCodeTransformer` that counts the loops of the function's own code around
    the node being visited (``self.loops``): the passes that test the validity flag test the
    local copy loaded before a loop (``_fatopt_valid_flag``) inside one."""

    def __init__(self, unit: Unit) -> None:
        super().__init__(unit)
        self.loops = 0

    def visit_For(self, node: ast.AST) -> ast.AST:
        node.iter = self.visit(node.iter)  # type: ignore[attr-defined]
        node.target = self.visit(node.target)  # type: ignore[attr-defined]
        self.loops += 1
        try:
            node.body = self.visit_statements(node.body)  # type: ignore[attr-defined]
            node.orelse = self.visit_statements(node.orelse)  # type: ignore[attr-defined]
        finally:
            self.loops -= 1
        return node

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> ast.AST:
        self.loops += 1
        try:
            return self.generic_visit(node)
        finally:
            self.loops -= 1


def _has_docstring(body: list[ast.stmt]) -> bool:
    return bool(body) and type(body[0]) is ast.Expr and type(body[0].value) is ast.Constant and (
        type(body[0].value.value) is str
    )
