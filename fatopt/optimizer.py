"""The optimizer: analyses, then an explicit ordered pipeline of passes run per function to a
fixed point, then emission and validation.

``optimize_ast(tree, filename)`` returns a new module whose specialized functions are registered
with their guards (see :mod:`fatopt.emit`); ``optimize_source`` does the same on text. Which
functions are looked at: every ``def``/``async def`` at module level or in a class body (nested
functions only with ``Config.specialize_nested``) whose code shows an opportunity (a pure builtin
or module constant used, a loop or comprehension over a literal, a method called on a literal, a
local assigned a constant). A function that uses ``exec``, ``eval``, ``locals()``... is skipped.

Failures never escape: a pass raising costs only that function its optimization (with an
:class:`OptimizerWarning` naming file, line and pass); an emitted module that does not compile
costs the module its optimization. Invalid input raises exactly the ``SyntaxError`` CPython raises.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import functools
import gc
import types
import warnings
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterator, TypeVar

from fatopt.analyses.callgraph import ModuleCallees, callees_first
from fatopt.analyses.functions import Candidate, FunctionCandidates
from fatopt.analyses.method_callees import plain_class
from fatopt.analyses.module_facts import FactsOfModule
from fatopt.analyses.class_constants import TopLevelClassNames
from fatopt.analyses.scopes import Scope, ScopesOfModule
from fatopt.analyses.typed_parameters import SubscriptClasses, wanting_parameters
from fatopt.analyses.unsafe import unsafe_reasons
from fatopt.config import Config
from fatopt.first_call_types import source_digest
from fatopt.emit import (
    RUNTIME_NAME,
    Rewrite,
    Specialization,
    emit_module,
    first_call_statement,
    guard_sources,
    preserve_scope,
    refers_to_own_name,
)
from fatopt.module_unit import ModuleUnit
from fatopt.passes import PIPELINE, Pass
from fatopt.passes._rewrite import CurrentScope, Unit, clone
from fatopt.pragmas import PRAGMA_REASON, opted_out_lines
from fatopt.render import render_source
from fatopt.results import FAILED, OPTIMIZED, SKIPPED, SPECIALIZED, UNCHANGED, Blocker, FunctionReport, Report

if TYPE_CHECKING:
    from fatopt.profile import Profile

__all__ = ["optimize_ast", "optimize_source", "OptimizerWarning", "PIPELINE"]

T = TypeVar("T")

#: reasons given while optimizing (cheap constants; :func:`_explain` turns them into blockers)
NOTHING_REASON = "nothing to optimize"
OWN_NAME_REASON = "its decorators, defaults or annotations use its own name"
NESTED_REASON = "nested function"
ENCLOSING_REWRITTEN_REASON = "its enclosing function is rewritten"


class OptimizerWarning(RuntimeWarning):
    """An optimization was abandoned because of an internal error (the code runs unoptimized)."""


def _warn(filename: str, lineno: int, what: str) -> None:
    warnings.warn(f"fatopt: {filename}:{lineno}: {what}", OptimizerWarning, stacklevel=4)


def _run_pipeline(unit: Unit, passes: list[Pass], filename: str) -> str | None:
    """Run the passes to a fixed point; the name of the pass that raised, or None."""
    config = unit.config
    unit.started = True
    changes = 0  # how many times a pass changed the tree so far
    # pass -> the value of `changes` when it last ran and changed nothing: a pass is a function
    # of the tree (and of the facts recorded with each change), so running it again on the same
    # tree would change nothing again
    idle_since: dict[int, int] = {}
    rounds = [p for p in passes if not p.runs_last]
    for _round in range(config.max_iterations):
        changed = False
        for index, pass_ in enumerate(rounds):
            if idle_since.get(index) == changes or not pass_.may_apply(unit):
                continue
            ran = _run_pass(unit, pass_, filename)
            if ran is None:
                return pass_.name
            if ran:
                changed = True
                changes += 1
            else:
                idle_since[index] = changes
        if not changed:
            break
    for pass_ in passes:
        if pass_.runs_last and pass_.may_apply(unit) and _run_pass(unit, pass_, filename) is None:
            return pass_.name
    return None


def _run_pass(unit: Unit, pass_: Pass, filename: str) -> bool | None:
    """Run one pass on the unit: whether it changed the tree, or None if it raised (warned)."""
    try:
        unit.ran.add(type(pass_))
        if pass_.run(unit):
            unit.changed(pass_)
            return True
        return False
    except Exception as exc:
        _warn(filename, unit.node.lineno, f"pass {pass_.name} failed on {unit.qualname}: "
              f"{type(exc).__name__}: {exc}; the function is left unoptimized")
        return None


def _is_worth_emitting(unit: Unit) -> bool:
    """Guarded rewrites always are; otherwise only rewrites the compiler would not do itself."""
    if unit.guarded:
        return True
    applied = unit.applied
    if any(not p.compiler_does_it and not p.enables_only for p in applied):
        return True
    # propagation pays only if something was folded or removed thanks to it
    return any(p.enables_only for p in applied) and any(p.compiler_does_it for p in applied)


def new_passes(config: Config) -> list[Pass]:
    """Fresh pass objects for one function's pipeline run, in pipeline order (a pass may keep
    state for the function it rewrites, so no pass object serves two runs)."""
    return [cls() for cls in PIPELINE if cls.enabled(config)]


def _enter(
    candidate: Candidate, scope: Scope, module: ModuleUnit, probes: list[Pass],
) -> tuple[FunctionReport, Unit | None]:
    """The entry question for one function: its report row, and the unit to run the pipeline
    on if it shows an opportunity (None: the row is final). ``probes`` are pass objects that
    only answer the entry question (``may_apply`` before the pipeline starts reads the unit,
    never the pass's own state), so fresh ones are made only for the functions that enter."""
    node = candidate.node
    config = module.config
    row = FunctionReport(candidate.qualname, node.lineno, UNCHANGED)
    if node.lineno in module.opted_out:
        row.status, row.reason = SKIPPED, PRAGMA_REASON
        return row, None
    if refers_to_own_name(node):
        row.status, row.reason = SKIPPED, OWN_NAME_REASON
        return row, None
    reasons = unsafe_reasons(scope)
    if reasons:
        row.status, row.reason = SKIPPED, ", ".join(reasons)
        return row, None
    if candidate.nested and not config.specialize_nested:
        row.status, row.reason = SKIPPED, NESTED_REASON
        return row, None
    unit = Unit(node, scope, module.fact(FactsOfModule), config, candidate.qualname, module)
    for probe in probes:
        if probe.may_apply(unit):
            return row, unit
    row.reason = NOTHING_REASON
    return row, None


def _optimize_unit(
    unit: Unit, row: FunctionReport, module: ModuleUnit,
) -> tuple[FunctionReport, Specialization | Rewrite | None]:
    """Run the pipeline on a function that entered it: its report row, filled in, and the
    change to emit, if any."""
    node = unit.node
    scope = unit.scope
    unit.node = clone(node)  # type: ignore[assignment]  # the passes' private copy
    failed = _run_pipeline(unit, new_passes(module.config), module.filename)
    if failed is not None:
        row.status, row.reason = FAILED, f"pass {failed} raised"
        return row, None
    if not _is_worth_emitting(unit):
        row.reason = NOTHING_REASON
        if unit.applied:  # (rare: a function that entered the pipeline)
            names = ", ".join(p.name for p in unit.applied)
            row.blockers = (Blocker("compiler_folds", "", 0,
                                    f"what it could fold ({names}) CPython's compiler folds itself"),)
        return row, None
    module.optimized[node] = unit
    body = preserve_scope(node, unit.node.body, scope, unit.fact(CurrentScope))
    row.passes = tuple(p.name for p in unit.applied)
    if unit.guarded:
        recipes = unit.guard_recipes()
        row.status = SPECIALIZED
        row.guards = guard_sources(recipes)
        return row, Specialization(node, body, recipes, tuple(unit.class_recipes), unit.valid_flag)
    row.status = OPTIMIZED
    return row, Rewrite(node, body)


def _pair_keys(changes: dict) -> dict[tuple[str, int], tuple[str, int]]:
    """(name, first line) of each specialization's fallback code -> that of its specialized code.

    The fallback ``def`` has no decorator, so its code starts at the ``def`` line; the
    specialized one starts at its first decorator (ours at least). No other function of the
    module has the same name at the same line."""
    keys = {}
    for node, change in changes.items():
        if type(change) is Specialization:
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            keys[(node.name, node.lineno)] = (node.name, first)
    return keys


def _code_pairs(code: types.CodeType, keys: dict[tuple[str, int], tuple[str, int]]) -> Iterator[tuple[types.CodeType, types.CodeType]]:
    """(original, specialized) code pairs emitted in ``code`` and the code nested in it."""
    pending: dict[tuple[str, int], types.CodeType] = {}
    for const in code.co_consts:
        if not isinstance(const, types.CodeType):
            continue
        key = (const.co_name, const.co_firstlineno)
        if key in pending:  # the specialized code, after its fallback
            yield pending.pop(key), const
        elif key in keys:  # a fallback: wait for its specialized code
            pending[keys[key]] = const
        yield from _code_pairs(const, keys)


_KIND_FLAGS = 0x04 | 0x08 | 0x20 | 0x80 | 0x100 | 0x200  # varargs, varkw, generator, coroutine...


def _incompatible(original: types.CodeType, specialized: types.CodeType) -> str | None:
    """Why the runtime would refuse the pair, or None."""
    nargs = original.co_argcount + original.co_kwonlyargcount
    nargs += bool(original.co_flags & 0x04) + bool(original.co_flags & 0x08)
    checks = (
        ("argument counts", (original.co_argcount, original.co_posonlyargcount, original.co_kwonlyargcount),
         (specialized.co_argcount, specialized.co_posonlyargcount, specialized.co_kwonlyargcount)),
        ("argument names", original.co_varnames[:nargs], specialized.co_varnames[:nargs]),
        ("kind", original.co_flags & _KIND_FLAGS, specialized.co_flags & _KIND_FLAGS),
        ("free variables", original.co_freevars, specialized.co_freevars),
    )
    for what, a, b in checks:
        if a != b:
            return f"{what} differ: {a!r} vs {b!r}"
    return None


class _Compiled:
    """The last successful compile of a module being optimized: its code (when compiled from
    the tree) and whether the compiler warned; and the text the tree was parsed from, if known."""

    code: types.CodeType | None = None
    warned: bool = False
    #: False: a module the optimizer leaves unchanged is not compiled here (its caller compiles
    #: its text, as plain CPython does, once it dropped the tree)
    compile_unchanged: bool = True


def _compile(tree: ast.Module, filename: str, text: str | None, into: _Compiled | None = None) -> types.CodeType:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # recorded, not shown: the caller decides what to show
        code = compile(text if text is not None else tree, filename, "exec", dont_inherit=True)
    if into is not None and text is None:
        into.code, into.warned = code, bool(caught)
    return code


def _abandon(changes: dict, rows_by_node: dict, compiled: _Compiled | None, filename: str, what: str, reason: str) -> None:
    """Give up on optimizing the module: warn, mark every changed function, drop the code."""
    _warn(filename, 1, f"{what}; module left unoptimized")
    for node in changes:
        rows_by_node[node].status, rows_by_node[node].reason = FAILED, reason
    if compiled is not None:
        compiled.code = None


def _already_optimized(tree: ast.Module) -> bool:
    for stmt in tree.body:
        if type(stmt) is ast.Import and any(a.asname == RUNTIME_NAME for a in stmt.names):
            return True
    return False


def _gc_paused(function):
    """Run ``function`` with the cyclic garbage collector paused.

    It would walk the hundreds of thousands of AST nodes a module's optimization creates again
    and again, for nothing: they never form cycles and die by reference counting. Pausing it for
    one module saves about 15% of the optimizer's time."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


def _optimize(
    tree: ast.Module, filename: str, config: Config, report: Report | None, text_of: str | None,
    opted_out: Collection[int] = (), compiled: _Compiled | None = None, *,
    source: str | None = None, profile: Profile | None = None,
) -> tuple[ast.Module, str | None]:
    """The optimized module, and its source text if ``text_of`` (the source of ``tree``) is given
    (None if nothing changed). ``compiled`` receives the code of the returned module when it was
    compiled from the tree on the way (validation does that). ``source`` (the text of ``tree``,
    when known: ``text_of`` is, too) and ``profile`` are the module unit's."""
    any_pass = any(cls.enabled(config) for cls in PIPELINE)
    if _already_optimized(tree):
        # its fallback bodies must stay as they are: optimizing twice is optimizing once
        if report is not None:
            report.filename = filename
            report.notes.append("already optimized: left as it is")
        _compile(tree, filename, None, compiled)
        return tree, None
    module = ModuleUnit(tree, filename, config, opted_out, source=source if source is not None else text_of, profile=profile)
    try:
        facts = module.fact(FactsOfModule)
        candidates = module.fact(FunctionCandidates)
    except Exception as exc:  # pragma: no cover - an analysis bug must not break a compile
        _warn(filename, 1, f"analysis failed: {type(exc).__name__}: {exc}; module left unoptimized")
        module.release()
        return tree, None
    if report is not None and facts.dynamic:
        uses = facts.dynamic
        if report.explain:  # the same constructs, each with the line of its first use
            from fatopt.analyses.blockers import dynamic_module_lines

            uses = tuple(f"{r} (line {line})" if line else r for r, line in dynamic_module_lines(module))
        report.notes.append(f"no module constant assumed (builtins are, guarded): the module {', '.join(uses)}")
    try:
        changes, rows_by_node = _optimize_functions(module, candidates, any_pass)
        watches = _first_call_watches(module, candidates, changes, rows_by_node) if any_pass else {}
        if report is not None and report.explain:
            _explain(module, candidates, rows_by_node, any_pass, filename)
        # the report lists functions in source order, whatever order they were optimized in
        rows = [rows_by_node[c.node] for c in module.fact(FunctionCandidates) if c.node in rows_by_node]
        result, text = _emit_validated(tree, filename, changes, rows_by_node, text_of, compiled, watches)
    finally:
        # no reference cycle outlives the module's optimization (the cyclic GC is paused while
        # it runs, and would otherwise find hundreds of thousands of objects afterwards)
        module.release()
    if report is not None:
        report.filename = filename
        report.functions.extend(rows)
    return result, text


def _optimize_functions(
    module: ModuleUnit, candidates: list[Candidate], any_pass: bool,
) -> tuple[dict[ast.AST, Specialization | Rewrite], dict[ast.AST, FunctionReport]]:
    """Optimize the module's functions: the changes to emit and a report row per function,
    both keyed by the original function node.

    First the entry question for every top-level function (not nested in another), in source
    order: most functions show no opportunity, and need nothing more. Then the pipeline runs on
    those that entered, callees first (:func:`callees_first`: a caller's passes can use its
    callees' optimized units; the call edges are computed only when two or more entered). Then
    the nested functions, in source order, each after its enclosing function."""
    scope_of = module.fact(ScopesOfModule).by_node  # every def has a scope
    if not any_pass:
        return {}, {c.node: FunctionReport(c.qualname, c.node.lineno, UNCHANGED) for c in candidates}
    changes: dict[ast.AST, Specialization | Rewrite] = {}
    rows_by_node: dict[ast.AST, FunctionReport] = {}
    rewritten: set[ast.AST] = set()  # changed functions and those nested in them

    def record(candidate: Candidate, row: FunctionReport, change: Specialization | Rewrite | None) -> None:
        rows_by_node[candidate.node] = row
        if change is not None:
            changes[candidate.node] = change
            rewritten.add(candidate.node)

    probes = new_passes(module.config)
    entered: dict[ast.AST, Unit] = {}
    for candidate in candidates:
        if not candidate.nested:
            row, unit = _guarded_step(module, candidate, _enter, candidate, scope_of[candidate.node], module, probes)
            rows_by_node[candidate.node] = row
            if unit is not None:
                entered[candidate.node] = unit
    tops = [c for c in candidates if c.node in entered]
    for candidate in callees_first(tops, module.fact(ModuleCallees)) if len(tops) > 1 else tops:
        record(candidate, *_guarded_step(
            module, candidate, _optimize_unit, entered[candidate.node], rows_by_node[candidate.node], module))
    for candidate in candidates:
        if not candidate.nested:
            continue
        if candidate.parent in rewritten:
            # its enclosing function gets a new body (a copy): leave it to that body
            rewritten.add(candidate.node)
            rows_by_node[candidate.node] = FunctionReport(
                candidate.qualname, candidate.node.lineno, SKIPPED, reason=ENCLOSING_REWRITTEN_REASON)
            continue
        record(candidate, *_guarded_step(
            module, candidate, _optimize_nested, candidate, scope_of[candidate.node], module, probes))
    return changes, rows_by_node


def _first_call_watches(
    module: ModuleUnit, candidates: list[Candidate], changes: dict[ast.AST, Specialization | Rewrite],
    rows_by_node: dict[ast.AST, FunctionReport],
) -> dict[ast.AST, list[ast.stmt]]:
    """The statements that have :mod:`fatopt.first_call_types` watch functions whose
    parameters want a type (:mod:`fatopt.analyses.typed_parameters`), keyed by the statement
    they follow: top-level functions (their ``def``) and methods of plain top-level classes
    (their ``class`` statement: the class exists then), not left out, not already checking a
    parameter's type (a profile or an annotation gave one). Each watched row notes its
    parameters."""
    config = module.config
    if not (config.first_call_types and config.specialize_types) or module.source is None:
        return {}
    classes = module.fact(SubscriptClasses)
    if not classes:
        return {}
    scope_of = module.fact(ScopesOfModule).by_node
    class_names = module.fact(TopLevelClassNames)
    digest = source_digest(module.source)
    watches: dict[ast.AST, list[ast.stmt]] = {}
    for candidate in candidates:
        row = rows_by_node.get(candidate.node)
        if candidate.nested or row is None or row.status in (SKIPPED, FAILED):
            continue
        owner = plain_class(module, candidate.owner) if candidate.owner is not None else None
        if candidate.owner is not None and owner is None:
            continue
        change = changes.get(candidate.node)
        if type(change) is Specialization and any(recipe[0] == "instance_class" for recipe in change.guards):
            continue
        params = wanting_parameters(candidate.node, scope_of[candidate.node], owner is not None, class_names)
        if params:
            owner_node = owner.node if owner is not None else None
            statement = first_call_statement(candidate.node, owner_node, params, classes, digest)
            watches.setdefault(owner_node or candidate.node, []).append(statement)
            row.watched = params
    return watches


def _explain(
    module: ModuleUnit, candidates: list[Candidate], rows_by_node: dict[ast.AST, FunctionReport],
    any_pass: bool, filename: str,
) -> None:
    """Give every function that is not specialized its blockers and the reason they make
    (:mod:`fatopt.analyses.blockers`). Only for reports: it walks those functions again. A
    failure costs the explanation, never the optimization."""
    from fatopt.analyses.blockers import reason_text  # (only for reports: an import never loads it)

    scope_of = module.fact(ScopesOfModule).by_node
    for candidate in candidates:
        row = rows_by_node.get(candidate.node)
        if row is None or row.status == SPECIALIZED:
            continue
        try:
            blockers = _blockers_of(module, candidate, row, scope_of[candidate.node], any_pass)
        except Exception as exc:  # pragma: no cover - an analysis bug must not break a compile
            _warn(filename, candidate.node.lineno, f"explaining {candidate.qualname} failed: "
                  f"{type(exc).__name__}: {exc}")
            continue
        if blockers:
            row.blockers = blockers
            if row.status != FAILED:
                row.reason = reason_text(blockers)


def _blockers_of(
    module: ModuleUnit, candidate: Candidate, row: FunctionReport, scope: Scope, any_pass: bool,
) -> tuple[Blocker, ...]:
    """What kept the function of ``row`` from being specialized."""
    from fatopt.analyses.blockers import function_blockers, unsafe_blockers

    line = candidate.node.lineno
    if row.status == FAILED:
        return (Blocker("failed", "", line, row.reason),)
    if row.status == SKIPPED:
        if row.reason == PRAGMA_REASON:
            return (Blocker("opted_out", "", line, row.reason),)
        if row.reason == OWN_NAME_REASON:
            return (Blocker("own_name", candidate.node.name, line, row.reason),)
        if row.reason == ENCLOSING_REWRITTEN_REASON:
            return (Blocker("enclosing_rewritten", "", line, row.reason),)
        if row.reason == NESTED_REASON:
            return (Blocker("nested", "specialize_nested", line, "nested function (specialize_nested is off)"),)
        return unsafe_blockers(scope)
    if not any_pass:
        return (Blocker("switched_off", "", 0, "every pass is switched off"),)
    if row.status == OPTIMIZED:
        return function_blockers(module, candidate, row.passes)
    found = function_blockers(module, candidate)
    if row.blockers:  # it entered the pipeline: what was found there comes first
        return row.blockers + tuple(b for b in found if b.kind != "nothing")
    return found


def _optimize_nested(
    candidate: Candidate, scope: Scope, module: ModuleUnit, probes: list[Pass],
) -> tuple[FunctionReport, Specialization | Rewrite | None]:
    row, unit = _enter(candidate, scope, module, probes)
    return _optimize_unit(unit, row, module) if unit is not None else (row, None)


def _guarded_step(
    module: ModuleUnit, candidate: Candidate, step: Callable[..., tuple[FunctionReport, T]], *args: Any,
) -> tuple[FunctionReport, T | None]:
    """``step(*args)``, or, if it raises, a FAILED report row and nothing (never an escaped
    error: it costs only this function its optimization)."""
    try:
        return step(*args)
    except Exception as exc:
        _warn(module.filename, candidate.node.lineno, f"optimizing {candidate.qualname} failed: "
              f"{type(exc).__name__}: {exc}; the function is left unoptimized")
        row = FunctionReport(candidate.qualname, candidate.node.lineno, FAILED, reason=f"{type(exc).__name__}: {exc}")
        return row, None


def _emit_validated(
    tree: ast.Module, filename: str, changes: dict[ast.AST, Specialization | Rewrite],
    rows_by_node: dict[ast.AST, FunctionReport], text_of: str | None, compiled: _Compiled | None,
    watches: dict[ast.AST, list[ast.stmt]],
) -> tuple[ast.Module, str | None]:
    """Emit the module with ``changes`` and ``watches`` and compile it; drop each
    specialization the runtime would refuse and emit again; on any other failure, the module
    unchanged. Returns the module and, if ``text_of`` is given, its text (None when nothing
    changed)."""
    result, text = tree, None
    while changes or watches:
        result = emit_module(tree, changes, watches)
        try:
            code = _compile(result, filename, None, compiled)
        except Exception as exc:
            if isinstance(exc, SyntaxError):
                _compile(tree, filename, None)  # invalid input: raise CPython's own error
            _abandon(changes, rows_by_node, compiled, filename,
                     f"emitted module does not compile ({type(exc).__name__}: {exc})", "module did not compile")
            result, text = tree, None
            break
        refused = {}
        for original, specialized in _code_pairs(code, _pair_keys(changes)):
            why = _incompatible(original, specialized)
            if why is not None:
                refused[(specialized.co_name, specialized.co_firstlineno)] = why
        if not refused:
            break
        spec_keys = _pair_keys(changes)
        dropped = False
        for node in list(changes):
            why = refused.get(spec_keys.get((node.name, node.lineno), (None, None)))
            if why is not None:
                _warn(filename, node.lineno, f"specialization of {rows_by_node[node].qualname} dropped: {why}")
                rows_by_node[node].status, rows_by_node[node].reason = FAILED, why
                rows_by_node[node].guards = ()
                del changes[node]
                dropped = True
        if not dropped:  # cannot happen; never loop forever if it does
            _abandon(changes, rows_by_node, compiled, filename,
                     "incompatible code pairs not matched to functions", "unmatched incompatible pair")
            result, text = tree, None
            break
    else:  # nothing changed: compile as plain CPython does (rejecting what it rejects)
        if compiled is None or compiled.compile_unchanged:
            _compile(tree, filename, None, compiled)
    if text_of is not None and result is not tree:
        text = _text_of(result, text_of, tree, changes, filename, watches)
    return result, text


def _text_of(
    result: ast.Module, source: str, tree: ast.Module, changes: dict[ast.AST, Specialization | Rewrite], filename: str,
    watches: dict[ast.AST, list[ast.stmt]],
) -> str:
    """The text of ``result``: ``source`` with the changed functions spliced in (see
    :mod:`fatopt.render`), or, should that ever fail to compile, the whole module unparsed."""
    try:
        text = render_source(source, tree, changes, watches)
        _compile(result, filename, text)
        return text
    except Exception as exc:
        _warn(filename, 1, f"the optimized text could not keep the file's layout ({type(exc).__name__}: {exc}); printed whole")
        return ast.unparse(result)


@_gc_paused
def optimize_ast(
    tree: ast.Module, filename: str, config: Config | None = None, *, report: Report | None = None,
    source: str | None = None, profile: Profile | None = None,
) -> ast.Module:
    """Optimize a module's AST. Returns a new module (``tree`` is not modified) in which each
    specialized function is born holding its specialized code, registered with its guards.
    Raises the ``SyntaxError`` ``compile(tree, filename, "exec")`` raises for invalid input.
    Fill ``report`` (a :class:`fatopt.results.Report`) to learn what was done and why. Give the
    ``source`` text the tree was parsed from to honour ``# fatopt: off`` comments (and to let a
    type profile's entries be matched to their ``def``), and a ``profile``
    (:func:`fatopt.profile.load`) for the argument types a run recorded."""
    if not isinstance(tree, ast.Module):
        raise TypeError(f"optimize_ast needs an ast.Module, got {type(tree).__name__}")
    return optimize_to_code(tree, filename, config, report=report, source=source, profile=profile)[0]


@_gc_paused
def optimize_to_code(
    tree: ast.Module, filename: str, config: Config | None = None, *, report: Report | None = None,
    source: str | None = None, compile_unchanged: bool = True, profile: Profile | None = None,
) -> tuple[ast.Module, types.CodeType | None, bool]:
    """:func:`optimize_ast`, plus the module's code object (the optimizer compiles the result to
    validate it; the import hook need not compile it again) and whether compiling it warned.
    With ``compile_unchanged`` false, a module the optimizer leaves unchanged comes back as
    ``(tree, None, False)``: a caller that has the text ``tree`` was parsed from compiles that,
    as plain CPython does, after dropping the tree (converting a tree back for the compiler costs
    more than parsing the text again, and the tree and a second parse alive together would
    double the peak memory of a large module)."""
    if not isinstance(tree, ast.Module):
        raise TypeError(f"optimize_ast needs an ast.Module, got {type(tree).__name__}")
    opted_out = opted_out_lines(source) if source else ()
    compiled = _Compiled()
    compiled.compile_unchanged = compile_unchanged
    result, _text = _optimize(tree, filename, config or Config.default(), report, None, opted_out, compiled,
                              source=source, profile=profile)
    if compiled.code is None and (compile_unchanged or result is not tree):
        _compile(result, filename, None, compiled)  # e.g. an analysis failed before any compile
    return result, compiled.code, compiled.warned


@_gc_paused
def optimize_source(
    source: str | bytes, filename: str = "<string>", config: Config | None = None, *,
    report: Report | None = None, profile: Profile | None = None,
) -> str:
    """Optimize module source text; returns the optimized source (the input itself, decoded, if
    nothing changed). Same input, same output. Invalid input raises exactly the ``SyntaxError``
    ``compile(source, filename, "exec")`` raises.

    The output is for reading and for compiling when line numbers do not matter: an optimized
    function's fallback and specialized bodies both claim the original lines, which only the AST
    (:func:`optimize_ast`) can express, so compile the tree to keep tracebacks exact.
    """
    tree = compile(source, filename, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    text = source
    if isinstance(text, bytes):
        from importlib.util import decode_source

        text = decode_source(text)
    try:
        _result, optimized = _optimize(tree, filename, config or Config.default(), report, text, opted_out_lines(text),
                                       profile=profile)
    except SyntaxError:
        compile(source, filename, "exec", dont_inherit=True)  # raise CPython's exact error
        raise
    return optimized if optimized is not None else text
