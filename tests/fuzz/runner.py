"""Run one module plain and optimized and compare what happened.

Each run executes in a fresh module object registered in ``sys.modules`` (so the program can
reach its own namespace through ``sys.modules[__name__]``, which the optimizer cannot see
through), with stdout captured and runtime warnings recorded. Whatever the program does to
``builtins`` is undone afterwards, even if it fails. The oracle is the plain run: the optimized
run must print the same text, let the same exception escape (type, message, line, and the whole
text of ``traceback.format_exception``, chained ``__cause__``/``__context__`` exceptions
included) and issue the same runtime warnings.

The program's source is put in ``linecache`` under its file name for both runs, as a real file
would be, so traceback text shows each entry's source line and (3.13) its carets: code moved or
rewritten by the optimizer must keep the positions plain code has.

``minimize`` shrinks a mismatching program statement by statement, for write-ups.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import difflib
import io
import json
import linecache
import os
import re
import _signal
import sys
import threading
import traceback
import types
import warnings
from dataclasses import dataclass, field
from typing import Callable

import fatopt
from fatopt.config import Config
from fatopt.optimizer import OptimizerWarning
from fatopt.profile import Profile, _Recorder, loads
from fatopt.results import Report

__all__ = ["Outcome", "Comparison", "compare", "run_plain", "run_optimized", "minimize", "FILENAME"]

FILENAME = "fuzz_case.py"
MODULE_NAME = "fuzz_case"
#: seconds a run may take; generated programs finish in milliseconds, but a minimization step
#: can delete the increment of a `while` loop
TIMEOUT = 5.0
_MISSING = object()


class _Timeout(BaseException):
    """Raised in a run that took too long (a BaseException: `except Exception` cannot eat it)."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _Timeout()

    # _signal, not signal: signal.signal's wrapper calls int() and isinstance(), and a program
    # that fails with a builtin still patched (restored only afterwards, by _execute) would
    # break the restore, leaving this run's handler for the next run to see
    previous = _signal.signal(_signal.SIGALRM, expire)
    _signal.setitimer(_signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _signal.setitimer(_signal.ITIMER_REAL, 0)
        _signal.signal(_signal.SIGALRM, previous)


@dataclass(frozen=True)
class Outcome:
    """What one run of a module showed to the outside world."""

    stdout: str
    #: (type name, message, line in the module or None) of the exception that escaped
    error: tuple[str, str, int | None] | None
    #: (category, message, line) of each runtime warning issued
    warnings: tuple[tuple[str, str, int], ...] = ()
    #: ``traceback.format_exception`` text of each exception the program recorded in its global
    #: ``_ERRORS`` list (the generated driver records every exception a call raised), then of
    #: the one that escaped; file paths cut to their base names
    traceback: str = ""


@dataclass
class Comparison:
    source: str
    plain: Outcome
    optimized: Outcome
    #: functions the optimizer specialized (registered with guards)
    specialized: int = 0
    #: OptimizerWarning messages: a pass or the emitted module failed (a bug, though harmless)
    optimizer_warnings: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return self.plain == self.optimized

    @property
    def timed_out(self) -> bool:
        return any(o.error is not None and o.error[0] == "Timeout" for o in (self.plain, self.optimized))

    def describe(self) -> str:
        """The program and a diff of plain (-) vs optimized (+) behaviour."""
        parts = ["--- program ---", self.source.rstrip(), "--- plain vs optimized ---"]
        for what in ("stdout", "error", "warnings", "traceback"):
            a, b = getattr(self.plain, what), getattr(self.optimized, what)
            if a == b:
                continue
            text = what in ("stdout", "traceback")
            a_lines = a.splitlines() if text else [repr(a)]
            b_lines = b.splitlines() if text else [repr(b)]
            diff = difflib.unified_diff(a_lines, b_lines, "plain", "optimized", lineterm="", n=1)
            parts.append(f"[{what}]")
            parts.extend(diff)
        if self.optimizer_warnings:
            parts.append("[optimizer warnings]")
            parts.extend(self.optimizer_warnings)
        return "\n".join(parts)


def _error_line(exc: BaseException) -> int | None:
    """Line, in the generated module, of the innermost frame the exception went through."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(exc, SyntaxError):
        line = exc.lineno
    return line


_PATH = re.compile(r'File "([^"]+)"')
#: where an object's repr shows its address (`<generator object f at 0x7f...>`): differs run to run
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")
#: how deep a RecursionError fired: differs where fatopt inlined a recursive function into itself
#: (documented in docs/semantics.md, "RecursionError fires deeper")
_REPEATED = re.compile(r"\[Previous line repeated \d+ more times\]")


#: the entries between a traceback's last repeat marker and its RecursionError: where the limit
#: hit (a frame's entry, or a call inside a self-inlined level) moves with the depth
_RECURSION_TAIL = re.compile(r"(\[Previous line repeated N more times\]\n)(?:(?!\[Previous line)(?!RecursionError).*\n)*"
                             r"(RecursionError: )")


def _normalized(text: str) -> str:
    """``text`` without what differs between two runs of the same program for documented reasons."""
    text = _REPEATED.sub("[Previous line repeated N more times]", _ADDRESS.sub("at 0x?", text))
    return _RECURSION_TAIL.sub(r"\1  ...\n\2", text)


def traceback_text(exc: BaseException) -> str:
    """``traceback.format_exception`` of ``exc`` (with its chain), paths cut to base names."""
    text = "".join(traceback.format_exception(exc))
    return _PATH.sub(lambda m: f'File "{os.path.basename(m.group(1))}"', text)


def _show_source(source: str) -> None:
    """Let tracebacks show ``source``'s lines, as they would for a module read from a file."""
    lines = source.splitlines(keepends=True)
    linecache.cache[FILENAME] = (len(source), None, lines, FILENAME)


def _restore_builtins(saved: dict) -> None:
    """Put ``builtins`` back as ``saved`` (a copy of its dict), touching only what changed."""
    current = builtins.__dict__
    for key in [k for k in current if k not in saved]:
        del current[key]
    for key, value in saved.items():
        if current.get(key, _MISSING) is not value:
            current[key] = value


def _execute(code: types.CodeType, source: str, timeout: float = TIMEOUT, recorder: _Recorder | None = None,
             recorded_profile: list | None = None) -> Outcome:
    """Run ``code`` as the module ``fuzz_case``; with ``recorder``, record the run's types (the
    profile JSON appended to ``recorded_profile``, made while the module is still importable,
    so that its classes are reachable)."""
    _show_source(source)
    module = types.ModuleType(MODULE_NAME)
    module.__dict__["__builtins__"] = builtins
    saved_builtins = dict(builtins.__dict__)
    saved_stdout = sys.stdout
    stdout = io.StringIO()
    error = None
    escaped = None
    sys.modules[MODULE_NAME] = module
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                if recorder is not None:
                    recorder.start()
                try:
                    with _time_limit(timeout), contextlib.redirect_stdout(stdout):
                        exec(code, module.__dict__)
                finally:
                    if recorder is not None:
                        recorder.stop()
                        recorded_profile.append(recorder.to_json())  # type: ignore[union-attr]
            finally:
                _restore_builtins(saved_builtins)
                sys.stdout = saved_stdout
                sys.modules.pop(MODULE_NAME, None)
        except _Timeout:
            error = ("Timeout", f"over {timeout} s", None)
        except Exception as exc:
            # (a RecursionError's line is where the limit hit: see _RECURSION_TAIL)
            error = (type(exc).__name__, str(exc), _error_line(exc) if type(exc) is not RecursionError else None)
            escaped = exc
    recorded = tuple(
        (w.category.__name__, str(w.message), w.lineno) for w in caught if w.filename == FILENAME
    )
    # formatted here, with the program's builtins put back, not by the program itself
    caught_errors = module.__dict__.get("_ERRORS")
    errors = list(caught_errors) if type(caught_errors) is list else []
    errors += [escaped] if escaped is not None else []
    text = "".join(f"--- {index}\n{traceback_text(exc)}" for index, exc in enumerate(errors)
                   if isinstance(exc, BaseException))
    linecache.cache.pop(FILENAME, None)
    del errors, caught_errors, escaped
    # Break the cycles through the functions' globals now. What that finalizes (a suspended
    # generator's `finally`, kept alive by a recorded traceback) prints into the run's output.
    with contextlib.redirect_stdout(stdout):
        module.__dict__.clear()
    return Outcome(_normalized(stdout.getvalue()), error, recorded, _normalized(text))


def _quiet_compile(source: str | ast.Module) -> types.CodeType:
    # compile-time warnings are fatopt.compiler's business (it shows the plain compile's own)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(source, FILENAME, "exec", dont_inherit=True)


def run_plain(source: str) -> Outcome:
    """Run ``source`` as CPython would."""
    return _execute(_quiet_compile(source), source)


def optimize(source: str, config: Config | None = None, profile: Profile | None = None) -> tuple[ast.Module, Report, list[str]]:
    """(optimized tree, report, OptimizerWarning messages) for ``source``."""
    report = Report()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tree = fatopt.optimize_ast(ast.parse(source, FILENAME), FILENAME, config, report=report, source=source,
                                   profile=profile)
    problems = [str(w.message) for w in caught if issubclass(w.category, OptimizerWarning)]
    return tree, report, problems


def run_optimized(source: str, config: Config | None = None) -> Outcome:
    """Run ``source`` the way ``python -X fatopt`` would (compiled from the optimized tree)."""
    tree, _report, _problems = optimize(source, config)
    return _execute(_quiet_compile(tree), source)


def compare(source: str, config: Config | None = None, timeout: float = TIMEOUT, type_profile: bool = False) -> Comparison:
    """Run ``source`` plain, then optimized, and compare. With ``type_profile``, the plain run
    is recorded as ``fatopt profile`` records a program, and the optimizer gets that profile.
    The source is written to ``FILENAME`` in the current directory (tools/fuzz.py makes a
    temporary one), which the recorder and first calls (fatopt/first_call_types.py) read."""
    recorder = recorded = profile = None
    # the file holds the case: the recorder reads it, and so does a function's first call
    # that specializes it for its types (fatopt/first_call_types.py)
    with open(os.path.abspath(FILENAME), "w", encoding="utf-8") as f:
        f.write(source)
    if type_profile:
        recorder, recorded = _Recorder(8), []
    plain = _execute(_quiet_compile(source), source, timeout, recorder, recorded)
    if recorded:
        profile = loads(os.path.abspath(FILENAME), json.dumps(recorded[0]).encode("utf-8"))
    tree, report, problems = optimize(source, config, profile)
    optimized = _execute(_quiet_compile(tree), source, timeout)
    return Comparison(source, plain, optimized, len(report.specialized), problems)


# -- minimization ---------------------------------------------------------------------------------

def _statement_lists(tree: ast.AST) -> list[list[ast.stmt]]:
    lists = []
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            value = getattr(node, name, None)
            if type(value) is list and value and isinstance(value[0], ast.stmt):
                lists.append(value)
        for handler in getattr(node, "handlers", ()):
            lists.append(handler.body)
    return lists


def _candidates(tree: ast.Module):
    """Smaller variants of ``tree``: one statement removed, or a compound statement replaced by
    its body; the largest cuts first."""
    lists = _statement_lists(tree)
    for list_index, stmts in enumerate(lists):
        for index in reversed(range(len(stmts))):
            smaller = copy.deepcopy(tree)
            target = _statement_lists(smaller)[list_index]
            removed = target.pop(index)
            if not target:
                target.append(ast.copy_location(ast.Pass(), removed))
            yield smaller
            body = getattr(stmts[index], "body", None)
            if type(body) is list and body and isinstance(body[0], ast.stmt):
                unwrapped = copy.deepcopy(tree)
                target = _statement_lists(unwrapped)[list_index]
                target[index:index + 1] = target[index].body
                yield unwrapped


def minimize(source: str, still_fails: Callable[[str], bool], budget: int = 3000) -> str:
    """A smaller program for which ``still_fails`` still holds (greedy statement deletion)."""
    best = ast.unparse(ast.parse(source))
    if not still_fails(best):
        return source
    tries = 0
    improved = True
    while improved and tries < budget:
        improved = False
        for candidate in _candidates(ast.parse(best)):
            tries += 1
            text = ast.unparse(candidate)
            try:
                _quiet_compile(text)
            except SyntaxError:
                continue
            if len(text) < len(best) and still_fails(text):
                best, improved = text, True
                break
            if tries >= budget:
                break
    return best + "\n"


def mismatches(source: str) -> bool:
    """Predicate for :func:`minimize`: plain and optimized runs differ."""
    result = compare(source, timeout=1.0)
    return not result.matches and not result.timed_out
