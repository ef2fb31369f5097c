"""``fatopt report --format html``: the report as one self-contained web page (its style and
script inline, nothing fetched from the network), to read in a browser.

A summary table (per module: its outcome, its functions per status and, for a run,
invalidations), then each module's source with every function coloured by its outcome
(specialized, optimized, unchanged, skipped, failed); hovering a function shows its guards and
passes, or the reason it was left alone, and for a run how often its guards broke. Beside the
source, the text that runs (``fatopt show``'s, which keeps the file's own text outside the
functions that changed). Every piece of text from the files is escaped: a source holding
``</script>`` or ``<b>`` is shown, never interpreted.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from html import escape

from fatopt import __version__
from fatopt.report.collect import FUNCTION_STATUSES, MODULE_OPTIMIZED, FunctionEntry, ModuleEntry, ProjectReport

__all__ = ["render_html", "STATUS_COLOURS"]

#: The background of a function of each status (the headless-browser test looks for them).
STATUS_COLOURS = {
    "specialized": "#9be39a",
    "optimized": "#a9d3ff",
    "unchanged": "#e4e4e4",
    "skipped": "#ffe08a",
    "failed": "#ff9f9f",
}

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1d; background: #fff; }
h1 { font-size: 1.5em; margin: 0 0 .3em; }
h2 { font-size: 1.15em; margin: 1.6em 0 .3em; font-family: ui-monospace, monospace; }
.legend span, .count { padding: 0 .45em; border-radius: 3px; margin-right: .3em; }
table.summary { border-collapse: collapse; margin: .8em 0; }
table.summary th, table.summary td { border: 1px solid #ccc; padding: .2em .6em; text-align: right; }
table.summary td.path { text-align: left; font-family: ui-monospace, monospace; }
.panes { display: flex; gap: 1em; align-items: flex-start; }
.pane { flex: 1 1 50%; min-width: 0; }
.pane h3 { font-size: .95em; margin: .4em 0; color: #555; }
pre.code { margin: 0; padding: .4em 0; border: 1px solid #ccc; overflow-x: auto; font: 12.5px/1.35 ui-monospace, monospace; }
pre.code .line { display: block; white-space: pre; padding-right: .6em; }
pre.code .ln { display: inline-block; width: 3.5em; padding-right: .6em; text-align: right; color: #888; user-select: none; }
pre.code .fn { display: block; }
pre.code .fn:hover { outline: 2px solid #333; }
body.no-optimized .pane.optimized { display: none; }
.note { color: #555; margin: .2em 0; }
.functions { margin: .4em 0 .8em; padding-left: 1.2em; }
.functions li { margin: .1em 0; }
"""

_STATUS_STYLE = "\n".join(
    f".st-{status} {{ background: {colour}; }}" for status, colour in STATUS_COLOURS.items()
)

_SCRIPT = """
document.body.classList.add("script-ran");  // (the headless-browser test checks that it ran)
document.getElementById("toggle-optimized").addEventListener("change", function (event) {
  document.body.classList.toggle("no-optimized", !event.target.checked);
});
"""


