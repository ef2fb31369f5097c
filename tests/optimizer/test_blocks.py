"""The one statement-block walker: every nested body of every compound statement, and
copy-on-write rewriting that never touches the original tree."""

import ast
import textwrap

import pytest

from fatopt.blocks import blocks_of, map_blocks

CASES = [
    pytest.param("if a:\n    x = 1\nelse:\n    y = 2\n", [("If", "body"), ("If", "orelse")], id="if-else"),
    pytest.param("while a:\n    x = 1\nelse:\n    y = 2\n", [("While", "body"), ("While", "orelse")], id="while-else"),
    pytest.param("for i in a:\n    x = 1\n", [("For", "body")], id="for"),
    pytest.param("with a:\n    x = 1\n", [("With", "body")], id="with"),
    pytest.param(
        "try:\n    x = 1\nexcept E:\n    y = 2\nexcept F:\n    z = 3\nelse:\n    w = 4\nfinally:\n    v = 5\n",
        [("Try", "body"), ("Try", "orelse"), ("Try", "finalbody"), ("ExceptHandler", "body"), ("ExceptHandler", "body")],
        id="try-all",
    ),
    pytest.param("match a:\n    case 1:\n        x = 1\n    case _:\n        y = 2\n",
                 [("match_case", "body"), ("match_case", "body")], id="match"),
    pytest.param("def f():\n    x = 1\n", [("FunctionDef", "body")], id="def"),
    pytest.param("class C:\n    x = 1\n", [("ClassDef", "body")], id="class"),
    pytest.param("x = 1\n", [], id="simple"),
]


@pytest.mark.parametrize("source, expected", CASES)
def test_blocks_of_lists_every_nested_body(source, expected):
    stmt = ast.parse(source).body[0]
    assert [(type(owner).__name__, field) for owner, field, _ in blocks_of(stmt)] == expected


def _renamed(block):
    """Each `name = ...` target renamed to name_; None if the block has none."""
    out, changed = [], False
    for stmt in block:
        if type(stmt) is ast.Assign and type(stmt.targets[0]) is ast.Name:
            stmt = ast.Assign(targets=[ast.Name(stmt.targets[0].id + "_", ast.Store())], value=stmt.value,
                              lineno=stmt.lineno, col_offset=0)
            changed = True
        out.append(stmt)
    return out if changed else None


@pytest.mark.parametrize("source, expected", CASES)
def test_map_blocks_copy_on_write_leaves_the_original(source, expected):
    tree = ast.parse(source)
    before = ast.dump(tree)
    stmt = tree.body[0]
    new = map_blocks(stmt, _renamed, copy=True)
    assert ast.dump(tree) == before
    if expected:
        assert new is not stmt
        targets = [n.targets[0].id for n in ast.walk(new) if type(n) is ast.Assign]
        assert targets and all(name.endswith("_") for name in targets)
    else:
        assert new is stmt


def test_map_blocks_unchanged_returns_the_same_statement():
    stmt = ast.parse("try:\n    f()\nexcept E:\n    g()\n").body[0]
    assert map_blocks(stmt, lambda block: None, copy=True) is stmt


def test_map_blocks_in_place():
    tree = ast.parse(textwrap.dedent("""
        try:
            x = 1
        except E:
            y = 2
    """))
    stmt = tree.body[0]
    assert map_blocks(stmt, _renamed) is stmt
    assert ast.unparse(stmt).split() == "try: x_ = 1 except E: y_ = 2".split()
