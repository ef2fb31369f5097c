"""Whether this interpreter can run fatopt's guard runtime, and why not when it cannot.

Kept apart so that ``import fatopt`` works everywhere and says plainly what is missing.
"""

import sys

# No `platform` here: this module is imported by every optimized module, start-up time counts.
UNAVAILABLE_REASON = None  # type: str | None
if sys.implementation.name != "cpython":
    UNAVAILABLE_REASON = f"fatopt needs CPython 3.12+, this is {sys.implementation.name}"
elif sys.version_info < (3, 12):
    UNAVAILABLE_REASON = (
        "fatopt needs CPython 3.12+ (dict, function and type watchers); "
        f"this is {sys.version.split()[0]}: code runs unoptimized"
    )
else:
    try:
        from fatopt import _guards  # noqa: F401
    except ImportError as exc:  # pragma: no cover - a broken build
        UNAVAILABLE_REASON = f"fatopt's C extension fatopt._guards could not be imported: {exc}"
    else:
        UNAVAILABLE_REASON = None

AVAILABLE = UNAVAILABLE_REASON is None

#: The builtins as they were when fatopt was activated (set by fatopt._activate, which runs from
#: fatopt.pth before sitecustomize and the program can patch anything); None when fatopt was
#: imported without activation.
STARTUP_BUILTINS = None  # type: dict | None


def original_builtins() -> dict:
    """The builtins fatopt assumes: what the optimizer calls to fold ``len("abc")`` and what
    ``GuardBuiltins`` requires, so the two always agree. Taken at activation, or else on first
    use."""
    global STARTUP_BUILTINS
    if STARTUP_BUILTINS is None:
        import builtins

        STARTUP_BUILTINS = dict(builtins.__dict__)
    return STARTUP_BUILTINS


#: The ``__builtins__`` of every fatopt module (``from fatopt._support import PRIVATE_BUILTINS as
#: __builtins__``): functions take their builtins from their module's ``__builtins__`` when they
#: are created, so fatopt's code keeps the real builtins while the program it runs in patches
#: ``builtins.len`` or ``builtins.tuple`` (the optimizer and the registration of specialized
#: functions run inside the user's program).
PRIVATE_BUILTINS: dict = dict(original_builtins())
