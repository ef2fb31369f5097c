"""TEMPORARY placeholder (replaced by the helper's version)."""
from __future__ import annotations
from fatopt.analyses.manager import Analysis


class OperandTypes(Analysis["dict[tuple[int, int], tuple[str, str]]"]):
    stable = True

    @classmethod
    def compute(cls, unit):  # type: ignore[override]
        return {}
