"""Linearizing a statement around its sites (fatopt/passes/_linearize.py): the statements it
makes, the statements and expressions it leaves whole, and the order of evaluation, checked by
running both forms with operands that log when they run (and one that raises)."""

import ast
import itertools
import textwrap

import pytest

from fatopt.passes._linearize import Linearizer


def _linearized(source: str) -> str | None:
    stmt = ast.parse(textwrap.dedent(source)).body[0]
    counter = itertools.count(1)

    def is_site(node: ast.AST) -> bool:
        return type(node) is ast.Call and type(node.func) is ast.Name and node.func.id == "s"

    def site_statements(name: str, site: ast.expr, pre: list) -> None:
        pre.append(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=site, lineno=0))

    out = Linearizer(is_site, lambda: f"t{next(counter)}", site_statements).statement(stmt)
    if out is None:
        return None
    return ast.unparse(ast.fix_missing_locations(ast.Module(body=out, type_ignores=[])))


#: (statement, its linear form)
CASES = [
    pytest.param("x = a() + s(1)", "t1 = a()\nt2 = s(1)\nx = t1 + t2", id="operand-before-a-site"),
    pytest.param("x = s(1) + a()", "t1 = s(1)\nx = t1 + a()", id="site-first"),
    pytest.param("x = s(1) * s(2) + s(3)",
                 "t1 = s(1)\nt2 = s(2)\nt3 = t1 * t2\nt4 = s(3)\nx = t3 + t4", id="nested"),
    pytest.param("a()[b()] = s(1)", "t1 = s(1)\na()[b()] = t1", id="store-after-the-value"),
    pytest.param("s(1)[b()] = c()", "t1 = c()\nt2 = s(1)\nt2[b()] = t1", id="site-in-the-target"),
    pytest.param("a()[s(1)] += s(2)",
                 "t1 = a()\nt2 = s(1)\nt3 = t1[t2]\nt4 = s(2)\nt3 += t4\nt1[t2] = t3", id="augmented-item"),
    pytest.param("x += s(1)", "t1 = x\nt2 = s(1)\nt1 += t2\nx = t1", id="augmented-name"),
    pytest.param("return f(a(), s(1), k=s(2))",
                 "t1 = f\nt2 = a()\nt3 = s(1)\nt4 = s(2)\nreturn t1(t2, t3, k=t4)", id="call-arguments"),
    pytest.param("x = a() and s(1)", "x = a() and s(1)", id="boolop-whole"),
    pytest.param("x = [s(1), a() if b() else s(2)]", "t1 = s(1)\nx = [t1, a() if b() else s(2)]", id="ifexp-whole"),
    pytest.param("x = a() < s(1) < b()", "x = a() < s(1) < b()", id="chained-comparison-whole"),
    pytest.param("if s(1) > 0:\n    pass", "t1 = s(1)\nif t1 > 0:\n    pass", id="if-test"),
]


@pytest.mark.parametrize("source, expected", CASES)
def test_linear_forms(source, expected):
    assert _linearized(source) == expected


@pytest.mark.parametrize("source", ["while s(1):\n    pass", "with s(1):\n    pass", "x = y = s(1)", "del s(1)[0]"])
def test_left_whole(source):
    assert _linearized(source) is None


HARNESS = """\
log = []
class Box:
    def __init__(self):
        self.items = {0: 10, 1: 20, 'k': 30}
    def __getitem__(self, k):
        log.append(('get', k))
        return self.items[k]
    def __setitem__(self, k, v):
        log.append(('set', k, v))
        self.items[k] = v
def a():
    log.append('a')
    return box
def b():
    log.append('b')
    return 1
def c():
    log.append('c')
    return 5
def s(k):
    log.append(('s', k if isinstance(k, (int, str)) else type(k).__name__))
    if k == 'raise':
        raise KeyError(k)
    return k
def f(k):
    return k
box = Box()
x = 0
"""


@pytest.mark.parametrize("source", [
    "x = a()[b()] + s(1)", "a()[s(1)] += s(0)", "a()[b()] = s(1)", "s(box)[b()] = c()", "x += s(1)",
    "x = f(a()[0], s(1), k=s('raise'))", "a()[s('raise')] += c()", "x = a()[b()] * s(0) + a()[s(1)]",
])
def test_the_order_of_evaluation_is_kept(source):
    outcomes = []
    for code in (source, _linearized(source)):
        ns: dict = {}
        exec(HARNESS, ns)
        try:
            exec(code, ns)
            error = None
        except Exception as exc:
            error = repr(exc)
        outcomes.append((ns["log"], ns["box"].items, ns["x"], error))
    assert outcomes[0] == outcomes[1]
