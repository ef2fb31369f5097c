"""``# fatopt: off`` on a def line keeps that function as written, and only that one."""

import ast

import pytest

import fatopt
from fatopt.pragmas import PRAGMA_REASON, opted_out_lines, pragma_problems
from fatopt.results import SKIPPED, SPECIALIZED, Report


@pytest.mark.parametrize(
    "source, lines",
    [
        pytest.param("def f():  # fatopt: off\n    pass\n", {1}, id="def-line"),
        pytest.param("x = 1\n\ndef f():  #fatopt:OFF\n", {3}, id="spacing-and-case"),
        pytest.param("def f():  # noqa  # fatopt: off\n", {1}, id="after-another-comment"),
        pytest.param("def f():\n    pass\n", set(), id="none"),
        pytest.param("def f():  # fatopt: offset\n", {1}, id="misspelt-opts-out-too"),
        pytest.param("s = 'fatopt: off'\n", set(), id="string-without-hash"),
    ],
)
def test_opted_out_lines(source, lines):
    assert opted_out_lines(source) == lines


def test_misspelt_pragma_is_a_problem_on_def_lines_only():
    source = "def f():  # fatopt: of\n    pass\nx = 1  # fatopt: whatever\ndef g():  # fatopt: OFF\n    pass\n"
    assert pragma_problems(source, {1, 4}) == [(1, "unknown pragma '# fatopt: of' (the only one is '# fatopt: off')")]


def test_misspelt_pragma_is_reported_once_and_the_function_kept(capfd):
    from fatopt.compiler import compile_source

    source = "def f():  # fatopt: of\n    return len('abc')\n\ndef g():\n    return len('abc')\n"
    for _ in range(2):
        result = compile_source(source, "/nowhere/pragma_once.py")
        assert [r.qualname for r in result.report.specialized] == ["g"]
    lines = capfd.readouterr().err.splitlines()
    assert lines == ["fatopt: /nowhere/pragma_once.py:1: unknown pragma '# fatopt: of' (the only one is "
                     "'# fatopt: off'); the function runs as written"]


SOURCE = '''
def kept():  # fatopt: off
    return len("abc")

@staticmethod
def decorated():  # fatopt: off
    return len("abc")

def optimized():
    return len("abc")
'''


@pytest.mark.parametrize("api", ["optimize_ast", "optimize_source"])
def test_only_marked_functions_are_left_alone(api):
    report = Report()
    if api == "optimize_ast":
        fatopt.optimize_ast(ast.parse(SOURCE), "m.py", report=report, source=SOURCE)
    else:
        fatopt.optimize_source(SOURCE, "m.py", report=report)
    status = {row.qualname: (row.status, row.reason) for row in report.functions}
    assert status["kept"] == (SKIPPED, PRAGMA_REASON)
    assert status["decorated"] == (SKIPPED, PRAGMA_REASON)
    assert status["optimized"][0] == SPECIALIZED


def test_without_source_text_the_pragma_cannot_be_seen():
    report = Report()
    fatopt.optimize_ast(ast.parse(SOURCE), "m.py", report=report)
    assert {row.qualname for row in report.specialized} == {"kept", "decorated", "optimized"}
