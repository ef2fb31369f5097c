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


def test_nested_code_keeps_its_qualname() -> None:
    """Found by the fuzzer, fixed in d9a83fc: code nested in a specialized function was merged by
    the compiler with the identical code of its fallback, whose qualname was
    '__fatopt_orig_f.<locals>...'."""
    assert_same_behaviour("""
        N = 3
        def f():
            g = (x for x in (1, 2))
            def inner():
                pass
            return N, g, inner
        print(f()[1].__qualname__, f()[2].__qualname__)
    """)


def test_nested_code_of_the_fallback_keeps_its_qualname() -> None:
    """Same bug, fallback side (after invalidation); fixed in d9a83fc."""
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


def test_function_defined_while_a_builtin_is_patched() -> None:
    """Found with ``tools/fuzz.py --config specialize_nested=1``, fixed in d9a83fc: registration
    ran fatopt's Python code (``tuple(names)`` in fatopt.guards) with the program's patched
    builtins and raised TypeError into the program."""
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


def test_inverting_a_bool_constant_still_warns() -> None:
    # found by the 20,000-case long run on 3.12 and 3.13 (7 mismatches each; the 5 minimized were all this)
    assert_same_behaviour("""
        FLAG = True
        def f():
            return ~FLAG, ~bool((4, True))
        print(f())
    """)


def test_an_inlined_parameter_inverted_still_warns() -> None:
    """Found by the 3.12 run ``tools/fuzz.py --profile mixed --type-profile --seed 703``
    (2026-12-07): inlining ``h(2.5 != 1.5)`` substituted the folded argument for ``c`` in ``~c``,
    and CPython's compiler folded ``~True`` silently, dropping the DeprecationWarning the plain
    call raises at run time; a bool argument of a parameter the callee inverts now gets a
    temporary (or the call stays)."""
    assert_same_behaviour("""
        def h(a, c):
            return abs(~c)
        def g(a, c):
            x = ~c
            return x
        def f(a):
            print(h(0, 2.5 != 1.5), g(1, True), h(a, False))
        f(0)
    """)


def test_where_a_recursion_error_hit_is_not_compared() -> None:
    """Found by the same run: a self-inlined recursive coroutine (``await fib(n - 1) + await
    fib(n - 2)``, unbounded) hit the limit at the ``async def`` line plain and at the ``return``
    line optimized: docs/semantics.md ("Recursion depth"). The runner compares a RecursionError's
    traceback down to its last repeat marker, not the entries after it, nor its line."""
    from tests.fuzz.runner import _normalized

    def text(tail: str, outer: str = "drive") -> str:
        return (f'Traceback (most recent call last):\n  File "fuzz_case.py", line 9, in {outer}\n'
                '  File "fuzz_case.py", line 5, in fib\n  [Previous line repeated 994 more times]\n'
                f'{tail}RecursionError: maximum recursion depth exceeded\n')

    plain = text('  File "fuzz_case.py", line 4, in fib\n    async def fib(n):\n')
    optimized = text('  File "fuzz_case.py", line 5, in fib\n    return await fib(n - 1)\n')
    assert _normalized(plain) == _normalized(optimized)
    assert _normalized(plain) != _normalized(text("", outer="other"))  # what comes before still counts
    other = plain.replace("RecursionError: maximum recursion depth exceeded", "ValueError: x")
    assert _normalized(other) != _normalized(optimized.replace("RecursionError: maximum recursion depth exceeded",
                                                               "ValueError: x"))


def test_a_comprehension_reading_a_name_another_comprehension_binds() -> None:
    """Found by the long run on 3.12.1 (2026-11-22): 3.12 inlines comprehensions (PEP 709) and
    ``len``, the target of one, is then a local of the function inside the other: plain 3.12
    raises UnboundLocalError, 3.13 calls the builtin. fatopt folded ``len(...)`` (no error);
    on 3.12 it now leaves such a function as it is."""
    source = """
        def f1():
            out = []
            out.append({len: 1 for len in ()})
            out.append([len(('aaa',)) for c in b'ab'])
            return out
        def f2():
            return len('abc')
        try:
            print(f1())
        except Exception as e:
            print(type(e).__name__, e)
        print(f2())
    """
    assert_same_behaviour(source)


def test_a_nested_comprehension_reading_the_outer_target_is_still_optimized() -> None:
    assert_same_behaviour("""
        def g(m):
            return [[x * len("ab") for y in m] for x in (1, 2)]
        print(g("xy"))
    """)


