"""What the optimizer did to a module, per function: specialized with which guards, rewritten
without guards, left alone and why. The CLI (``fatopt show -v``) prints it; tests read it.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from collections import Counter
from dataclasses import dataclass, field

__all__ = [
    "Blocker", "FunctionReport", "Report", "SPECIALIZED", "OPTIMIZED", "UNCHANGED", "SKIPPED", "FAILED",
    "BLOCKER_KINDS",
]

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


#: What a :class:`Blocker`'s ``kind`` may be (a stable vocabulary: tools and tests read it):
BLOCKER_KINDS = {
    "imported": "a constant-looking global the function reads is imported (``name``: the local "
                "name, or ``module.ATTR`` for an attribute of an imported module)",
    "rebound": "a global the function reads is bound more than once in the module (``line``: a "
               "rebinding; an assignment through ``global`` in a function counts)",
    "not_constant": "a constant-looking global the function reads is bound once, but not to a "
                    "constant expression",
    "dynamic_module": "the module uses exec, eval, globals(), vars(), import * or frame access "
                      "(``name``), so none of its globals is assumed constant",
    "shadowed_builtin": "a builtin the function calls on constants is rebound by the module",
    "switched_off": "the setting that would use an opportunity is off (``name``: the setting)",
    "over_limit": "a loop or comprehension runs over more items than the unroll limit allows",
    "compiler_folds": "what could be folded CPython's compiler folds itself",
    "unsafe": "the function uses a construct that lets code read or rebind its names (``name``)",
    "nested": "a function nested in another (``specialize_nested`` is off)",
    "opted_out": "``# fatopt: off`` on its def line",
    "own_name": "its decorators, defaults or annotations use its own name",
    "enclosing_rewritten": "its enclosing function is rewritten (the copy holds it)",
    "failed": "a pass raised, or the emitted code was refused",
    "nothing": "no opportunity at all: no constant expression, pure builtin call on constants, "
               "loop over a constant or module constant",
}


class Blocker:
    """One reason why a function was not specialized, in terms of the user's code. Immutable.

    A plain class rather than a dataclass: this module is imported with the optimizer on every
    cold start, and making a dataclass costs more than the rest of the module."""

    __slots__ = ("kind", "name", "line", "detail")

    #: one of :data:`BLOCKER_KINDS`
    kind: str
    #: the name concerned (``DEBUG``, ``config.DEBUG``, ``exec``), or ""
    name: str
    #: the line of the module the reason points at (a rebinding, an import, a call), or 0
    line: int
    #: the sentence for humans, e.g. ``DEBUG is imported from .config (line 3)``
    detail: str

    def __init__(self, kind: str, name: str = "", line: int = 0, detail: str = "") -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "detail", detail)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Blocker is immutable (cannot set {name!r})")

    def as_dict(self) -> dict:
        """``{"kind": ..., "name": ..., "line": ..., "detail": ...}`` (for JSON)."""
        return {"kind": self.kind, "name": self.name, "line": self.line, "detail": self.detail}

    def _key(self) -> tuple:
        return (self.kind, self.name, self.line, self.detail)

    def __eq__(self, other: object) -> bool:
        return type(other) is Blocker and self._key() == other._key()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Blocker(kind={self.kind!r}, name={self.name!r}, line={self.line!r}, detail={self.detail!r})"


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
    #: why the function was not specialized, for humans (for an optimized one: why it needed
    #: no guard, when something blocked a specialization), from ``blockers`` when explained
    reason: str = ""
    #: the same reasons, machine-readable (filled when the report asks for explanations)
    blockers: tuple[Blocker, ...] = ()
    #: parameters whose exact types its first call decides (:mod:`fatopt.first_call_types`)
    watched: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for humans, e.g. ``skip f (line 3): uses exec (line 4)``."""
        line = self._describe()
        if self.watched:
            line += f"; the types of {', '.join(self.watched)} at its first call may specialize it"
        return line

    def _describe(self) -> str:
        where = f"{self.qualname} (line {self.lineno})"
        if self.status == SPECIALIZED:
            return f"specialize {where}: {', '.join(self.passes)}; guards {', '.join(self.guards)}"
        if self.status == OPTIMIZED:
            line = f"optimize {where}: {', '.join(self.passes)}"
            return f"{line} (not specialized: {self.reason})" if self.reason else line
        verb = {SKIPPED: "skip", FAILED: "fail", UNCHANGED: "keep"}[self.status]
        return f"{verb} {where}: {self.reason}" if self.reason else f"{verb} {where}"


@dataclass
class Report:
    """Collects :class:`FunctionReport` rows for one module; pass one to ``optimize_ast``."""

    filename: str = ""
    functions: list[FunctionReport] = field(default_factory=list)
    #: module-wide remarks, e.g. why no global or builtin may be assumed
    notes: list[str] = field(default_factory=list)
    #: fill each unspecialized function's ``reason`` and ``blockers`` with what blocked it,
    #: naming names and lines (:mod:`fatopt.analyses.blockers`); costs a walk of those
    #: functions, so the import hook asks for it only in verbose mode
    explain: bool = True

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
