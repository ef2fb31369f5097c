"""Differential fuzzing, CI-sized: generated modules must behave the same plain and optimized.

About 2,200 modules over five feature profiles, reproducible (derandomized, no example
database). Set ``FATOPT_FUZZ_EXAMPLES`` to scale every test (``FATOPT_FUZZ_EXAMPLES=0`` keeps the
defaults); the long run on demand is ``tools/fuzz.py`` or the ``slow`` test below:

    FATOPT_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz -m slow

A failure prints the (shrunk) program and a diff of plain vs optimized behaviour.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, seed, settings

import fatopt
from tests.fuzz.generator import PROFILES, modules
from tests.fuzz.runner import compare, optimize

pytestmark = pytest.mark.skipif(not fatopt.AVAILABLE, reason="the guard runtime needs CPython 3.12+")

#: examples per profile in the CI run (sum: 2,200)
CI_EXAMPLES = {"mixed": 650, "expressions": 400, "loops": 400, "closures": 350, "rebinding": 400}
SCALE = int(os.environ.get("FATOPT_FUZZ_EXAMPLES", "0") or 0)


def _settings(examples: int, derandomize: bool = True) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=derandomize,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


def _examples(profile: str) -> int:
    if not SCALE:
        return CI_EXAMPLES[profile]
    return max(1, SCALE * CI_EXAMPLES[profile] // sum(CI_EXAMPLES.values()))


def _check(source: str) -> None:
    result = compare(source)
    assert not result.timed_out, result.describe()
    assert result.matches, result.describe()
    assert not result.optimizer_warnings, result.describe()


def _profile_test(profile: str):
    @_settings(_examples(profile))
    @given(modules(PROFILES[profile]))
    def test(source: str) -> None:
        _check(source)

    test.__name__ = f"test_{profile}_modules_behave_the_same"
    test.__doc__ = f"Profile {profile!r}: {PROFILES[profile]}"
    return test


test_mixed_modules_behave_the_same = _profile_test("mixed")
test_expressions_modules_behave_the_same = _profile_test("expressions")
test_loops_modules_behave_the_same = _profile_test("loops")
test_closures_modules_behave_the_same = _profile_test("closures")
test_rebinding_modules_behave_the_same = _profile_test("rebinding")


@_settings(100)
@given(modules())
def test_optimize_source_is_deterministic(source: str) -> None:
    assert fatopt.optimize_source(source, "fuzz_case.py") == fatopt.optimize_source(source, "fuzz_case.py")


def test_generated_modules_exercise_the_optimizer() -> None:
    """Most generated modules must get at least one specialized function, else the run above
    compares plain code with plain code."""
    specialized: list[bool] = []

    @_settings(150)
    @given(modules())
    def collect(source: str) -> None:
        _tree, report, _problems = optimize(source)
        specialized.append(bool(report.specialized))

    collect()
    share = sum(specialized) / len(specialized)
    assert share >= 0.8, f"only {share:.0%} of generated modules had a specialized function"


@pytest.mark.slow
def test_long_run(request: pytest.FixtureRequest) -> None:
    """The long run: ``FATOPT_FUZZ_EXAMPLES`` modules (default 20,000) from every profile, with
    a random seed unless ``FATOPT_FUZZ_SEED`` is set. Runs only when asked for with ``-m slow``."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("the long fuzz run: select it with -m slow")
    total = SCALE or 20_000
    seed_value = os.environ.get("FATOPT_FUZZ_SEED")
    for profile in CI_EXAMPLES:
        count = max(1, total * CI_EXAMPLES[profile] // sum(CI_EXAMPLES.values()))

        @_settings(count, derandomize=False)
        @given(modules(PROFILES[profile]))
        def run(source: str) -> None:
            _check(source)

        if seed_value is not None:
            run = seed(int(seed_value))(run)
        run()
