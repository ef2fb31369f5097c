"""The functions of a module the optimizer looks at, with their qualified names.

Every ``def``/``async def`` at module level or in a class body, in the order reports list them
(enclosing functions before the functions nested in them); nested functions only with
``Config.specialize_nested``.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from fatopt.analyses.manager import Analysis
from fatopt.blocks import blocks_of

if TYPE_CHECKING:
    from fatopt.config import Config
    from fatopt.module_unit import ModuleUnit

__all__ = ["Candidate", "FunctionCandidates", "candidates"]

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class Candidate:
    """A function the optimizer may specialize."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    qualname: str
    nested: bool
    #: the enclosing function's node, for nested functions
    parent: ast.AST | None = None
    #: the class whose body defines it directly (its qualname), for methods
    owner: str | None = None


def candidates(
    body: list[ast.stmt], config: Config, prefix: str = "", parent: ast.AST | None = None,
    owner: str | None = None,
) -> Iterator[Candidate]:
    """Functions defined by ``body``, in report order (enclosing functions first)."""
    nested = parent is not None
    for stmt in body:
        if isinstance(stmt, _FUNCTIONS):
            qualname = prefix + stmt.name
            yield Candidate(stmt, qualname, nested, parent, owner)
            if config.specialize_nested:
                yield from candidates(stmt.body, config, qualname + ".<locals>.", stmt)
            continue
        if isinstance(stmt, ast.ClassDef):
            yield from candidates(stmt.body, config, prefix + stmt.name + ".", parent, prefix + stmt.name)
            continue
        for _owner, _field, block in blocks_of(stmt):
            yield from candidates(block, config, prefix, parent, owner)


class FunctionCandidates(Analysis["list[Candidate]"]):
    """The module's :class:`Candidate` functions, in report order."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> list[Candidate]:
        return list(candidates(module.tree.body, module.config))
