"""fatopt: guarded function specialization for CPython 3.12+.

Functions get specialized code (constants folded, pure builtin calls replaced by their result,
...) that stays in place only while its assumptions hold; a C runtime watches the assumptions and
puts the original code back the instant one breaks. See README.md and docs/.
"""

from fatopt._support import AVAILABLE, UNAVAILABLE_REASON
from fatopt._version import __version__
from fatopt.runtime import get_specialized, register, specialize, stats, unspecialize

__all__ = [
    "__version__",
    "AVAILABLE",
    "UNAVAILABLE_REASON",
    "specialize",
    "register",
    "unspecialize",
    "get_specialized",
    "stats",
]
