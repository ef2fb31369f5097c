"""Run code plain and optimized in fresh namespaces and compare what happens.

Both runs compile with a real filename (a file written under a temporary directory) and report
what was printed, the value of the global ``result`` after the driver ran, and the exception that
escaped (type, message and the line in the module where it was raised). The driver is executed
after the module, in its namespace, and is never optimized: it plays "the rest of the program"
(it may rebind a global or a builtin, which the optimizer cannot see).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import io
import itertools
import os
import tempfile
import textwrap
from dataclasses import dataclass
from typing import Any

import fatopt
from fatopt.analyses import analyze_module, analyze_scopes
from fatopt.config import Config
from fatopt.passes.inline_functions import LOCAL_FLAG, _is_check as is_validity_check
from fatopt.optimizer import optimize_ast, optimize_source
from fatopt.passes import PIPELINE, Unit
from fatopt.results import Report

_counter = itertools.count()
_tmpdir = tempfile.mkdtemp(prefix="fatopt-tests-")

PASS_SWITCHES = tuple(sorted({p.switch for p in PIPELINE}))


@dataclass
class Outcome:
    stdout: str
    result: str | None
    error: tuple[str, str, int | None] | None
    namespace: dict

    def comparable(self) -> tuple:
        return self.stdout, self.result, self.error


def source_file(source: str) -> tuple[str, str]:
    """(dedented source, path of a file holding it)."""
    source = textwrap.dedent(source)
    path = os.path.join(_tmpdir, f"case_{next(_counter)}.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    return source, path


def _error_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def execute(code_or_tree: Any, filename: str, driver: str = "") -> Outcome:
    if isinstance(code_or_tree, ast.AST):
        code_or_tree = compile(code_or_tree, filename, "exec", dont_inherit=True)
    namespace: dict = {"__name__": "fatopt_case", "__file__": filename}
    out = io.StringIO()
    error = None
    with contextlib.redirect_stdout(out):
        try:
            exec(code_or_tree, namespace)
            if driver:
                exec(compile(textwrap.dedent(driver), "<driver>", "exec", dont_inherit=True), namespace)
        except Exception as exc:
            error = (type(exc).__name__, str(exc), _error_line(exc, filename))
    result = repr(namespace["result"]) if "result" in namespace else None
    return Outcome(out.getvalue(), result, error, namespace)


def run_plain(source: str, driver: str = "") -> Outcome:
    source, path = source_file(source)
    return execute(compile(source, path, "exec", dont_inherit=True), path, driver)


def run_optimized(source: str, driver: str = "", config: Config | None = None) -> Outcome:
    source, path = source_file(source)
    tree = optimize_ast(ast.parse(source, path), path, config)
    return execute(tree, path, driver)


def run_both(source: str, driver: str = "") -> tuple[Outcome, Outcome]:
    """``source`` with ``driver`` run plain, then optimized: for the documented differences,
    whose outcomes differ on purpose."""
    return run_plain(source, driver), run_optimized(source, driver)


def assert_same_behaviour(
    source: str, driver: str = "result = f()", config: Config | None = None,
    specialized: tuple[str, ...] = (),
) -> tuple[Outcome, Outcome]:
    """Plain and optimized runs agree; the functions named in ``specialized`` really run
    specialized code after the module ran (so the comparison exercised the optimizer)."""
    source, path = source_file(source)
    plain = execute(compile(source, path, "exec", dont_inherit=True), path, driver)
    tree = optimize_ast(ast.parse(source, path), path, config)
    code = compile(tree, path, "exec", dont_inherit=True)
    if specialized:
        namespace: dict = {"__name__": "fatopt_case"}
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(code, namespace)
            except Exception:
                pass
        for name in specialized:
            assert fatopt.get_specialized(_lookup(namespace, name)), f"{name} is not specialized"
    optimized = execute(code, path, driver)
    assert optimized.comparable() == plain.comparable()
    # the text form compiles too
    compile(optimize_source(source, path, config), path, "exec", dont_inherit=True)
    return plain, optimized


def traceback_driver(call: str) -> str:
    """A driver setting ``result`` to what ``call`` returns, or to the text of the traceback of
    what it raises (``traceback.format_exception``: tracebacks compared whole)."""
    return textwrap.dedent(f"""\
        import traceback
        try:
            result = {call}
        except Exception as exc:
            result = ''.join(traceback.format_exception(exc))
        """)


def _lookup(namespace: dict, dotted: str) -> Any:
    first, *rest = dotted.split(".")
    obj = namespace[first]
    for part in rest:
        obj = getattr(obj, part)
    return obj


def only(*switches: str, **limits: Any) -> Config:
    """A Config running only the named passes."""
    overrides: dict[str, Any] = {s: False for s in PASS_SWITCHES}
    overrides.update({s: True if s not in ("unroll_loops", "unroll_comprehensions") else 16 for s in switches})
    overrides.update(limits)
    return Config.from_dict(overrides)


def started_unit(tree: ast.Module) -> Unit:
    """A started unit for the module's first statement, a ``def``, as if its ``_fatopt_`` names
    were made by the passes after the scope analysis (passes take only those for temporaries)."""
    scopes = analyze_scopes(tree)
    node = tree.body[0]
    unit = Unit(node, scopes.scope_of(node), analyze_module(tree, scopes, only()), only(), "f")
    unit.scope.loads = {n for n in unit.scope.loads if not n.startswith("_fatopt_")}
    unit.started = True
    return unit


def run_to_fixed_point(unit: Unit, passes: list) -> None:
    """Run ``passes`` on ``unit`` (each every round, whatever ``may_apply`` says) until none
    changes anything, recording each change as the driver does."""
    unit.started = True
    for _ in range(unit.config.max_iterations):
        changed = False
        for pass_ in passes:
            if pass_.run(unit):
                unit.changed(pass_)
                changed = True
        if not changed:
            break


def apply_passes(source: str, *switches: str, name: str = "f", config: Config | None = None) -> str:
    """``ast.unparse`` of function ``name`` after running only the named passes on it to a fixed
    point (no emission: the pass's own output)."""
    config = config or only(*switches)
    tree = ast.parse(textwrap.dedent(source))
    scopes = analyze_scopes(tree)
    facts = analyze_module(tree, scopes, config)
    node = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)
    unit = Unit(copy.deepcopy(node), scopes.scope_of(node), facts, config, name)
    run_to_fixed_point(unit, [p() for p in PIPELINE if p.switch in switches])
    return ast.unparse(unit.node)


