"""Managed analyses: declared by the passes that need them, computed once, dropped on change.

An *analysis* is a pure function of a target (a function under optimization, or the module)
that returns a fact; it never changes the tree. Passes declare the analyses they read
(``Pass.requires``) and get results through :class:`AnalysisCache`, which computes each result at
most once per state of the tree: when a pass changes a function, the driver calls
:meth:`AnalysisCache.invalidate` and the next request computes the fact again from the new tree.

Two lifetimes, chosen per analysis:

- ``stable = False`` (the default): a fact about the *current* code (which names it loads, which
  calls have constant arguments); dropped whenever the tree changes.
- ``stable = True``: a fact that no rewrite may change, such as how a name in the function
  resolves. Emission keeps every local, ``global`` and ``nonlocal`` of the original function
  (:func:`fatopt.emit.preserve_scope`), so resolution computed on the original stays exact for
  every rewritten version; recomputing it on a rewritten tree would be *wrong* (a removed
  assignment would make a local look global).

Nothing else computes a fact that an analysis owns: a pass that needs one declares it.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import weakref
from typing import Any, Callable, ClassVar, Generic, TypeVar

__all__ = ["Analysis", "AnalysisCache"]

T = TypeVar("T")


class Analysis(Generic[T]):
    """A fact about a target. Subclasses define :meth:`compute`; ``stable`` says whether the
    fact survives rewrites of the tree (see the module docstring)."""

    stable: ClassVar[bool] = False

    @classmethod
    def compute(cls, target: Any) -> T:
        """The fact for ``target`` (a pure function: reads ``target``, changes nothing)."""
        raise NotImplementedError


class AnalysisCache:
    """Results of analyses for one target, each computed on first request.

    The target owns its cache, and the cache refers to it weakly: a strong reference back would
    make every unit a reference cycle, and a unit keeps its trees and facts alive, so all of it
    would wait for the cyclic garbage collector instead of dying with the unit (that collector
    took a fifth of ``fatopt compileall``'s time)."""

    __slots__ = ("_target", "_results", "computed")

    def __init__(self, target: Any) -> None:
        self._target: Callable[[], Any]
        try:
            self._target = weakref.ref(target)
        except TypeError:  # not weakly referenceable (a plain value): it cannot own the cache
            self._target = lambda: target
        self._results: dict[type, Any] = {}
        #: how many results were computed (tests use it to prove caching and invalidation)
        self.computed = 0

    @property
    def target(self) -> Any:
        """The target (None once it is gone)."""
        return self._target()

    def get(self, analysis: type[Analysis[T]]) -> T:
        """The result of ``analysis`` for the target, computing it if needed."""
        try:
            return self._results[analysis]  # type: ignore[no-any-return]
        except KeyError:
            pass
        result = analysis.compute(self.target)
        self._results[analysis] = result
        self.computed += 1
        return result

    def has(self, analysis: type[Analysis[Any]]) -> bool:
        """True if a result of ``analysis`` is cached."""
        return analysis in self._results

    def release(self) -> None:
        """Drop every result, the stable ones too: the target is done with. A result that holds
        reference cycles (a scope tree) has a ``release()`` method, called here to break them,
        so everything is freed by reference counting."""
        results = list(self._results.values())
        self._results.clear()
        for result in results:
            release = getattr(result, "release", None)
            if release is not None:
                release()

    def invalidate(self) -> None:
        """Drop the results about the current code (the tree changed); stable ones stay."""
        for analysis in [a for a in self._results if not a.stable]:
            del self._results[analysis]
