"""The module unit of work: one module under optimization, its module-level analyses, and the
functions optimized so far.

The driver (:mod:`fatopt.optimizer`) makes one per module and runs the pipeline on the functions
that show an opportunity callees-first (:func:`fatopt.analyses.callgraph.callees_first`), so when a caller is optimized
its callees' final units are in :attr:`ModuleUnit.optimized`: a pass that inlines a call can use
the callee's optimized body. Module-level facts (scopes, constants, call graph, class table,
imported names) are managed analyses (:mod:`fatopt.analyses.manager`) of the unit. The unit
also carries what the caller gave beside the tree: the source text (for what needs the text of a
``def``) and the type profile (:mod:`fatopt.profile`), when there are.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from typing import TYPE_CHECKING, Collection, TypeVar

from fatopt.analyses.manager import Analysis, AnalysisCache
from fatopt.config import Config

if TYPE_CHECKING:
    from fatopt.passes._rewrite import Unit
    from fatopt.profile import Profile

__all__ = ["ModuleUnit"]

T = TypeVar("T")


class ModuleUnit:
    """One module under optimization."""

    def __init__(
        self, tree: ast.Module, filename: str, config: Config, opted_out: Collection[int] = (),
        *, source: str | None = None, profile: Profile | None = None,
    ) -> None:
        self.tree = tree
        self.filename = filename
        self.config = config
        #: the text ``tree`` was parsed from, if the caller has it (None: a tree only, as from
        #: ``optimize_ast`` without ``source=``, or a tree another tool rewrote)
        self.source = source
        #: the recorded type profile to use (``profile.types_for_def(...)``), or None
        self.profile = profile
        self._source_lines: list[str] | None = None
        #: lines of ``def`` statements carrying a ``# fatopt: off`` comment
        self.opted_out = opted_out
        self.analyses = AnalysisCache(self)
        #: function node -> its unit after the pipeline ran, for the functions optimized so far
        self.optimized: dict[ast.AST, Unit] = {}

    def def_source(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
        """The text of the ``def`` ``node`` of this module, decorators included, as a type
        profile hashes it (:func:`fatopt.profile.def_source`), or None without the source."""
        if self.source is None:
            return None
        from fatopt.profile import def_source, source_lines

        if self._source_lines is None:
            self._source_lines = source_lines(self.source)
        return def_source(self._source_lines, node)

    def fact(self, analysis: type[Analysis[T]]) -> T:
        """The result of a module-level managed analysis (computed once)."""
        return self.analyses.get(analysis)

    def release(self) -> None:
        """Drop the units and analyses once the module is optimized, breaking their reference
        cycles (this unit and its function units refer to each other, scope trees link both
        ways), so the trees and facts die by reference counting as soon as the driver returns:
        left to the cyclic garbage collector they cost about a fifth of the compile time."""
        units = list(self.optimized.values())
        self.optimized.clear()
        for unit in units:
            unit.analyses.release()
        self.analyses.release()
