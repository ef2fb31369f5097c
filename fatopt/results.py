"""What the optimizer did to a module, per function: specialized with which guards, rewritten
without guards, left alone and why. The CLI (``fatopt show -v``) prints it; tests read it.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["FunctionReport", "Report", "SPECIALIZED", "OPTIMIZED", "UNCHANGED", "SKIPPED", "FAILED"]

#: the function holds specialized code, registered with guards
SPECIALIZED = "specialized"
#: the function's body was rewritten by passes that need no guard
OPTIMIZED = "optimized"
#: nothing worth doing was found
UNCHANGED = "unchanged"
#: the function was not looked at (``reason`` says why: unsafe construct, nested, ...)
SKIPPED = "skipped"
#: a pass raised; the function was left as it was (a warning was issued)
FAILED = "failed"


@dataclass
class FunctionReport:
    """One function of the module."""

    qualname: str
    lineno: int
    status: str
    #: source text of each guard, e.g. ``GuardBuiltins('len')``
    guards: tuple[str, ...] = ()
    #: passes that changed the function, in the order they first did
    passes: tuple[str, ...] = ()
    reason: str = ""

    def describe(self) -> str:
        """One line for humans, e.g. ``skip f (line 3): uses exec (line 4)``."""
        where = f"{self.qualname} (line {self.lineno})"
        if self.status == SPECIALIZED:
            return f"specialize {where}: {', '.join(self.passes)}; guards {', '.join(self.guards)}"
        if self.status == OPTIMIZED:
            return f"optimize {where}: {', '.join(self.passes)}"
        verb = {SKIPPED: "skip", FAILED: "fail", UNCHANGED: "keep"}[self.status]
        return f"{verb} {where}: {self.reason}" if self.reason else f"{verb} {where}"


@dataclass
class Report:
    """Collects :class:`FunctionReport` rows for one module; pass one to ``optimize_ast``."""

    filename: str = ""
    functions: list[FunctionReport] = field(default_factory=list)
    #: module-wide remarks, e.g. why no global or builtin may be assumed
    notes: list[str] = field(default_factory=list)

    def by_status(self, status: str) -> list[FunctionReport]:
        return [f for f in self.functions if f.status == status]

    @property
    def specialized(self) -> list[FunctionReport]:
        return self.by_status(SPECIALIZED)

    def guard_counts(self) -> Counter:
        """Number of guard objects emitted, by guard class name."""
        counts: Counter = Counter()
        for function in self.specialized:
            for guard in function.guards:
                counts[guard.partition("(")[0]] += 1
        return counts

    def lines(self, verbose: bool = False) -> list[str]:
        """Human-readable lines; without ``verbose`` only specialized, optimized and failed
        functions are listed."""
        out = [f"{self.filename}: {note}" for note in self.notes]
        for function in self.functions:
            if verbose or function.status in (SPECIALIZED, OPTIMIZED, FAILED):
                out.append(function.describe())
        return out
