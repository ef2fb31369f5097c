"""The module's call graph: for every call site in the code of the optimizer's candidate
functions, what the callee is when the guards hold.

A call site resolves to

- ``function``: a module-level ``def`` whose name the module binds exactly once (that ``def``),
  called by its global name;
- ``class``: a module-level class bound once, called by its global name (an instantiation);
- ``method``: a method of a class of the module's class table, reached through ``self``/``cls``
  in a method of that class (the first parameter, never rebound) or through the class's global
  name (``Vector.cross(a, b)``), found along the class's bases that the module defines;
- ``builtin``: a builtin the module never binds (:meth:`ModuleFacts.assumable_builtin`);
- ``unknown``: anything else (a local, an attribute of an object of unknown type, ...).

"When the guards hold" is the point: the resolution is speculation that a guard (function
unchanged, class attribute unchanged, builtins) makes exact at run time. The driver uses the
graph to optimize callees before their callers (:func:`callees_first`).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple, Union

from fatopt.analyses.classes import ClassInfo, ClassTable, ModuleClassTable
from fatopt.analyses.functions import Candidate, FunctionCandidates
from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule, ModuleFacts
from fatopt.analyses.scopes import ModuleScopes, Scope, ScopesOfModule, resolve

if TYPE_CHECKING:
    from fatopt.module_unit import ModuleUnit

__all__ = ["CallSite", "CallGraph", "ModuleCallGraph", "DefCallees", "ModuleCallees", "callees_first"]

FUNCTION, CLASS, METHOD, BUILTIN, UNKNOWN = "function", "class", "method", "builtin", "unknown"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class CallSite(NamedTuple):
    """One call in a candidate function's code (a named tuple: the graph makes one per call of
    the module, and a frozen dataclass costs several times more to build)."""

    #: the ``ast.Call`` node
    node: ast.Call
    #: FUNCTION, CLASS, METHOD, BUILTIN or UNKNOWN
    kind: str
    #: the callee: its def or class node (FUNCTION, CLASS, METHOD), its name (BUILTIN), or None
    target: Union[ast.AST, str, None]
    #: for METHOD, the class of the class table the method was found on
    owner: ClassInfo | None = None


@dataclass
class CallGraph:
    """Call sites per candidate function node, in source order."""

    sites: dict[ast.AST, list[CallSite]] = field(default_factory=dict)

    def callees(self, function: ast.AST) -> list[ast.AST]:
        """Distinct def nodes ``function`` calls (FUNCTION and METHOD sites), first call first."""
        seen: dict[int, ast.AST] = {}
        for site in self.sites.get(function, ()):
            if site.kind in (FUNCTION, METHOD) and id(site.target) not in seen:
                seen[id(site.target)] = site.target  # type: ignore[assignment]
        return list(seen.values())


def _module_functions(tree: ast.Module, facts: ModuleFacts) -> dict[str, ast.AST]:
    """Global name -> its top-level def or class, for names the module binds only there (the
    module's binding count includes every def, class and other binding of the name)."""
    return {
        stmt.name: stmt for stmt in tree.body
        if isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)) and facts.binding_count(stmt.name) == 1
    }


