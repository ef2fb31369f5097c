"""The ``fresh`` profile reaches what it is for: issue 17's operator specialization, fresh
receivers and scalar replacement rewrite a good share of its modules, the rewritten code runs
(the optimized run calls the classes' methods, dunders and ``__init__`` fewer times), and a
small batch behaves as plain Python does.

Counted with the optimizer's report (``FunctionReport.passes``) over modules built from random
bytes; the ``dunders`` and ``classes`` profiles had none of these rewrites when the passes came.
"""

from __future__ import annotations

import ast
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
#: the least share of modules each pass must rewrite a function of (measured over 80 modules:
#: about 36%, 47% and 59% on both versions; scalar replacement was about 9% on 3.12 before
#: fresh_receivers kept the constructions of objects made in loop bodies and in blocks that fall
#: off the function's end, which the inlining would otherwise make first)
SHARES = {"specialize_operators": 0.2, "fresh_receivers": 0.3, "scalar_replacement": 0.3}


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


def _tail_continues(tree: ast.AST) -> bool:
    """Whether a branch for an invalid flag ends with ``continue`` (a region in a loop body)."""
    return any(type(n) is ast.If and ast.unparse(n.test).startswith("not _fatopt_valid_flag")
               and n.body and type(n.body[-1]) is ast.Continue for n in ast.walk(tree))


def test_the_shapes_of_following_a_fresh_object_occur() -> None:
    # regions in loop bodies, a constructor that keeps the object inlined (the holder class), a
    # method found before its argument runs bound as the class's function, an operation passed
    # to a constructor (measured over 100 modules: about 19%, 10%, 7% and 7%)
    sources = _sources("fresh-follow", 80)
    seen: collections.Counter = collections.Counter()
    for source in sources:
        tree, _report, problems = optimize(source)
        assert not problems, problems
        text = ast.unparse(tree)
        seen["loop"] += _tail_continues(tree)
        seen["holder"] += "object_new(H_" in text
        seen["unbound"] += any(type(n) is ast.Assign and type(n.value) is ast.Attribute and type(n.value.value) is ast.Name
                               and n.value.value.id.startswith("V") and n.targets[0].id.startswith("_fatopt_f_")  # type: ignore[attr-defined]
                               for n in ast.walk(tree))
        seen["operation"] += " is not H_" in text
    assert seen["loop"] >= 6 and seen["holder"] >= 3 and seen["unbound"] >= 1 and seen["operation"] >= 1, seen


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
