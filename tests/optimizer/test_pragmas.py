"""``# fatopt: off`` on a def line keeps that function as written, and only that one."""

import ast

import pytest

import fatopt
from fatopt.pragmas import PRAGMA_REASON, opted_out_lines
from fatopt.results import SKIPPED, SPECIALIZED, Report


@pytest.mark.parametrize(
    "source, lines",
    [
        pytest.param("def f():  # fatopt: off\n    pass\n", {1}, id="def-line"),
        pytest.param("x = 1\n\ndef f():  #fatopt:OFF\n", {3}, id="spacing-and-case"),
        pytest.param("def f():  # noqa  # fatopt: off\n", {1}, id="after-another-comment"),
        pytest.param("def f():\n    pass\n", set(), id="none"),
        pytest.param("def f():  # fatopt: offset\n", set(), id="other-word"),
        pytest.param("s = 'fatopt: off'\n", set(), id="string-without-hash"),
    ],
)
def test_opted_out_lines(source, lines):
    assert opted_out_lines(source) == lines


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
