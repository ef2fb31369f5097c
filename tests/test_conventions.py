"""The project's conventions, checked on the source files so a new module, switch or pass that
skips one fails here rather than in review.

- fatopt's modules run on private builtins (why: fatopt/__init__.py, ``_PRIVATE_BUILTINS``);
- every ``Config`` switch has a pass, the pass's test file and a section in docs/optimizer.md, and
  every pass has a switch;
- every module says what it is for in a docstring.

Read from source (``ast``), never by importing: a module that forgets the line must still be found
even if importing it would fail.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from fatopt.config import Config

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fatopt"
PASSES = PACKAGE / "passes"
PASS_TESTS = ROOT / "tests" / "optimizer"
OPTIMIZER_DOCS = ROOT / "docs" / "optimizer.md"

PRIVATE_BUILTINS_LINE = "from fatopt import _PRIVATE_BUILTINS as __builtins__"


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


PACKAGE_MODULES = sorted(PACKAGE.rglob("*.py"))


# -- private builtins --------------------------------------------------------------------------
#
# Functions take their builtins from their module's ``__builtins__`` when they are created, so the
# line must run before the module's first ``def``, ``class`` or ``lambda``: it is the first
# statement after the docstring and the ``from __future__`` imports in every module but two.
# fatopt/__init__.py defines ``_PRIVATE_BUILTINS`` and binds its own ``__builtins__`` to it
# directly. fatopt/__main__.py must not have the line: runpy executes it in the namespace of the
# program's ``__main__`` module, whose builtins it would replace; it defines no function, so it
# needs none (the functions it calls are fatopt.cli's, which has the line).
OWN_BUILTINS = {"fatopt/__init__.py", "fatopt/__main__.py"}


def _first_statement_after_preamble(tree: ast.Module) -> ast.stmt | None:
    body = list(tree.body)
    if body and ast.get_docstring(tree) is not None:
        body.pop(0)
    while body and isinstance(body[0], ast.ImportFrom) and body[0].module == "__future__":
        body.pop(0)
    return body[0] if body else None


def _imports_private_builtins(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.ImportFrom)
        and node.module == "fatopt"
        and node.level == 0
        and [(a.name, a.asname) for a in node.names] == [("_PRIVATE_BUILTINS", "__builtins__")]
    )


def _defines_code(tree: ast.AST) -> bool:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    return any(isinstance(node, kinds) for node in ast.walk(tree))


@pytest.mark.parametrize(
    "path",
    [p for p in PACKAGE_MODULES if _relative(p) not in OWN_BUILTINS],
    ids=_relative,
)
def test_module_runs_on_private_builtins(path):
    tree = _parse(path)
    first = _first_statement_after_preamble(tree)
    assert _imports_private_builtins(first), (
        f"{_relative(path)}: the first statement after the docstring and __future__ imports must "
        f"be `{PRIVATE_BUILTINS_LINE}` (see fatopt/__init__.py, _PRIVATE_BUILTINS)"
    )


def test_package_binds_its_own_builtins_before_defining_anything():
    tree = _parse(PACKAGE / "__init__.py")
    binding = [
        index
        for index, statement in enumerate(tree.body)
        if isinstance(statement, ast.Assign)
        and [ast.unparse(t) for t in statement.targets] == ["__builtins__"]
        and ast.unparse(statement.value) == "_PRIVATE_BUILTINS"
    ]
    assert binding, "fatopt/__init__.py must bind `__builtins__ = _PRIVATE_BUILTINS`"
    assert not any(_defines_code(s) for s in tree.body[: binding[0]]), (
        "fatopt/__init__.py defines a function or class before binding __builtins__"
    )
    assert not any(_imports_private_builtins(node) for node in ast.walk(tree))


def test_main_module_keeps_the_programs_builtins():
    tree = _parse(PACKAGE / "__main__.py")
    assert not any(_imports_private_builtins(node) for node in ast.walk(tree)), (
        "fatopt/__main__.py runs in the program's __main__ namespace: it must not replace its "
        "builtins"
    )
    assert not _defines_code(tree), (
        "fatopt/__main__.py defines a function or class, which would run on the program's "
        "builtins: put it in fatopt/cli.py"
    )


def test_private_builtins_are_in_force():
    """What the line is for, seen at run time in a module of each subpackage."""
    import fatopt
    import fatopt.config
    import fatopt.passes.dead_code
    import fatopt.runtime

    for module in (fatopt, fatopt.config, fatopt.passes.dead_code, fatopt.runtime):
        assert vars(module)["__builtins__"] is fatopt._PRIVATE_BUILTINS, module.__name__
    assert vars(Config)["replace"].__builtins__ is fatopt._PRIVATE_BUILTINS


# -- switches, passes, their tests and docs ----------------------------------------------------
#
# A Config field is a *limit* when its name starts with ``max_`` (docs/optimizer.md, "Config and
# limits"), else a *switch*. A switch enables a pass: a class in fatopt/passes/<module>.py with
# ``switch = "<field>"``. The pass's tests are in tests/optimizer/test_<module>.py, named after
# the pass's module, not its switch (passes/dead_code.py, switch remove_dead_code ->
# test_dead_code.py). Its docs section is a heading of docs/optimizer.md naming `Config.<field>`.

#: Switches that are not pass switches by design, and why.
NOT_PASS_SWITCHES = {
    "specialize_nested": "chooses which functions reach the pipeline; it rewrites nothing "
    "(docs/optimizer.md, 'Which functions are looked at')",
    "first_call_types": "adds a watch of a function's first call, whose types then run the "
    "pipeline again (fatopt/first_call_types.py; docs/optimizer.md, 'Argument types learned at "
    "the first call')",
}

#: Switches whose pass is missing today: strict xfail, so adding the pass (and its tests) makes
#: these fail until the entry is removed.
UNIMPLEMENTED = {
    "copy_builtins_to_constants": "documented as not implemented: needs constants patched at "
    "registration (docs/optimizer.md)",
}

CONFIG_FIELDS = [field.name for field in dataclasses.fields(Config)]
SWITCHES = [name for name in CONFIG_FIELDS if not name.startswith("max_")]
PASS_SWITCHES = [name for name in SWITCHES if name not in NOT_PASS_SWITCHES]


def _switches_by_pass_module() -> dict[str, list[tuple[str, object]]]:
    """{module stem: [(class name, its ``switch`` value), ...]} for every class in
    fatopt/passes/*.py that assigns ``switch`` in its body."""
    found: dict[str, list[tuple[str, object]]] = {}
    for path in sorted(PASSES.glob("*.py")):
        classes = found.setdefault(path.stem, [])
        for node in ast.walk(_parse(path)):
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                target, value = None, None
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                elif isinstance(statement, ast.AnnAssign):
                    target, value = statement.target, statement.value
                if isinstance(target, ast.Name) and target.id == "switch" and value is not None:
                    switch = value.value if isinstance(value, ast.Constant) else ast.unparse(value)
                    classes.append((node.name, switch))
    return found


PASS_MODULES = _switches_by_pass_module()


def _pass_module_of(switch: str) -> str | None:
    for module, classes in PASS_MODULES.items():
        if any(value == switch for _, value in classes):
            return module
    return None


def _switch_params(switches):
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=UNIMPLEMENTED[name]))
        if name in UNIMPLEMENTED
        else name
        for name in switches
    ]


def test_every_switch_kind_is_known():
    """The exception lists name real switches (a renamed field must not leave a stale entry)."""
    assert set(NOT_PASS_SWITCHES) | set(UNIMPLEMENTED) <= set(SWITCHES)
    for name in NOT_PASS_SWITCHES:
        assert _pass_module_of(name) is None, f"{name} has a pass: remove it from NOT_PASS_SWITCHES"
        assert f"`Config.{name}`" in OPTIMIZER_DOCS.read_text(encoding="utf-8"), name


@pytest.mark.parametrize("switch", _switch_params(PASS_SWITCHES))
def test_switch_has_a_pass(switch):
    assert _pass_module_of(switch) is not None, (
        f"Config.{switch} enables no pass: no class in fatopt/passes/ has switch = {switch!r}"
    )


@pytest.mark.parametrize("switch", _switch_params(PASS_SWITCHES))
def test_switch_has_a_test_file(switch):
    module = _pass_module_of(switch)
    assert module is not None, f"Config.{switch} has no pass, so no test file"
    test_file = PASS_TESTS / f"test_{module}.py"
    assert test_file.is_file(), f"fatopt/passes/{module}.py has no {_relative(test_file)}"
    tests = [
        node.name
        for node in _parse(test_file).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    ]
    assert tests, f"{_relative(test_file)} defines no test"


@pytest.mark.parametrize("switch", PASS_SWITCHES)
def test_switch_has_a_docs_section(switch):
    headings = [
        line for line in OPTIMIZER_DOCS.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    ]
    assert any(re.search(rf"`Config\.{switch}`", line) for line in headings), (
        f"docs/optimizer.md has no heading naming `Config.{switch}`"
    )


@pytest.mark.parametrize("module", sorted(m for m in PASS_MODULES if not m.startswith("_")))
def test_pass_module_has_one_pass_with_a_switch(module):
    classes = PASS_MODULES[module]
    assert len(classes) == 1, (
        f"fatopt/passes/{module}.py: one pass per module, with `switch = \"<Config field>\"`; "
        f"found {classes}"
    )
    _, switch = classes[0]
    assert switch in PASS_SWITCHES, (
        f"fatopt/passes/{module}.py: switch {switch!r} is not a pass switch of Config"
    )


def test_helper_pass_modules_define_no_pass():
    for module, classes in PASS_MODULES.items():
        if module.startswith("_"):
            assert classes == [], f"fatopt/passes/{module}.py is private: passes go in a public module"


# -- docstrings --------------------------------------------------------------------------------
#
# Every module of the package, the tests, the tools, benchmarks and examples. Exempt: an empty
# __init__.py that only marks a directory as a package has nothing to describe, and what runs
# leave behind (benchmarks/results/ holds pyperformance's work trees; build/, venvs, caches).
DOCUMENTED_TREES = ("fatopt", "tests", "tools", "benchmarks", "examples")
NOT_SOURCE = {"results", "build", "__pycache__"}
MODULES = sorted(
    path
    for tree in DOCUMENTED_TREES
    for path in (ROOT / tree).rglob("*.py")
    if not any(part in NOT_SOURCE or part.startswith(".") for part in path.relative_to(ROOT).parts)
    and path.read_text(encoding="utf-8").strip()
)


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_module_has_a_docstring(path):
    docstring = ast.get_docstring(_parse(path))
    assert docstring and docstring.strip(), f"{_relative(path)} has no module docstring"
