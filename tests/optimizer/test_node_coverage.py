"""Every ast node class is either handled or explicitly left alone (fatopt.analyses.node_kinds),
and the handling tables agree with the code that uses them."""

import ast
import inspect

from fatopt import folding
from fatopt.analyses import node_kinds
from fatopt.analyses.scopes import _DISPATCH
from fatopt.passes.fold_constants import ConstantFolder

# abstract bases and names kept only for backward compatibility
_NOT_NODES = {
    "AST", "mod", "stmt", "expr", "expr_context", "boolop", "operator", "unaryop", "cmpop",
    "excepthandler", "pattern", "type_ignore", "type_param", "slice", "Num", "Str", "Bytes",
    "NameConstant", "Ellipsis", "Index", "ExtSlice", "Suite", "Param", "AugLoad", "AugStore",
}

ALL = (node_kinds.SCOPE_AND_BINDING | node_kinds.FOLDED | node_kinds.BLOCKS | node_kinds.LEFT_ALONE
       | node_kinds.TRANSPARENT)


def concrete_node_classes():
    return {
        cls for name, cls in vars(ast).items()
        if inspect.isclass(cls) and issubclass(cls, ast.AST) and name not in _NOT_NODES
        and not name.startswith("_")
    }


def test_every_node_class_is_classified():
    missing = sorted(cls.__name__ for cls in concrete_node_classes() - ALL)
    assert not missing, f"decide how the optimizer treats: {missing}"


def test_scope_analysis_dispatches_only_classified_kinds():
    assert set(_DISPATCH) <= node_kinds.SCOPE_AND_BINDING | {ast.Constant}  # Constant: skipped


def test_folder_methods_match_the_folded_kinds():
    folded = {name[len("visit_"):] for name in vars(ConstantFolder) if name.startswith("visit_")}
    assert folded <= {cls.__name__ for cls in node_kinds.FOLDED}


def test_every_operator_is_folded_or_explicitly_not():
    operators = {cls for cls in concrete_node_classes() if issubclass(cls, ast.operator)}
    assert operators == set(folding._BINARY) | node_kinds.NOT_FOLDED_OPERATORS
    comparisons = {cls for cls in concrete_node_classes() if issubclass(cls, ast.cmpop)}
    assert comparisons == set(folding._COMPARE) | {ast.Is, ast.IsNot}
    unary = {cls for cls in concrete_node_classes() if issubclass(cls, ast.unaryop)}
    assert unary == set(folding._UNARY)
