"""Property: a folded constant expression has the value ``eval`` gives it (same type, same
repr: -0.0 and NaN included), and an expression that raises is never folded."""

import ast
import warnings

from hypothesis import given, settings, strategies as st

from fatopt.analyses import analyze_module, analyze_scopes
from fatopt.config import Config
from fatopt.folding import NOT_FOLDED, constant_value, same_constant
from fatopt.passes._rewrite import Unit
from fatopt.passes.fold_constants import ConstantFolder

ATOMS = st.one_of(
    st.integers(-300, 300).map(repr),
    st.sampled_from(["True", "False", "None", "0.0", "-0.0", "1e308", "0.5", "1j", "''", "'ab'", "b'x'", "()", "(1, 'a')", "10 ** 20"]),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(alphabet="ab\u00e9", max_size=3).map(repr),
)
CONFIG = Config.default()
BINARY = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^"]
COMPARE = ["<", "<=", "==", "!=", ">", ">=", "in", "not in", "is", "is not"]


def expressions():
    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "+", "~", "not "]), inner).map(lambda t: f"({t[0]}{t[1]})"),
            st.tuples(inner, st.sampled_from(COMPARE), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]}, {t[1]})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
        )

    return st.recursive(ATOMS, extend, max_leaves=6)


def fold(source: str):
    tree = ast.parse(f"def f():\n    return {source}")
    node = tree.body[0]
    scopes = analyze_scopes(tree)
    unit = Unit(node, scopes.scope_of(node), analyze_module(tree, scopes, CONFIG), CONFIG, "f")
    folder = ConstantFolder(unit)
    value = folder.visit(node.body[0].value)
    return constant_value(value)


@settings(max_examples=400, deadline=None)
@given(expressions())
def test_folded_value_equals_eval(source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folded = fold(source)
        if folded is NOT_FOLDED:
            # Not evaluated: the folder's size limits are what keep `10 ** 20 ** 300` from
            # running for ever; eval has none.
            return
        try:
            expected = eval(source, {"__builtins__": {}})
            raised = None
        except Exception as exc:  # noqa: BLE001 - any exception type is part of the property
            raised = type(exc)
    assert raised is None, f"{source} raises {raised} but was folded to {folded!r}"
    assert same_constant(folded, expected), f"{source}: folded {folded!r}, eval {expected!r}"


@settings(max_examples=200, deadline=None)
@given(expressions())
def test_folded_value_prints_back_as_itself(source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folded = fold(source)
    if folded is NOT_FOLDED:
        return
    text = ast.unparse(ast.Constant(folded))
    assert same_constant(eval(text, {"__builtins__": {}}), folded)
