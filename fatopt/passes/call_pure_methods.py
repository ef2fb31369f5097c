"""Pure methods called on str/bytes literals with constant arguments become their result.

``"a,b".split(",")`` → ``["a", "b"]``; ``",".join(("x", "y"))`` → ``"x,y"``; ``"abc".upper()`` →
``"ABC"``. No guard is needed: methods of ``str`` and ``bytes`` cannot be replaced. Only methods
whose result size is bounded by their inputs are called, each after a size check; a method that
returns a new list is replaced by a list display, so every call still gets a fresh list.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Any, Callable

from fatopt.config import Config
from fatopt.folding import NOT_FOLDED, constant_values, is_foldable_value, make_constant
from fatopt.guards.global_names import GuardGlobals
from fatopt.passes._rewrite import FunctionCodeTransformer, Pass, Unit

__all__ = ["CallPureMethods", "call_method"]

_SAFE_ENCODINGS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1"})


def _any_args(obj: Any, args: tuple, config: Config) -> bool:
    return all(type(a) in (str, bytes, int, bool, tuple, type(None)) for a in args)


def _check_width(obj: Any, args: tuple, config: Config) -> bool:
    return bool(args) and type(args[0]) is int and args[0] <= _limit(obj, config)


def _check_replace(obj: Any, args: tuple, config: Config) -> bool:
    if len(args) not in (2, 3) or type(args[0]) is not type(obj) or type(args[1]) is not type(obj):
        return False
    old, new = args[0], args[1]
    count = obj.count(old) if old else len(obj) + 1
    return len(obj) + count * max(0, len(new) - len(old)) <= _limit(obj, config)


def _check_join(obj: Any, args: tuple, config: Config) -> bool:
    if len(args) != 1 or type(args[0]) is not tuple:
        return False
    parts = args[0]
    if not all(type(p) is type(obj) for p in parts):
        return False
    return sum(map(len, parts)) + len(obj) * max(0, len(parts) - 1) <= _limit(obj, config)


def _check_codec(obj: Any, args: tuple, config: Config) -> bool:
    if len(args) > 2 or not all(type(a) is str for a in args):
        return False
    encoding = args[0].lower() if args else "utf-8"
    return encoding in _SAFE_ENCODINGS and (len(args) < 2 or args[1] == "strict")


def _limit(obj: Any, config: Config) -> int:
    return config.max_str_len if type(obj) is str else config.max_bytes_len


_SHARED: dict[str, Callable[[Any, tuple, Config], bool]] = {
    name: _any_args
    for name in (
        "capitalize count endswith find index isalnum isalpha isascii isdigit islower isspace "
        "istitle isupper lower lstrip partition removeprefix removesuffix rfind rindex "
        "rpartition rsplit rstrip split splitlines startswith strip swapcase title upper"
    ).split()
}
_SHARED.update(center=_check_width, ljust=_check_width, rjust=_check_width,
               zfill=_check_width, replace=_check_replace, join=_check_join)

_STR_METHODS = dict(_SHARED, casefold=_any_args, isdecimal=_any_args, isidentifier=_any_args,
                    isnumeric=_any_args, isprintable=_any_args, encode=_check_codec)
_BYTES_METHODS = dict(_SHARED, decode=_check_codec, hex=_any_args)


def call_method(obj: Any, name: str, args: tuple, config: Config) -> Any:
    """``obj.name(*args)`` for a str/bytes constant, or ``NOT_FOLDED``. Lists come back as lists
    (the caller turns them into list displays)."""
    table = _STR_METHODS if type(obj) is str else _BYTES_METHODS if type(obj) is bytes else None
    check = table.get(name) if table is not None else None
    if check is None or not check(obj, args, config):
        return NOT_FOLDED
    try:
        result = getattr(obj, name)(*args)
    except Exception:
        return NOT_FOLDED
    if type(result) is list:
        if len(result) > config.max_seq_len or not is_foldable_value(tuple(result), config):
            return NOT_FOLDED
        return result
    return result if is_foldable_value(result, config) else NOT_FOLDED


class _Fold(FunctionCodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        if type(func) is not ast.Attribute or type(func.value) is not ast.Constant or node.keywords:
            return node
        args = constant_values(node.args)
        if args is None:
            return node
        result = call_method(func.value.value, func.attr, args, self.unit.config)
        if result is NOT_FOLDED:
            return node
        self.changed = True
        if type(result) is list:
            elts = [make_constant(item, node) for item in result]
            return ast.copy_location(ast.List(elts=elts, ctx=ast.Load()), node)
        return make_constant(result, node)


class CallPureMethods(Pass):
    """Replace pure method calls on str/bytes literals by their result (unguarded)."""

    name = "call_pure_methods"
    switch = "call_pure_methods"

    def worth_trying(self, unit: Unit) -> bool:
        if "literal_method" in unit.hints or "constant_propagation" in unit.applied:
            return True
        return any(type(value) in (str, bytes) for _name, value in unit.requested(GuardGlobals))

    def run(self, unit: Unit) -> bool:
        return _Fold(unit).run_on(unit)
