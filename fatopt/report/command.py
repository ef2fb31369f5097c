"""``fatopt report``: gather the report (files, or a run of a program) and write it in the format
asked for, to ``-o FILE`` or the terminal.

Where it goes without ``-o``: stdout for a report on files; stderr for a run, so that the
program's stdout is exactly the program's. The exit status of a run is the program's (the
report is an observer, as ``time`` is); 2 when the report itself cannot be made (no record came
back, an unknown path).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys

from fatopt.report.collect import ProjectReport, attach_runtime, excluded_entry, module_entry, python_files

__all__ = ["FORMATS", "ReportError", "report_command"]

FORMATS = ("text", "json", "html")


class ReportError(Exception):
    """The report cannot be made: the one line saying why (exit status 2)."""


def report_command(
    paths: list[str], program: list[str] | None, options, config_items: list[str] | None,
    output_format: str, output: str | None, include_all: bool,
) -> int:
    """``paths`` (files and directories) or ``program`` (``[SCRIPT, ARGS...]`` or ``["-m",
    MODULE, ARGS...]``) with the optimizer ``options`` (fatopt.importer.Options)."""
    from fatopt.compiler import config_for, profile_for

    config = config_for(options)
    profile = profile_for(options)  # (loaded already, and checked, by the command's options)
    status = 0
    if program is not None:
        if output_format == "html" and output is None:
            raise ReportError("--format html needs -o FILE for a run (the terminal is the program's)")
        from fatopt.report.run import RunError, run_program, user_modules

        try:
            run = run_program(program, config_items)
        except RunError as exc:
            raise ReportError(str(exc)) from None
        modules = [
            excluded_entry(path, name) if options.excludes(name) else module_entry(path, config, name, profile)
            for name, path in user_modules(run.modules, include_all)
        ]
        attach_runtime(modules, run.specializations)
        report = ProjectReport(modules, dict(options.overrides), run)
        status = run.exit_status
    else:
        if not paths:
            raise ReportError("give files or directories, or '-- SCRIPT [ARGS]' / '-m MODULE [ARGS]' to run a program")
        try:
            files = list(python_files(paths))
        except FileNotFoundError as exc:
            raise ReportError(f"no such file or directory: {exc.args[0]}") from None
        report = ProjectReport([module_entry(path, config, profile=profile) for path in files], dict(options.overrides))
    text = _render(report, output_format)
    if output is not None:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        stream = sys.stderr if program is not None else sys.stdout
        stream.write(text)
        stream.flush()
    return status


def _render(report: ProjectReport, output_format: str) -> str:
    if output_format == "json":
        from fatopt.report.as_json import render_json

        return render_json(report)
    if output_format == "html":
        from fatopt.report.as_html import render_html

        return render_html(report)
    from fatopt.report.as_text import render_text

    return render_text(report)
