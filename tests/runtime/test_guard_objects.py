"""Guard objects: construction, validation, repr, equality and check() outside any function."""

import builtins
import math

import pytest

from fatopt.guards import (
    FAILS,
    FAILS_FOREVER,
    HOLDS,
    GuardArgType,
    GuardBuiltins,
    GuardDict,
    GuardFunc,
    GuardGlobals,
    GuardTypeAttr,
)

SOME_GLOBAL = object()


@pytest.mark.parametrize(
    "guard, text",
    [
        pytest.param(GuardBuiltins("len", "abs"), "GuardBuiltins('len', 'abs')", id="builtins"),
        pytest.param(GuardGlobals(values={"DEBUG": False}), "GuardGlobals(values={'DEBUG': False})", id="globals-values"),
        pytest.param(GuardGlobals("SOME_GLOBAL"), "GuardGlobals('SOME_GLOBAL')", id="globals-names"),
        pytest.param(GuardDict(math.__dict__, "pi"), "GuardDict(<dict of math>, 'pi')", id="dict"),
        pytest.param(GuardFunc(math.sqrt.__class__ and (lambda: 1)), "GuardFunc(<lambda>)", id="func"),
        pytest.param(GuardTypeAttr(dict, "get"), "GuardTypeAttr(dict, 'get')", id="type-attr"),
        pytest.param(GuardArgType(0, int), "GuardArgType(0, (int,))", id="arg-type"),
        pytest.param(GuardArgType(1, [int, float]), "GuardArgType(1, (int, float))", id="arg-types"),
    ],
)
def test_repr(guard, text):
    assert repr(guard) == text


@pytest.mark.parametrize(
    "make, error",
    [
        pytest.param(lambda: GuardBuiltins(), ValueError, id="builtins-no-names"),
        pytest.param(lambda: GuardBuiltins("not_a_builtin_xyz"), ValueError, id="builtins-unknown"),
        pytest.param(lambda: GuardBuiltins(3), TypeError, id="builtins-not-str"),
        pytest.param(lambda: GuardGlobals("a b"), TypeError, id="globals-not-identifier"),
        pytest.param(lambda: GuardDict({}.items(), "k"), TypeError, id="dict-not-dict"),
        pytest.param(lambda: GuardFunc(len), TypeError, id="func-builtin"),
        pytest.param(lambda: GuardTypeAttr(int, "no_such_attr"), ValueError, id="type-attr-missing"),
        pytest.param(lambda: GuardTypeAttr(3, "real"), TypeError, id="type-attr-not-type"),
        pytest.param(lambda: GuardArgType(-1, int), ValueError, id="arg-negative"),
        pytest.param(lambda: GuardArgType(0, 3), TypeError, id="arg-not-type"),
    ],
)
def test_invalid_construction(make, error):
    with pytest.raises(error):
        make()


def test_builtins_check_follows_shadowing_in_caller_namespace():
    guard = GuardBuiltins("len")
    assert guard.check() == HOLDS
    original = builtins.len
    builtins.len = lambda s: 0
    try:
        assert guard.check() == FAILS
    finally:
        builtins.len = original
    assert guard.check() == HOLDS
    globals()["len"] = original  # even the same object: a global shadows the builtins dict
    try:
        assert guard.check() == FAILS
    finally:
        del globals()["len"]


def test_globals_check_constant_identity_and_value():
    global SOME_GLOBAL
    saved = SOME_GLOBAL
    by_identity = GuardGlobals("SOME_GLOBAL")
    by_value = GuardGlobals(values={"SOME_GLOBAL": 0.0})
    assert by_identity.check() == HOLDS and by_value.check() == FAILS
    try:
        SOME_GLOBAL = 0.0
        assert by_identity.check() == FAILS and by_value.check() == HOLDS
        SOME_GLOBAL = -0.0  # equal, but not the same constant
        assert by_value.check() == FAILS
        SOME_GLOBAL = 0  # equal, other type
        assert by_value.check() == FAILS
    finally:
        SOME_GLOBAL = saved
    assert by_identity.check() == HOLDS


def test_dict_check_value_and_absence():
    d = {"a": 1}
    guard = GuardDict(d, "a", "b")
    assert guard.check() == HOLDS
    d["b"] = 2
    assert guard.check() == FAILS
    del d["b"]
    d["a"] = 1000  # a new object
    assert guard.check() == FAILS


def test_func_check_code_defaults_kwdefaults():
    def f(a=1, *, b=2):
        return a

    guard = GuardFunc(f)
    assert guard.check() == HOLDS
    for attr, value in [("__defaults__", (5,)), ("__kwdefaults__", {"b": 3}), ("__code__", (lambda a=1, *, b=2: 0).__code__)]:
        saved = getattr(f, attr)
        setattr(f, attr, value)
        assert guard.check() == FAILS, attr
        setattr(f, attr, saved)
        assert guard.check() == HOLDS, attr


def test_type_attr_check_follows_mro():
    class A:
        def m(self):
            return 1

    class B(A):
        pass

    guard = GuardTypeAttr(B, "m")
    assert guard.check() == HOLDS
    B.m = lambda self: 2
    assert guard.check() == FAILS
    del B.m
    assert guard.check() == HOLDS
    A.m = lambda self: 3
    assert guard.check() == FAILS


def test_arg_type_guard_always_holds_statically():
    assert GuardArgType(0, int).check() == HOLDS


def test_equality_and_hash():
    assert GuardBuiltins("len") == GuardBuiltins("len")
    assert GuardBuiltins("len") != GuardBuiltins("abs")
    assert GuardGlobals(values={"X": 1}) == GuardGlobals(values={"X": 1})
    assert GuardGlobals(values={"X": 1}) != GuardGlobals(values={"X": True})
    assert len({GuardBuiltins("len"), GuardBuiltins("len")}) == 1


def test_bound_guard_of_dead_function_fails_forever():
    def f():
        return 1

    bound = GuardBuiltins("len").bind(f)
    assert bound.check() == HOLDS
    del f
    import gc

    gc.collect()
    assert bound.check() == FAILS_FOREVER


def test_arg_type_index_validated_against_function():
    def f(a, b):
        return a

    GuardArgType(1, int).bind(f)
    with pytest.raises(ValueError, match="no argument 2"):
        GuardArgType(2, int).bind(f)


def test_globals_guard_binds_to_the_functions_namespace():
    ns = {"__name__": "elsewhere", "X": object()}
    exec("def f():\n    return X\n", ns)
    guard = GuardGlobals("X")  # X is not a global here: unbound, it expects X unbound
    assert guard.check() == HOLDS
    bound = guard.bind(ns["f"])
    assert bound.check() == HOLDS  # bound: X keeps the object it has in f's globals
    ns["X"] = object()
    assert bound.check() == FAILS


def test_globals_objects_require_the_very_object():
    global SOME_GLOBAL
    saved = SOME_GLOBAL
    try:
        SOME_GLOBAL = 10 ** 20
        guard = GuardGlobals(objects={"SOME_GLOBAL": SOME_GLOBAL})
        assert guard.check() == HOLDS
        SOME_GLOBAL = int(str(10 ** 20))  # equal, another object
        assert guard.check() == FAILS
        assert GuardGlobals(values={"SOME_GLOBAL": 10 ** 20}).check() == HOLDS
        assert repr(GuardGlobals(objects={"A": 1}, values={"B": 2})) == "GuardGlobals(objects={'A': 1}, values={'B': 2})"
    finally:
        SOME_GLOBAL = saved
    with pytest.raises(ValueError):
        GuardGlobals(values={"A": 1}, objects={"A": 1})
