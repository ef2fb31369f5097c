"""Trimmed NOPs (fatopt/passes/trim_nops.py): the ``try`` around inlined code takes the position
of the instruction its body starts with, and a ``pass`` beside other statements in it goes, so
the interpreter executes no ``NOP`` for either.

The rewrite on the pass's own input (what moves, what stays), the bytecode of an emitted
function (no ``NOP`` where the switch is on, one per wrapper where it is off), and plain vs
optimized runs, tracebacks included."""

from __future__ import annotations

import ast
import contextlib
import dis
import io
import textwrap

import pytest

import fatopt
from fatopt.config import Config
from fatopt.optimizer import optimize_ast
from fatopt.passes.trim_nops import TrimNops
from tests.optimizer._diff import assert_same_behaviour, source_file, started_unit, traceback_driver

HANDLER = "__fatopt_runtime__.inlined_raised('g', (1, 3), None)"


def trimmed(source: str) -> tuple[ast.FunctionDef, bool]:
    """``f`` after the pass (as the last step of a pipeline that changed it), and whether the
    pass reported a change."""
    unit = started_unit(ast.parse(textwrap.dedent(source)))
    changed = TrimNops().run(unit)
    return unit.node, changed  # type: ignore[return-value]


def _wrapped(body: str, line: int = 9) -> str:
    """``f`` whose statement at ``line`` (the call's) is a wrapper around ``body`` (the callee's
    lines 1..3, here lines 3.. of the module)."""
    inner = textwrap.indent(textwrap.dedent(body), " " * 8)
    return "def f(a):\n" + "    x = 0\n" * (line - 2) + "    try:\n" + inner + (
        f"    except:\n        {HANDLER}\n        raise\n")


#: (body of the wrapper, the text after the pass, the line the try takes)
MOVED = [
    pytest.param("t = a * 2\n", "t = a * 2", 10, id="a-statement"),
    pytest.param("pass\nt = a * 2\n", "t = a * 2", 11, id="pass-dropped"),
    pytest.param("if a:\n    t = 1\n", "if a:\n    t = 1", 10, id="an-if-starts-with-its-test"),
]


@pytest.mark.parametrize("body, after, line", MOVED)
def test_moved(body, after, line):
    node, changed = trimmed(_wrapped(body))
    wrapper = node.body[-1]
    assert changed and type(wrapper) is ast.Try
    assert ast.unparse(wrapper.body) == after  # type: ignore[arg-type]
    assert wrapper.lineno == line == wrapper.body[0].lineno


def test_moved_to_the_first_operand_of_an_assignment_at_the_calls_line():
    # the statement starts at line 3, its value at line 4: the first instruction is the load
    # of `a`, at line 4
    source = textwrap.dedent(f"""\
        def f(a):
            try:
                t = (
        a * 2)
            except:
                {HANDLER}
                raise
        """)
    node, changed = trimmed(source)
    assert changed and node.body[0].lineno == 4


def test_inner_wrapper_first():
    source = _wrapped("try:\n    pass\n    t = a\nexcept:\n    " + HANDLER + "\n    raise\n")
    node, _ = trimmed(source)
    outer = node.body[-1]
    inner = outer.body[0]  # type: ignore[attr-defined]
    assert ast.unparse(inner.body) == "t = a"
    assert outer.lineno == inner.lineno == inner.body[0].lineno == 12


KEPT = [
    pytest.param("def f(a):\n    try:\n        t = a\n    except:\n        raise\n", id="a-try-of-the-users"),
    pytest.param("def f(a):\n    x = 1\n    pass\n    return x\n", id="a-pass-outside-inlined-code"),
]


@pytest.mark.parametrize("source", KEPT)
def test_kept(source):
    before = ast.dump(ast.parse(source).body[0], include_attributes=True)
    node, changed = trimmed(source)
    assert not changed and ast.dump(node, include_attributes=True) == before


def test_a_lone_pass_stays():
    node, changed = trimmed(_wrapped("pass\n"))
    wrapper = node.body[-1]
    assert changed and ast.unparse(wrapper.body) == "pass"  # type: ignore[attr-defined]
    assert wrapper.lineno == 10


#: a callee of several statements, spliced where it is called (a wrapper at the call's line)
SPLICED = """\
def g(x):
    y = x + 1
    if y > 10:
        raise ValueError(y)
    return y * 2

def f(a):
    t = g(a)
    return t + 1
"""


def _nops(source: str, config: Config) -> int:
    """How many NOP instructions the specialized ``f`` has (it is specialized: checked)."""
    source, path = source_file(source)
    tree = optimize_ast(ast.parse(source, path), path, config)
    namespace: dict = {"__name__": "fatopt_case"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(tree, path, "exec", dont_inherit=True), namespace)
    f = namespace["f"]
    assert fatopt.get_specialized(f)
    return sum(1 for i in dis.get_instructions(f) if i.opname == "NOP")


def test_emitted_code_executes_no_nop():
    assert _nops(SPLICED, Config()) == 0
    assert _nops(SPLICED, Config(trim_nops=False)) >= 1


BEHAVIOUR = [
    pytest.param(SPLICED, "result = f(3)", id="value"),
    pytest.param(SPLICED, traceback_driver("f(10)"), id="raises-in-the-inlined-code"),
    pytest.param(SPLICED, traceback_driver("f('a')"), id="raises-in-the-first-instruction"),
]


@pytest.mark.parametrize("source, driver", BEHAVIOUR)
def test_same_behaviour(source, driver):
    assert_same_behaviour(source, driver, specialized=("f",))
