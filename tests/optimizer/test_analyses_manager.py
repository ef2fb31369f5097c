"""Managed analyses: computed once per tree state, dropped when a pass changes the tree, stable
ones kept; passes read facts through the unit and declare what they read."""

import ast
import inspect
import re
import textwrap

import pytest

from fatopt.analyses.manager import Analysis, AnalysisCache
from fatopt.analyses.statements import IdentityCompared, LocalBindings
from fatopt.config import Config
from fatopt.module_unit import ModuleUnit
from fatopt.analyses.module_facts import FactsOfModule
from fatopt.analyses.scopes import ScopesOfModule
from fatopt.optimizer import new_passes
from fatopt.passes import PIPELINE
from fatopt.passes._rewrite import CurrentScope, OriginalCode, Unit, clone

from ._diff import run_to_fixed_point


class Counting(Analysis[int]):
    calls = 0

    @classmethod
    def compute(cls, target):
        cls.calls += 1
        return len(target)


class StableCounting(Counting):
    stable = True


def test_a_result_is_computed_once_until_invalidated():
    Counting.calls = 0
    cache = AnalysisCache([1, 2, 3])
    assert cache.get(Counting) == 3
    assert cache.get(Counting) == 3
    assert Counting.calls == 1 and cache.computed == 1
    cache.target.append(4)
    cache.invalidate()
    assert not cache.has(Counting)
    assert cache.get(Counting) == 4
    assert Counting.calls == 2


def test_stable_results_survive_invalidation():
    cache = AnalysisCache([1])
    first = cache.get(StableCounting)
    cache.target.append(2)
    cache.invalidate()
    assert cache.has(StableCounting) and cache.get(StableCounting) == first


def _unit(source: str, name: str = "f") -> Unit:
    tree = ast.parse(textwrap.dedent(source))
    module = ModuleUnit(tree, "<t>", Config.default())
    scopes = module.fact(ScopesOfModule)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    unit = Unit(clone(node), scopes.scope_of(node), module.fact(FactsOfModule), module.config, name, module)
    return unit


def test_a_pass_change_drops_facts_about_the_current_code_and_keeps_original_ones():
    unit = _unit("""
        def f():
            for i in (1, 2):
                x = i
            return x
    """)
    assert unit.fact(LocalBindings) == {"i": 1, "x": 1}
    original = unit.fact(OriginalCode)
    run_to_fixed_point(unit, [p() for p in PIPELINE if p.switch == "unroll_loops"])
    # the loop became two copies of its body: x and i are now bound twice each
    assert unit.fact(LocalBindings) == {"i": 2, "x": 2}
    assert unit.fact(OriginalCode) is original
    assert "for_loop" in original.hints


def test_current_scope_describes_the_rewritten_function():
    unit = _unit("""
        def f():
            if False:
                y = 1
            return 2
    """)
    assert "y" in unit.fact(CurrentScope).bindings
    run_to_fixed_point(unit, [p() for p in PIPELINE if p.switch == "remove_dead_code"])
    assert "y" not in unit.fact(CurrentScope).bindings
    assert "y" in unit.scope.bindings  # resolution stays the original's: emission keeps y local


def test_identity_compared_is_an_analysis():
    unit = _unit("""
        def f(x):
            return x is BIG or y == 1
    """)
    assert unit.fact(IdentityCompared) == {"x", "BIG"}


def test_pass_objects_are_fresh_for_each_function():
    config = Config.default()
    first, second = new_passes(config), new_passes(config)
    assert [type(p) for p in first] == [type(p) for p in second]
    assert all(a is not b for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("pass_class", PIPELINE, ids=lambda p: p.name)
def test_a_pass_declares_the_analyses_it_reads(pass_class):
    """Every ``unit.fact(X)`` in a pass's module names an analysis the pass declares."""
    source = inspect.getsource(inspect.getmodule(pass_class))
    read = set(re.findall(r"unit\.fact\((\w+)\)", source))
    declared = {a.__name__ for a in pass_class.requires}
    assert read <= declared | {"OriginalCode"}, f"{pass_class.name} reads {read - declared} undeclared"


@pytest.mark.parametrize("pass_class", PIPELINE, ids=lambda p: p.name)
def test_no_pass_refers_to_another_by_name(pass_class):
    source = inspect.getsource(inspect.getmodule(pass_class))
    others = {p.name for p in PIPELINE} - {pass_class.name}
    quoted = {name for name in others if f'"{name}"' in source or f"'{name}'" in source}
    assert not quoted
