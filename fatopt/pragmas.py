"""``# fatopt: off`` on a ``def`` line: that function is left as written.

A comment, so a function opts out without importing fatopt. Found by a plain text scan (modules
without the word cost nothing); a marker inside a string literal can only make a function stay
unoptimized, never the reverse.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import re

__all__ = ["opted_out_lines", "PRAGMA_REASON"]

_PRAGMA = re.compile(r"#\s*fatopt\s*:\s*off\b", re.IGNORECASE)

PRAGMA_REASON = "'# fatopt: off' on its def line"


def opted_out_lines(source: str) -> frozenset[int]:
    """1-based numbers of the lines carrying the pragma."""
    if "fatopt" not in source:
        return frozenset()
    return frozenset(
        number for number, line in enumerate(source.splitlines(), 1) if "#" in line and _PRAGMA.search(line)
    )
