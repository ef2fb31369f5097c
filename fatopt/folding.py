"""Folding that cannot go wrong: compute an operation on constants only when the result is
certain, small and printable, else report ``NOT_FOLDED``.

Every helper checks sizes *before* computing (``2 ** 10**9`` is never attempted), catches any
exception the operation raises (the node is then left alone, so the program raises at run time as
it would have), and checks the result with :func:`is_foldable_value` (its type can be written as
a literal in source, it is within the :class:`~fatopt.config.Config` limits, it survives
``ast.unparse`` unchanged). Passes fold only through these helpers.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import marshal
import math
import operator
from typing import Any, Callable

from fatopt.config import Config

__all__ = [
    "NOT_FOLDED",
    "constant_value",
    "is_foldable_value",
    "same_constant",
    "safe_unary",
    "safe_binop",
    "safe_compare",
    "safe_subscript",
    "make_constant",
    "evaluate",
]


class _NotFolded:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_FOLDED"


#: Returned by every helper that declined to fold.
NOT_FOLDED: Any = _NotFolded()

_LITERAL_SCALARS = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))


def constant_value(node: ast.AST) -> Any:
    """The value of a constant expression node (``Constant`` or a ``Tuple`` of them), else
    ``NOT_FOLDED``. Only forms the compiler itself treats as constants count."""
    if type(node) is ast.Constant:
        return node.value
    if type(node) is ast.Tuple and type(node.ctx) is ast.Load:
        items = constant_values(node.elts)
        return NOT_FOLDED if items is None else items
    return NOT_FOLDED


def constant_values(nodes: list[ast.expr]) -> tuple | None:
    """The values of ``nodes`` if every one is a constant (see :func:`constant_value`), else None."""
    values = []
    for node in nodes:
        value = constant_value(node)
        if value is NOT_FOLDED:
            return None
        values.append(value)
    return tuple(values)


def same_constant(a: Any, b: Any) -> bool:
    """Identical constants: same type and same repr, so ``0.0`` is not ``-0.0`` and ``True`` is
    not ``1`` (``==`` says both are equal)."""
    if type(a) is not type(b):
        return False
    if type(a) is tuple:
        return len(a) == len(b) and all(same_constant(x, y) for x, y in zip(a, b, strict=False))
    return repr(a) == repr(b)


def _not_finite(value: Any) -> bool:
    """A NaN, or an infinity: CPython's compiler folds an operation on a constant infinity
    (``inf * 0``, ``inf - inf``) into one NaN constant, shared by every evaluation, where the
    plain code makes a new NaN each time (``{x * 0 for _ in 'ab'}`` has two elements, not one)."""
    if type(value) is float:
        return not math.isfinite(value)
    if type(value) is complex:
        return not (math.isfinite(value.real) and math.isfinite(value.imag))
    if type(value) is tuple:
        return any(_not_finite(item) for item in value)
    return False


def _within_limits(value: Any, config: Config) -> bool:
    kind = type(value)
    if kind is int:
        return value.bit_length() <= config.max_int_bits
    if kind is str:
        return len(value) <= config.max_str_len
    if kind is bytes:
        return len(value) <= config.max_bytes_len
    if kind is tuple:
        return len(value) <= config.max_seq_len and all(_within_limits(v, config) for v in value)
    return kind in _LITERAL_SCALARS


def _prints_back(value: Any) -> bool:
    """True if ``ast.unparse`` of the value reads back as the same constant. Only complex numbers
    can fail (``complex(-0.0, 1)`` prints as ``(-0+1j)``, which reads back as ``1j``)."""
    if type(value) is complex:
        try:
            return same_constant(eval(ast.unparse(ast.Constant(value)), {"__builtins__": {}}), value)
        except Exception:
            return False
    if type(value) is tuple:
        return all(_prints_back(v) for v in value)
    return True


def is_foldable_value(value: Any, config: Config) -> bool:
    """A value the optimizer may put in the code: a literal type, no NaN or infinity, within the limits
    (int bits, str/bytes/sequence length, marshalled size) and printable as itself."""
    if value is NOT_FOLDED or not _within_limits(value, config) or _not_finite(value):
        return False
    try:
        if len(marshal.dumps(value)) > config.max_marshal_size:
            return False
    except ValueError:
        return False
    return _prints_back(value)


def make_constant(value: Any, like: ast.AST) -> ast.Constant:
    """A ``Constant`` node holding ``value`` at ``like``'s source position."""
    return ast.copy_location(ast.Constant(value=value), like)


def _attempt(compute: Callable[[], Any], config: Config) -> Any:
    try:
        result = compute()
    except Exception:  # the operation raises: leave it to run time
        return NOT_FOLDED
    return result if is_foldable_value(result, config) else NOT_FOLDED


def _is_number(value: Any) -> bool:
    return type(value) in (bool, int, float, complex)


def _is_int(value: Any) -> bool:
    return type(value) in (bool, int)


def _sequence_limit(value: Any, config: Config) -> int | None:
    kind = type(value)
    if kind is str:
        return config.max_str_len
    if kind is bytes:
        return config.max_bytes_len
    if kind is tuple:
        return config.max_seq_len
    return None


_UNARY: dict[type, Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}


