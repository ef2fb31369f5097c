"""The facts of a report: for each Python file, the outcome of every function the optimizer
considers (specialized with guards, optimized without, unchanged, skipped, failed, each with its
reason), the lines it spans, and the optimized text; for a run, the runtime's counts attached.

A file is treated as the import hook treats it: a module that opts out (``__fatopt__ =
{"enabled": False}``) is reported as such and not optimized; a file that cannot be read or
parsed is reported with the reason, and the others still are.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator

from fatopt.config import Config
from fatopt.results import FAILED, OPTIMIZED, SKIPPED, SPECIALIZED, UNCHANGED, Report

if TYPE_CHECKING:
    from fatopt.report.run import RunRecord

__all__ = [
    "RuntimeCounts", "FunctionEntry", "ModuleEntry", "ProjectReport", "python_files", "module_entry", "attach_runtime",
    "FUNCTION_STATUSES", "MODULE_OPTIMIZED", "MODULE_OPTED_OUT", "MODULE_FAILED", "MODULE_UNREADABLE",
    "MODULE_EXCLUDED", "excluded_entry",
]

#: A function's outcome, best first (fatopt.results' words).
FUNCTION_STATUSES = (SPECIALIZED, OPTIMIZED, UNCHANGED, SKIPPED, FAILED)

#: The optimizer ran over the module (whatever it did to each function).
MODULE_OPTIMIZED = "optimized"
#: The module asks not to be optimized (``__fatopt__``), or asks wrongly (then runs plain too).
MODULE_OPTED_OUT = "opted_out"
#: The optimizer failed on the whole module: the import hook would load it plain.
MODULE_FAILED = "failed"
#: The file cannot be read as Python source (binary, undecodable, a syntax error).
MODULE_UNREADABLE = "unreadable"
#: The settings exclude the module (``exclude=``), or it is fatopt's own: it runs plain.
MODULE_EXCLUDED = "excluded"


@dataclass
class RuntimeCounts:
    """How one specialization fared in a run (fatopt._guards.specializations())."""

    #: the run registered it (False: the function was specialized but its ``def`` never ran,
    #: or it ran from another file than the one reported)
    registered: bool
    #: its specialized code was in place at exit
    active: bool = False
    #: times its guards broke and the original code went back in
    invalidations: int = 0
    #: times they held again and the specialized code came back
    revalidations: int = 0


@dataclass
class FunctionEntry:
    qualname: str
    #: the ``def`` line
    line: int
    #: the span the function's text covers in the file, decorators included
    first_line: int
    end_line: int
    status: str
    guards: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()
    reason: str = ""
    runtime: RuntimeCounts | None = None
    #: the facts behind ``reason`` (fatopt.results.Blocker), most telling first
    blockers: tuple = ()


@dataclass
class ModuleEntry:
    path: str
    #: the module's import name in a run (``__main__`` for the script), None for a path report
    name: str | None
    status: str
    reason: str = ""
    #: the file's text as written ("" when unreadable) and as it would run
    source: str = ""
    optimized: str = ""
    functions: list[FunctionEntry] = field(default_factory=list)
    #: module-wide remarks of the optimizer (why no global may be assumed, ...)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Functions per status, every status present (0 when none)."""
        counts = dict.fromkeys(FUNCTION_STATUSES, 0)
        for function in self.functions:
            counts[function.status] = counts.get(function.status, 0) + 1
        return counts


def python_files(paths: Iterable[str]) -> Iterator[str]:
    """The ``.py`` files named or found under the directories named, each directory's in sorted
    order; hidden directories (``.git``, ``.venv``) and ``__pycache__`` are not entered.
    Raises FileNotFoundError for a path that does not exist."""
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                yield from (os.path.join(root, name) for name in sorted(files) if name.endswith(".py"))
        elif os.path.exists(path):
            yield path
        else:
            raise FileNotFoundError(path)


