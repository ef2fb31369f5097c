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
from typing import Callable, Iterator

__all__ = ["blocks_of", "map_blocks", "BlockOwner"]

#: what holds a block: the statement itself, an except handler or a match case
BlockOwner = ast.AST

_FIELDS = ("body", "orelse", "finalbody")
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
    if not holds:  # a simple statement: nothing to rewrite, and no generator to start
        return stmt
    result = stmt
    parts: dict[int, ast.AST] = {}  # id(original handler/case) -> its copy
    for owner, field, block in list(blocks_of(stmt)):
        new = rewrite(block)
        if new is None:
            continue
        if copy:
            if owner is stmt:
                if result is stmt:
                    result = _shallow(stmt)
                target = result
            else:
                target = parts.get(id(owner))
                if target is None:
                    if result is stmt:
                        result = _shallow(stmt)
                    target = parts[id(owner)] = _shallow(owner)
                    name = "handlers" if "handlers" in result.__dict__ else "cases"
                    setattr(result, name, [target if p is owner else p for p in getattr(result, name)])
            setattr(target, field, new)
        else:
            setattr(owner, field, new)
    return result


def _shallow(node: ast.AST) -> ast.AST:
    new = type(node).__new__(type(node))
    new.__dict__.update(node.__dict__)
    return new
