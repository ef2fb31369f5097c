"""Calls of pure builtins with constant arguments become their result, guarded on the builtin.

``len("abc")`` → ``3`` with ``GuardBuiltins('len')``: if ``len`` is later shadowed by a global or
replaced in ``builtins``, the original code comes back. Each builtin has an argument check (types
and sizes) before it is called, so ``chr(-1)`` (raises), ``str(b"x")`` (warns under ``-b``) or
``pow(2, 10**9)`` (huge) are left alone. ``x in frozenset((1, 2))`` becomes ``x in {1, 2}``, which
the compiler stores as a frozenset constant.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Any, Callable

from fatopt.config import Config
from fatopt.folding import (
    NOT_FOLDED,
    constant_values,
    is_foldable_value,
    make_constant,
    safe_binop,
)
from fatopt import _ORIGINAL_BUILTINS
from fatopt.guards.builtin_names import GuardBuiltins
from fatopt.passes._rewrite import FunctionCodeTransformer, OriginalCode, Pass, Unit

__all__ = ["CallPureBuiltins", "PURE_BUILTINS", "call_builtin"]

_NUMBER = (bool, int, float, complex)
_REAL = (bool, int, float)
_INT = (bool, int)
_SEQUENCE = (str, bytes, tuple)


def _types(args: tuple, *allowed: tuple) -> bool:
    return len(args) == len(allowed) and all(type(a) in kinds for a, kinds in zip(args, allowed, strict=False))


def _check_len(args: tuple, config: Config) -> bool:
    return _types(args, _SEQUENCE)


def _check_abs(args: tuple, config: Config) -> bool:
    return _types(args, _NUMBER)


def _check_chr(args: tuple, config: Config) -> bool:
    return _types(args, _INT)


def _check_ord(args: tuple, config: Config) -> bool:
    return _types(args, (str, bytes))


def _check_min_max(args: tuple, config: Config) -> bool:
    if len(args) == 1:
        return type(args[0]) in _SEQUENCE
    return len(args) >= 2 and (
        all(type(a) in _REAL for a in args) or all(type(a) is str for a in args)
        or all(type(a) is bytes for a in args)
    )


def _check_sum(args: tuple, config: Config) -> bool:
    if not args or len(args) > 2 or type(args[0]) is not tuple:
        return False
    return all(type(a) in _NUMBER for a in args[0]) and all(type(a) in _NUMBER for a in args[1:])


def _check_int(args: tuple, config: Config) -> bool:
    if not args:
        return True
    if len(args) == 1:
        return type(args[0]) in _REAL or (type(args[0]) is str and len(args[0]) <= 100)
    return _types(args, (str, bytes), _INT) and len(args[0]) <= 100


def _check_float(args: tuple, config: Config) -> bool:
    return not args or (len(args) == 1 and (type(args[0]) in _REAL or type(args[0]) is str))


def _check_str_repr(args: tuple, config: Config) -> bool:
    # str(bytes) warns under -b; str() of a constant of any other literal type is pure
    return len(args) <= 1 and not any(type(a) is bytes for a in args)


def _check_repr(args: tuple, config: Config) -> bool:
    return len(args) == 1


def _check_bool(args: tuple, config: Config) -> bool:
    return len(args) <= 1


def _check_tuple(args: tuple, config: Config) -> bool:
    return not args or _types(args, _SEQUENCE)


def _check_divmod(args: tuple, config: Config) -> bool:
    return _types(args, _REAL, _REAL)


def _check_pow(args: tuple, config: Config) -> bool:
    if len(args) == 2:
        return safe_binop(ast.Pow(), args[0], args[1], config) is not NOT_FOLDED
    return _types(args, _INT, _INT, _INT)


def _check_round(args: tuple, config: Config) -> bool:
    return _types(args, _REAL) or _types(args, _REAL, _INT)


def _check_int_arg(args: tuple, config: Config) -> bool:
    return _types(args, _INT)


#: name -> argument check. A call is folded only if the check accepts its constant arguments.
PURE_BUILTINS: dict[str, Callable[[tuple, Config], bool]] = {
    "len": _check_len,
    "abs": _check_abs,
    "chr": _check_chr,
    "ord": _check_ord,
    "min": _check_min_max,
    "max": _check_min_max,
    "sum": _check_sum,
    "int": _check_int,
    "float": _check_float,
    "str": _check_str_repr,
    "repr": _check_repr,
    "bool": _check_bool,
    "tuple": _check_tuple,
    "divmod": _check_divmod,
    "pow": _check_pow,
    "round": _check_round,
    "hex": _check_int_arg,
    "oct": _check_int_arg,
    "bin": _check_int_arg,
}


_CALLABLE_NAMES = frozenset(PURE_BUILTINS) | {"frozenset"}


def call_builtin(name: str, args: tuple, config: Config) -> Any:
    """``name(*args)`` if the argument check accepts the arguments, the call does not raise and
    the result is a foldable value; else ``NOT_FOLDED``."""
    check = PURE_BUILTINS.get(name)
    if check is None or not check(args, config):
        return NOT_FOLDED
    try:
        # the builtins fatopt assumes, which the guard will require: never a patched one
        result = _ORIGINAL_BUILTINS[name](*args)
    except Exception:
        return NOT_FOLDED
    return result if is_foldable_value(result, config) else NOT_FOLDED


def _constant_args(node: ast.Call) -> tuple | None:
    return None if node.keywords else constant_values(node.args)


class _Fold(FunctionCodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if type(func) is not ast.Name or func.id not in PURE_BUILTINS:
            return node
        if self.is_shadowed(func.id) or not self.unit.builtin(func.id):
            return node
        args = _constant_args(node)
        if args is None:
            return node
        result = call_builtin(func.id, args, self.unit.config)
        if result is NOT_FOLDED:
            return node
        self.unit.require(GuardBuiltins, func.id)
        self.changed = True
        return make_constant(result, node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for index, (op, comparator) in enumerate(zip(node.ops, node.comparators, strict=False)):
            if type(op) in (ast.In, ast.NotIn):
                replacement = self._membership_set(comparator)
                if replacement is not None:
                    node.comparators[index] = replacement
        return node

    def _membership_set(self, node: ast.expr) -> ast.expr | None:
        """``frozenset(<constant iterable>)`` tested for membership → a set display."""
        if not (
            type(node) is ast.Call and type(node.func) is ast.Name and node.func.id == "frozenset"
            and not self.is_shadowed("frozenset") and self.unit.builtin("frozenset")
        ):
            return None
        args = _constant_args(node)
        if args is None or len(args) != 1 or type(args[0]) not in _SEQUENCE:
            return None
        items = tuple(dict.fromkeys(args[0]))  # unique, in first-seen order
        config = self.unit.config
        if not items or len(items) > config.max_seq_len or not is_foldable_value(items, config):
            return None  # `x in frozenset()` raises for unhashable x; `x in ()` would not
        self.unit.require(GuardBuiltins, "frozenset")
        self.changed = True
        return ast.copy_location(ast.Set(elts=[make_constant(v, node) for v in items]), node)


#: builtins whose call on constants shows an opportunity (folded here, or a ``range`` or set
#: display made a constant by :mod:`fatopt.passes.simplify_iterable`)
_TRIGGER_BUILTINS = frozenset(PURE_BUILTINS) | {"range", "frozenset"}


def calls_trigger_builtin(unit: Unit) -> bool:
    """True if the function's original code calls, with constant arguments, a builtin that
    can be folded or simplified, and the name is the builtin there (once guarded)."""
    return any(
        name in _TRIGGER_BUILTINS and unit.facts.assumable_builtin(name)
        for name in unit.fact(OriginalCode).constant_calls
    )


class CallPureBuiltins(Pass):
    """Replace calls of pure builtins on constants by their result (guarded on each builtin)."""

    name = "call_pure_builtins"
    switch = "call_pure_builtins"
    guarded = True

    def may_apply(self, unit: Unit) -> bool:
        if not unit.started:
            return calls_trigger_builtin(unit)
        return not unit.loads.isdisjoint(_CALLABLE_NAMES)

    def run(self, unit: Unit) -> bool:
        return _Fold(unit).run_on(unit)