@pytest.mark.parametrize("statement", [
    "assert False if True else False, b",
    "assert (False and b), b",
    "assert (b or 0) if 0 else '', b",
    "assert (FLAG if -2.25 else FLAG), b",
    "assert (True and b), b",
    "assert (() and b), b",
    "assert ([] and b), b",
    "assert (0 and b) or (), b",
    "for x in (b if True else ()):\n                pass",
    "return [x for x in (b if True else ())]",
    "return {x: 1 for y in (1,) for x in (True and b)}",
])
def test_a_folded_test_or_iterable_keeps_the_carets_of_the_whole_expression(statement: str) -> None:
    """Found when the fuzzer started comparing traceback text (3.13 shows carets under the
    position of the code that raised): a conditional expression or ``and``/``or`` folded to one of
    its operands gave that operand's position to the assert or the loop, whose carets then
    spanned the operand instead of the whole expression. A constant operand now takes the
    position of the whole; any other operand is not folded there (its own errors need its own)."""
    assert_same_behaviour(f"""
        import sys
        FLAG = False
        def f(b=0):
            n = len("ab")
            {statement}
        try:
            f()
        except Exception as e:
            _ERRORS = [e]
        sys.modules[__name__].FLAG = 0
        FLAG = 0
    """)


def test_an_unrolled_set_comprehension_with_an_unhashable_element_is_not_unrolled() -> None:
    """Found by the 20,000-case run on 3.12 once tracebacks were compared as text: a set
    comprehension over a constant tuple unrolled to a display reported the unhashable element
    with carets under the whole display (plain: under the element), and a display hashes only
    after making every element."""
    assert_same_behaviour("""
        def f():
            n = len("ab")
            return {"12".split() for c in (1, 7)}
        try:
            f()
        except TypeError as e:
            _ERRORS = [e]
    """)


@pytest.mark.parametrize("source", [
    "return min((-2 for min in range(1, 4) if True)) / 2",
    "return max(item for item in (3, 1, 2))",
    "return any(result for result in (0, 1))",
    "return min((None for min in b'ab'))",
])
def test_a_loop_consumer_whose_generator_names_match_its_temporaries(source: str) -> None:
    """Found by the 20,000-case run on the final main: the loop written for min/max named its
    result after the consumer, as the generator's own target `min` was renamed, so one
    overwrote the other."""
    assert_same_behaviour(f"""
        def f():
            n = len("ab")
            {source}
        try:
            _note = f()
        except TypeError as e:
            _ERRORS = [e]
    """)


def test_a_program_failing_with_a_builtin_patched_leaves_the_runner_intact() -> None:
    """Not a fatopt bug: the runner's own time limit restored its signal handler through
    ``signal.signal``, whose wrapper calls ``int()``; a program that stopped with ``builtins.int``
    still patched broke that restore, and the optimized run, second, saw the plain run's handler
    and failed elsewhere (fuzz seed 31, dunders). Both runs must fail the same way."""
    assert_same_behaviour("""
        import builtins as _b
        import sys
        _mod = sys.modules[__name__]
        _ORIG_int = int
        def f(x):
            return len("ab") + x
        print(f(1))
        _b.int = len
        print(f(2))
        del _mod.__dict__['frozenset']
        _b.int = _ORIG_int
    """)


def test_a_folded_call_giving_an_infinity_leaves_no_shared_nan() -> None:
    """Fuzz seed 83, profile calls: ``round(-1e309, 2)`` folded to ``-1e309`` let CPython fold
    ``-1e309 * 0`` into one NaN constant, so a set of three NaNs made in a loop had one element
    (plain Python makes a new NaN each time; NaN != NaN, so a set tells them apart by identity).
    Fixed: an infinity is never put in the code, as NaN never was."""
    assert_same_behaviour("""
        def f():
            s = {round(-1e309, 2) * 0 for c in ['a', 'b', 'c']}
            return len(s), float("inf") * 0 in (float("nan"),), len("abc")
        print(f())
    """)


