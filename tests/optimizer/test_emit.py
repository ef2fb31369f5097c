"""Emission: what a specialized function keeps (lines, signature, defaults, annotations,
docstring, decorators, kind, free variables) across every kind of function."""

import ast
import sys
import types

import pytest

import fatopt
from fatopt.optimizer import _code_pairs, _incompatible, optimize_ast, optimize_source
from tests.optimizer._diff import assert_same_behaviour, optimized_function, run_optimized, source_file


def compiled(source: str):
    source, path = source_file(source)
    return compile(optimize_ast(ast.parse(source), path), path, "exec", dont_inherit=True), path


def test_traceback_line_numbers_are_the_users():
    source = "def f(x=0):\n    n = len('ab')\n    y = 1\n    return y / x\n"
    plain, optimized = assert_same_behaviour(source, specialized=("f",))
    assert optimized.error == ("ZeroDivisionError", "division by zero", 4)


def test_statement_lines_survive_in_specialized_code():
    source = "def f():\n    a = len('ab')\n\n    b = a + 1\n    return b\n"
    text, _ = optimized_function(source)
    assert text is not None
    code, _path = compiled(source)
    f_code = next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == "f")
    plain = compile(source, "x", "exec").co_consts
    plain_f = next(c for c in plain if isinstance(c, types.CodeType) and c.co_name == "f")
    assert {n for _, _, n in f_code.co_lines() if n} == {n for _, _, n in plain_f.co_lines() if n}
    assert f_code.co_firstlineno == plain_f.co_firstlineno


def test_signature_defaults_annotations_docstring_and_defaults_evaluated_once():
    source = (
        "calls = []\n"
        "def d(v):\n    calls.append(v)\n    return v\n"
        "def f(a, b: int = d(1), /, c=d(2), *args, k: 'K' = d(3), **kw) -> 'R':\n"
        "    'doc'\n    return len('ab'), a, b, c, args, k, kw\n"
    )
    driver = (
        "import inspect\n"
        "result = (str(inspect.signature(f)), f.__doc__, f.__name__, f.__qualname__, f.__defaults__,"
        " f.__kwdefaults__, f.__annotations__, calls, f(0, 1, 2, 3, k=4, z=5))"
    )
    assert_same_behaviour(source, driver, specialized=("f",))


def test_decorators_apply_to_the_registered_function():
    source = (
        "import functools\n"
        "def deco(fn):\n    @functools.wraps(fn)\n    def wrapper(*a):\n        return ('wrapped', fn(*a))\n    wrapper.inner = fn\n    return wrapper\n"
        "@deco\ndef f():\n    return len('abc')\n"
    )
    driver = "result = (f(), f.__name__, f.inner.__name__)"
    plain, optimized = assert_same_behaviour(source, driver)
    assert fatopt.get_specialized(optimized.namespace["f"].inner)  # registered before deco ran


def test_methods_super_property_setter_classmethod_staticmethod():
    source = (
        "class B:\n    def m(self):\n        return 'B'\n"
        "class C(B):\n"
        "    def m(self):\n        return super().m() + str(len('ab'))\n"
        "    @property\n    def x(self):\n        return len('abc')\n"
        "    @x.setter\n    def x(self, value):\n        self.v = value + len('a')\n"
        "    @classmethod\n    def c(cls):\n        return cls.__name__, len('ab')\n"
        "    @staticmethod\n    def s():\n        return len('abcd')\n"
    )
    driver = (
        "o = C()\no.x = 1\n"
        "result = (o.m(), o.x, o.v, C.c(), C.s(), sorted(k for k in vars(C) if 'fatopt' in k),"
        " C.m.__qualname__, C.m.__code__.co_freevars)"
    )
    plain, optimized = assert_same_behaviour(source, driver, specialized=("C.m", "C.s"))
    assert "'__class__'" in optimized.result


