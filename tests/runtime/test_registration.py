"""register/specialize/unspecialize/get_specialized/stats, and what registration refuses."""

import gc

import pytest

import fatopt
from fatopt.guards import GuardArgType, GuardBuiltins, GuardGlobals

from .helpers import active, born, load

PAIR = """
def plain():
    return len("abc")
def fast():
    return 3
"""


def test_register_born_specialized_function():
    ns = load(PAIR)
    fast_code = ns["fast"].__code__
    assert fatopt.register(ns["fast"], ns["plain"], [GuardBuiltins("len")]) is True
    assert ns["fast"]() == 3
    [(code, guards)] = fatopt.get_specialized(ns["fast"])
    assert code is fast_code
    assert guards == [GuardBuiltins("len")]
    assert guards[0].check() == 0


def test_original_code_is_renamed_after_the_function():
    ns = load(PAIR)
    born(ns, "fast", "plain", GuardBuiltins("len"))
    ns["len"] = lambda s: -1
    code = ns["fast"].__code__
    assert (code.co_name, code.co_qualname) == ("fast", "fast")
    assert ns["fast"]() == -1


def test_specialize_installs_code_on_existing_function():
    ns = load(PAIR)
    plain = ns["plain"]
    original = plain.__code__
    assert fatopt.specialize(plain, ns["fast"].__code__, [GuardBuiltins("len")]) is True
    assert plain.__code__ is ns["fast"].__code__
    ns["len"] = lambda s: 10
    assert plain() == 10 and plain.__code__ is original
    del ns["len"]
    assert plain() == 3


def test_guard_failing_at_registration_installs_original_until_it_holds():
    ns = load(PAIR + "len = lambda s: 'shadow'\n")
    func = born(ns, "fast", "plain", GuardBuiltins("len"))
    assert func() == "shadow" and not active(func)
    del ns["len"]
    assert func() == 3 and active(func)


def test_register_returns_false_when_guard_fails_now():
    ns = load(PAIR + "X = 1\n")
    assert fatopt.register(ns["fast"], ns["plain"], [GuardGlobals(values={"X": 2})]) is False


def test_unspecialize_restores_original_for_good():
    ns = load(PAIR)
    func = born(ns, "fast", "plain", GuardBuiltins("len"))
    assert fatopt.unspecialize(func) is True
    assert func.__code__ is not None and func() == 3 and not active(func)
    ns["len"] = lambda s: 7
    assert func() == 7
    del ns["len"]
    assert not active(func)
    assert fatopt.unspecialize(func) is False


def test_user_code_assignment_removes_specialization_for_good():
    ns = load(PAIR + "def other():\n    return 'user'\n", name="usercode")
    func = born(ns, "fast", "plain", GuardBuiltins("len"))
    func.__code__ = ns["other"].__code__
    ns["len"] = lambda s: 0  # the runtime must not put its original back over the user's code
    assert func() == "user"
    del ns["len"]
    assert func() == "user"
    assert fatopt.get_specialized(func) == []
    assert all(row["function"] != "usercode.fast" for row in fatopt.stats()["functions"])


def test_user_code_assignment_while_invalidated_is_respected():
    ns = load(PAIR + "def other():\n    return 'user'\n")
    func = born(ns, "fast", "plain", GuardBuiltins("len"))
    ns["len"] = lambda s: 0
    func.__code__ = ns["other"].__code__
    del ns["len"]  # revalidation must not overwrite the user's code
    assert func() == "user"


def test_already_specialized_is_refused():
    ns = load(PAIR)
    func = born(ns, "fast", "plain", GuardBuiltins("len"))
    with pytest.raises(ValueError, match="already specialized"):
        fatopt.register(func, ns["plain"], [GuardBuiltins("len")])


MISMATCHES = [
    pytest.param("def a(x): return x", "def b(x, y): return x", "argument counts", id="argcount"),
    pytest.param("def a(x, /): return x", "def b(x): return x", "argument counts", id="posonly"),
    pytest.param("def a(*, k): return k", "def b(k): return k", "argument counts", id="kwonly"),
    pytest.param("def a(x): return x", "def b(y): return y", "argument names", id="names"),
    pytest.param("def a(*args): return 1", "def b(*rest): return 1", "argument names", id="varargs-name"),
    pytest.param("def a(x): return x", "def b(*x): return 1", "argument counts|kind", id="varargs"),
    pytest.param("def a(): yield 1", "def b(): return 1", "kind", id="generator"),
    pytest.param("async def a(): return 1", "def b(): return 1", "kind", id="coroutine"),
    pytest.param("async def a(): yield 1", "async def b(): return 1", "kind", id="async-generator"),
]


@pytest.mark.parametrize("orig_src, fast_src, what", MISMATCHES)
def test_incompatible_codes_are_refused(orig_src, fast_src, what):
    ns = load(orig_src + "\n" + fast_src + "\n")
    before = ns["b"].__code__
    with pytest.raises(ValueError, match=what):
        fatopt.register(ns["b"], ns["a"], [GuardBuiltins("len")])
    assert ns["b"].__code__ is before
    with pytest.raises(ValueError, match=what):
        fatopt.specialize(ns["a"], ns["b"].__code__, [GuardBuiltins("len")])