def test_identity_with_a_constant_cpython_may_share_is_not_compared() -> None:
    """fuzz seed 107 (dunders): ``" x ".encode() * 0`` folded to the literal ``b''`` (CPython's
    one empty bytes) while plain 3.13.0 makes a new empty bytes; a module constant rebound to
    ``_fresh(b"")`` (which cannot make a new one) was then reported as the optimized result's
    identity only. Identity with such a value is CPython's choice (docs/semantics.md, "Folded
    calls return constants"): the harness's ``_identities`` leaves it out, and still reports a
    renewable one."""
    import sys
    from tests.fuzz.generator import PRELUDE
    module = type(sys)("identities_case")
    sys.modules["identities_case"] = module
    try:
        exec("\n".join(PRELUDE) + "\n_CONSTANTS = ('NOTHING', 'HALF')\nNOTHING = None\nHALF = 0.5\n"
             "_ORIGINALS = {name: _mod.__dict__[name] for name in _CONSTANTS}\n", module.__dict__)
        namespace = module.__dict__
        namespace["NOTHING"] = namespace["_fresh"](b"")
        namespace["HALF"] = namespace["_fresh"](0.5)
        identities = namespace["_identities"]
        assert identities(b"") == [] and identities(" x ".encode() * 0) == []
        assert identities(namespace["HALF"]) == ["HALF:1"] and identities(0.5) == []
    finally:
        del sys.modules["identities_case"]


# -- issue 17's fresh objects (the ``fresh`` profile, tests/fuzz/fresh.py) ---------------------------

def test_the_rest_copied_after_a_dunder_branch_runs_once() -> None:
    """Found by the ``fresh`` profile (a loop of two iterations, unrolled): two operator sites in
    one block, each dunder inlined making ``c`` in one branch of a conditional expression.
    fresh_receivers copies the rest after the first site's branch (the second site among it);
    a later scan, looking for a branch that makes the object inside the first site's statement,
    finds the copy of the second site there and copies the rest that follows the *first* site
    after it: the optimized run prints 'first' twice (specialize_operators or fresh_receivers
    off: the same)."""
    assert_same_behaviour("""
        class V:
            def __init__(self, x, y):
                self.x = x
                self.y = y
            def flag(self):
                return False
            def __sub__(self, other):
                return V(self.x - other.x, self.y - other.y) if other.flag() else U(other.x - self.x, other.y - self.y)
        class U:
            def __init__(self, x, y):
                self.x = x
                self.y = y
            def check(self):
                return 0
        def f(a: V, b: V):
            c = a - b
            print('first', c.check())
            c = a - b
            print('second', c.check())
            return 'done'
        print(f(V(1, 1), V(2, 1)))
    """)


#: a class given something by code the function runs after making ``v``, then ``v.x`` read with
#: no flag test between; ``globals()`` makes the module dynamic, so that on 3.12 ``V(a, b)``
#: stays a call (not ``__init__`` inlined), which scalar replacement needs
SCALAR_CHANGED = """
    class V:
        def __init__(self, x, y):
            self.x = x
            self.y = y
    def change():
        {change}
    def f(a, b, g):
        v = V(a, b)
        g()
        return v.x
    globals()['DYNAMIC'] = 1
    print(f(1, 2, change))
    print('end')
"""


@pytest.mark.xfail(strict=True, reason="documented difference scalar-read-after-change (docs/semantics.md, generator.DOCUMENTED_DIFFERENCES)")
@pytest.mark.parametrize("change", ["V.x = property(lambda self: 'property')",
                                    "V.__getattribute__ = lambda self, name: 'intercepted'"],
                         ids=["property", "getattribute"])
def test_a_class_changed_after_the_construction_is_seen_by_the_next_read(change: str) -> None:
    """Found by the ``fresh`` profile: scalar_replacement reads ``v.x`` from its local, as the
    flag held at the construction; plain Python finds the property (or ``__getattribute__``)
    the class got since. The pass's docstring names the property case a documented difference
    (docs/semantics.md), which docs/semantics.md does not have."""
    assert_same_behaviour(SCALAR_CHANGED.format(change=change))


@pytest.mark.xfail(strict=True, reason="documented difference scalar-finalizer (docs/semantics.md, generator.DOCUMENTED_DIFFERENCES)")
def test_a_finalizer_given_after_the_construction_runs() -> None:
    """Found by the ``fresh`` profile: plain Python runs the ``__del__`` the class got after ``v``
    was made when ``v`` dies; with scalar_replacement ``v`` was never made and nothing runs
    (only a later flag test would have materialized it)."""
    assert_same_behaviour(SCALAR_CHANGED.format(change="V.__del__ = lambda self: print('finalized', self.x)"))
