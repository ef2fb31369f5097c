"""Analyses: facts about a module's code (scopes, module constants, unsafe constructs, the call
graph, the class table, imported names, facts about statements).

An analysis never changes the tree; passes (``fatopt.passes``) read its results. Managed analyses
(:mod:`fatopt.analyses.manager`) are computed on request, cached per function or per module
(:class:`fatopt.module_unit.ModuleUnit`) and dropped when a pass changes the tree.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.analyses.module_facts import ModuleFacts, analyze_module
from fatopt.analyses.purity import contains
from fatopt.analyses.scopes import ModuleScopes, Scope, analyze_scopes, resolve
from fatopt.analyses.unsafe import unsafe_reasons

__all__ = [
    "ModuleFacts",
    "ModuleScopes",
    "Scope",
    "analyze_module",
    "analyze_scopes",
    "contains",
    "resolve",
    "unsafe_reasons",
]
