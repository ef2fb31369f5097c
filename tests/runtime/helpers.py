"""Helpers for runtime tests: build functions in fresh module namespaces and pair them."""

from __future__ import annotations

import textwrap
import types

import fatopt


def load(source: str, name: str = "m") -> dict:
    """Execute `source` as the body of a fresh module called `name`; return its namespace."""
    ns: dict = {"__name__": name}
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), ns)
    return ns


def born(ns: dict, fast: str, plain: str, *guards) -> types.FunctionType:
    """Register ns[fast] (already holding the fast code) with ns[plain]'s code as the original."""
    func = ns[fast]
    fatopt.register(func, ns[plain], list(guards))
    return func


def active(func: types.FunctionType) -> bool:
    return bool(fatopt.get_specialized(func))