def normalized(source: str) -> str:
    return ast.unparse(ast.parse(textwrap.dedent(source)))


class _InlinedBranches(ast.NodeTransformer):
    """Each validity check of inlined code (``CALL if not __fatopt_valid_..__ else X``, ``if not
    __fatopt_valid_..__: STATEMENT else: STMTS``) reduced to its inlined branch, after checking
    that the other branch is the call or statement as written (one node); the local flag's
    binding before a loop left out."""

    _is_check = staticmethod(is_validity_check)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        if not self._is_check(node.test):
            return node
        # the call, or the subscript (fatopt.passes.specialize_types), as written
        assert type(node.body) in (ast.Call, ast.Subscript), ast.unparse(node)
        return node.orelse

    def visit_If(self, node: ast.If) -> Any:
        self.generic_visit(node)
        if not self._is_check(node.test):
            return node
        assert len(node.body) == 1 and type(node.body[0]) in (ast.Assign, ast.Return, ast.Expr), ast.unparse(node)
        return node.orelse

    def visit_Assign(self, node: ast.Assign) -> Any:
        # the flag loaded into a local before a loop
        target = node.targets[0]
        if type(target) is ast.Name and target.id == LOCAL_FLAG:
            return None
        return self.generic_visit(node)


def optimized_function(source: str, name: str = "f", config: Config | None = None,
                       checks: bool = False) -> tuple[str | None, Report]:
    """The emitted ``def name`` (decorators dropped) if the optimizer changed it, else None.
    Validity checks of inlined code are shown only with ``checks`` (test_inline_checks.py
    tests them; the tables of the inlining passes show what is inlined)."""
    report = Report()
    tree = optimize_ast(ast.parse(textwrap.dedent(source)), "<case>", config, report=report)
    rows = [r for r in report.functions if r.qualname.rpartition(".")[2] == name]
    if not rows or rows[0].status not in ("specialized", "optimized"):
        return None, report
    # the last def of that name: a specialization emits its fallback first, under the same name
    found = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if not found:
        raise AssertionError(f"{name} not found")
    node = copy.copy(found[-1])
    node.decorator_list = [d for d in node.decorator_list if "__fatopt_runtime__" not in ast.unparse(d)]
    if not checks:
        node = _InlinedBranches().visit(copy.deepcopy(node))
    return ast.unparse(node), report


@contextlib.contextmanager
def patched_builtin(name: str, value: Any):
    """Temporarily replace a builtin (restored even if the test fails)."""
    old = getattr(builtins, name)
    setattr(builtins, name, value)
    try:
        yield
    finally:
        setattr(builtins, name, old)


def transformed_tree(source: str, *switches: str, name: str = "f", config: Config | None = None) -> tuple[ast.Module, str]:
    """(module with ``def name`` replaced by the passes' output, that output unparsed)."""
    config = config or only(*switches)
    tree = ast.parse(textwrap.dedent(source))
    scopes = analyze_scopes(tree)
    facts = analyze_module(tree, scopes, config)
    node = next(n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)
    unit = Unit(copy.deepcopy(node), scopes.scope_of(node), facts, config, name)
    run_to_fixed_point(unit, [p() for p in PIPELINE if p.switch in switches])
    new_tree = copy.copy(tree)
    new_tree.body = [unit.node if n is node else n for n in tree.body]
    return new_tree, ast.unparse(unit.node)


def check_pass_case(before: str, after: str | None, *switches: str, driver: str = "result = f()") -> None:
    """The passes turn ``before``'s ``f`` into ``after`` (None: leave it as it is), and the
    module behaves the same with the rewritten ``f``; the full optimizer agrees too."""
    new_tree, text = transformed_tree(before, *switches)
    expected = normalized(after) if after is not None else ast.unparse(
        next(n for n in ast.parse(textwrap.dedent(before)).body if getattr(n, "name", None) == "f")
    )
    assert text == expected
    source, path = source_file(before)
    plain = execute(compile(source, path, "exec", dont_inherit=True), path, driver)
    rewritten = execute(new_tree, path, driver)
    assert rewritten.comparable() == plain.comparable()
    assert_same_behaviour(before, driver)
