"""``fatopt report --format text``: the report for people at a terminal. A summary line for the
whole report (and the run), then per module a summary line and one line per function: its
outcome, where it is, its guards and passes or the reason it was left alone, and for a run how
often its guards broke."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.report.collect import FUNCTION_STATUSES, MODULE_OPTIMIZED, FunctionEntry, ModuleEntry, ProjectReport

__all__ = ["render_text"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[status]} {status}" for status in FUNCTION_STATUSES)


def render_text(report: ProjectReport) -> str:
    totals = report.totals()
    lines = [
        f"fatopt report: {_plural(totals['modules'], 'module')}, {_plural(totals['functions'], 'function')}: "
        + _counts_text(totals)
    ]
    if report.settings:
        lines.append("settings: " + ", ".join(f"{k}={int(v)}" for k, v in sorted(report.settings.items())))
    run = report.run
    if run is not None:
        rows = run.specializations
        imports = run.imports
        lines.append(
            f"run of {' '.join(run.target)}: exit status {run.exit_status}; "
            f"modules: {imports['cached']} from the cache, {imports['optimized']} optimized now, "
            f"{imports['plain']} left plain; {_plural(len(rows), 'function')} specialized, "
            f"{sum(r['active'] for r in rows)} active at exit; "
            f"{_plural(sum(r['invalidations'] for r in rows), 'invalidation')}, "
            f"{_plural(sum(r['revalidations'] for r in rows), 'revalidation')}"
        )
    for module in report.modules:
        lines.append("")
        lines.extend(_module_lines(module, report.run is not None))
    return "\n".join(lines) + "\n"


def _module_lines(module: ModuleEntry, run: bool) -> list[str]:
    name = f" ({module.name})" if module.name else ""
    if module.status != MODULE_OPTIMIZED:
        return [f"{module.path}{name}: {module.status.replace('_', ' ')}: {module.reason}"]
    if not module.functions:
        return [f"{module.path}{name}: no function"] + [f"  note: {note}" for note in module.notes]
    head = f"{module.path}{name}: {_plural(len(module.functions), 'function')}: {_counts_text(module.counts())}"
    counted = [f.runtime for f in module.functions if f.runtime is not None]
    if run and counted:
        head += (f"; {_plural(sum(r.invalidations for r in counted), 'invalidation')}, "
                 f"{_plural(sum(r.revalidations for r in counted), 'revalidation')}")
    lines = [head]
    lines += [f"  note: {note}" for note in module.notes]
    for function in module.functions:
        lines.extend(_function_lines(function))
    return lines


def _function_lines(function: FunctionEntry) -> list[str]:
    where = f"{function.qualname} (line {function.line})"
    if function.guards or function.passes:
        detail = "; ".join(
            part for part in (
                f"guards {', '.join(function.guards)}" if function.guards else "",
                f"passes {', '.join(function.passes)}" if function.passes else "",
            ) if part
        )
    else:
        detail = function.reason
    lines = [f"  {function.status:<12} {where}" + (f": {detail}" if detail else "")]
    runtime = function.runtime
    if runtime is not None:
        if not runtime.registered:
            lines.append(f"  {'':<12} run: never registered (its def did not run)")
        else:
            lines.append(
                f"  {'':<12} run: {'active' if runtime.active else 'invalidated'} at exit; "
                f"invalidated {runtime.invalidations}x, revalidated {runtime.revalidations}x"
            )
    return lines