def module_entry(path: str, config: Config, name: str | None = None, profile=None) -> ModuleEntry:
    """What fatopt does to the file ``path`` with ``config`` (and the type ``profile``, if any)."""
    from fatopt.source_text import SourceError, read_source
    from fatopt.compiler import module_opt_out

    try:
        source = read_source(path)
        tree = ast.parse(source, path)
    except SourceError as exc:
        return ModuleEntry(path, name, MODULE_UNREADABLE, str(exc))
    except SyntaxError as exc:
        return ModuleEntry(path, name, MODULE_UNREADABLE, f"syntax error: {exc.msg} (line {exc.lineno})")
    opt_out = module_opt_out(tree, path)
    if opt_out is not None:
        return ModuleEntry(path, name, MODULE_OPTED_OUT, opt_out, source, source)
    from fatopt.optimizer import optimize_source

    report = Report(filename=path)
    try:
        optimized = optimize_source(source, path, config, report=report, profile=profile)
    except Exception as exc:  # the import hook would load it plain, with a warning
        return ModuleEntry(path, name, MODULE_FAILED, f"optimizer failed: {exc!r}", source, source)
    spans = _function_spans(tree, config)
    functions = []
    for row in report.functions:
        first, end = spans.get((row.qualname, row.lineno), (row.lineno, row.lineno))
        functions.append(FunctionEntry(
            row.qualname, row.lineno, first, end, row.status, tuple(row.guards), tuple(row.passes), row.reason,
            blockers=tuple(row.blockers)))
    return ModuleEntry(path, name, MODULE_OPTIMIZED, "", source, optimized, functions, list(report.notes))


def excluded_entry(path: str, name: str) -> ModuleEntry:
    """A module the settings' ``exclude=`` (or fatopt's rule for itself) keeps plain."""
    from fatopt.importer import ALWAYS_EXCLUDED

    own = any(name == n or name.startswith(n + ".") for n in ALWAYS_EXCLUDED)
    reason = "fatopt's own modules are never optimized" if own else "excluded by the exclude= setting"
    return ModuleEntry(path, name, MODULE_EXCLUDED, reason)


def _function_spans(tree: ast.Module, config: Config) -> dict[tuple[str, int], tuple[int, int]]:
    """(qualname, def line) -> (first line, decorators included; last line) of every function the
    optimizer may report (its own walk of the module, so the qualnames are the report's)."""
    from fatopt.analyses.functions import candidates

    spans = {}
    for candidate in candidates(tree.body, config):
        node = candidate.node
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        spans[(candidate.qualname, node.lineno)] = (first, node.end_lineno or node.lineno)
    return spans


def attach_runtime(modules: list[ModuleEntry], specializations: list[dict]) -> None:
    """Give each specialized function of ``modules`` its counts from a run's record (rows of
    :func:`fatopt.run_stats.collect`), matched by file, qualname and line; a specialized function
    the run never registered gets ``registered=False``."""
    rows: dict[tuple[str, str], list[dict]] = {}
    for row in specializations:
        rows.setdefault((os.path.realpath(row["file"]), row["qualname"]), []).append(row)
    for module in modules:
        path = os.path.realpath(module.path)
        for function in module.functions:
            if function.status != SPECIALIZED:
                continue
            candidates = rows.get((path, function.qualname), [])
            # the code's first line is the first decorator's, or the def's
            match = [r for r in candidates if function.first_line <= r["line"] <= function.line] or candidates[:1]
            if match:
                row = match[0]
                function.runtime = RuntimeCounts(True, row["active"], row["invalidations"], row["revalidations"])
            else:
                function.runtime = RuntimeCounts(False)


@dataclass
class ProjectReport:
    """Everything one ``fatopt report`` says."""

    modules: list[ModuleEntry]
    #: the optimizer settings that differ from the defaults (``-c KEY=VALUE``)
    settings: dict[str, bool | int] = field(default_factory=dict)
    #: for ``fatopt report -- PROGRAM``: what the run left
    run: RunRecord | None = None

    def totals(self) -> dict[str, int]:
        """Modules, functions, and functions per status, over the whole report."""
        totals = {"modules": len(self.modules), "functions": 0, **dict.fromkeys(FUNCTION_STATUSES, 0)}
        for module in self.modules:
            for status, count in module.counts().items():
                totals[status] = totals.get(status, 0) + count
                totals["functions"] += count
        return totals
