"""``fatopt._guards.inlined_raised`` called from hand-written handlers: which exceptions it edits
(LINES), the entry it adds, PEP 479's replacement (STOP_MESSAGE), and what it leaves alone. The
optimizer's use of it (positions, nesting) is tested in tests/optimizer/test_inline_functions.py."""

import pytest

import fatopt

pytestmark = pytest.mark.skipif(not fatopt.AVAILABLE, reason="the guard runtime needs CPython 3.12+")

def caller(what, lines, stop=None, name="callee"):
    try:
        if what == "stop":
            raise StopIteration("s")
        return 1 // what
    except:  # noqa: E722
        fatopt._guards.inlined_raised(name, lines, stop)
        raise


def _entries(exc):
    out = []
    tb = exc.__traceback__
    while tb is not None:
        out.append((tb.tb_frame.f_code.co_name, tb.tb_lineno))
        tb = tb.tb_next
    return out


FIRST = caller.__code__.co_firstlineno
RAISE_LINE = FIRST + 4  # `return 1 // what`
HANDLER_LINE = FIRST + 6


def test_acts_on_a_raise_within_lines():
    with pytest.raises(ZeroDivisionError) as info:
        caller(0, (FIRST, FIRST + 5))
    entries = _entries(info.value)
    assert entries[-2:] == [("caller", HANDLER_LINE), ("callee", RAISE_LINE)]
    callee_frame = info.value.__traceback__
    while callee_frame.tb_next is not None:
        callee_frame = callee_frame.tb_next
    assert callee_frame.tb_frame.f_locals == {}  # a new frame: no locals (docs/semantics.md)


def test_lines_none_acts_on_anything():
    with pytest.raises(ZeroDivisionError) as info:
        caller(0, None)
    assert _entries(info.value)[-2:] == [("caller", HANDLER_LINE), ("callee", RAISE_LINE)]


@pytest.mark.parametrize(
    "name, co_name", [("Vec.dot", "dot"), ("A.B.dot", "dot"), ("dot", "dot"), ("Vec.", "")],
)
def test_a_qualified_name_is_the_entrys_qualname_its_last_part_the_name(name, co_name):
    # a staticmethod's entry: co_name "dot", co_qualname "Vec.dot", as plain shows them
    with pytest.raises(ZeroDivisionError) as info:
        caller(0, None, name=name)
    tb = info.value.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    assert (code.co_name, code.co_qualname) == (co_name, name)


def test_leaves_a_raise_outside_lines_alone():
    with pytest.raises(ZeroDivisionError) as info:
        caller(0, (1, 2))
    assert _entries(info.value)[-1:] == [("caller", RAISE_LINE)]


def test_stop_iteration_becomes_pep_479_runtime_error():
    with pytest.raises(RuntimeError, match="^generator raised StopIteration$") as info:
        caller("stop", None, "generator raised StopIteration")
    error = info.value
    assert type(error.__cause__) is StopIteration and error.__context__ is error.__cause__
    assert _entries(error)[-1:] == [("caller", HANDLER_LINE)]
    assert _entries(error.__cause__) == [("callee", FIRST + 3)]


def test_stop_iteration_kept_without_a_message():
    with pytest.raises(StopIteration) as info:
        caller("stop", None, None)
    assert _entries(info.value)[-2:] == [("caller", HANDLER_LINE), ("callee", FIRST + 3)]


def test_other_exceptions_are_not_replaced_by_the_stop_message():
    with pytest.raises(ZeroDivisionError):
        caller(0, None, "coroutine raised StopIteration")


