"""Source bytes -> optimized code object, the way the import system needs it (or a tree another
tool rewrote first -> optimized code object, for pytest's assertion rewriting).

Wraps the optimizer with the rules of an import: bad input raises exactly the error plain
CPython raises (the source is compiled by CPython itself first), a module may opt out with a
top-level ``__fatopt__ = {"enabled": False}``, and an internal optimizer error costs only the
optimization, with a warning that names the file.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import gc
import sys
import warnings
from importlib.util import decode_source
from types import CodeType
from typing import TYPE_CHECKING, NamedTuple

from fatopt.config import Config
from fatopt.results import Report

if TYPE_CHECKING:
    from fatopt.profile import Profile

__all__ = [
    "compile_source", "compile_tree", "module_opt_out", "config_for", "profile_for", "typed_overrides", "CompileResult",
]

_configs: dict = {}


def config_for(options) -> Config:
    """The Config an ``Options`` asks for (built once per process)."""
    key = tuple(sorted(options.overrides.items()))
    if key not in _configs:
        _configs[key] = Config.from_dict(typed_overrides(options))
    return _configs[key]


def profile_for(options) -> Profile | None:
    """The type profile an ``Options`` names (``profile=FILE``), loaded once per process, or
    None. Raises :class:`fatopt.profile.ProfileError` (the path and why) for a file that is not
    a usable profile, or that changed since the option was read: the cache tag names the content
    read then, so optimizing with other content would file its result under the wrong tag."""
    if options.profile is None:
        return None
    from fatopt.importer import loaded_profiles  # (kept there: this module is dropped after a miss)

    key = (options.profile, options.profile_digest)
    profile = loaded_profiles.get(key)
    if profile is None:
        from fatopt.profile import ProfileError, load

        profile = load(options.profile)
        if profile.digest != options.profile_digest:
            raise ProfileError(f"{options.profile}: changed since fatopt read its options; run again")
        loaded_profiles[key] = profile
    return profile


def typed_overrides(options) -> dict[str, bool | int]:
    """The options' Config overrides, typed for ``Config.from_dict`` (``Options`` checked and
    typed them when it read them: fatopt.settings)."""
    return dict(options.overrides)


#: What a module's ``__fatopt__`` dict may hold: key -> (type, what the message calls it).
MODULE_SETTINGS = {"enabled": (bool, "True or False")}

#: The lines already written for malformed ``__fatopt__`` dicts: each once per process.
_reported: set[str] = set()


def module_opt_out(tree: ast.Module, path: str | None = None) -> str | None:
    """The reason a module asks not to be optimized, from a top-level ``__fatopt__`` dict.

    A malformed one (not a literal dict, an unknown key such as ``enable``, a value of the wrong
    type) is reported on stderr, once per process (with ``path``), and the module runs
    unoptimized: what it asked for cannot be known, and plain code is always correct."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "__fatopt__"
        ):
            problem = _module_settings_problem(node.value)
            if problem is not None:
                _report_once(f"fatopt: {path or '<module>'}: {problem}; the module runs unoptimized")
                return f"malformed __fatopt__: {problem}"
            if ast.literal_eval(node.value).get("enabled", True) is False:
                return "module sets __fatopt__ = {'enabled': False}"
    return None


def _module_settings_problem(value: ast.expr) -> str | None:
    """What is wrong with the ``__fatopt__ = ...`` value, or None."""
    valid = "; valid: " + ", ".join(f"{k!r}: {text}" for k, (_t, text) in MODULE_SETTINGS.items())
    try:
        settings = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        settings = None
    if not isinstance(settings, dict):
        return f"__fatopt__ must be a literal dict such as {{'enabled': False}}{valid}"
    for key, setting in settings.items():
        if key not in MODULE_SETTINGS:
            from fatopt.settings import did_you_mean

            hint = did_you_mean(key, MODULE_SETTINGS) if isinstance(key, str) else ""
            return f"unknown key {key!r} in __fatopt__{hint}{valid}"
        kind, text = MODULE_SETTINGS[key]
        if type(setting) is not kind:
            return f"__fatopt__[{key!r}] must be {text}, not {setting!r}{valid}"
    return None


