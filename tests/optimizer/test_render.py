"""The optimized text (``optimize_source``, ``fatopt show``/``diff``): the file as written outside
the changed functions, and a text that runs as the optimized module does."""

import ast
import difflib
import textwrap
import warnings

import pytest

from fatopt.optimizer import optimize_source
from fatopt.results import OPTIMIZED, SPECIALIZED, Report

CASES = [
    pytest.param('''
        """Doc."""
        from __future__ import annotations

        # a comment that stays
        K = 2


        def f(x):
            # why: K is a constant
            return x * K + len("ab")  # trailing


        def g(x):
            return x
        ''', id="docstring-future-comments"),
    pytest.param('''
        #!/usr/bin/env python
        # -*- coding: utf-8 -*-
        def f():
            return len("abc")
        ''', id="shebang-and-coding-line-first"),
    pytest.param('''
        import functools

        @functools.lru_cache(maxsize=None)  # decorated
        def f(a: int = 1, *, b: "str" = "x") -> int:
            """Multi-line
            docstring, indented."""
            return len("abc") + a
        ''', id="decorators-defaults-annotations"),
    pytest.param('''
        class C:
            """A class."""

            limit = 3

            @staticmethod
            def f():
                """A method's
                docstring."""
                return len("abcd")

            async def g(self):
                return len("ab")

            def h(self):
                return 0
        ''', id="methods"),
    pytest.param('''
        def f(): return len("abc")
        x = 1
        ''', id="one-line-def"),
    pytest.param('''
        def f(
            a,
            b=(1, 2),
        ):
            return len("abc") + a
        ''', id="multi-line-header"),
    pytest.param('''
        def f(x):
            total = 0
            for t in (1, 2):
                total += t * x  # unrolled
            return total
        ''', id="unguarded-rewrite"),
    pytest.param('''
        import sys

        if sys.platform:
            class C:
                def f(self):
                    return len("abc")
        ''', id="nested-in-blocks"),
    pytest.param('''
        def f(x):
        \tif x:
        \t\treturn len("abc")
        \treturn len("ab")
        ''', id="tabs"),
    pytest.param('''
        """Doc."""; import os
        def f():
            return len(os.sep + "a")
        def g():
            return len("abc")
        ''', id="statements-sharing-a-line"),
]


def _changed_spans(source, report):
    changed = {row.lineno for row in report.functions if row.status in (SPECIALIZED, OPTIMIZED)}
    return [(min([n.lineno] + [d.lineno for d in n.decorator_list]), n.end_lineno)
            for n in ast.walk(ast.parse(source))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno in changed]


def _functions(namespace):
    """name -> (docstring, result) of each function and method the module defines."""
    import asyncio
    import inspect

    found = {}
    for name, value in namespace.items():
        for qual, func in ([(name, value)] if inspect.isfunction(value) else
                           [(f"{name}.{k}", v) for k, v in vars(value).items()] if inspect.isclass(value) else []):
            func = inspect.unwrap(getattr(func, "__func__", func))
            if not inspect.isfunction(func):
                continue
            code = func.__code__
            args = [2] * (code.co_argcount - len(func.__defaults__ or ()))
            result = func(*args)
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
            found[qual] = (func.__doc__, result)
    return found


@pytest.mark.parametrize("source", CASES)
def test_text_keeps_the_file_outside_changed_functions_and_runs_the_same(source):
    source = textwrap.dedent(source).lstrip("\n")
    report = Report()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to printing the whole module
        text = optimize_source(source, "m.py", report=report)
    spans = _changed_spans(source, report)
    assert spans, report.lines(verbose=True)
    before, after = source.splitlines(), text.splitlines()
    for tag, first, last, _, _ in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):  # lines of the file that changed: inside changed functions only
            assert all(any(a <= n <= b for a, b in spans) for n in range(first + 1, last + 1)), (tag, first, last, text)
    plain: dict = {}
    optimized: dict = {}
    exec(compile(source, "m.py", "exec"), plain)
    exec(compile(text, "m.py", "exec"), optimized)
    assert _functions(optimized) == _functions(plain)
