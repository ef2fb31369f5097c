"""Pure builtin calls: folded with a GuardBuiltins, argument checks, shadowing, and following a
builtin patched or shadowed after definition."""

import pytest

from tests.optimizer._diff import (
    assert_same_behaviour,
    normalized,
    optimized_function,
    patched_builtin,
    run_optimized,
    run_plain,
)

CHANGES = [
    pytest.param("len('abc')", "3", id="len"),
    pytest.param("len((1, 2))", "2", id="len-tuple"),
    pytest.param("abs(-2.5)", "2.5", id="abs"),
    pytest.param("chr(65)", "'A'", id="chr"),
    pytest.param("ord('a')", "97", id="ord"),
    pytest.param("min(3, 1, 2)", "1", id="min"),
    pytest.param("max('abc')", "'c'", id="max-iterable"),
    pytest.param("sum((1, 2, 3))", "6", id="sum"),
    pytest.param("sum((0.5, 0.25), 1)", "1.75", id="sum-start"),
    pytest.param("int('ff', 16)", "255", id="int-base"),
    pytest.param("int(-2.7)", "-2", id="int-float"),
    pytest.param("float('1.5')", "1.5", id="float"),
    pytest.param("str(12)", "'12'", id="str"),
    pytest.param("repr('a')", '"\'a\'"', id="repr"),
    pytest.param("bool(0)", "False", id="bool"),
    pytest.param("tuple('ab')", "('a', 'b')", id="tuple"),
    pytest.param("divmod(7, 2)", "(3, 1)", id="divmod"),
    pytest.param("pow(2, 8)", "256", id="pow"),
    pytest.param("pow(3, 4, 5)", "1", id="pow-mod"),
    pytest.param("round(2.675, 2)", "2.67", id="round"),
    pytest.param("round(2.5)", "2", id="round-banker"),
    pytest.param("hex(255), oct(8), bin(5)", "('0xff', '0o10', '0b101')", id="hex-oct-bin"),
    pytest.param("len('ab') + len('c')", "3", id="folded-after"),
]

NOOPS = [
    pytest.param("def f():\n    return chr(-1)", id="raises"),
    pytest.param("def f():\n    return str(b'x')", id="bytes-warning"),
    pytest.param("def f(x=0):\n    return x and pow(2, 1000000)", id="huge"),
    pytest.param("def f():\n    return int('x')", id="bad-literal"),
    pytest.param("def f():\n    return float('nan')", id="nan"),
    pytest.param("def f():\n    return min(())", id="empty-min"),
    pytest.param("def f():\n    return sum(('a',))", id="sum-str"),
    pytest.param("def f():\n    return int('10', base=2)", id="keyword"),
    pytest.param("def f(x=(1,)):\n    return len(x)", id="not-constant"),
    pytest.param("def f():\n    return len(*('ab',))", id="starred"),
    pytest.param("def f(len=len):\n    return len('abc')", id="parameter"),
    pytest.param("def f():\n    len = str\n    return len('abc')", id="local"),
    pytest.param("len = str\ndef f():\n    return len('abc')", id="module-global"),
    pytest.param("def f():\n    return len('abc')\ndef g():\n    global len\n    len = str", id="global-write"),
    pytest.param("import builtins as len\ndef f():\n    return 1 if len else 2", id="import-shadow"),
    pytest.param("def f():\n    return [len('ab') for len in (str,)]", id="comprehension-target"),
    # (a generator expression consumed whole by list() becomes a comprehension first:
    # eliminate_genexpr; then its body is folded)
    pytest.param("def f():\n    return next(len('ab') for _ in (1,))", id="generator-expression-body"),
    pytest.param("def f():\n    return lambda: len('ab')", id="lambda-body"),
    pytest.param("def f():\n    return frozenset((1, 2))", id="frozenset-outside-membership"),
]


@pytest.mark.parametrize("call, value", CHANGES)
def test_folds(call, value):
    source = f"def f():\n    return {call}"
    text, report = optimized_function(source)
    assert text == normalized(f"def f():\n    return {value}")
    assert all(g.startswith("GuardBuiltins(") for g in report.specialized[0].guards)
    assert_same_behaviour(source, specialized=("f",))


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(source):
    text, _report = optimized_function(source)
    assert text is None
    assert_same_behaviour(source, "result = f()\nresult = result if not callable(result) else 'callable'")


def test_frozenset_in_membership_becomes_set_display():
    source = "def f(x=2):\n    return x in frozenset((1, 2, 2))"
    text, report = optimized_function(source)
    assert text == normalized("def f(x=2):\n    return x in {1, 2}")
    assert report.specialized[0].guards == ("GuardBuiltins('frozenset')",)
    assert_same_behaviour(source, "result = (f(), f(5))", specialized=("f",))


def test_empty_frozenset_is_not_replaced():
    # `[] in frozenset()` raises TypeError; `[] in ()` would not
    text, _ = optimized_function("def f(x=[]):\n    return x in frozenset(())")
    assert text is None


def test_follows_builtin_patched_after_definition():
    source = "def f():\n    return len('abc')"
    plain_before = run_plain(source, "result = f()")
    optimized = run_optimized(source, "import builtins\nold = builtins.len\nbuiltins.len = lambda s: 42\ntry:\n    result = f()\nfinally:\n    builtins.len = old")
    assert plain_before.result == "3"
    assert optimized.result == "42"


def test_follows_global_shadowing_after_definition():
    source = "def f():\n    return len('abc')"
    driver = "a = f()\nlen = lambda s: -1\nb = f()\ndel len\nresult = (a, b, f())"
    plain, optimized = assert_same_behaviour(source, driver, specialized=("f",))
    assert optimized.result == "(3, -1, 3)"


def test_patched_builtin_at_definition_time_runs_original():
    import ast

    from fatopt.optimizer import optimize_ast
    from tests.optimizer._diff import execute, source_file

    source, path = source_file("def f():\n    return len('abc')")
    code = compile(optimize_ast(ast.parse(source), path), path, "exec", dont_inherit=True)
    with patched_builtin("len", lambda s: 7):
        optimized = execute(code, path, "result = f()")
    assert optimized.result == "7"


def test_dynamic_module_folds_under_guard_and_follows_exec():
    source = "def f():\n    return len('abc')\ndef shadow():\n    exec('len = lambda s: -1', globals())\n"
    driver = "result = [f()]\nshadow()\nresult.append(f())\ndel len\nresult.append(f())"
    assert_same_behaviour(source, driver, specialized=("f",))


def test_folds_with_the_original_builtin_even_while_it_is_patched():
    # Optimizing while a test has patched len must not fold with the patch: once it is undone,
    # the guard holds and the folded value would run.
    import ast

    from fatopt.optimizer import optimize_ast

    with patched_builtin("len", lambda obj: 99):
        tree = optimize_ast(ast.parse("def f():\n    return len('abc')\n"), "<case>")
    # (rendered outside the patch: the standard library's ast.unparse uses len too)
    [spec] = [n for n in tree.body if isinstance(n, ast.FunctionDef)][-1:]
    assert ast.unparse(spec.body) == "return 3"
