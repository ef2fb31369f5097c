"""One test module per guard kind: ``test_<module of the kind in fatopt/guards/>.py``.

Each defines ``EXAMPLES``, a list of :class:`Example`, which the tests over every kind
(``tests/runtime/test_guard_kinds.py``, the leak tests) run: born and registered, its repr and
recipe, its conditions, an event that breaks it and one that restores it, a whole interpreter
shutting down with it in place. The module's own tests cover every event path of its kind.
"""

from __future__ import annotations

import importlib
import os
import textwrap
import types
from dataclasses import dataclass

import fatopt.runtime


@dataclass(frozen=True)
class Example:
    """A module where a guard of ``kind`` applies to its function ``fast``."""

    id: str
    kind: str
    #: module source defining ``plain`` (the original code), ``fast`` (the specialized code,
    #: same signature, no arguments) and whatever the recipe names
    source: str
    #: the recipe, a Python expression evaluated in the module (it may name the module's objects)
    recipe: str
    #: the guard's repr
    text: str
    #: statements run in the module that make the guard fail, and that make it hold again
    #: (None for kinds that are never watched)
    breaks: str | None = None
    restores: str | None = None
    #: the recipe names objects of the module itself (a function, a class: kinds of the Python API,
    #: never emitted), which the runtime keeps, as it keeps every recipe, while the function lives;
    #: through them, the module's namespace, so the function lives as long as the runtime
    recipe_holds_the_namespace: bool = False

    def module(self, name: str = "kind_example") -> types.ModuleType:
        module = types.ModuleType(name)
        exec(compile(textwrap.dedent(self.source), f"<{name}>", "exec"), module.__dict__)
        return module

    def recipe_in(self, ns: dict) -> tuple:
        return eval(self.recipe, ns)

    def born(self, ns: dict) -> types.FunctionType:
        """Register ns["fast"] as born() does; return it."""
        ns["fast"] = fatopt.runtime.born(ns["plain"], self.recipe_in(ns))(ns["fast"])
        return ns["fast"]

    def run(self, ns: dict, what: str) -> None:
        exec(textwrap.dedent(what), ns)


def outcome(func) -> object:
    """What calling ``func`` gives: its result, or the type of the exception it raises."""
    try:
        return func()
    except Exception as exc:
        return type(exc)


def all_examples() -> list[Example]:
    folder = os.path.dirname(__file__)
    out: list[Example] = []
    for entry in sorted(os.listdir(folder)):
        if entry.startswith("test_") and entry.endswith(".py"):
            out.extend(importlib.import_module(f"{__name__}.{entry[:-3]}").EXAMPLES)
    return out
