"""Which ``v.m(...)`` calls of a function have a receiver whose exact class a recorded type
profile names, a class whose instances have no ``__dict__`` (``__slots__``), so that the call,
under a ``type(v) is C`` check at the site, is ``C.m(v, ...)``
(:mod:`fatopt.passes.specialize_receivers`).

``fatopt profile`` records, at each attribute-call site, the exact types of the receiver when
``m`` was a Python method of that type (:meth:`fatopt.profile.Profile.receiver_types_for_call`).
A site qualifies when its most frequent recorded type is named, in this module, by a plain
top-level class (:func:`fatopt.analyses.method_callees.plain_class`) whose MRO's classes all
bind ``__slots__`` without ``"__dict__"`` (:meth:`fatopt.analyses.classes.ClassTable.slots_only`):
no instance attribute can then hide ``m``, which the class resolves the same for every instance.
A class of another module with the same name, or any other object, only fails the check.

Unlike :mod:`fatopt.analyses.exact_types`, the receiver need not keep its binding: the check is
at the call (a loop variable, ``nxt = nxt.step()``), not at the function's entry.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import os
from typing import TYPE_CHECKING

from fatopt.analyses.classes import ModuleClassTable
from fatopt.analyses.exact_types import _class_here
from fatopt.analyses.manager import Analysis
from fatopt.analyses.method_callees import plain_class
from fatopt.nodes import walk

if TYPE_CHECKING:
    from fatopt.passes._rewrite import Unit

__all__ = ["ReceiverTypes", "receiver_classes"]


def receiver_classes(unit: Unit) -> dict[tuple[int, int], str]:
    """(end line, end column) of a call ``v.m(...)`` -> the class its receiver had, for the
    qualifying sites of the function of ``unit`` (see the module docstring)."""
    module = unit.module
    node = unit.node
    profile = getattr(module, "profile", None)
    if profile is None or type(node) not in (ast.FunctionDef, ast.AsyncFunctionDef):
        return {}
    text = module.def_source(node)  # type: ignore[union-attr,arg-type]
    if text is None:
        return {}
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])  # type: ignore[union-attr]
    filename = os.path.abspath(module.filename)  # type: ignore[union-attr]
    table = module.fact(ModuleClassTable)  # type: ignore[union-attr]
    out: dict[tuple[int, int], str] = {}
    for call in walk(node):
        if type(call) is not ast.Call or type(call.func) is not ast.Attribute or type(call.func.value) is not ast.Name:
            continue
        key = (call.end_lineno, call.end_col_offset)
        types = profile.receiver_types_for_call(filename, unit.qualname, first, text, *key)
        if not types:
            continue
        class_name = _class_here(unit, types[0].qualname)
        info = plain_class(module, class_name) if class_name is not None else None  # type: ignore[arg-type]
        if info is not None and table.slots_only(info):
            out[key] = class_name  # type: ignore[assignment,index]
    return out


class ReceiverTypes(Analysis["dict[tuple[int, int], str]"]):
    """:func:`receiver_classes` of a function unit (stable: call sites keep their positions)."""

    stable = True

    @classmethod
    def compute(cls, unit: Unit) -> dict[tuple[int, int], str]:  # type: ignore[override]
        return receiver_classes(unit)
