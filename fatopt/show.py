"""``fatopt show``: the optimized source, under a header saying what was specialized (with
which guards) and why other functions were not."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.results import Report

__all__ = ["annotate"]


def annotate(optimized: str, path: str, report: Report) -> str:
    lines = [f"# fatopt show {path}"]
    specialized = report.specialized
    lines.append(
        f"# {len(specialized)} specialized function(s), {sum(report.guard_counts().values())} guard(s)"
        if specialized else "# no function specialized"
    )
    lines += [f"#   {line}" for line in report.lines(verbose=True)]
    return "\n".join(lines) + "\n\n" + optimized + ("" if optimized.endswith("\n") else "\n")