def render_html(report: ProjectReport) -> str:
    totals = report.totals()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>fatopt report</title>",
        f"<style>{_STYLE}{_STATUS_STYLE}</style>",
        "</head><body>",
        "<h1>fatopt report</h1>",
        f"<p>{_e(_summary_text(report, totals))}</p>",
    ]
    if report.run is not None:
        parts.append(f"<p>{_e(_run_text(report.run))}</p>")
    parts.append('<p class="legend">' + "".join(
        f'<span class="st-{status}">{status}</span>' for status in FUNCTION_STATUSES
    ) + ' <label><input type="checkbox" id="toggle-optimized" checked> show the optimized code</label></p>')
    parts.append(_summary_table(report))
    for index, module in enumerate(report.modules):
        parts.append(_module_section(module, index))
    parts.append(f'<p class="note">fatopt {_e(__version__)}</p>')
    parts.append(f"<script>{_SCRIPT}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _summary_text(report: ProjectReport, totals: dict[str, int]) -> str:
    counts = ", ".join(f"{totals[s]} {s}" for s in FUNCTION_STATUSES)
    settings = ""
    if report.settings:
        settings = "; settings: " + ", ".join(f"{k}={int(v)}" for k, v in sorted(report.settings.items()))
    return f"{totals['modules']} modules, {totals['functions']} functions: {counts}{settings}"


def _run_text(run) -> str:
    rows = run.specializations
    imports = run.imports
    return (
        f"Run: {' '.join(run.target)}, exit status {run.exit_status}. Modules: {imports['cached']} from "
        f"the cache, {imports['optimized']} optimized now, {imports['plain']} left plain. Functions specialized: {len(rows)}, "
        f"{sum(r['active'] for r in rows)} active at exit; invalidations: "
        f"{sum(r['invalidations'] for r in rows)}, revalidations: {sum(r['revalidations'] for r in rows)}."
    )


def _summary_table(report: ProjectReport) -> str:
    run = report.run is not None
    head = "".join(f'<th class="st-{s}">{s}</th>' for s in FUNCTION_STATUSES)
    rows = [f"<tr><th>module</th><th>outcome</th>{head}" + ("<th>invalidations</th>" if run else "") + "</tr>"]
    for index, module in enumerate(report.modules):
        counts = module.counts()
        cells = "".join(f"<td>{counts[s]}</td>" for s in FUNCTION_STATUSES)
        extra = f"<td>{sum(f.runtime.invalidations for f in module.functions if f.runtime)}</td>" if run else ""
        rows.append(
            f'<tr><td class="path"><a href="#module-{index}">{_e(module.path)}</a></td>'
            f"<td>{_e(module.status.replace('_', ' '))}</td>{cells}{extra}</tr>"
        )
    return '<table class="summary">' + "".join(rows) + "</table>"


def _module_section(module: ModuleEntry, index: int) -> str:
    name = f" ({module.name})" if module.name else ""
    parts = [f'<section class="module" id="module-{index}">', f"<h2>{_e(module.path)}{_e(name)}</h2>"]
    if module.status != MODULE_OPTIMIZED:
        parts.append(f'<p class="note">{_e(module.status.replace("_", " "))}: {_e(module.reason)}</p>')
    for note in module.notes:
        parts.append(f'<p class="note">{_e(note)}</p>')
    if module.functions:
        parts.append('<ul class="functions">' + "".join(
            f'<li><span class="count st-{_e(f.status)}">{_e(f.status)}</span> {_e(f.qualname)} '
            f"(line {f.line}){_e(': ' + _detail(f)) if _detail(f) else ''}</li>"
            for f in module.functions
        ) + "</ul>")
    if module.source:
        changed = module.optimized != module.source
        parts.append('<div class="panes">')
        parts.append(f'<div class="pane original"><h3>source{"" if changed else " (runs as written)"}</h3>'
                     f'<pre class="code">{_coloured_source(module)}</pre></div>')
        if changed:
            parts.append('<div class="pane optimized"><h3>what runs (optimized)</h3>'
                         f'<pre class="code">{_plain_lines(module.optimized)}</pre></div>')
        parts.append("</div>")
    parts.append("</section>")
    return "\n".join(parts)


def _detail(function: FunctionEntry) -> str:
    """Guards and passes, or the reason; and for a run, how the specialization fared."""
    parts = []
    if function.guards:
        parts.append("guards " + ", ".join(function.guards))
    if function.passes:
        parts.append("passes " + ", ".join(function.passes))
    if not parts and function.reason:
        parts.append(function.reason)
    runtime = function.runtime
    if runtime is not None:
        if runtime.registered:
            parts.append(f"run: {'active' if runtime.active else 'invalidated'} at exit, invalidated "
                         f"{runtime.invalidations}x, revalidated {runtime.revalidations}x")
        else:
            parts.append("run: never registered")
    return "; ".join(parts)


def _tooltip(function: FunctionEntry) -> str:
    lines = [f"{function.status}: {function.qualname} (line {function.line})"]
    lines += _detail(function).split("; ") if _detail(function) else []
    return "\n".join(lines)


def _text_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _line(number: int, text: str) -> str:
    return f'<span class="line"><span class="ln">{number}</span>{_e(text)}</span>'


def _plain_lines(text: str) -> str:
    return "".join(_line(number, line) for number, line in enumerate(_text_lines(text), 1))


def _coloured_source(module: ModuleEntry) -> str:
    """The source, each line inside the block of the innermost function that spans it."""
    lines = _text_lines(module.source)
    owner: list[FunctionEntry | None] = [None] * (len(lines) + 1)
    # outer functions first, so that a nested function's lines end up its own
    for function in sorted(module.functions, key=lambda f: (f.first_line, -f.end_line)):
        for number in range(function.first_line, min(function.end_line, len(lines)) + 1):
            owner[number] = function
    out = []
    current: FunctionEntry | None = None
    for number, text in enumerate(lines, 1):
        function = owner[number]
        if function is not current:
            if current is not None:
                out.append("</span>")
            if function is not None:
                out.append(f'<span class="fn st-{_e(function.status)}" title="{_e(_tooltip(function))}">')
            current = function
        out.append(_line(number, text))
    if current is not None:
        out.append("</span>")
    return "".join(out)