def two_copies(a, b, sites):
    # two copies of a callee's `1 // x` in one statement, each after its call's own code (the
    # first load of `a` or `b` stands for the call as written, at the call's position)
    try:
        return (a, 1 // a)[1] + (b, 1 // b)[1]
    except:  # noqa: E722
        fatopt._guards.inlined_raised("callee", None, None, sites)
        raise


def _sites(function, line_offset):
    """The positions of the loads of ``a`` and ``b`` (standing for two calls) in the statement
    ``line_offset`` lines into ``function``, and a helper giving the position of the entry of
    ``function`` in a traceback."""
    import linecache
    code = function.__code__
    line = code.co_firstlineno + line_offset
    text = linecache.getline(__file__, line)

    def position(name):
        for (start, end, col, end_col) in code.co_positions():
            if start == line and col == text.index(f"({name},") + 1:
                return (start, end, col, end_col)
        raise AssertionError("no such instruction")

    def entry(exc):
        tb = exc.__traceback__
        while tb.tb_frame.f_code is not code:
            tb = tb.tb_next
        return tb, list(code.co_positions())[tb.tb_lasti // 2]

    return (position("a"), position("b")), entry


def nested_copies(a, b, sites):
    # two_copies, each copy holding a copy of a callee of its own ("inner"), whose handler runs
    # first and moves the entry to its own call, after the statement's code
    try:
        try:
            return (a, 1 // a)[1] + (b, 1 // b)[1]
        except:  # noqa: E722
            fatopt._guards.inlined_raised("inner", None, None)
            raise
    except:  # noqa: E722
        fatopt._guards.inlined_raised("callee", None, None, sites)
        raise


@pytest.mark.parametrize("function, line_offset", [(two_copies, 4), (nested_copies, 5)], ids=["copies", "nested"])
def test_sites_move_the_entry_to_the_call_of_the_copy_that_raised(function, line_offset):
    # (nested: found from the innermost callee's entry, the inner handler having moved the
    # caller's entry to its own call)
    sites, entry = _sites(function, line_offset)
    for a, b, raised_at in ((0, 1, sites[0]), (1, 0, sites[1])):
        with pytest.raises(ZeroDivisionError) as info:
            function(a, b, sites)
        tb, position = entry(info.value)
        assert position == raised_at
        names = []
        while (tb := tb.tb_next) is not None:
            names.append(tb.tb_frame.f_code.co_name)
            last = tb
        assert names == ["callee"] + (["inner"] if function is nested_copies else [])
        assert last.tb_lineno == raised_at[0]  # the innermost entry at the raising instruction


def _boom(x):
    return 1 // x


def calls_out(x, sites):
    # the copy's instruction calls a function that raises: its entry follows the caller's
    try:
        return (x, 1 + _boom(x))[1]
    except:  # noqa: E722
        fatopt._guards.inlined_raised("callee", None, None, sites)
        raise


def test_an_entry_of_another_code_is_not_taken_for_an_inner_callee():
    line = calls_out.__code__.co_firstlineno + 3
    site = next(p for p in calls_out.__code__.co_positions() if p[0] == line and p[2] == 16)  # the `x` load
    with pytest.raises(ZeroDivisionError) as info:
        calls_out(0, (site,))
    tb = info.value.__traceback__
    while tb.tb_frame.f_code is not calls_out.__code__:
        tb = tb.tb_next
    # the scan started at the call of _boom (had it started in _boom's code, it would find no site)
    assert list(calls_out.__code__.co_positions())[tb.tb_lasti // 2] == site
    assert [t[0] for t in _entries(info.value)][-3:] == ["calls_out", "callee", "_boom"]


@pytest.mark.parametrize("sites", [((1, 1, 1, 1),), (("x",),), ((1, 2),)])
def test_sites_that_match_no_instruction_leave_the_exception_alone(sites):
    with pytest.raises(ZeroDivisionError) as info:
        two_copies(0, 1, sites)
    assert _entries(info.value)[-1:] == [("two_copies", two_copies.__code__.co_firstlineno + 4)]


@pytest.mark.parametrize("args", [(1, None, None), ("f", (1,), None), ("f", None, 3), ("f", None),
                                  ("f", None, None, [(1, 1, 1, 1)]), ("f", None, None, None, None)])
def test_bad_arguments_raise_type_error(args):
    with pytest.raises(TypeError):
        fatopt._guards.inlined_raised(*args)


def test_without_an_exception_being_handled_does_nothing():
    assert fatopt._guards.inlined_raised("f", None, None) is None


# -- raise_exception: the `raise` of a method inlined as one expression ---------------------------

class _Made(Exception):
    pass


class _NotAnException(Exception):
    def __new__(cls):
        return 5


def _outcome(raiser, what, handling):
    """(type, args, context's type) of what ``raiser(what)`` raises, while handling a KeyError
    if ``handling``."""
    try:
        if handling:
            try:
                raise KeyError("outer")
            except KeyError:
                raiser(what)
        else:
            raiser(what)
    except BaseException as exc:  # noqa: BLE001 - every kind, compared below
        return type(exc), exc.args, type(exc.__context__), exc.__cause__, exc.__suppress_context__
    raise AssertionError("nothing raised")


def _statement(what):
    raise what


@pytest.mark.parametrize("what", [IndexError, IndexError("i", 2), _Made, _Made("m"), _NotAnException, 5, None,
                                  KeyboardInterrupt], ids=repr)
@pytest.mark.parametrize("handling", [False, True])
def test_raise_exception_raises_what_the_statement_raises(what, handling):
    assert _outcome(fatopt._guards.raise_exception, what, handling) == _outcome(_statement, what, handling)


def test_raise_exception_adds_no_traceback_entry_of_its_own():
    with pytest.raises(IndexError) as info:
        fatopt._guards.raise_exception(IndexError)
    assert [name for name, _line in _entries(info.value)] == ["test_raise_exception_adds_no_traceback_entry_of_its_own"]