class _Resolver:
    """Resolves the calls of one candidate function."""

    def __init__(
        self, scopes: ModuleScopes, facts: ModuleFacts, globals_: dict[str, ast.AST],
        classes: ClassTable, candidate: Candidate,
    ) -> None:
        self.scopes = scopes
        self.facts = facts
        self.globals = globals_
        self.classes = classes
        self.candidate = candidate
        self.receiver = _receiver(candidate, classes, scopes)

    def _calls(self) -> Iterator[tuple[ast.Call, Scope]]:
        """The calls of the function's code (its comprehensions included; nested functions'
        bodies are their own code), recorded by the scope analysis, with their scope."""
        stack = [self.scopes.scope_of(self.candidate.node)]
        while stack:
            scope = stack.pop()
            for call in scope.calls:
                yield call, scope
            stack.extend(c for c in scope.children if c.kind == "comprehension")

    def sites(self) -> list[CallSite]:
        """Every call site of the function's code, resolved, in source order."""
        out = [self.resolve(call, scope) for call, scope in self._calls()]
        out.sort(key=lambda s: (s.node.lineno, s.node.col_offset))
        return out

    def def_callees(self, method_names: frozenset[str]) -> set[ast.AST]:
        """The def nodes the function calls (FUNCTION and METHOD sites): what :meth:`sites`
        finds there, without resolving every other call (the driver's order needs no more).
        ``method_names``: the names of every method of the class table (a call of any other
        attribute cannot be a METHOD site)."""
        found: set[ast.AST] = set()
        globals_ = self.globals
        receiver = self.receiver[0] if self.receiver is not None else None
        stack = [self.scopes.scope_of(self.candidate.node)]
        while stack:
            scope = stack.pop()
            for call in scope.calls:
                func = call.func
                kind = type(func)
                if kind is ast.Name:
                    target = globals_.get(func.id)
                    if target is None or type(target) is ast.ClassDef:
                        continue
                elif kind is ast.Attribute:
                    if func.attr not in method_names or type(func.value) is not ast.Name:
                        continue
                    holder = func.value.id
                    if holder != receiver and type(globals_.get(holder)) is not ast.ClassDef:
                        continue
                else:
                    continue
                site = self.resolve(call, scope)
                if site.kind is FUNCTION or site.kind is METHOD:
                    found.add(site.target)  # type: ignore[arg-type]
            stack.extend(c for c in scope.children if c.kind == "comprehension")
        return found

    def resolve(self, call: ast.Call, where: Scope) -> CallSite:
        func = call.func
        if type(func) is ast.Name:
            if resolve(where, func.id) not in ("module", "global"):
                return CallSite(call, UNKNOWN, None)
            target = self.globals.get(func.id)
            if target is not None:
                return CallSite(call, CLASS if type(target) is ast.ClassDef else FUNCTION, target)
            if self.facts.assumable_builtin(func.id):
                return CallSite(call, BUILTIN, func.id)
            return CallSite(call, UNKNOWN, None)
        if type(func) is ast.Attribute and type(func.value) is ast.Name:
            holder = func.value.id
            info = None
            if self.receiver is not None and holder == self.receiver[0] and resolve(where, holder) == "local":
                info = self.receiver[1]
            elif resolve(where, holder) in ("module", "global"):
                target = self.globals.get(holder)
                if type(target) is ast.ClassDef:
                    info = self.classes.by_node.get(target)
            if info is not None:
                found = self.classes.lookup(info, func.attr)
                if found is not None and isinstance(found[1].node, _FUNCTIONS):
                    return CallSite(call, METHOD, found[1].node, found[0])
        return CallSite(call, UNKNOWN, None)


def _receiver(candidate: Candidate, classes: ClassTable, scopes: ModuleScopes) -> tuple[str, ClassInfo] | None:
    """(name of ``self``/``cls``, its class) for a method of a class of the table whose first
    parameter is never rebound in it; None otherwise."""
    if candidate.owner is None:
        return None
    info = classes.by_qualname.get(candidate.owner)
    method = info.methods.get(candidate.node.name) if info is not None else None
    if method is None or method.node is not candidate.node or method.kind not in ("function", "classmethod"):
        return None
    args = candidate.node.args
    first = (args.posonlyargs + args.args)[:1]
    if not first:
        return None
    name = first[0].arg
    if scopes.scope_of(candidate.node).bindings.get(name) != 1:  # the parameter only
        return None
    return name, info  # type: ignore[return-value]


