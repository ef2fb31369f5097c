"""Type tests of one site merged into one call: the test of a site that runs a class's code on
objects of that class (an operator's two operands: :mod:`fatopt.passes.specialize_operators`;
several receivers) checks each object in turn, ``type(a) is not C or type(b) is not C``, six
instructions for the interpreter to dispatch per object. One call of the runtime's
``exact_types`` checks them all (3.13, callgrind, two objects: 363 → 254 instructions a site,
12 → 6 dispatched)::

    if not FLAG or type(a) is not V or type(b) is not V:    if not FLAG or not __fatopt_exact_types__(V, a, b):
        x = a - b                                    ->          x = a - b
    else:                                                    else:
        <V.__sub__ inlined>                                      <V.__sub__ inlined>

Which: in an ``or`` whose first operand tests the validity flag (only fatopt writes those),
two or more consecutive ``type(x) is not C`` of one class name ``C``, each ``x`` a parameter the
function never deletes or one of fatopt's temporaries (both bound wherever the test runs).

Exactness: the flag is tested first, so the merged test runs only while every guard holds:
``type`` is the builtin (``GuardBuiltins('type')``, which the pass that wrote the tests
required), ``C`` is bound to the class (``GuardClass``); so loading ``C`` and the objects, all
bound, runs no code and cannot fail, and the one call answers what the tests would. The call
evaluates every object where the tests stopped at the first of another class: loads of bound
locals, which nothing can observe. The runtime binds ``__fatopt_exact_types__`` in each module
it specializes (:mod:`fatopt.emit`). Runs last (after the passes that read the tests).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import itertools

from fatopt.emit import EXACT_TYPES_NAME
from fatopt.nodes import walk
from fatopt.passes._rewrite import Pass, Unit
from fatopt.passes.inline_functions import _is_check

__all__ = ["MergeTypeTests"]


def _type_test(node: ast.expr) -> tuple[str, str] | None:
    """``(x, C)`` for ``type(x) is not C`` (names), else None."""
    if not (type(node) is ast.Compare and len(node.ops) == 1 and type(node.ops[0]) is ast.IsNot
            and type(node.comparators[0]) is ast.Name):
        return None
    call = node.left
    if not (type(call) is ast.Call and type(call.func) is ast.Name and call.func.id == "type"
            and len(call.args) == 1 and not call.keywords and type(call.args[0]) is ast.Name):
        return None
    return call.args[0].id, node.comparators[0].id  # type: ignore[attr-defined]


class _Merger:
    def __init__(self, unit: Unit) -> None:
        arguments = unit.node.args  # type: ignore[attr-defined]
        params = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
        params |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
        deleted = {n.id for n in walk(unit.node) if type(n) is ast.Name and type(n.ctx) is ast.Del}
        #: parameters always bound: never deleted
        self.bound = params - deleted
        self.loaded = unit.scope.loads
        self.type_is_builtin = unit.builtin("type")
        self.merged = 0

    def _class_of(self, node: ast.expr) -> str | None:
        """``C`` for a mergeable ``type(x) is not C``, else None."""
        test = _type_test(node)
        if test is None:
            return None
        name = test[0]
        # (fatopt's temporaries hold a site's operands, assigned right before its test)
        mergeable = name in self.bound or (name.startswith("_fatopt_") and name not in self.loaded)
        return test[1] if mergeable else None

    def boolop(self, node: ast.BoolOp) -> None:
        values = node.values
        if type(node.op) is not ast.Or or not _is_check(values[0]) or not self.type_is_builtin:
            return
        out: list[ast.expr] = [values[0]]
        for class_name, run in itertools.groupby(values[1:], key=self._class_of):
            tests = list(run)
            if class_name is not None and len(tests) >= 2:
                out.append(self._merged(tests, class_name))
            else:
                out.extend(tests)
        node.values = out

    def _merged(self, tests: list[ast.expr], class_name: str) -> ast.expr:
        first = tests[0]
        args: list[ast.expr] = [ast.copy_location(ast.Name(id=class_name, ctx=ast.Load()), first)]
        args += [ast.copy_location(ast.Name(id=_type_test(t)[0], ctx=ast.Load()), t) for t in tests]  # type: ignore[index]
        func = ast.copy_location(ast.Name(id=EXACT_TYPES_NAME, ctx=ast.Load()), first)
        call = ast.copy_location(ast.Call(func=func, args=args, keywords=[]), first)
        merged = ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=call), first)
        merged.end_lineno, merged.end_col_offset = tests[-1].end_lineno, tests[-1].end_col_offset
        self.merged += 1
        return merged


class MergeTypeTests(Pass):
    """Consecutive ``type(x) is not C`` tests of one site become one ``exact_types`` call."""

    name = "merge_type_tests"
    switch = "merge_type_tests"
    runs_last = True

    def may_apply(self, unit: Unit) -> bool:
        return unit.started and unit.valid_flag is not None

    def run(self, unit: Unit) -> bool:
        merger = _Merger(unit)
        for node in [n for n in walk(unit.node) if type(n) is ast.BoolOp]:
            merger.boolop(node)  # type: ignore[arg-type]
        return merger.merged > 0
