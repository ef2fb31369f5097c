"""``# fatopt: off`` on a ``def`` line: that function is left as written.

A comment, so a function opts out without importing fatopt. Found by a plain text scan (modules
without the word cost nothing); a marker inside a string literal can only make a function stay
unoptimized, never the reverse. A misspelt one (``# fatopt: of``) opts out too, the safe reading
of what was meant, and :func:`pragma_problems` names it so that it can be reported.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import re

__all__ = ["opted_out_lines", "pragma_problems", "PRAGMA_REASON"]

#: any ``# fatopt: WORD`` comment; group 1 is the word (only ``off`` is valid)
_PRAGMA = re.compile(r"#\s*fatopt\s*:\s*(\S*)", re.IGNORECASE)

PRAGMA_REASON = "'# fatopt: off' on its def line"


def opted_out_lines(source: str) -> frozenset[int]:
    """1-based numbers of the lines carrying the pragma."""
    if "fatopt" not in source:
        return frozenset()
    return frozenset(
        number for number, line in enumerate(source.splitlines(), 1) if "#" in line and _PRAGMA.search(line)
    )


def pragma_problems(source: str, lines) -> list[tuple[int, str]]:
    """(line number, what is wrong) for each ``# fatopt:`` comment among ``lines`` (the def
    lines) whose word is not ``off``."""
    problems = []
    text_lines = source.splitlines()
    for number in sorted(opted_out_lines(source) & frozenset(lines)):
        word = _PRAGMA.search(text_lines[number - 1]).group(1)  # type: ignore[union-attr]
        if word.lower() != "off":
            problems.append((number, f"unknown pragma '# fatopt: {word}' (the only one is '# fatopt: off')"))
    return problems
