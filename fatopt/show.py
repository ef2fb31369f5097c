"""``fatopt show``: the optimized source with a header saying what was specialized and why
other functions were not."""

from __future__ import annotations

import ast

from fatopt.options import Options
from fatopt.report import report_tree

__all__ = ["annotate"]


def _skip_reasons(original: str, path: str, options: Options) -> list[tuple[str, int, str]]:
    """(qualname, line, reason) for functions the optimizer left alone, if it says why."""
    try:
        from fatopt.optimizer import explain  # type: ignore[attr-defined]
    except ImportError:
        return []
    from fatopt.compiler import config_for

    return list(explain(original, path, config_for(options)))


def annotate(original: str, optimized: str, path: str, options: Options) -> str:
    report = report_tree(ast.parse(optimized, path))
    lines = [f"# fatopt show {path}"]
    if report.functions:
        lines.append(f"# {len(report.functions)} specialized function(s), {report.guard_count} guard(s):")
        for function in report.functions:
            lines.append(f"#   {function.qualname} (line {function.lineno}): {', '.join(function.guards)}")
    else:
        lines.append("# no function specialized")
    skipped = _skip_reasons(original, path, options)
    if skipped:
        lines.append("# not specialized:")
        for qualname, lineno, reason in skipped:
            lines.append(f"#   {qualname} (line {lineno}): {reason}")
    return "\n".join(lines) + "\n\n" + optimized + ("" if optimized.endswith("\n") else "\n")
