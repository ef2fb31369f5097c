"""The realistic-app shape (tests/fixtures/realistic_app: a package whose settings come from
``config.py`` through ``from .config import ...``, dataclass models, a report module, an
argparse command line): every function that is not specialized gets a reason naming its
blocker, and each def line's ``# blocker: KIND`` comment says which blocker comes first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fatopt.optimizer import optimize_source
from fatopt.results import Report

APP = Path(__file__).resolve().parent.parent / "fixtures" / "realistic_app" / "inventory"
MODULES = sorted(APP.glob("*.py"))
_EXPECTED = re.compile(r"^\s*(?:async\s+)?def\s+\w+.*#\s*(blocker:\s*(\w+)|specialized|optimized)\s*$")


def expected_outcomes(text: str) -> dict[int, str]:
    """def line -> "specialized", "optimized" or the kind of its first blocker, from the comments."""
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _EXPECTED.match(line)
        if match:
            found[number] = match.group(2) or match.group(1)
    return found


def report_of(path: Path) -> Report:
    report = Report()
    optimize_source(path.read_text(), str(path), report=report)
    return report


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_each_function_has_the_expected_outcome(path):
    expected = expected_outcomes(path.read_text())
    report = report_of(path)
    outcomes = {
        row.lineno: row.status if row.status in ("specialized", "optimized") else row.blockers[0].kind
        for row in report.functions
    }
    assert outcomes == expected


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_unspecialized_function_names_its_blocker(path):
    for row in report_of(path).functions:
        if row.status in ("specialized", "optimized"):  # optimized: rewritten, needing no guard
            continue
        assert row.reason and row.reason != "nothing to optimize", row.describe()
        for blocker in row.blockers[:3]:  # the ones the line names
            assert blocker.detail in row.reason
            if blocker.name and blocker.kind in ("imported", "rebound", "not_constant", "dynamic_module"):
                assert f"`{blocker.name}" in blocker.detail and f"line {blocker.line}" in blocker.detail


def test_the_report_module_names_the_config_imports():
    report = report_of(APP / "report.py")
    reasons = {row.qualname: row.reason for row in report.functions}
    # constants of config.py are replaced (imported_constants); a setting it computes is not
    assert reasons["log"] == reasons["top"] == ""
    assert {row.qualname for row in report.specialized} >= {"log", "top"}
    assert reasons["money"] == "`config.CURRENCY` is read from the module `.config` (imported at line 4)"
    assert reasons["over"] == "`THRESHOLD` is rebound at line 38 (assignment in `set_threshold()` through `global`)"


def test_the_fixture_covers_the_shape():
    kinds = set()
    for path in MODULES:
        kinds.update(expected_outcomes(path.read_text()).values())
    assert {"imported", "rebound", "nothing", "specialized"} <= kinds
