"""Passes: rewrites of one function's code, one module each, each behind a ``Config`` switch.

``PIPELINE`` is the order they run in, repeated until nothing changes (at most
``Config.max_iterations`` rounds); each pass's ``may_apply`` says, from the unit's facts, whether
running it can change anything (before the first round: whether the function shows an
opportunity for it at all, which decides whether the function is optimized). Substitutions come first (module constants, builtin calls,
locals), then folding of what they made constant, then the structural rewrites that need
constants (iterables, unrolling) and dead code removal last, so a round ends with the least code.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes.call_pure_builtins import CallPureBuiltins
from fatopt.passes.call_pure_methods import CallPureMethods
from fatopt.passes.class_constants import SubstituteClassConstants
from fatopt.passes.common_subexpressions import CommonSubexpressions
from fatopt.passes.dead_code import RemoveDeadCode
from fatopt.passes.drop_covered_checks import DropCoveredChecks
from fatopt.passes.eliminate_genexpr import EliminateGenexpr
from fatopt.passes.fresh_receivers import FreshReceivers
from fatopt.passes.fold_constants import ConstantFolding
from fatopt.passes.forward_inlined_results import ForwardInlinedResults
from fatopt.passes.fold_type_tests import FoldTypeTests
from fatopt.passes.imported_constants import ImportedConstants
from fatopt.passes.inline_functions import InlineFunctions
from fatopt.passes.inline_recursive import InlineRecursive
from fatopt.passes.merge_type_tests import MergeTypeTests
from fatopt.passes.module_constants import ModuleConstants
from fatopt.passes.propagate_constants import ConstantPropagation
from fatopt.passes.scalar_replacement import ScalarReplacement
from fatopt.passes.simplify_iterable import SimplifyIterable
from fatopt.passes.specialize_instance_methods import SpecializeInstanceMethods
from fatopt.passes.specialize_operators import SpecializeOperators
from fatopt.passes.specialize_receivers import SpecializeReceivers
from fatopt.passes.specialize_types import SpecializeTypes
from fatopt.passes.trim_nops import TrimNops
from fatopt.passes.unroll_comprehensions import UnrollComprehensions
from fatopt.passes.unroll_loops import UnrollLoops

__all__ = [
    "PIPELINE",
    "Pass",
    "Unit",
    "CallPureBuiltins",
    "CallPureMethods",
    "CommonSubexpressions",
    "ConstantFolding",
    "ConstantPropagation",
    "DropCoveredChecks",
    "FoldTypeTests",
    "ForwardInlinedResults",
    "FreshReceivers",
    "EliminateGenexpr",
    "ImportedConstants",
    "InlineFunctions",
    "InlineRecursive",
    "MergeTypeTests",
    "ModuleConstants",
    "RemoveDeadCode",
    "ScalarReplacement",
    "SimplifyIterable",
    "SpecializeInstanceMethods",
    "SpecializeOperators",
    "SpecializeReceivers",
    "SpecializeTypes",
    "SubstituteClassConstants",
    "TrimNops",
    "UnrollComprehensions",
    "UnrollLoops",
]

#: The pass classes in the order they run in each round (the driver makes fresh pass objects
#: for each function: :func:`fatopt.optimizer.new_passes`).
PIPELINE: tuple[type[Pass], ...] = (
    InlineRecursive,
    ModuleConstants,
    SubstituteClassConstants,
    ImportedConstants,
    ConstantPropagation,
    ConstantFolding,
    CallPureBuiltins,
    CallPureMethods,
    EliminateGenexpr,
    # before InlineFunctions: it writes subscripts as the calls of dunders that it inlines
    SpecializeTypes,
    # after SpecializeTypes (whose linearization reads only its own sites), before InlineFunctions
    SpecializeReceivers,
    # after SpecializeTypes (it reads its entry check), before InlineFunctions (which inlines the
    # methods it calls through their class in the same round)
    SpecializeInstanceMethods,
    # before InlineFunctions, which inlines the dunders it calls through their class
    SpecializeOperators,
    # after SpecializeOperators and InlineFunctions of the round before (it copies what follows
    # into the branch of an inlined dunder that makes an object), before InlineFunctions
    FreshReceivers,
    # after EliminateGenexpr: a call in a generator expression's element is inlined once it is
    # a comprehension, and its handler then runs before the <genexpr> one (inner first)
    InlineFunctions,
    # after InlineFunctions: the tests of the sites it inlined inside inlined code
    DropCoveredChecks,
    # after DropCoveredChecks: an inner site keeps no test once it dropped (its result is
    # assigned in one place)
    ForwardInlinedResults,
    # after InlineFunctions, which turned the methods called on a fresh object into reads of
    # its attributes
    ScalarReplacement,
    # after InlineFunctions: the type tests of inlined dunders (folded, then dead code removed)
    FoldTypeTests,
    SimplifyIterable,
    UnrollLoops,
    UnrollComprehensions,
    RemoveDeadCode,
    # once, after the others reached their fixed point (runs_last): int sums computed again
    # (in inlined subscripts too), then the wrappers the others made
    CommonSubexpressions,
    TrimNops,
    MergeTypeTests,
)
