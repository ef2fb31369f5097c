"""The statement blocks of a statement: the one walker for "every nested body".

A compound statement holds statement lists in several places: ``body``, ``orelse`` and
``finalbody`` fields, each ``except`` handler's body, each ``match`` case's body. Code that walks
or rewrites every block (finding functions, unrolling loops, emitting a module) goes through
:func:`blocks_of` so a new kind of block is handled in one place. Nested function and class
bodies are blocks too; callers that must not enter them check the statement's type first.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import Callable, Iterator, TypeVar

__all__ = ["blocks_of", "map_blocks", "BlockOwner"]

#: what holds a block: the statement itself, an except handler or a match case
BlockOwner = ast.AST

_FIELDS = ("body", "orelse", "finalbody")
N = TypeVar("N", bound=ast.AST)
#: every field a block can hang from (directly, or through except handlers or match cases)
_BLOCK_FIELDS = frozenset({*_FIELDS, "handlers", "cases"})
#: node type -> whether it has one of those fields at all (most statements have none)
_may_hold_blocks: dict[type, bool] = {}


def blocks_of(stmt: ast.stmt) -> Iterator[tuple[BlockOwner, str, list[ast.stmt]]]:
    """``(owner, field, statements)`` for each non-empty statement list nested directly in
    ``stmt``: the statement's own ``body``, ``orelse`` and ``finalbody``, then its except
    handlers' or match cases' bodies (the order reports list functions in)."""
    fields = stmt.__dict__
    for field in _FIELDS:
        inner = fields.get(field)
        if type(inner) is list and inner and isinstance(inner[0], ast.stmt):
            yield stmt, field, inner
    for part in fields.get("handlers") or fields.get("cases") or ():
        if part.body:
            yield part, "body", part.body


def map_blocks(
    stmt: ast.stmt, rewrite: Callable[[list[ast.stmt]], "list[ast.stmt] | None"], copy: bool = False,
) -> ast.stmt:
    """Apply ``rewrite`` to each block of ``stmt`` (:func:`blocks_of`); a block for which it
    returns a list is replaced by that list, None leaves the block as it is. In place, or with
    ``copy=True`` copy-on-write: ``stmt`` and its handlers/cases are shallow-copied only where a
    block changed, so the original tree is never modified; the result is ``stmt`` itself if
    nothing changed."""
    kind = type(stmt)
    holds = _may_hold_blocks.get(kind)
    if holds is None:
        holds = _may_hold_blocks[kind] = not _BLOCK_FIELDS.isdisjoint(kind._fields)
    if not holds:  # a simple statement (most are): nothing to rewrite
        return stmt
    fields = stmt.__dict__
    result = stmt
    for field in _FIELDS:
        inner = fields.get(field)
        if inner and type(inner) is list and isinstance(inner[0], ast.stmt):
            new = rewrite(inner)
            if new is not None:
                if copy and result is stmt:
                    result = _shallow(stmt)
                setattr(result, field, new)
    name = "handlers" if fields.get("handlers") else "cases" if fields.get("cases") else None
    if name is None:
        return result
    parts = fields[name]
    new_parts = None
    for index, part in enumerate(parts):
        if not part.body:
            continue
        new = rewrite(part.body)
        if new is None:
            continue
        if not copy:
            part.body = new
            continue
        if new_parts is None:
            new_parts = list(parts)
        new_parts[index] = _shallow(part)
        new_parts[index].body = new
    if new_parts is not None:
        if result is stmt:
            result = _shallow(stmt)
        setattr(result, name, new_parts)
    return result


def _shallow(node: N) -> N:
    new = type(node).__new__(type(node))
    new.__dict__.update(node.__dict__)
    return new
