"""Whether this interpreter can run fatopt's guard runtime, and why not when it cannot.

Kept apart so that ``import fatopt`` works everywhere and says plainly what is missing.
"""

from __future__ import annotations

import platform
import sys

UNAVAILABLE_REASON: str | None
if platform.python_implementation() != "CPython":
    UNAVAILABLE_REASON = f"fatopt needs CPython 3.12+, this is {platform.python_implementation()}"
elif sys.version_info < (3, 12):
    UNAVAILABLE_REASON = (
        "fatopt needs CPython 3.12+ (dict, function and type watchers); "
        f"this is {platform.python_version()}: code runs unoptimized"
    )
else:
    try:
        from fatopt import _guards  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a broken build
        UNAVAILABLE_REASON = f"fatopt's C extension fatopt._guards could not be imported: {exc}"
    else:
        UNAVAILABLE_REASON = None

AVAILABLE = UNAVAILABLE_REASON is None
