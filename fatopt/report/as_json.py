"""``fatopt report --format json``: the report for programs, in a stable schema documented in
docs/report.md. ``schema_version`` changes only when a key is removed or changes meaning
(adding keys does not change it), so a reader checks it and ignores keys it does not know."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import json
import sys

from fatopt import __version__
from fatopt.report.collect import FunctionEntry, ModuleEntry, ProjectReport

__all__ = ["SCHEMA_VERSION", "report_dict", "render_json"]

SCHEMA_VERSION = 1


def render_json(report: ProjectReport) -> str:
    return json.dumps(report_dict(report), indent=2) + "\n"


def report_dict(report: ProjectReport) -> dict:
    run = report.run
    return {
        "schema_version": SCHEMA_VERSION,
        "fatopt_version": __version__,
        "python_version": sys.version.split()[0],
        "settings": dict(sorted(report.settings.items())),
        "totals": report.totals(),
        "run": None if run is None else {
            "target": list(run.target),
            "argv": list(run.argv),
            "exit_status": run.exit_status,
            "imports": dict(run.imports),
            "specializations": len(run.specializations),
            "active": sum(r["active"] for r in run.specializations),
            "invalidations": sum(r["invalidations"] for r in run.specializations),
            "revalidations": sum(r["revalidations"] for r in run.specializations),
        },
        "modules": [_module_dict(module) for module in report.modules],
    }


def _module_dict(module: ModuleEntry) -> dict:
    return {
        "path": module.path,
        "name": module.name,
        "status": module.status,
        "reason": module.reason,
        "notes": list(module.notes),
        "counts": module.counts(),
        "functions": [_function_dict(function) for function in module.functions],
    }


def _function_dict(function: FunctionEntry) -> dict:
    runtime = function.runtime
    return {
        "qualname": function.qualname,
        "line": function.line,
        "first_line": function.first_line,
        "end_line": function.end_line,
        "status": function.status,
        "guards": list(function.guards),
        "passes": list(function.passes),
        "reason": function.reason,
        "blockers": [blocker.as_dict() for blocker in function.blockers],
        "runtime": None if runtime is None else {
            "registered": runtime.registered,
            "active": runtime.active,
            "invalidations": runtime.invalidations,
            "revalidations": runtime.revalidations,
        },
    }
