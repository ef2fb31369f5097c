"""The call graph: what each call site resolves to when the guards hold, and the callees-first
order the driver optimizes functions in."""

import ast
import textwrap

import pytest

from fatopt.analyses.callgraph import ModuleCallGraph, ModuleCallees, callees_first
from fatopt.analyses.functions import FunctionCandidates
from fatopt.config import Config
from fatopt.module_unit import ModuleUnit


def _module(source: str, **config) -> ModuleUnit:
    tree = ast.parse(textwrap.dedent(source))
    return ModuleUnit(tree, "<t>", Config.from_dict(config) if config else Config.default())


def _sites(source: str, function: str) -> list[tuple[str, str, str]]:
    """(call text, kind, target name) for each call site of ``function`` (a qualname)."""
    module = _module(source)
    graph = module.fact(ModuleCallGraph)
    node = next(c.node for c in module.fact(FunctionCandidates) if c.qualname == function)
    out = []
    for site in graph.sites[node]:
        target = site.target if isinstance(site.target, str) or site.target is None else site.target.name
        if site.owner is not None:
            target = f"{site.owner.name}.{target}"
        out.append((ast.unparse(site.node), site.kind, target))
    return out


RESOLVED = [
    pytest.param("def g(): pass\ndef f(): return g()\n", "f", [("g()", "function", "g")], id="module-function"),
    pytest.param("class C: pass\ndef f(): return C()\n", "f", [("C()", "class", "C")], id="class"),
    pytest.param("def f(s): return len(s)\n", "f", [("len(s)", "builtin", "len")], id="builtin"),
    pytest.param("def f(g): return g()\n", "f", [("g()", "unknown", None)], id="parameter"),
    pytest.param("def g(): pass\ndef f():\n    g = print\n    return g()\n", "f", [("g()", "unknown", None), ], id="local-shadows"),
    pytest.param("def g(): pass\ng = 1\ndef f(): return g()\n", "f", [("g()", "unknown", None)], id="rebound-global"),
    pytest.param("def g(): pass\ndef f():\n    global g\n    g = 2\n    return g()\n", "f", [("g()", "unknown", None)], id="global-write"),
    pytest.param("len = 3\ndef f(s): return len(s)\n", "f", [("len(s)", "unknown", None)], id="shadowed-builtin"),
    pytest.param(
        "class V:\n    def norm(self): return 1\n    def f(self): return self.norm()\n", "V.f",
        [("self.norm()", "method", "V.norm")], id="self-method"),
    pytest.param(
        "class B:\n    def norm(self): return 1\nclass V(B):\n    def f(self): return self.norm()\n", "V.f",
        [("self.norm()", "method", "B.norm")], id="inherited-method"),
    pytest.param(
        "class V:\n    def norm(self): return 1\n    def f(self):\n        self = 3\n        return self.norm()\n", "V.f",
        [("self.norm()", "unknown", None)], id="self-rebound"),
    pytest.param(
        "class V(Base):\n    def norm(self): return 1\n    def f(self): return self.other()\n", "V.f",
        [("self.other()", "unknown", None)], id="unknown-base"),
    pytest.param(
        "class V:\n    @staticmethod\n    def make(): return 1\ndef f(): return V.make()\n", "f",
        [("V.make()", "method", "V.make")], id="staticmethod-through-class"),
    pytest.param(
        "class V:\n    norm = None\n    def f(self): return self.norm()\n", "V.f",
        [("self.norm()", "unknown", None)], id="attribute-not-method"),
    pytest.param(
        "def g(): pass\ndef f(xs): return [g() for x in xs]\n", "f", [("g()", "function", "g")], id="in-comprehension"),
    pytest.param(
        "def g(): pass\ndef f(xs): return [g() for g in xs]\n", "f", [("g()", "unknown", None)], id="comprehension-target"),
    pytest.param(
        "def g(): pass\ndef f():\n    def inner(): return g()\n    return inner\n", "f", [], id="nested-body-is-not-f"),
    pytest.param(
        "def g(): pass\ndef f():\n    h = lambda: g()\n", "f", [], id="lambda-body-is-not-f"),
    pytest.param(
        "def g(): pass\ndef f(x=g()):\n    return x\n", "f", [], id="default-runs-at-definition"),
]


@pytest.mark.parametrize("source, function, expected", RESOLVED)
def test_call_sites_resolve(source, function, expected):
    assert _sites(source, function) == expected


def _order(source: str, **config) -> list[str]:
    module = _module(source, **config)
    return [c.qualname for c in callees_first(module.fact(FunctionCandidates), module.fact(ModuleCallees))]


ORDERS = [
    pytest.param("def a(): b()\ndef b(): c()\ndef c(): pass\n", ["c", "b", "a"], id="chain"),
    pytest.param("def a(): pass\ndef b(): pass\n", ["a", "b"], id="unrelated-source-order"),
    pytest.param("def a(): b()\ndef b(): a()\ndef c(): a()\n", ["a", "b", "c"], id="cycle-in-source-order"),
    pytest.param("def a(): a()\n", ["a"], id="self-recursion"),
    pytest.param(
        "def main(): helper(); V.go(V())\nclass V:\n    def go(self): self.step()\n    def step(self): pass\ndef helper(): pass\n",
        ["V.step", "V.go", "helper", "main"], id="methods-and-functions"),
]


@pytest.mark.parametrize("source, expected", ORDERS)
def test_callees_come_first(source, expected):
    assert _order(source) == expected


def test_nested_functions_follow_their_enclosing_function():
    source = "def a():\n    def inner(): pass\n    b()\ndef b(): pass\n"
    assert _order(source, specialize_nested=True) == ["b", "a", "a.<locals>.inner"]


def test_order_is_deterministic():
    source = "".join(f"def f{i}(): f{(i * 7) % 20}()\n" for i in range(20))
    assert len({tuple(_order(source)) for _ in range(5)}) == 1


def _graph_callees(module: ModuleUnit) -> dict[ast.AST, set[ast.AST]]:
    graph = module.fact(ModuleCallGraph)
    return {c.node: set(graph.callees(c.node)) for c in module.fact(FunctionCandidates) if not c.nested}


@pytest.mark.parametrize("source", [p.values[0] for p in RESOLVED + ORDERS])
def test_order_edges_are_the_graphs_def_callees(source):
    """The driver's lean edges (:class:`ModuleCallees`) are exactly the graph's def callees."""
    module = _module(source)
    found = {node: callees for node, callees in module.fact(ModuleCallees).items() if callees}
    assert found == {node: callees for node, callees in _graph_callees(module).items() if callees}


@pytest.mark.parametrize("name", ["dataclasses", "argparse", "fractions", "json.decoder", "difflib"])
def test_order_edges_match_the_graph_on_stdlib_modules(name):
    import importlib.util

    with open(importlib.util.find_spec(name).origin, encoding="utf-8") as f:
        module = _module(f.read())
    found = {node: callees for node, callees in module.fact(ModuleCallees).items() if callees}
    expected = {node: callees for node, callees in _graph_callees(module).items() if callees}
    assert found == expected
    assert expected  # the modules do call their own functions and methods