def test_free_variables_stay_equal_when_super_is_folded_away():
    source = "DEBUG = False\nclass C:\n    def m(self):\n        return super().__repr__() if DEBUG else len('ab')\n"
    code, _ = compiled(source)
    pairs = list(_code_pairs(code, {("m", 3): ("m", 3)}))
    assert pairs and all(_incompatible(a, b) is None for a, b in pairs)
    assert pairs[0][1].co_freevars == ("__class__",)


def test_generators_coroutines_async_generators():
    source = (
        "import asyncio\n"
        "def g():\n    yield len('a')\n    yield len('ab')\n"
        "async def co():\n    return len('abc')\n"
        "async def ag():\n    yield len('abcd')\n"
        "async def main():\n    return await co(), [x async for x in ag()]\n"
    )
    driver = "import inspect\nresult = (list(g()), asyncio.run(main()), inspect.isasyncgenfunction(ag), inspect.iscoroutinefunction(co))"
    assert_same_behaviour(source, driver, specialized=("g", "co", "ag"))


def test_nested_functions_and_lambdas_are_not_specialized_by_default():
    source = (
        "def f():\n    def inner():\n        return len('ab')\n    k = lambda: len('abc')\n"
        "    return inner() + k() + len('a')\n"
    )
    text, report = optimized_function(source)
    assert "return len('ab')" in text and "lambda: len('abc')" in text
    assert_same_behaviour(source, specialized=("f",))


def test_nested_function_inherits_free_variables():
    source = (
        "def outer():\n    k = 2\n    def f():\n        return k * len('ab')\n    return f()\n"
        "def g():\n    y = 3\n    return (lambda: y)() + len('a')\n"
    )
    assert_same_behaviour(source, "result = (outer(), g())", specialized=("g",))


def test_class_body_temporary_names_do_not_leak():
    source = "import enum\nclass Color(enum.Enum):\n    RED = 1\n    def m(self):\n        return len('ab')\n"
    driver = "result = (list(Color), Color.RED.m(), [k for k in vars(Color) if 'fatopt' in k])"
    assert_same_behaviour(source, driver, specialized=("Color.m",))


def test_unchanged_functions_stay_as_they_are():
    source = "def f(x):\n    return x + 1\n"
    assert optimize_source(source, "m.py") == source


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695")
def test_type_parameters():
    source = "def f[T](x: T) -> T:\n    return (x, len('ab'), T.__name__)\n"
    assert_same_behaviour(source, "result = (f(1), [p.__name__ for p in f.__type_params__])", specialized=("f",))


def test_emitted_shape():
    text = optimize_source('"""doc"""\nfrom __future__ import annotations\ndef f(a, b=1):\n    return len("ab")\n', "m.py")
    lines = text.splitlines()
    assert lines[:3] == ['"""doc"""', "from __future__ import annotations", "import fatopt._guards as __fatopt_runtime__"]
    assert "def f(a, b):" in text  # the fallback: same name, no defaults
    assert "@__fatopt_runtime__.born(f, ('builtins', 'len'))" in text
    assert "def f(a, b=1):" in text and "del " not in text
    assert text.index("def f(a, b):") < text.index("def f(a, b=1):")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("class C:\n    @property\n    def x(self):\n        return 1\n    @x.setter\n    def x(self, v):\n        self.v = len('ab') + v\n", id="setter"),
        pytest.param("f = 1\ndef f(a=f):\n    return len('ab') + a\n", id="default"),
        pytest.param("f = int\ndef f(a: f = 0) -> f:\n    return len('ab') + a\n", id="annotation"),
    ],
)
def test_def_using_its_own_name_is_not_specialized(source):
    from fatopt.results import Report

    report = Report()
    optimize_source(source, "m.py", report=report)
    [row] = [r for r in report.functions if r.qualname.endswith("x") or r.qualname == "f"][-1:]
    assert row.status == "skipped" and "own name" in row.reason
    assert_same_behaviour(source, "result = None")