def safe_unary(op: ast.unaryop, operand: Any, config: Config) -> Any:
    """``op operand`` or ``NOT_FOLDED``."""
    if type(op) is ast.Not:
        return _attempt(lambda: not operand, config)
    if not _is_number(operand):
        return NOT_FOLDED
    if type(op) is ast.Invert and type(operand) is bool:
        return NOT_FOLDED  # ~True is deprecated: folding it would hide the warning
    return _attempt(lambda: _UNARY[type(op)](operand), config)


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
}


def _binop_small_enough(kind: type, left: Any, right: Any, config: Config) -> bool:
    """Size checks done before computing, for the operators whose result can explode."""
    if kind is ast.Mult:
        if _is_int(left) and _is_int(right):
            return left.bit_length() + right.bit_length() <= config.max_int_bits + 1
        for seq, count in ((left, right), (right, left)):
            limit = _sequence_limit(seq, config)
            if limit is not None and _is_int(count):
                return count <= 0 or len(seq) * count <= limit
        return _is_number(left) and _is_number(right)
    if kind is ast.Pow:
        if _is_int(left) and _is_int(right):
            if right < 0 or left in (0, 1, -1):
                return True
            return left.bit_length() * right <= config.max_int_bits
        return _is_number(left) and _is_number(right)
    if kind is ast.LShift:
        return _is_int(left) and _is_int(right) and (
            right < 0 or left.bit_length() + right <= config.max_int_bits
        )
    if kind is ast.Add:
        limit = _sequence_limit(left, config)
        if limit is not None:
            return type(left) is type(right) and len(left) + len(right) <= limit
        return _is_number(left) and _is_number(right)
    if kind is ast.Mod:
        # str % args and bytes % args are formatting, whose output size depends on the format
        return _is_number(left) and _is_number(right)
    return _is_number(left) and _is_number(right)


def safe_binop(op: ast.operator, left: Any, right: Any, config: Config) -> Any:
    """``left op right`` or ``NOT_FOLDED``."""
    kind = type(op)
    compute = _BINARY.get(kind)
    if compute is None or not _binop_small_enough(kind, left, right, config):
        return NOT_FOLDED
    return _attempt(lambda: compute(left, right), config)


def _leaf_types(value: Any, into: set) -> set:
    if type(value) is tuple:
        for item in value:
            _leaf_types(item, into)
    else:
        into.add(type(value))
    return into


_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_SINGLETONS = (type(None), bool, type(Ellipsis))


def _compare_one(op: ast.cmpop, left: Any, right: Any) -> Any:
    kind = type(op)
    if kind in (ast.Is, ast.IsNot):
        # identity of constants is an implementation detail, except for singletons
        if type(left) not in _SINGLETONS or type(right) not in _SINGLETONS:
            raise TypeError("identity of non-singleton constants")
        return (left is right) if kind is ast.Is else (left is not right)
    types_seen = _leaf_types(left, set()) | _leaf_types(right, set())
    if str in types_seen and bytes in types_seen:
        raise TypeError("str/bytes comparison warns under -b")
    return _COMPARE[kind](left, right)


def safe_compare(left: Any, ops: list[ast.cmpop], comparators: list[Any], config: Config) -> Any:
    """The value of a whole (possibly chained) comparison of constants, or ``NOT_FOLDED``."""

    def compute() -> Any:
        result: Any = True
        current = left
        for op, right in zip(ops, comparators, strict=False):
            result = _compare_one(op, current, right)
            if not result:
                return result
            current = right
        return result

    return _attempt(compute, config)


def safe_subscript(container: Any, index: Any, config: Config) -> Any:
    """``container[index]`` for a constant str/bytes/tuple and an int or slice of ints."""
    if type(container) not in (str, bytes, tuple):
        return NOT_FOLDED
    if type(index) is slice:
        if not all(part is None or _is_int(part) for part in (index.start, index.stop, index.step)):
            return NOT_FOLDED
    elif not _is_int(index):
        return NOT_FOLDED
    return _attempt(lambda: container[index], config)


def evaluate(node: ast.AST, config: Config) -> Any:
    """The value of an expression built only from constants and operators (``-1``, ``1 << 4``,
    ``("a", "b") + ("c",)``), computed through the safe helpers; ``NOT_FOLDED`` otherwise."""
    kind = type(node)
    if kind is ast.Constant:
        return node.value if is_foldable_value(node.value, config) else NOT_FOLDED
    if kind is ast.Tuple:
        if type(node.ctx) is not ast.Load:
            return NOT_FOLDED
        items = []
        for elt in node.elts:
            value = evaluate(elt, config)
            if value is NOT_FOLDED:
                return NOT_FOLDED
            items.append(value)
        result = tuple(items)
        return result if is_foldable_value(result, config) else NOT_FOLDED
    if kind is ast.UnaryOp:
        operand = evaluate(node.operand, config)
        return NOT_FOLDED if operand is NOT_FOLDED else safe_unary(node.op, operand, config)
    if kind is ast.BinOp:
        left = evaluate(node.left, config)
        if left is NOT_FOLDED:
            return NOT_FOLDED
        right = evaluate(node.right, config)
        return NOT_FOLDED if right is NOT_FOLDED else safe_binop(node.op, left, right, config)
    return NOT_FOLDED

