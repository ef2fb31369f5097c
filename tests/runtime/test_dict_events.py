"""Every way a watched dict can change, and the function following each change.

Each test registers `fast` (returns the folded value) with `plain` (computes it) as its original,
then changes the world and checks what the function returns and whether it is specialized.
"""

import builtins
import gc
import math
import sys
import types
from unittest import mock

import pytest

import fatopt
from fatopt.guards import GuardBuiltins, GuardDict, GuardGlobals

from .helpers import active, born, load

LEN_PAIR = """
def plain():
    return len("abc")
def fast():
    return 3
"""

DEBUG_PAIR = """
DEBUG = False
def plain():
    return "debug" if DEBUG else "fast"
def fast():
    return "fast"
"""


@pytest.fixture
def len_func():
    ns = load(LEN_PAIR)
    return ns, born(ns, "fast", "plain", GuardBuiltins("len"))


@pytest.fixture
def debug_func():
    ns = load(DEBUG_PAIR)
    return ns, born(ns, "fast", "plain", GuardGlobals(values={"DEBUG": False}))


def fake_len(s):
    return "fake"


# -- globals -------------------------------------------------------------------------------

def test_shadowing_global_and_del(len_func):
    ns, f = len_func
    ns["len"] = fake_len
    assert f() == "fake" and not active(f)
    del ns["len"]
    assert f() == 3 and active(f)


@pytest.mark.parametrize(
    "shadow, unshadow",
    [
        pytest.param(lambda g: g.update(len=fake_len), lambda g: g.pop("len"), id="update-pop"),
        pytest.param(lambda g: g.update({"len": fake_len}), lambda g: g.popitem(), id="update-dict-popitem"),
        pytest.param(lambda g: g.setdefault("len", fake_len), lambda g: g.__delitem__("len"), id="setdefault-delitem"),
        pytest.param(lambda g: exec("len = fake_len", g), lambda g: exec("del len", g), id="exec"),
        pytest.param(lambda g: exec("global len\nlen = fake_len", g), lambda g: g.pop("len"), id="exec-global"),
        pytest.param(lambda g: g.__setitem__("".join(["le", "n"]), fake_len), lambda g: g.pop("".join(["le", "n"])), id="non-interned-key"),
        pytest.param(lambda g: g.__setitem__(sys.intern("len"), fake_len), lambda g: g.pop(sys.intern("len")), id="interned-key"),
    ],
)
def test_globals_mutations(len_func, shadow, unshadow):
    ns, f = len_func
    ns["fake_len"] = fake_len
    shadow(ns)
    assert f() == "fake"
    unshadow(ns)
    assert "len" not in ns
    assert f() == 3 and active(f)


def test_setdefault_on_existing_key_changes_nothing(debug_func):
    ns, f = debug_func
    ns.setdefault("DEBUG", True)
    assert f() == "fast" and active(f)


def test_globals_clear(debug_func):
    ns, f = debug_func
    ns.clear()
    with pytest.raises(NameError):
        f()
    assert not active(f)
    ns["DEBUG"] = False
    assert f() == "fast" and active(f)


def test_module_constant_rebinding(debug_func):
    ns, f = debug_func
    ns["DEBUG"] = True
    assert f() == "debug"
    ns["DEBUG"] = 0  # falsy but not the constant False: original code, same answer
    assert f() == "fast" and not active(f)
    ns["DEBUG"] = False
    assert active(f)


def test_float_constants_compare_by_bits():
    ns = load("X = 0.0\ndef plain():\n    return X\ndef fast():\n    return 0.0\n")
    f = born(ns, "fast", "plain", GuardGlobals(values={"X": 0.0}))
    ns["X"] = -0.0
    assert math.copysign(1, f()) == -1
    ns["X"] = 0.0
    assert active(f)
    nan = load("X = float('nan')\ndef plain():\n    return X\ndef fast():\n    return X\n")
    g = born(nan, "fast", "plain", GuardGlobals(values={"X": float("nan")}))
    assert active(g)  # a NaN is the same constant as itself


class Key(str):
    """A str subclass: equal to "len" but never interned."""


class EqualsEverything:
    def __hash__(self):
        return hash("len")

    def __eq__(self, other):
        return True


def test_str_subclass_key(len_func):
    ns, f = len_func
    ns[Key("len")] = fake_len
    assert f() == "fake"
    del ns["len"]
    assert f() == 3 and active(f)


def test_key_with_custom_eq_overwrites_watched_binding(len_func):
    ns, f = len_func
    ns["len"] = fake_len
    ns[EqualsEverything()] = builtins.len  # replaces the value of the "len" entry
    assert f() == 3  # the original code looks up len: now the real one
    del ns["len"]
    assert f() == 3 and active(f)


def test_unrelated_keys_do_not_invalidate(len_func):
    ns, f = len_func
    for i in range(100):
        ns[f"name{i}"] = i
    ns[1] = "int key"
    ns[(1, 2)] = "tuple key"
    assert active(f)


# -- builtins ------------------------------------------------------------------------------

def test_builtins_patch_and_restore(len_func):
    ns, f = len_func
    saved = builtins.len
    builtins.len = fake_len
    try:
        assert f() == "fake"
    finally:
        builtins.len = saved
    assert f() == 3 and active(f)


def test_builtins_delete_and_restore(len_func):
    ns, f = len_func
    saved = builtins.len
    del builtins.len
    try:
        with pytest.raises(NameError):
            f()
    finally:
        builtins.len = saved
    assert f() == 3 and active(f)


