"""``born``: the decorator the optimizer emits on each specialized function (C, in
fatopt/_guards.c), with the guards given as recipes (constant tuples)."""

from __future__ import annotations

import warnings

import pytest

import fatopt
from fatopt import _guards
from fatopt.runtime import born

from .helpers import load

SOURCE = """
DEBUG = False
def f():
    return len("abc") if not DEBUG else -1
@__born__
def f():
    return 3
"""


def module(decorator) -> dict:
    """A module whose second ``f`` (the specialized body) is decorated by ``decorator(first f)``."""
    ns: dict = {"__name__": "bornmod"}
    source = SOURCE.replace("@__born__", "@__decorate__(f)")
    ns["__decorate__"] = decorator
    exec(compile(source, "<bornmod>", "exec"), ns)
    return ns


def test_born_is_the_c_runtime():
    assert born is _guards.born


@pytest.mark.parametrize(
    "recipes, rebind, value",
    [
        ((("builtins", "len"),), ("len", lambda s: 7), 7),
        ((("globals", ("DEBUG", False)),), ("DEBUG", True), -1),
        ((("builtins", "len"), ("globals", ("DEBUG", False))), ("DEBUG", True), -1),
    ],
)
def test_guards_given_as_data_follow_rebinding(recipes, rebind, value):
    ns = module(lambda original: born(original, *recipes))
    f = ns["f"]
    assert f() == 3 and fatopt.get_specialized(f)
    ns[rebind[0]] = rebind[1]
    assert f() == value and not fatopt.get_specialized(f)
    del ns[rebind[0]]
    if rebind[0] == "DEBUG":
        ns["DEBUG"] = False
    _guards.flush()
    assert f() == 3 and fatopt.get_specialized(f)


def test_guard_objects_are_built_when_asked_for():
    ns = module(lambda original: born(original, ("builtins", "len"), ("globals", ("DEBUG", False))))
    [(code, guards)] = fatopt.get_specialized(ns["f"])
    assert [repr(g) for g in guards] == ["GuardBuiltins('len')", "GuardGlobals(objects={'DEBUG': False})"]


def test_the_fallback_is_named_after_the_function():
    ns = load("""
        def _original():
            return len("abc")
    """)
    ns["__decorate__"] = lambda original: born(original, ("builtins", "len"))
    exec("@__decorate__(_original)\ndef g():\n    return 3\n", ns)
    ns["len"] = lambda s: 0  # the original code runs now: its name is g's
    assert ns["g"]() == 0
    assert ns["g"].__code__.co_name == "g" and ns["g"].__code__.co_qualname == "g"


@pytest.mark.parametrize(
    "recipes, message",
    [
        pytest.param((), "needs at least one guard", id="no-guard"),
        pytest.param((("builtins", "no_such_builtin"),), "no_such_builtin", id="not-a-builtin"),
        pytest.param((("globals", ["DEBUG", False]),), "an entry is name", id="bad-entry"),
        pytest.param((("no_such_kind", "x"),), "unknown guard kind 'no_such_kind'", id="unknown-kind"),
        pytest.param(((),), "a guard recipe is a tuple", id="empty-recipe"),
        pytest.param((("builtins", "len"), {"valid": 3}), "valid must be a str", id="flag-name-not-a-str"),
    ],
)
def test_a_failed_registration_warns_and_keeps_the_original(recipes, message):
    *recipes, keywords = recipes if recipes and type(recipes[-1]) is dict else (*recipes, {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ns = module(lambda original: born(original, *recipes, **keywords))
    [warning] = caught
    assert issubclass(warning.category, RuntimeWarning)
    assert "f runs unoptimized" in str(warning.message) and message in str(warning.message)
    assert ns["f"]() == 3  # the original body (len("abc")), not registered
    assert not fatopt.get_specialized(ns["f"])
    ns["len"] = lambda s: 9
    assert ns["f"]() == 9


def test_born_checks_its_arguments():
    with pytest.raises(TypeError):
        born()
    with pytest.raises(TypeError):
        born(lambda: None, ["builtins", "len"])  # a tuple, as emitted
    with pytest.raises(TypeError):
        born(lambda: None, builtins=("len",))  # the keywords of earlier versions are gone
    with pytest.raises(TypeError):
        born(lambda: None, ("builtins", "len"), valid="x", other=1)


def test_born_binds_the_validity_flag():
    """``valid=NAME``: the list inlined call sites test, bound in the function's globals,
    [True] while the guards hold, [] while one is broken, and again [True] once it holds."""
    ns = module(lambda original: born(original, ("builtins", "len"), valid="__fatopt_valid_5_0__"))
    flag = ns["__fatopt_valid_5_0__"]
    assert type(flag) is list and flag == [True] and fatopt.get_specialized(ns["f"])
    ns["len"] = lambda s: 9
    assert flag == [] and ns["f"]() == 9
    del ns["len"]
    _guards.flush()
    assert flag == [True] and ns["f"]() == 3
