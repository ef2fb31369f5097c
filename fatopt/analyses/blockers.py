"""Why a function was not specialized, in terms of the user's code: which global it reads is
imported or rebound (and where), which module-wide construct voids every constant, which unsafe
construct it uses, or that it holds nothing to fold at all.

The optimizer decides from cheap facts (binding counts, hints); a person needs names and lines.
This analysis finds them, only for the functions a report lists (``Report.explain``: ``fatopt
show``, verbose mode, reports), never on the plain import path, so it may walk the module and
the functions again. It reads the same facts the passes read (:mod:`fatopt.analyses.module_facts`
decides what is a module constant, :mod:`fatopt.analyses.imports` what an import binds), so a
reason never contradicts what the optimizer did.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import builtins
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fatopt.analyses.imports import ImportedNames
from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule
from fatopt.analyses.scopes import INLINED_TARGETS_REASON, Scope, ScopesOfModule, resolve
from fatopt.folding import NOT_FOLDED, evaluate
from fatopt.results import Blocker

if TYPE_CHECKING:
    from fatopt.analyses.functions import Candidate
    from fatopt.module_unit import ModuleUnit

__all__ = [
    "BindingSite", "BindingSites", "binding_sites", "function_blockers", "unsafe_blockers",
    "dynamic_module_lines", "reason_text", "MAX_NAMED",
]

#: How many blockers the one-line reason names (the rest are counted; ``blockers`` has them all).
MAX_NAMED = 3

_BUILTIN_NAMES = frozenset(dir(builtins))
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_OTHER_SCOPES = (ast.Lambda, ast.GeneratorExp)
_INLINED = (ast.ListComp, ast.SetComp, ast.DictComp)

#: the words a binding statement is named by in a reason
_STATEMENT_KINDS = {
    ast.Assign: "assignment", ast.AnnAssign: "assignment", ast.AugAssign: "augmented assignment",
    ast.For: "for target", ast.AsyncFor: "for target", ast.With: "with target",
    ast.AsyncWith: "with target", ast.Delete: "del",
}
#: binding kinds that make a name a plain variable (not a function, class or import)
_VALUE_KINDS = frozenset(
    {"assignment", "augmented assignment", "annotation", "for target", "with target", "del", ":=",
     "except target", "match capture", "type alias"}
)


@dataclass(frozen=True)
class BindingSite:
    """One statement that binds a name in the module's namespace."""

    line: int
    #: assignment, augmented assignment, annotation, import, def, class, del, for target, ...
    kind: str
    #: the function binding it through ``global`` (its qualified name), "" at module level
    where: str = ""
    #: for a top-level ``NAME = value``: the value's node
    value: ast.expr | None = None


def _is_constant_looking(name: str) -> bool:
    """``DEBUG``, ``MAX_ROWS``: named as a constant by convention."""
    return name.isupper() and any(c.isalpha() for c in name)