def test_mock_patch_builtin_enter_exit(len_func):
    ns, f = len_func
    with mock.patch("builtins.len", fake_len):
        assert f() == "fake"
    assert f() == 3 and active(f)
    with mock.patch.object(builtins, "len", new=lambda s: 5):
        assert f() == 5
    assert f() == 3


def test_custom_builtins_dict():
    custom = dict(builtins.__dict__)
    ns = {"__builtins__": custom, "__name__": "custom"}
    exec(LEN_PAIR, ns)
    f = born(ns, "fast", "plain", GuardBuiltins("len"))
    assert f.__builtins__ is custom
    builtins.len = fake_len  # the real builtins module is not what f uses
    try:
        assert f() == 3 and active(f)
    finally:
        builtins.len = custom["len"]
    custom["len"] = fake_len
    assert f() == "fake"
    custom["len"] = builtins.len
    assert f() == 3


def test_builtins_bound_to_other_object_at_registration_never_specializes():
    custom = dict(builtins.__dict__, len=fake_len)
    ns = {"__builtins__": custom, "__name__": "custom2"}
    exec(LEN_PAIR, ns)
    f = born(ns, "fast", "plain", GuardBuiltins("len"))
    assert f() == "fake" and not active(f)


# -- other dicts ---------------------------------------------------------------------------

def test_mock_patch_module_attribute():
    module = types.ModuleType("config_mod")
    module.LIMIT = 10
    sys.modules["config_mod"] = module
    try:
        ns = load("import config_mod\ndef plain():\n    return config_mod.LIMIT * 2\ndef fast():\n    return 20\n")
        f = born(ns, "fast", "plain", GuardDict(module.__dict__, "LIMIT"), GuardGlobals("config_mod"))
        with mock.patch("config_mod.LIMIT", 1):
            assert f() == 2
        assert f() == 20 and active(f)
        with mock.patch.dict(module.__dict__, {"LIMIT": 4}):
            assert f() == 8
        assert f() == 20 and active(f)
    finally:
        del sys.modules["config_mod"]


@pytest.fixture
def watched_empty_dict():
    """(d, f): f, specialized on "k" being absent from the empty dict d, falls back to d.get."""
    d: dict = {}
    ns = load("def plain():\n    return D.get('k', 'none')\ndef fast():\n    return 'none'\n")
    ns["D"] = d
    return d, born(ns, "fast", "plain", GuardDict(d, "k"), GuardGlobals("D"))


def test_cloned_event(watched_empty_dict):
    d, f = watched_empty_dict
    d.update({"k": "cloned"})  # an empty exact dict updated from an exact dict: a CLONED event
    assert f() == "cloned"
    fatopt._guards.flush()
    assert not active(f)
    del d["k"]
    assert f() == "none"
    fatopt._guards.flush()
    assert active(f)


def test_cloned_event_with_unrelated_keys_revalidates_on_recheck(watched_empty_dict):
    d, f = watched_empty_dict
    d.update({"other": 1})
    assert f() == "none"
    fatopt._guards.flush()  # the re-check finds "k" still absent
    assert active(f)


def test_pending_recheck_runs_without_explicit_flush(watched_empty_dict):
    d, f = watched_empty_dict
    d.update({"other": 1})
    info = fatopt._guards.runtime_info
    for _ in range(1000):  # the eval loop runs pending calls at its next check
        if info()["pending"] == 0:
            break
    assert info()["pending"] == 0
    assert f.__code__ is fatopt._guards.get(f)[0]


def test_watched_dict_dies_with_its_functions():
    gc.collect()
    before = fatopt._guards.runtime_info()
    ns = load(DEBUG_PAIR + LEN_PAIR.replace("plain", "plain2").replace("fast", "fast2"))
    born(ns, "fast", "plain", GuardGlobals(values={"DEBUG": False}))
    born(ns, "fast2", "plain2", GuardBuiltins("len"))
    ns.clear()  # CLEARED: both fall back, then the functions and the dict go away
    del ns
    gc.collect()
    after = fatopt._guards.runtime_info()
    assert after["index_entries"] == before["index_entries"]
    assert after["specializations"] == before["specializations"]


def test_dict_deallocated_while_its_function_lives():
    # The function's globals can die before the function only in a cycle collected by gc; the
    # runtime must survive the DEALLOCATED event whatever the order.
    for _ in range(50):
        ns = load(DEBUG_PAIR)
        f = born(ns, "fast", "plain", GuardGlobals(values={"DEBUG": False}))
        f.__dict__["cycle"] = ns
        del ns, f
    gc.collect()
    assert fatopt._guards.runtime_info()["pending"] == 0 or fatopt._guards.flush() is None


def test_many_functions_on_one_key_and_many_keys_on_one_function():
    ns = load(LEN_PAIR + "\n".join(f"def f{i}():\n    return 3" for i in range(20)) + "\nX = 1\nY = 2\n")
    funcs = [born(ns, f"f{i}", "plain", GuardBuiltins("len"), GuardGlobals(values={"X": 1, "Y": 2})) for i in range(20)]
    ns["len"] = fake_len
    assert [f() for f in funcs] == ["fake"] * 20
    ns["X"] = 5
    del ns["len"]
    assert not any(active(f) for f in funcs)
    ns["X"] = 1
    assert all(active(f) for f in funcs)
