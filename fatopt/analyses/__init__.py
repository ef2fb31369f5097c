"""Analyses: facts about a module's code (scopes, module constants, unsafe constructs, purity).

An analysis never changes the tree; passes (``fatopt.passes``) read its results. Results are
computed once per module by :func:`fatopt.optimizer.optimize_ast` and handed to the passes.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.analyses.module_facts import ModuleFacts, analyze_module
from fatopt.analyses.purity import contains, is_pure
from fatopt.analyses.scopes import ModuleScopes, Scope, analyze_scopes, resolve
from fatopt.analyses.unsafe import unsafe_reasons

__all__ = [
    "ModuleFacts",
    "ModuleScopes",
    "Scope",
    "analyze_module",
    "analyze_scopes",
    "contains",
    "is_pure",
    "resolve",
    "unsafe_reasons",
]
