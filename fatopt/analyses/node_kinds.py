"""How the optimizer treats every kind of ``ast`` node, in one place.

Like a ``switch`` without ``default:`` in CPython's ast_opt.c: a node kind added by a new Python
version is in none of these sets, and ``tests/optimizer/test_node_coverage.py`` fails until
someone decides what the optimizer must do with it.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

__all__ = ["SCOPE_AND_BINDING", "FOLDED", "BLOCKS", "LEFT_ALONE", "TRANSPARENT", "NOT_FOLDED_OPERATORS"]


def _kinds(*names: str) -> frozenset[type]:
    return frozenset(getattr(ast, name) for name in names if hasattr(ast, name))


#: create a scope, bind or declare names, or use them: fatopt.analyses.scopes handles each
SCOPE_AND_BINDING = _kinds(
    "Module", "FunctionDef", "AsyncFunctionDef", "Lambda", "ClassDef", "ListComp", "SetComp",
    "DictComp", "GeneratorExp", "comprehension", "Name", "NamedExpr", "Global", "Nonlocal",
    "Import", "ImportFrom", "alias", "ExceptHandler", "MatchAs", "MatchStar", "MatchMapping",
    "TypeAlias", "TypeVar", "ParamSpec", "TypeVarTuple", "arguments", "arg", "Yield",
    "YieldFrom", "Await", "For", "Call", "Attribute",
)
#: folded by fatopt.passes.fold_constants (or the call passes) when their operands are constant
FOLDED = _kinds("UnaryOp", "BinOp", "BoolOp", "Compare", "IfExp", "Subscript", "Slice", "Tuple",
                "Constant")
#: statements whose blocks dead-code removal and unrolling walk into
BLOCKS = _kinds("If", "While", "AsyncFor", "With", "AsyncWith", "Try", "TryStar", "Match",
                "match_case", "Return", "Raise", "Break", "Continue", "Pass")
#: never rewritten: printing them back or their meaning depends on their exact form
LEFT_ALONE = _kinds(
    "JoinedStr", "FormattedValue", "MatchValue", "MatchSingleton", "MatchSequence", "MatchClass",
    "MatchOr", "Interactive", "Expression", "FunctionType", "TypeIgnore", "AnnAssign",
)
#: no meaning of their own for the optimizer: the generic traversal visits their children
TRANSPARENT = _kinds(
    "Expr", "Assign", "AugAssign", "Delete", "Assert", "List", "Set", "Dict", "Starred",
    "keyword", "withitem", "Load", "Store", "Del", "And", "Or", "Add", "Sub", "Mult", "MatMult",
    "Div", "Mod", "Pow", "LShift", "RShift", "BitOr", "BitXor", "BitAnd", "FloorDiv", "Invert",
    "Not", "UAdd", "USub", "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In", "NotIn",
)
#: operators the folding helpers deliberately never compute (no constant supports them)
NOT_FOLDED_OPERATORS = _kinds("MatMult")