def test_mismatched_free_variables_are_refused():
    ns = load(
        """
        def outer():
            x = 1
            y = 2
            def a():
                return x
            def b():
                return y
            return a, b
        """
    )
    a, b = ns["outer"]()
    with pytest.raises(ValueError, match="free variables"):
        fatopt.register(b, a, [GuardBuiltins("len")])


def test_closures_with_same_free_variables_are_accepted():
    ns = load(
        """
        def outer():
            x = "abc"
            def a():
                return len(x)
            def b():
                return 3 if x else 3
            return a, b
        """
    )
    a, b = ns["outer"]()
    assert fatopt.register(b, a, [GuardBuiltins("len")])
    ns["len"] = lambda s: "shadow"
    assert b() == "shadow"


@pytest.mark.parametrize(
    "call, error",
    [
        pytest.param(lambda f, c: fatopt.register(len, c, [GuardBuiltins("len")]), TypeError, id="not-function"),
        pytest.param(lambda f, c: fatopt.register(f, "code", [GuardBuiltins("len")]), TypeError, id="not-code"),
        pytest.param(lambda f, c: fatopt.register(f, c, []), ValueError, id="no-guards"),
        pytest.param(lambda f, c: fatopt.register(f, c, ["len"]), TypeError, id="not-guard"),
        pytest.param(lambda f, c: fatopt.specialize(f, "code", [GuardBuiltins("len")]), TypeError, id="specialize-not-code"),
    ],
)
def test_bad_arguments(call, error):
    ns = load(PAIR)
    with pytest.raises(error):
        call(ns["fast"], ns["plain"].__code__)


def test_arg_type_guard_is_recorded_and_validated():
    ns = load("def plain(x):\n    return x + 1\ndef fast(x):\n    return x + 1\n")
    born(ns, "fast", "plain", GuardArgType(0, int))
    [(_, guards)] = fatopt.get_specialized(ns["fast"])
    assert guards == [GuardArgType(0, int)]
    with pytest.raises(ValueError):
        fatopt.register(ns["plain"], ns["fast"], [GuardArgType(3, int)])


METHODS = """
import functools
class C:
    def method(self):
        return len("abc")
    @classmethod
    def klass(cls):
        return len("abc")
    @staticmethod
    def static():
        return len("abc")
@functools.lru_cache
def cached():
    return len("abc")
"""


def test_get_specialized_of_methods_is_that_of_their_function():
    import ast

    from fatopt.optimizer import optimize_ast

    ns: dict = {"__name__": "methods"}
    exec(compile(optimize_ast(ast.parse(METHODS), "methods.py"), "methods.py", "exec"), ns)
    C = ns["C"]
    function = vars(C)["method"]
    [(code, guards)] = fatopt.get_specialized(function)
    assert guards == [GuardBuiltins("len")]
    for ways in (C().method, C.klass, C().klass, vars(C)["klass"], C.static, vars(C)["static"], ns["cached"]):
        [(code, guards)] = fatopt.get_specialized(ways)
        assert guards == [GuardBuiltins("len")] and code.co_name in ("klass", "static", "method", "cached")
    fatopt.unspecialize(function)
    assert fatopt.get_specialized(C().method) == []
    assert fatopt.get_specialized(lambda: 0) == []


@pytest.mark.parametrize("value", [len, object(), [].append, 42, "f", type, None])
def test_get_specialized_of_non_functions_raises_type_error(value):
    with pytest.raises(TypeError, match=r"get_specialized\(\) needs a Python function.* got "):
        fatopt.get_specialized(value)


def test_stats_count_invalidations_and_revalidations():
    ns = load(PAIR, name="statsmod")
    func = born(ns, "fast", "plain", GuardBuiltins("len"))
    for _ in range(3):
        ns["len"] = lambda s: 0
        del ns["len"]
    ns["len"] = lambda s: 0
    stats = fatopt.stats()
    [row] = [r for r in stats["functions"] if r["function"] == "statsmod.fast"]
    assert row == {"function": "statsmod.fast", "active": False, "guards": 1, "invalidations": 4, "revalidations": 3}
    assert stats["available"] and stats["live"] >= 1 and stats["registered"] >= 1
    assert stats["active"] + stats["invalidated"] == stats["live"]
    del ns["len"]
    assert func() == 3


def test_specialization_dies_with_its_function():
    info = fatopt._guards.runtime_info
    gc.collect()
    before = info()
    ns = load(PAIR)
    born(ns, "fast", "plain", GuardBuiltins("len"))
    assert info()["specializations"] == before["specializations"] + 1
    ns.clear()
    gc.collect()
    after = info()
    assert after["specializations"] == before["specializations"]
    assert after["index_entries"] == before["index_entries"]


def test_runtime_is_a_singleton():
    import importlib.util
    import sys

    spec = importlib.util.find_spec("fatopt._guards")
    saved = sys.modules.pop("fatopt._guards")
    try:
        with pytest.raises(ImportError, match="already loaded"):
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
    finally:
        sys.modules["fatopt._guards"] = saved