def _report_pragma_problems(tree: ast.Module, text: str, path: str) -> None:
    """A misspelt ``# fatopt: off`` on a def line: the function stays as written (fatopt.pragmas
    reads it so), said once per process."""
    from fatopt.pragmas import pragma_problems

    def_lines = {n.lineno for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for number, problem in pragma_problems(text, def_lines):
        _report_once(f"fatopt: {path}:{number}: {problem}; the function runs as written")


def _report_once(line: str) -> None:
    if line not in _reported:
        _reported.add(line)
        sys.stderr.write(line + "\n")


def _compile_with_plain_warnings(tree: ast.Module, text: str | ast.Module, path: str, optimize: int) -> CodeType:
    """Compile the optimized tree; the compile-time warnings shown are exactly those the plain
    compile of ``text`` shows (an optimized body could warn where the user's code does not, e.g.
    a constant substituted next to ``is``). Costs a second compile only when there are warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = compile(tree, path, "exec", dont_inherit=True, optimize=optimize)
    if caught:
        compile(text, path, "exec", dont_inherit=True, optimize=optimize)  # re-issues its own warnings
    return code


class CompileResult(NamedTuple):
    code: CodeType
    #: What the optimizer did per function; None when the module was not optimized (it opted
    #: out, or the optimizer failed).
    report: Report | None
    #: Why the module was not optimized, or None.
    skipped: str | None


def compile_source(
    source: bytes | str,
    path: str,
    config: Config | None = None,
    *,
    optimize: int = -1,
    verbose: bool = False,
    display_path: str | None = None,
    explain: bool = False,
    profile: Profile | None = None,
) -> CompileResult:
    """Compile ``source`` optimized; ``display_path`` (default ``path``) is what tracebacks
    show. Bad source raises the SyntaxError plain CPython raises. ``verbose`` prints the report
    on stderr; with it or ``explain``, the report says why each function was not specialized
    (``Report.explain``: it costs a walk of those functions, which an import does not pay).
    ``profile``: the type profile the optimizer may use (its entries for ``path``)."""
    if display_path and profile is not None:
        profile = profile.relocated(path, display_path)  # the optimizer asks by the shown name
    path = display_path or path
    # The AST is acyclic and dies by refcount: the cyclic collector walking it is pure cost.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile_source(source, path, config, optimize, verbose, explain, profile)
    finally:
        if was_enabled:
            gc.enable()


def compile_tree(
    tree: ast.Module,
    path: str,
    config: Config | None = None,
    *,
    source: str | None = None,
    verbose: bool = False,
    explain: bool = False,
    profile: Profile | None = None,
) -> CompileResult:
    """Compile a module's AST optimized, for a tool that rewrites the tree first (pytest's
    assertion rewriting, :mod:`fatopt.pytest_plugin`): what runs when the optimizer fails, or
    the module opts out, is ``tree`` compiled as it is, exactly what the tool would have run.
    ``source`` is the text the tree was parsed from (for ``# fatopt: off`` comments); the tree
    is not modified."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile_tree(tree, tree, source, path, config, -1, verbose, explain, profile)
    finally:
        if was_enabled:
            gc.enable()


def _compile_source(
    source: bytes | str, path: str, config: Config | None, optimize: int, verbose: bool, explain: bool,
    profile: Profile | None,
) -> CompileResult:
    if isinstance(source, bytes):
        text = decode_source(source)
    else:
        text = source
    # Parsing, optimizing and compiling each warn (an invalid escape when parsing, `is` with a
    # literal when compiling, all of them again when the plain text is compiled): held back
    # here, then shown once, by a plain compile of the text, as `python -m compileall` shows them.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # CPython parses first: invalid input raises exactly what a plain import raises.
        # the tree is passed on, not kept here: an unchanged module's tree is dropped before
        # its text is compiled (see _compile_tree)
        result = _compile_tree(
            compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True, optimize=optimize),  # type: ignore[arg-type]
            text, text, path, config, optimize, verbose, explain, profile)
    _show_once(caught, text, path, optimize)
    return result


def _show_once(caught: list, text: str, path: str, optimize: int) -> None:
    """Show warnings held back while compiling: those of the compiler once (by compiling the
    text as plain Python does), any other (the optimizer failing) as it was raised."""
    compile_time = False
    for w in caught:
        if issubclass(w.category, (SyntaxWarning, DeprecationWarning)) and w.filename == path:
            compile_time = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if compile_time:
        compile(text, path, "exec", dont_inherit=True, optimize=optimize)


def _compile_tree(
    tree: ast.Module, plain_input: str | ast.Module, text: str | None, path: str, config: Config | None,
    optimize: int, verbose: bool, explain: bool = False, profile: Profile | None = None,
) -> CompileResult:
    """Optimize ``tree``; ``plain_input`` (the source text, or the tree itself) is what plain
    Python compiles: the fallback, and the source of the compile-time warnings shown."""
    reason = module_opt_out(tree, path)
    if reason is None:
        if text is not None and "fatopt" in text:
            _report_pragma_problems(tree, text, path)
        from fatopt.optimizer import optimize_to_code  # imported only when something needs optimizing

        report = Report(explain=verbose or explain)
        try:
            if optimize != -1:  # the optimizer validates with the default level: compile ourselves
                optimized = optimize_to_code(tree, path, config, report=report, source=text, profile=profile)[0]
                code = _compile_with_plain_warnings(optimized, plain_input, path, optimize)
            else:
                # a tree parsed from the text, not rewritten since, and left unchanged is
                # compiled from the text, as plain CPython does, once the tree is dropped
                optimized_tree, validated, warned = optimize_to_code(
                    tree, path, config, report=report, source=text, compile_unchanged=plain_input is not text,
                    profile=profile)
                if validated is None:
                    del tree, optimized_tree
                    code = compile(plain_input, path, "exec", dont_inherit=True, optimize=optimize)
                else:
                    code = validated
                    if warned:  # show exactly the warnings the plain compile shows
                        compile(plain_input, path, "exec", dont_inherit=True, optimize=optimize)
        except Exception as exc:
            failure = exc
        else:
            failure = None
        if failure is not None:
            # Errors found only when compiling (symbol table: "'return' outside function", ...)
            # must be CPython's own: the plain compile raises them (outside the except block, so
            # nothing is chained to them). If it does not, the optimizer is at fault, and that
            # must never break an import.
            plain = compile(plain_input, path, "exec", dont_inherit=True, optimize=optimize)
            reason = f"optimizer failed: {failure!r}"
            warnings.warn(f"fatopt: {path}: {reason}; module runs unoptimized", RuntimeWarning, stacklevel=2)
            return CompileResult(plain, None, reason)
        if verbose:
            print(f"fatopt: {path}: optimized, {len(report.specialized)} function(s) specialized", file=sys.stderr)
            for note in report.notes:  # (Report.lines would name the file twice)
                print(f"fatopt: {path}: {note}", file=sys.stderr)
            for function in report.functions:
                print(f"fatopt: {path}: {function.describe()}", file=sys.stderr)
        return CompileResult(code, report, None)
    if verbose:
        print(f"fatopt: {path}: skipped: {reason}", file=sys.stderr)
    return CompileResult(compile(plain_input, path, "exec", dont_inherit=True, optimize=optimize), None, reason)