class ModuleCallGraph(Analysis[CallGraph]):
    """The :class:`CallGraph` of a :class:`fatopt.module_unit.ModuleUnit` (stable: built from
    the original functions, which define what each call resolves to)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> CallGraph:
        scopes = module.fact(ScopesOfModule)
        facts = module.fact(FactsOfModule)
        classes = module.fact(ModuleClassTable)
        globals_ = _module_functions(module.tree, facts)
        graph = CallGraph()
        for candidate in module.fact(FunctionCandidates):
            graph.sites[candidate.node] = _Resolver(scopes, facts, globals_, classes, candidate).sites()
        return graph


class DefCallees:
    """Each top-level candidate function (not nested in another) -> the def nodes it calls:
    the FUNCTION and METHOD targets of its :class:`CallGraph` sites, found without building the
    graph, and only for the functions asked about (the driver asks about the few that enter the
    pipeline)."""

    def __init__(self, module: ModuleUnit) -> None:
        self._module = module
        self._tops = {c.node: c for c in module.fact(FunctionCandidates) if not c.nested}
        self._found: dict[ast.AST, set[ast.AST]] = {}
        self._context: tuple | None = None

    def get(self, node: ast.AST, default: Iterable[ast.AST] = ()) -> Iterable[ast.AST]:
        """The def nodes the top-level function ``node`` calls (``default`` for any other)."""
        if node not in self._tops:
            return default
        found = self._found.get(node)
        if found is None:
            found = self._found[node] = self._resolve(self._tops[node])
        return found

    def items(self) -> Iterator[tuple[ast.AST, set[ast.AST]]]:
        """Every top-level function with its callees (computes them all)."""
        for node in self._tops:
            yield node, self.get(node)  # type: ignore[misc]

    def _resolve(self, candidate: Candidate) -> set[ast.AST]:
        module = self._module
        if self._context is None:
            facts = module.fact(FactsOfModule)
            globals_ = _module_functions(module.tree, facts)
            if not globals_ and not any(type(s) is ast.ClassDef for s in module.tree.body):
                self._context = ()  # no module function or class: no call can resolve to a def
            else:
                classes = module.fact(ModuleClassTable)
                method_names = frozenset(name for info in classes.by_node.values() for name in info.methods)
                self._context = (module.fact(ScopesOfModule), facts, globals_, classes, method_names)
        if not self._context:
            return set()
        scopes, facts, globals_, classes, method_names = self._context
        return _Resolver(scopes, facts, globals_, classes, candidate).def_callees(method_names)


class ModuleCallees(Analysis[DefCallees]):
    """The :class:`DefCallees` of a :class:`fatopt.module_unit.ModuleUnit` (stable, as the
    graph is): the edges the driver orders functions by."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> DefCallees:
        return DefCallees(module)


def callees_first(candidates: list[Candidate], callees: DefCallees | dict[ast.AST, set[ast.AST]]) -> list[Candidate]:
    """``candidates`` ordered so that each function comes after the functions it calls
    (``callees``: :class:`ModuleCallees`; Tarjan's strongly connected components; within a
    cycle, and between unrelated functions, source order). Nested functions stay right after
    their enclosing function."""
    tops = [c for c in candidates if not c.nested]
    index_of = {id(c.node): i for i, c in enumerate(tops)}
    edges = [
        sorted({index_of[id(t)] for t in callees.get(c.node, ()) if id(t) in index_of})
        for c in tops
    ]
    order: list[int] = []
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    counter = 0
    for root in range(len(tops)):
        if root in index:
            continue
        # iterative Tarjan: (node, next edge position)
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            pushed = False
            for i in range(position, len(edges[node])):
                succ = edges[node][i]
                if succ not in index:
                    work.append((node, i + 1))
                    work.append((succ, 0))
                    pushed = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if pushed:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                order.extend(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    nested: dict[int, list[Candidate]] = {}
    top_of: dict[int, int] = {}
    for c in candidates:
        if not c.nested:
            top_of[id(c.node)] = index_of[id(c.node)]
        else:
            top = top_of[id(c.parent)]
            top_of[id(c.node)] = top
            nested.setdefault(top, []).append(c)
    result: list[Candidate] = []
    for i in order:
        result.append(tops[i])
        result.extend(nested.get(i, ()))
    return result
