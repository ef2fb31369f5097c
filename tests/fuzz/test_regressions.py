"""Mismatches the differential fuzzer found, minimized, each run plain and optimized.

A test marked ``xfail(strict=True)`` is a fatopt bug still open: it starts failing ("XPASS")
the day the bug is fixed, which is the signal to drop the mark and to remove the bug from
``generator.KNOWN_BUGS`` so the fuzzer exposes it again. Expected behaviour is never written
down: the plain run is the oracle.
"""

from __future__ import annotations

import ast
import textwrap
import warnings

import pytest

import fatopt
from tests.fuzz.runner import FILENAME, compare

pytestmark = pytest.mark.skipif(not fatopt.AVAILABLE, reason="the guard runtime needs CPython 3.12+")


def assert_same_behaviour(source: str) -> None:
    result = compare(textwrap.dedent(source))
    assert result.specialized, "the reproducer no longer exercises the optimizer"
    assert result.matches, result.describe()


def test_identity_comparison_with_module_constant_is_not_substituted() -> None:
    """Fixed in d6da362 (known before fuzzing): ``x is _BIG`` became ``x is 1000``; a global
    rebound to an equal but distinct object kept the guard and the comparison went wrong."""
    assert_same_behaviour("""
        import sys
        _BIG = 1000
        _ONE = 1
        def f(x, y=3):
            return len("ab"), x is _BIG, y is not _ONE
        print(f(_BIG))
        sys.modules[__name__]._BIG = int("1000")
        print(f(_BIG))
    """)


def test_identity_comparison_with_module_constant_adds_no_syntax_warning() -> None:
    """Same bug, compile side: ``x is not 1`` in the emitted tree made the compiler warn."""
    source = textwrap.dedent("""
        _ONE = 1
        def f(x):
            return len("ab"), x is not _ONE
    """)
    tree = fatopt.optimize_ast(ast.parse(source), FILENAME)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SyntaxWarning)
        compile(tree, FILENAME, "exec", dont_inherit=True)


@pytest.mark.xfail(strict=True, reason="fatopt bug: a value guard (GuardGlobals(values=...)) holds "
                   "for an equal but distinct object, and the specialized code returns the "
                   "substituted constant instead of the global's object")
def test_constant_returned_keeps_the_identity_of_the_global() -> None:
    assert_same_behaviour("""
        import sys
        NAME = "a b"
        BIG = 1000
        def f():
            return NAME, BIG
        sys.modules[__name__].NAME = " ".join(["a", "b"])
        sys.modules[__name__].BIG = int("1000")
        print(f()[0] is NAME, f()[1] is BIG)
    """)


@pytest.mark.xfail(strict=True, reason="fatopt bug: code objects nested in a specialized function "
                   "are merged by the compiler with the identical ones of its fallback, so "
                   "closures and generator expressions carry the qualname '__fatopt_orig_f...'")
def test_nested_code_keeps_its_qualname() -> None:
    assert_same_behaviour("""
        N = 3
        def f():
            g = (x for x in (1, 2))
            def inner():
                pass
            return N, g, inner
        print(f()[1].__qualname__, f()[2].__qualname__)
    """)


@pytest.mark.xfail(strict=True, reason="fatopt bug: after invalidation the fallback's nested code "
                   "has the qualname '__fatopt_orig_f.<locals>...'")
def test_nested_code_of_the_fallback_keeps_its_qualname() -> None:
    assert_same_behaviour("""
        import sys
        N = 3
        def f():
            g = (x for x in (N, 2))
            return [g.__qualname__, (lambda: N).__qualname__]
        print(f())
        sys.modules[__name__].N = 4
        print(f())
    """)


@pytest.mark.xfail(strict=True, reason="fatopt bug: registering a specialization runs fatopt's own "
                   "Python code (fatopt.guards: tuple(names), ...) with the program's current "
                   "builtins, so a function defined while a builtin is patched makes the program "
                   "raise TypeError from the guard constructor")
def test_function_defined_while_a_builtin_is_patched() -> None:
    # found with tools/fuzz.py --config specialize_nested=1 (registration at every call of the
    # parent); the same happens at module level, e.g. a module imported inside mock.patch
    assert_same_behaviour("""
        import builtins
        saved = builtins.tuple
        builtins.tuple = lambda *args, **kwargs: args
        N = 3
        def f():
            return len("abc") + N
        builtins.tuple = saved
        print(f())
    """)
