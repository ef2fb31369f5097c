"""fatopt.compiler.compile_tree: a tree another tool rewrote (pytest's assertion rewriting) is
optimized, and whatever does not get optimized runs that tree, never the source text it came from."""

from __future__ import annotations

import ast
import textwrap

import pytest

import fatopt
from fatopt import compiler

SOURCE = textwrap.dedent("""
    def size():
        return len("ab")
""")


def rewritten(source: str = SOURCE) -> ast.Module:
    """The source's tree with what a rewriting tool would add: here a module constant the text lacks."""
    tree = ast.parse(source)
    tree.body.append(ast.parse("REWRITTEN = True").body[0])
    return tree


def run(code) -> dict:
    namespace: dict = {}
    exec(code, namespace)
    return namespace


def test_the_rewritten_tree_is_optimized():
    result = compiler.compile_tree(rewritten(), "<rewritten>", source=SOURCE)
    namespace = run(result.code)
    assert namespace["REWRITTEN"] is True
    assert namespace["size"]() == 2
    assert [row.qualname for row in result.report.specialized] == ["size"]
    if fatopt.AVAILABLE:
        assert fatopt.get_specialized(namespace["size"])


def test_the_tree_is_not_modified():
    tree = rewritten()
    before = ast.dump(tree, include_attributes=True)
    compiler.compile_tree(tree, "<rewritten>", source=SOURCE)
    assert ast.dump(tree, include_attributes=True) == before


def test_a_module_that_opts_out_runs_the_rewritten_tree():
    source = SOURCE + '__fatopt__ = {"enabled": False}\n'
    result = compiler.compile_tree(rewritten(source), "<rewritten>", source=source)
    assert result.report is None and "__fatopt__" in result.skipped
    namespace = run(result.code)
    assert namespace["REWRITTEN"] is True
    assert not fatopt.get_specialized(namespace["size"])


def test_an_optimizer_failure_runs_the_rewritten_tree(monkeypatch):
    from fatopt import optimizer

    def broken(*args, **kwargs):
        raise RuntimeError("optimizer bug")

    monkeypatch.setattr(optimizer, "optimize_to_code", broken)
    with pytest.warns(RuntimeWarning, match="optimizer bug"):
        result = compiler.compile_tree(rewritten(), "<rewritten>", source=SOURCE)
    assert result.report is None
    namespace = run(result.code)
    assert namespace["REWRITTEN"] is True
    assert not fatopt.get_specialized(namespace["size"])
