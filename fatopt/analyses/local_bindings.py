"""Which binding of a local a load reads, in structured code: whether each value a local is given
is read only in the block that gives it (issue 17).

:mod:`fatopt.passes.fresh_receivers` and :mod:`fatopt.passes.scalar_replacement` rewrite the
statements after ``v = C(...)`` with a branch for an invalid flag that runs the rest of the block
as written. When that rest always returns, the frame never comes back to code that assumed the
flag. Where it does not (a loop's body, the body of inlined code), the branch may fall through
only if the object is never read again after the block: every later load of ``v`` reads
another binding. :func:`locally_bound` says so of a local: every load of it reads a binding
made earlier in the load's own block, or in an enclosing block, with no other binding of the
name in between and none inside a compound statement the load's block belongs to. Then the
value a binding gives is read only by the statements after it in its block (and what they
hold), and nowhere once that block is done: not after it, not in a later iteration of a loop
around it (the loop itself would hold the binding)::

    for o in objects:
        d = l - p            # every load of d below reads this binding
        r = Ray(p, d)        # d's last load: after this block, d is never read
        ...

Conservative: a binding inside a compound statement before the load (``if c: d = ...``) or a
load that only a binding outside the block reaches (``d = x`` / ``for ...: use(d); d = ...``)
makes the answer False.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast

from fatopt.nodes import walk

__all__ = ["binds", "loads", "locally_bound", "nested_blocks"]

#: statements whose own expressions (not their blocks) are their fields but these
_BLOCK_FIELDS = ("body", "orelse", "finalbody")


def nested_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists ``stmt`` holds (bodies, branches, handlers, cases), not a nested
    function's or class's."""
    if type(stmt) in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return []
    blocks = [getattr(stmt, f) for f in _BLOCK_FIELDS
              if type(getattr(stmt, f, None)) is list and getattr(stmt, f) and isinstance(getattr(stmt, f)[0], ast.stmt)]
    blocks += [part.body for part in (*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ()))]
    return blocks


def _own_nodes(stmt: ast.stmt):
    """The nodes of ``stmt`` outside its statement lists (a nested def or class counts whole:
    its decorators and defaults are evaluated here, its body is another scope)."""
    inner = {id(s) for block in nested_blocks(stmt) for s in block}
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if id(child) not in inner:
                stack.append(child)


def binds(node: ast.AST, name: str) -> bool:
    """Whether ``node`` (a statement and what it holds) binds or deletes the local ``name``."""
    for sub in walk(node):
        kind = type(sub)
        if kind is ast.Name:
            if sub.id == name and type(sub.ctx) is not ast.Load:  # type: ignore[attr-defined]
                return True
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            if sub.name == name:  # type: ignore[attr-defined]
                return True
        elif kind is ast.ExceptHandler or kind is ast.MatchAs or kind is ast.MatchStar:
            if sub.name == name:  # type: ignore[attr-defined]
                return True
        elif kind is ast.MatchMapping:
            if sub.rest == name:  # type: ignore[attr-defined]
                return True
        elif kind is ast.alias:
            if (sub.asname or sub.name.partition(".")[0]) == name:  # type: ignore[attr-defined]
                return True
    return False


def loads(stmts: list[ast.stmt], name: str) -> bool:
    """Whether ``stmts`` load the local ``name`` anywhere."""
    return any(type(n) is ast.Name and n.id == name and type(n.ctx) is ast.Load for s in stmts for n in walk(s))


def _binds_directly(stmt: ast.stmt, name: str) -> bool:
    """Whether ``stmt`` always binds ``name`` when it completes: ``name = ...`` as a target of
    its own, an ``if`` both of whose branches do, a ``try`` whose handlers all end in a bare
    ``raise`` (inlined code) whose body does."""
    kind = type(stmt)
    if kind is ast.Assign:
        return any(type(t) is ast.Name and t.id == name for t in stmt.targets)  # type: ignore[attr-defined]
    if kind is ast.AnnAssign:
        return stmt.value is not None and type(stmt.target) is ast.Name and stmt.target.id == name  # type: ignore[attr-defined]
    if kind is ast.If:
        return bool(stmt.orelse) and _block_binds(stmt.body, name) and _block_binds(stmt.orelse, name)  # type: ignore[attr-defined]
    if kind is ast.Try and not stmt.orelse and not stmt.finalbody and stmt.handlers and all(  # type: ignore[attr-defined]
            h.body and type(h.body[-1]) is ast.Raise and h.body[-1].exc is None for h in stmt.handlers):  # type: ignore[attr-defined]
        return _block_binds(stmt.body, name)  # type: ignore[attr-defined]
    return False


def _block_binds(block: list[ast.stmt], name: str) -> bool:
    """Whether running ``block`` to its end always binds ``name``."""
    return any(_binds_directly(stmt, name) for stmt in block)


def locally_bound(body: list[ast.stmt], name: str) -> bool:
    """Whether every load of ``name`` in the function body ``body`` reads a binding that
    precedes it in its own block or an enclosing one (module docstring)."""
    def visit(block: list[ast.stmt], chain: list[tuple[list[ast.stmt], int]]) -> bool:
        for index, stmt in enumerate(block):
            here = [*chain, (block, index)]
            if any(type(n) is ast.Name and n.id == name and type(n.ctx) is ast.Load for n in _own_nodes(stmt)):
                if not _reaches(here):
                    return False
            for inner in nested_blocks(stmt):
                if not visit(inner, here):
                    return False
        return True

    def _reaches(chain: list[tuple[list[ast.stmt], int]]) -> bool:
        for level in range(len(chain) - 1, -1, -1):
            block, index = chain[level]
            for earlier in range(index - 1, -1, -1):
                stmt = block[earlier]
                if _binds_directly(stmt, name):
                    return not any(binds(s, name) for s in block[earlier + 1:index]) and not _binds_before_load(
                        block[index], name, level == len(chain) - 1)
                if binds(stmt, name):
                    return False  # a binding that may or may not have run
            if level > 0:
                # up out of the compound statement holding this block: none of its parts may bind
                # the name (a loop's later iteration, another branch, a handler)
                owner_block, owner_index = chain[level - 1]
                if binds(owner_block[owner_index], name):
                    return False
        return False

    return visit(body, [])


def _binds_before_load(stmt: ast.stmt, name: str, innermost: bool) -> bool:
    """Whether ``stmt``, holding the load, might bind ``name`` before the load (checked where
    the load is not in ``stmt``'s own expressions: a nested block's binding was looked at as
    its own level)."""
    if innermost:
        # the load is in the statement's own expressions: a := in them could come first
        return any(type(n) is ast.NamedExpr and type(n.target) is ast.Name and n.target.id == name
                   for n in _own_nodes(stmt))
    return False
