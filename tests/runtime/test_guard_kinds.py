"""Every guard kind, through its examples (tests/runtime/kinds/): one registry shared by Python
and C, one builder of conditions, recipes and reprs that round-trip, born() and register()
agreeing, an event that breaks it and one that restores it, and an interpreter shutting down
with it in place."""

import gc
import importlib
import os
import subprocess
import sys
import weakref

import pytest

import fatopt
import fatopt.guards
from fatopt import _guards
from fatopt.guards import KINDS, Guard, from_recipe, source

from .helpers import active
from .kinds import all_examples, outcome

EXAMPLES = all_examples()
IDS = [example.id for example in EXAMPLES]


def test_python_and_c_know_the_same_kinds():
    assert sorted(KINDS) == sorted(_guards.GUARD_KINDS)


def test_every_kind_has_an_example():
    assert {example.kind for example in EXAMPLES} == set(KINDS)


def test_each_kind_module_declares_one_kind():
    folder = os.path.dirname(fatopt.guards.__file__)
    modules = sorted(name[:-3] for name in os.listdir(folder) if name.endswith(".py") and not name.startswith("_"))
    declared = {}
    for name in modules:
        module = importlib.import_module(f"fatopt.guards.{name}")
        kinds = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Guard) and v.__module__ == module.__name__]
        assert len(kinds) == 1, name
        declared[kinds[0].kind] = kinds[0]
        assert getattr(fatopt.guards, kinds[0].__name__) is kinds[0]
    assert declared == KINDS


@pytest.mark.parametrize("cls", KINDS.values(), ids=KINDS.keys())
def test_every_kind_says_what_it_watches_and_its_recipe(cls):
    assert cls.watches and "Recipe ``(" in cls.__doc__
    # the one builder: no kind makes conditions of its own
    assert "conditions" not in vars(cls) and "_conditions_for" not in vars(cls)


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_conditions_come_from_the_c_builder(example):
    ns = example.module().__dict__
    recipe = example.recipe_in(ns)
    guard = from_recipe(recipe, ns["fast"])
    expected = _guards.conditions(recipe, ns, ns["fast"].__builtins__)
    assert guard.conditions(ns["fast"]) == expected
    assert _guards.check(expected)


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_repr_round_trips_through_the_recipe(example):
    ns = example.module().__dict__
    recipe = example.recipe_in(ns)
    guard = from_recipe(recipe, ns["fast"])
    assert repr(guard) == example.text == source(recipe)
    assert guard.recipe() == recipe
    again = from_recipe(guard.recipe())
    assert repr(again) == example.text and again == guard and hash(again) == hash(guard)


@pytest.mark.parametrize("example", EXAMPLES, ids=IDS)
def test_born_registers_it_and_get_specialized_shows_it(example):
    ns = example.module().__dict__
    f = example.born(ns)
    [(code, guards)] = fatopt.get_specialized(f)
    assert code is f.__code__ and [repr(g) for g in guards] == [example.text]


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.breaks], ids=[e.id for e in EXAMPLES if e.breaks])
def test_born_and_register_follow_events_alike(example):
    by_born = example.module().__dict__
    by_register = example.module().__dict__
    born = example.born(by_born)
    registered = by_register["fast"]
    fatopt.register(registered, by_register["plain"], [from_recipe(example.recipe_in(by_register))])
    fast_value = born()
    for what, holds in ((example.breaks, False), (example.restores, True)):
        for ns, f in ((by_born, born), (by_register, registered)):
            example.run(ns, what)
            _guards.flush()
            assert active(f) is holds, (what, f)
            assert outcome(f) == (fast_value if holds else outcome(ns["plain"]))


FREED = [e for e in EXAMPLES if not e.recipe_holds_the_namespace]


@pytest.mark.parametrize("example", FREED, ids=[e.id for e in FREED])
def test_a_dropped_namespace_is_freed(example):
    # A condition holds functions and classes weakly: the callee or class of a module refers to
    # the module's namespace, which holds the specialized function, and the runtime's registry
    # would keep that cycle alive for good.
    ns = example.module().__dict__
    example.born(ns)
    ref = weakref.ref(ns["fast"])
    gc.collect()
    live = fatopt.stats()["live"]
    del ns
    gc.collect()
    _guards.flush()
    assert ref() is None and fatopt.stats()["live"] == live - 1


SHUTDOWN = """
import atexit, os, sys, textwrap, types
FATOPT = os.environ["FATOPT"] == "1"
import fatopt.runtime
module = types.ModuleType("example")
sys.modules["example"] = module
exec(textwrap.dedent({source!r}), module.__dict__)
ns = module.__dict__
if FATOPT:
    ns["fast"] = fatopt.runtime.born(ns["plain"], eval({recipe!r}, ns))(ns["fast"])
else:
    ns["fast"] = ns["plain"]

def outcome():
    try:
        return ns["fast"]()
    except Exception as exc:
        return type(exc).__name__

def at_exit():
    print("exit", outcome())
    exec(textwrap.dedent({breaks!r}), ns)
    print("broken", outcome())
    exec(textwrap.dedent({restores!r}), ns)
    print("restored", outcome())

class Late:
    def __del__(self):
        print("teardown", outcome())

ns["late"] = Late()
atexit.register(at_exit)
print("main", outcome())
"""


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.breaks], ids=[e.id for e in EXAMPLES if e.breaks])
def test_interpreter_shutdown_with_it_in_place(example):
    code = SHUTDOWN.format(source=example.source, recipe=example.recipe, breaks=example.breaks, restores=example.restores)
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, FATOPT=flag))
        for flag in ("0", "1")
    ]
    plain, optimized = runs
    assert optimized.returncode == plain.returncode == 0, optimized.stderr
    assert optimized.stdout == plain.stdout and optimized.stderr == plain.stderr
    assert "exit" in optimized.stdout


def test_recipes_are_checked():
    ns = {"__name__": "m"}
    for recipe, error in [
        ((), TypeError),
        (["builtins", "len"], TypeError),
        (("no_such_kind",), ValueError),
        (("builtins",), TypeError),
        (("builtins", 3), TypeError),
        (("builtins", "no_such_builtin"), KeyError),
        (("globals", ("X", 1, "other")), TypeError),
        (("callee", "f", "g"), TypeError),
        (("class_constant", "C", "X", [1]), TypeError),
        (("module_constant", "m", "X", [1]), TypeError),
        (("module_constant", "m"), TypeError),
    ]:
        with pytest.raises(error):
            _guards.conditions(recipe, ns, {})
