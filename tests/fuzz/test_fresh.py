"""The ``fresh`` profile reaches what it is for: issue 17's operator specialization, fresh
receivers and scalar replacement rewrite a good share of its modules, the rewritten code runs
(the optimized run calls the classes' methods, dunders and ``__init__`` fewer times), and a
small batch behaves as plain Python does.

Counted with the optimizer's report (``FunctionReport.passes``) over modules built from random
bytes; the ``dunders`` and ``classes`` profiles had none of these rewrites when the passes came.
"""

from __future__ import annotations

import collections
import random
import sys

import pytest

import fatopt
from tests.fuzz import runner
from tests.fuzz.generator import PROFILES, build
from tests.fuzz.runner import compare, optimize

pytestmark = pytest.mark.skipif(not fatopt.AVAILABLE, reason="the guard runtime needs CPython 3.12+")

PASSES = ("specialize_operators", "fresh_receivers", "scalar_replacement")
#: the least share of modules each pass must rewrite a function of (measured over 300 modules:
#: about 38%, 49% and 57%; on 3.12 scalar replacement about 9%: there the inlining makes the
#: constructors of functions it inlines into before scalar replacement runs, so only dynamic
#: modules, which inline nothing, keep ``v = V(...)`` a call)
SHARES = {"specialize_operators": 0.2, "fresh_receivers": 0.3,
          "scalar_replacement": 0.3 if sys.version_info >= (3, 13) else 0.03}


def _sources(seed: str, count: int) -> list[str]:
    rng = random.Random(seed)
    return [build(bytes(rng.randrange(256) for _ in range(rng.randrange(512, 2048))), PROFILES["fresh"])
            for _ in range(count)]


def test_each_pass_rewrites_a_share_of_the_modules() -> None:
    sources = _sources("fresh-share", 80)
    rewritten = collections.Counter()
    for source in sources:
        _tree, report, problems = optimize(source)
        assert not problems, problems
        used = {name for function in report.functions for name in function.passes}
        rewritten.update(name for name in PASSES if name in used)
    shares = {name: rewritten[name] / len(sources) for name in PASSES}
    assert all(shares[name] >= SHARES[name] for name in PASSES), shares


def _calls(code, source: str) -> collections.Counter:
    """Calls of each function of the module (by qualified name) in one run of ``code``."""
    counts: collections.Counter = collections.Counter()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == runner.FILENAME:
            counts[frame.f_code.co_qualname] += 1

    # (started after the functions were made: they keep their specialized code, docs/semantics.md)
    sys.setprofile(profile)
    try:
        runner._execute(code, source)
    finally:
        sys.setprofile(None)
    return counts


def test_the_rewritten_code_runs() -> None:
    """Some modules' optimized runs make fewer calls of the family's ``__init__`` (objects not
    made), methods and operator dunders (inlined) than their plain runs."""
    fewer: collections.Counter = collections.Counter()
    for source in _sources("fresh-runs", 30):
        plain = _calls(runner._quiet_compile(source), source)
        tree, _report, _problems = optimize(source)
        optimized = _calls(runner._quiet_compile(tree), source)
        kinds = set()
        for name, count in plain.items():
            owner, _dot, attribute = name.partition(".")
            if not (owner[:1] in "VWRU" and owner[1:].isdigit()) or optimized[name] >= count:
                continue
            kinds.add("__init__" if attribute == "__init__" else "dunder" if attribute.startswith("__") else "method")
        fewer.update(kinds)
    assert fewer["__init__"] >= 3 and fewer["method"] >= 3 and fewer["dunder"] >= 3, fewer


def test_a_small_batch_behaves_the_same() -> None:
    for source in _sources("fresh-batch", 40):
        result = compare(source)
        assert not result.timed_out, result.describe()
        assert result.matches, result.describe()
        assert not result.optimizer_warnings, result.describe()