class _SiteFinder:
    """Records the binding sites of one scope's own code (nested function and class bodies,
    lambdas and generator expressions are other scopes: only the names they bind here count)."""

    def __init__(self, sites: dict[str, list[BindingSite]], where: str, only: set[str] | None) -> None:
        self.sites = sites
        self.where = where
        self.only = only  # the names declared global, in a function; None at module level

    def add(self, name: str, line: int, kind: str, value: ast.expr | None = None) -> None:
        if self.only is None or name in self.only:
            self.sites.setdefault(name, []).append(BindingSite(line, kind, self.where, value))

    def statements(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: ast.stmt) -> None:
        kind = type(stmt)
        if kind in _DEFS:
            self.add(stmt.name, stmt.lineno, "class" if kind is ast.ClassDef else "def")  # type: ignore[attr-defined]
            return
        if kind is ast.Import or kind is ast.ImportFrom:
            for alias in stmt.names:  # type: ignore[attr-defined]
                if alias.name != "*":
                    self.add(alias.asname or alias.name.partition(".")[0], stmt.lineno, "import")
            return
        if kind is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:  # type: ignore[attr-defined]
            self.add(stmt.targets[0].id, stmt.lineno, "assignment", stmt.value)  # type: ignore[attr-defined]
            self.expression(stmt.value, "assignment")  # type: ignore[attr-defined]
            return
        if kind is ast.AnnAssign and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
            self.add(stmt.target.id, stmt.lineno, "assignment" if stmt.value else "annotation", stmt.value)  # type: ignore[attr-defined]
            if stmt.value is not None:  # type: ignore[attr-defined]
                self.expression(stmt.value, "assignment")  # type: ignore[attr-defined]
            return
        if hasattr(ast, "TypeAlias") and kind is ast.TypeAlias:
            self.add(stmt.name.id, stmt.lineno, "type alias")  # type: ignore[attr-defined]
            return
        words = _STATEMENT_KINDS.get(kind, "assignment")
        for field in stmt._fields:
            value = getattr(stmt, field, None)
            items = value if type(value) is list else [value]
            for item in items:
                if isinstance(item, ast.stmt):
                    self.statement(item)
                elif type(item) is ast.ExceptHandler:
                    if item.name:
                        self.add(item.name, item.lineno, "except target")
                    self.expression(item.type, words)
                    self.statements(item.body)
                elif type(item) is ast.match_case:
                    self.pattern(item.pattern)
                    self.expression(item.guard, words)
                    self.statements(item.body)
                elif isinstance(item, ast.AST):
                    self.expression(item, words)

    def pattern(self, pattern: ast.AST) -> None:
        for node in ast.walk(pattern):
            name = getattr(node, "name", None) if type(node) in (ast.MatchAs, ast.MatchStar) else None
            name = name or (node.rest if type(node) is ast.MatchMapping else None)  # type: ignore[attr-defined]
            if name:
                self.add(name, getattr(node, "lineno", 0), "match capture")

    def expression(self, node: ast.AST | None, words: str) -> None:
        """Names bound by ``node`` (a target, or ``:=`` anywhere in an expression)."""
        if node is None:
            return
        stack = [node]
        while stack:
            current = stack.pop()
            kind = type(current)
            if kind is ast.Name:
                if type(current.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    self.add(current.id, current.lineno, "del" if type(current.ctx) is ast.Del else words)  # type: ignore[attr-defined]
                continue
            if kind is ast.NamedExpr:
                self.add(current.target.id, current.lineno, ":=")  # type: ignore[attr-defined]
                stack.append(current.value)  # type: ignore[attr-defined]
                continue
            if kind in _OTHER_SCOPES:
                continue
            if kind in _INLINED:
                # comprehension targets are the comprehension's; only `:=` binds out here
                for inner in ast.walk(current):
                    if type(inner) is ast.NamedExpr:
                        self.add(inner.target.id, inner.lineno, ":=")  # type: ignore[attr-defined]
                continue
            for field in current._fields:
                value = getattr(current, field, None)
                if type(value) is list:
                    stack.extend(v for v in value if isinstance(v, ast.AST))
                elif isinstance(value, ast.AST):
                    stack.append(value)


def _qualname(scope: Scope) -> str:
    parts = []
    while scope is not None and scope.kind != "module":
        name = getattr(scope.node, "name", None)
        if name is not None and scope.kind in ("function", "class"):
            parts.append(name)
        scope = scope.parent  # type: ignore[assignment]
    return ".".join(reversed(parts))


def binding_sites(module: "ModuleUnit") -> dict[str, list[BindingSite]]:
    """name -> the statements binding it in the module's namespace, in line order: the module's
    own statements, and assignments in functions that declare the name ``global``."""
    sites: dict[str, list[BindingSite]] = {}
    scopes = module.fact(ScopesOfModule)
    _SiteFinder(sites, "", None).statements(module.tree.body)
    for scope in scopes.all_scopes():
        written = scope.declared_global & set(scope.bindings)
        if scope.kind == "module" or not written or not isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        _SiteFinder(sites, _qualname(scope), written).statements(scope.node.body)
    for found in sites.values():
        found.sort(key=lambda site: site.line)
    return sites


class BindingSites(Analysis["dict[str, list[BindingSite]]"]):
    """:func:`binding_sites` of a :class:`fatopt.module_unit.ModuleUnit` (stable: it describes
    the module's source outside function bodies, and ``global`` statements, which emission keeps)."""

    stable = True

    @classmethod
    def compute(cls, module: "ModuleUnit") -> dict[str, list[BindingSite]]:
        return binding_sites(module)


# -- what a function's code reads -----------------------------------------------------------------


@dataclass
class _Reads:
    """Names, attributes of names, and loops over constants in a function's own code."""

    #: name -> line of its first read
    names: dict[str, int]
    #: name -> attribute -> line of its first read (``config.DEBUG``)
    attributes: dict[str, dict[str, int]]
    #: (line, number of items, "loop" or "comprehension") for each iteration over a literal
    literal_loops: list[tuple[int, int, str]]
    #: name -> line, for names called with only constant arguments (``len("abc")``)
    constant_calls: dict[str, int]
    #: (line, text) of each operation on constants, which CPython's compiler folds itself
    constant_operations: list[tuple[int, str]]


def _literal_length(node: ast.AST) -> int | None:
    if type(node) in (ast.Tuple, ast.List, ast.Set):
        return len(node.elts)  # type: ignore[attr-defined]
    if type(node) is ast.Constant and isinstance(node.value, (str, bytes, tuple)):
        return len(node.value)
    return None


def _is_constant_argument(node: ast.AST) -> bool:
    if type(node) is ast.Constant:
        return True
    if type(node) is ast.UnaryOp:
        return type(node.operand) is ast.Constant  # type: ignore[attr-defined]
    if type(node) in (ast.Tuple, ast.List):
        return all(_is_constant_argument(e) for e in node.elts)  # type: ignore[attr-defined]
    return False


def _reads(function: ast.FunctionDef | ast.AsyncFunctionDef) -> _Reads:
    names: dict[str, int] = {}
    attributes: dict[str, dict[str, int]] = {}
    loops: list[tuple[int, int, str]] = []
    calls: dict[str, int] = {}
    operations: list[tuple[int, str]] = []
    stack: list[ast.AST] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind in _DEFS:
            # run when the definition runs: decorators, defaults, bases are this code's
            stack.extend(getattr(node, "decorator_list", []))
            if kind is ast.ClassDef:
                stack.extend(node.bases)  # type: ignore[attr-defined]
            else:
                stack.extend(d for d in node.args.defaults + node.args.kw_defaults if d is not None)  # type: ignore[attr-defined]
            continue
        if kind in _OTHER_SCOPES:
            if kind is ast.GeneratorExp:
                stack.append(node.generators[0].iter)  # type: ignore[attr-defined]
            continue
        if kind is ast.Name:
            if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                names.setdefault(node.id, node.lineno)  # type: ignore[attr-defined]
            continue
        if kind is ast.Attribute and type(node.value) is ast.Name and type(node.value.ctx) is ast.Load:  # type: ignore[attr-defined]
            attributes.setdefault(node.value.id, {}).setdefault(node.attr, node.lineno)  # type: ignore[attr-defined]
        elif kind in (ast.For, ast.AsyncFor):
            length = _literal_length(node.iter)  # type: ignore[attr-defined]
            if length is not None:
                loops.append((node.lineno, length, "loop"))  # type: ignore[attr-defined]
        elif kind in _INLINED:
            length = _literal_length(node.generators[0].iter)  # type: ignore[attr-defined]
            if length is not None:
                loops.append((node.lineno, length, "comprehension"))  # type: ignore[attr-defined]
        elif kind is ast.Call and type(node.func) is ast.Name and not node.keywords:  # type: ignore[attr-defined]
            if all(_is_constant_argument(a) for a in node.args):  # type: ignore[attr-defined]
                calls.setdefault(node.func.id, node.lineno)  # type: ignore[attr-defined]
        elif kind is ast.BinOp and type(node.left) is ast.Constant and type(node.right) is ast.Constant:  # type: ignore[attr-defined]
            operations.append((node.lineno, ast.unparse(node)[:40]))  # type: ignore[attr-defined]
            continue
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(reversed([v for v in value if isinstance(v, ast.AST)]))
            elif isinstance(value, ast.AST):
                stack.append(value)
    return _Reads(names, attributes, loops, calls, operations)


# -- blockers -------------------------------------------------------------------------------------


def _lines(sites: list[BindingSite]) -> str:
    lines = sorted({s.line for s in sites})
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = ", ".join(str(n) for n in lines[:MAX_NAMED])
    return f"lines {shown}" + (", ..." if len(lines) > MAX_NAMED else "")


def _site_words(site: BindingSite) -> str:
    """``augmented assignment in bump()``, ``for target``..."""
    words = site.kind
    if site.where:
        words = f"{words} in `{site.where}()` through `global`"
    return words


def dynamic_module_lines(module: "ModuleUnit") -> list[tuple[str, int]]:
    """(construct, line) of each construct that makes the module's namespace unknowable (what
    ``ModuleFacts.dynamic`` names), first use of each, in line order."""
    first: dict[str, int] = {}
    for scope in module.fact(ScopesOfModule).all_scopes():
        for reason, line in scope.unsafe:
            if (reason == "uses locals" and scope.kind != "module") or reason == INLINED_TARGETS_REASON:
                continue
            if reason not in first or 0 < line < first[reason]:
                first[reason] = line
    return sorted(first.items(), key=lambda item: (item[1], item[0]))


#: unsafe names that are builtins called: written ``globals()`` in a reason
_CALLED = frozenset({"exec", "eval", "globals", "locals", "vars", "breakpoint", "__import__"})


def _construct(reason: str) -> str:
    """``uses exec`` -> ``exec``, ``uses .f_globals`` -> ``.f_globals``."""
    return reason.partition(" ")[2] or reason


def _construct_text(reason: str, line: int) -> str:
    """``uses globals``, 3 -> ```globals()` (line 3)``."""
    name = _construct(reason)
    text = f"`{name}()`" if name in _CALLED else f"`{name}`"
    return f"{text} (line {line})" if line else text


def _constant_assignment_at_top(sites: list[BindingSite], module: "ModuleUnit") -> BindingSite | None:
    """The site that would make the name a module constant: a top-level ``NAME = <constant>``."""
    for site in sites:
        if not site.where and site.kind == "assignment" and site.value is not None:
            if evaluate(site.value, module.config) is not NOT_FOLDED:
                return site
    return None


def _global_blocker(name: str, sites: list[BindingSite], module: "ModuleUnit") -> Blocker | None:
    """Why the global ``name`` the function reads is not a module constant, or None when it is
    no candidate for one (a function, a class, a variable not named as a constant)."""
    if not {site.kind for site in sites} & _VALUE_KINDS:
        return None  # functions and classes (and a name imported twice): nothing to replace
    constant_site = _constant_assignment_at_top(sites, module)
    if constant_site is None and not _is_constant_looking(name):
        return None
    if len(sites) > 1 or name in module.fact(ScopesOfModule).module.deleted:
        first = constant_site or sites[0]
        others = [s for s in sites if s is not first] or sites
        if all(s.kind == "del" for s in others):
            return Blocker("rebound", name, others[0].line, f"`{name}` is deleted at {_lines(others)}")
        if all(s.kind == "annotation" for s in others):
            return Blocker("rebound", name, others[0].line,
                           f"`{name}` is annotated apart from its assignment at {_lines(others)}, which counts "
                           f"as a second binding (write `{name}: T = value`)")
        words = sorted({_site_words(s) for s in others})
        return Blocker("rebound", name, others[0].line,
                       f"`{name}` is rebound at {_lines(others)} ({', '.join(words)})")
    site = sites[0]
    if constant_site is not None:
        return None  # a constant, unless the module is dynamic (said apart)
    if site.where:
        return Blocker("not_constant", name, site.line,
                       f"`{name}` is bound only in `{site.where}()` through `global` (line {site.line})")
    if site.kind == "assignment":
        return Blocker("not_constant", name, site.line,
                       f"`{name}` is assigned a value known only at run time (line {site.line})")
    return Blocker("not_constant", name, site.line, f"`{name}` is bound by a {site.kind} (line {site.line})")


def _import_blockers(name: str, reads: _Reads, module: "ModuleUnit", line: int) -> list[Blocker]:
    """Blockers for a global ``name`` bound by one import: ``from .config import DEBUG`` read as
    ``DEBUG``, or ``import config`` read as ``config.DEBUG`` (a name written as a constant that
    the imported module's source does not show as one, or a constant the ``imported_constants``
    pass would replace in a function defined at ``line`` but is switched off). A constant that
    pass replaces is none."""
    imports = module.fact(ImportedNames)
    imported = imports.names.get(name)
    if imported is None or imported.module.partition(".")[0] in sys.stdlib_module_names:
        return []  # (`from logging import DEBUG`: nothing the user could change)
    switched_on = module.config.imported_constants
    if imported.attr is not None:  # from M import X [as name]
        shown = f"`{name}`" if name == imported.attr else f"`{name}` (`{imported.attr}`)"
        if imports.speculated(name, None, line) is not NOT_FOLDED:
            return [] if switched_on else [Blocker(
                "switched_off", "imported_constants", imported.line,
                f"{shown} is a constant of `{imported.module}`, but imported_constants is off")]
        if imported.constant is NOT_FOLDED and not _is_constant_looking(imported.attr):
            return []
        return [Blocker("imported", name, imported.line,
                        f"{shown} is imported from `{imported.module}` (line {imported.line})")]
    found = []
    constants = imported.sibling.constants if imported.sibling is not None else {}
    for attr, _line in sorted(reads.attributes.get(name, {}).items(), key=lambda item: item[1]):
        if imports.speculated(name, attr, line) is not NOT_FOLDED:
            if not switched_on:
                found.append(Blocker(
                    "switched_off", "imported_constants", imported.line,
                    f"`{name}.{attr}` is a constant of `{imported.module}`, but imported_constants is off"))
        elif attr in constants or _is_constant_looking(attr):
            found.append(Blocker(
                "imported", f"{name}.{attr}", imported.line,
                f"`{name}.{attr}` is read from the module `{imported.module}` (imported at line {imported.line})"))
    return found


def unsafe_blockers(scope: Scope) -> tuple[Blocker, ...]:
    """One blocker per unsafe construct in ``scope`` or a scope nested in it (the function's
    ``SKIPPED`` reason names the same)."""
    found = {}
    for inner in scope.walk():
        for reason, line in inner.unsafe:
            key = (reason, line)
            if key not in found:
                detail = f"{reason} (line {line})" if line else reason
                name = "3.12 comprehension scoping" if reason == INLINED_TARGETS_REASON else _construct(reason)
                found[key] = Blocker("unsafe", name, line, detail)
    return tuple(found[key] for key in sorted(found, key=lambda key: (key[1], key[0])))


def function_blockers(module: "ModuleUnit", candidate: "Candidate", applied: tuple[str, ...] = ()) -> tuple[Blocker, ...]:
    """What kept ``candidate`` (a function the optimizer looked at and did not specialize) from
    being specialized, most telling first; ``applied``: the passes that rewrote it without
    guards, if any. Never empty: with nothing else to say, one ``nothing`` blocker says what the
    function reads instead."""
    facts = module.fact(FactsOfModule)
    config = module.config
    scope = module.fact(ScopesOfModule).by_node[candidate.node]
    sites = module.fact(BindingSites)
    reads = _reads(candidate.node)
    # a comprehension's targets are its own (the walk of the code does not tell scopes apart)
    comprehension_bound = {n for inner in scope.walk() if inner.kind == "comprehension" for n in inner.bindings}
    global_names = sorted(
        (name for name in reads.names
         if name not in comprehension_bound and resolve(scope, name) in ("module", "global")),
        key=lambda name: (reads.names[name], name),
    )
    found: list[Blocker] = []
    would_be_constants = []
    others = []  # globals read that no constant could replace (functions, classes, values)
    for name in global_names:
        name_sites = sites.get(name)
        if not name_sites:
            continue  # a builtin, or a name nothing binds
        if name in facts.constants:
            if not config.module_constants:
                found.append(Blocker("switched_off", "module_constants", reads.names[name],
                                     f"`{name}` is a module constant, but module_constants is off"))
            continue
        if len(name_sites) == 1 and name_sites[0].kind == "import":
            imported = _import_blockers(name, reads, module, candidate.node.lineno)
            found.extend(imported)
            if not imported:
                others.append(name)
            continue
        if facts.dynamic and len(name_sites) == 1 and _constant_assignment_at_top(name_sites, module):
            would_be_constants.append(name)
            continue
        blocker = _global_blocker(name, name_sites, module)
        if blocker is not None:
            found.append(blocker)
        else:
            others.append(name)
    if would_be_constants:
        constructs = dynamic_module_lines(module)
        uses = ", ".join(_construct_text(r, line) for r, line in constructs)
        names = ", ".join(f"`{n}`" for n in would_be_constants[:MAX_NAMED])
        first = constructs[0] if constructs else ("", 0)
        found.insert(0, Blocker("dynamic_module", _construct(first[0]), first[1],
                                f"the module uses {uses}, so no global is assumed constant ({names})"))
    for name, line in sorted(reads.constant_calls.items(), key=lambda item: item[1]):
        if name in _BUILTIN_NAMES and resolve(scope, name) in ("module", "global") and not facts.assumable_builtin(name):
            name_sites = sites.get(name, [])
            where = f" at {_lines(name_sites)}" if name_sites else ""
            found.append(Blocker("shadowed_builtin", name, name_sites[0].line if name_sites else line,
                                 f"`{name}` is not the builtin here: the module binds it{where}"))
    for line, length, what in reads.literal_loops:
        limit = config.unroll_loops if what == "loop" else config.unroll_comprehensions
        switch = "unroll_loops" if what == "loop" else "unroll_comprehensions"
        if length > limit:
            found.append(Blocker("over_limit", switch, line,
                                 f"the {what} at line {line} runs over {length} items ({switch}={limit})"))
    if applied:
        return tuple(found)
    if not found and reads.constant_operations:
        line, text = reads.constant_operations[0]
        found.append(Blocker("compiler_folds", "", line, f"its constant expressions (`{text}`, line {line}) are "
                             "ones CPython's compiler folds itself: nothing more to do"))
    if not found:
        found.append(_nothing(others, reads, scope))
    return tuple(found)


def _nothing(others: list[str], reads: _Reads, scope: Scope) -> Blocker:
    """Nothing blocked anything: say so, and what the function reads instead."""
    builtin_reads = sorted(
        n for n in reads.names if n in _BUILTIN_NAMES and n not in others and resolve(scope, n) in ("module", "global")
    )
    what = "its arguments and locals"
    if any(resolve(scope, name) == "local" for name in reads.attributes):
        what += " (and their attributes)"
    uses = [what]
    if others:
        uses.append(("the global " if len(others) == 1 else "the globals ") + _names(others))
    if builtin_reads:
        uses.append(("the builtin " if len(builtin_reads) == 1 else "the builtins ") + _names(builtin_reads))
    listed = uses[0] if len(uses) == 1 else ", ".join(uses[:-1]) + " and " + uses[-1]
    return Blocker("nothing", "", 0, f"nothing to fold: it reads only {listed}")


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names[:MAX_NAMED]) + (", ..." if len(names) > MAX_NAMED else "")


def reason_text(blockers: tuple[Blocker, ...]) -> str:
    """The one-line reason: the first :data:`MAX_NAMED` blockers' sentences, and how many more."""
    shown = "; ".join(b.detail for b in blockers[:MAX_NAMED])
    more = len(blockers) - MAX_NAMED
    return shown + (f"; and {more} more" if more > 0 else "")