def test_nested_code_keeps_plain_qualnames():
    source = "N = 3\ndef f():\n    g = (x for x in (N, 2))\n    def inner():\n        return N\n    return g.__qualname__, inner.__qualname__, (lambda: N).__qualname__\n"
    plain, optimized = assert_same_behaviour(source, "result = f()", specialized=("f",))


def test_specialized_function_stays_specialized_after_calls():
    source = "def f():\n    return len('ab')\n"
    out = run_optimized(source, "import fatopt\nf(); f()\nresult = (bool(fatopt.get_specialized(f)), f.__code__.co_consts)")
    assert out.result.startswith("(True,")


def test_nested_functions_with_the_switch_on():
    from fatopt.config import Config

    config = Config.default().replace(specialize_nested=True)
    source = (
        "def parent(x=1):\n    k = 2\n    def inner(y=3):\n        return len('ab') + k + y\n    return inner\n"
        "def outer():\n    def inner2():\n        return len('a')\n    return inner2() + len('abc')\n"
    )
    driver = "import fatopt\ni = parent()\nresult = (i(), bool(fatopt.get_specialized(i)), outer())"
    plain, optimized = assert_same_behaviour(source, "result = (parent()(), outer())", config=config)
    out = run_optimized(source, driver, config)
    assert out.result == "(7, True, 4)"


def test_same_line_lambdas_are_not_taken_for_a_pair():
    # Two code objects with the same name on the same line (lambdas, genexps) once looked like
    # a fallback/specialized pair, were "refused" and made emission loop forever.
    source = "class C:\n    def m(self):\n        return len('ab'), (lambda: 1, lambda x: 2)\n"
    assert_same_behaviour(source, "result = C().m()[0]", specialized=("C.m",))


def test_pairs_of_user_decorated_functions_are_checked():
    source = "import functools\n@functools.lru_cache\ndef f(a):\n    return len('ab') + a\n"
    code, _ = compiled(source)
    pairs = list(_code_pairs(code, {("f", 3): ("f", 2)}))
    assert len(pairs) == 1 and pairs[0][0].co_firstlineno == 3 and pairs[0][1].co_firstlineno == 2


def test_guard_recipes_are_emitted_as_constants_for_every_kind_the_optimizer_may_request():
    # The passes of later issues request these kinds: emission is generic over them.
    import dis

    from fatopt.emit import Specialization, emit_module, guard_sources

    source = (
        "class Vector:\n    def norm(self):\n        return 1\n    LIMIT = 3\n"
        "def helper():\n    return 2\n"
        "def f():\n    return helper() + Vector().norm() + Vector.LIMIT + len('a')\n"
    )
    tree = ast.parse(source)
    node = tree.body[-1]
    recipes = (("builtins", "len"), ("callee", "helper"), ("class_attrs", "Vector", "norm"),
               ("class_constant", "Vector", "LIMIT", 3))
    body = [ast.Return(value=ast.Constant(7), lineno=node.lineno + 1, col_offset=4)]
    module = ast.fix_missing_locations(emit_module(tree, {node: Specialization(node, body, recipes)}))
    code = compile(module, "<kinds>", "exec")
    call = [i for i in dis.get_instructions(code) if i.positions.lineno == node.lineno]
    assert [i.argval for i in call if i.opname == "LOAD_CONST" and type(i.argval) is tuple] == list(recipes)
    assert not any(i.opname.startswith("BUILD_") for i in call)  # no dict, no tuple built at import
    ns: dict = {"__name__": "kinds"}
    exec(code, ns)
    assert ns["f"]() == 7
    [(_code, guards)] = fatopt.get_specialized(ns["f"])
    assert [repr(g) for g in guards] == list(guard_sources(recipes)) == [
        "GuardBuiltins('len')", "GuardCallee('helper')", "GuardClass('Vector', 'norm')",
        "GuardClassConstant('Vector', 'LIMIT', 3)",
    ]
    ns["Vector"].LIMIT = 4
    assert ns["f"]() == 8 and not fatopt.get_specialized(ns["f"])
