"""The fast tree walkers of fatopt.nodes: the same nodes as the ``ast`` module's own."""

import ast
import importlib.util
import sys

import pytest

from fatopt.nodes import CHILD_FIELDS, child_nodes, walk

SAMPLES = ["dataclasses", "argparse", "asyncio.tasks", "typing", "re._parser"]


def _tree(name: str) -> ast.Module:
    with open(importlib.util.find_spec(name).origin, encoding="utf-8") as f:
        return ast.parse(f.read())


@pytest.mark.parametrize("name", SAMPLES)
def test_walk_and_child_nodes_match_the_ast_module(name):
    tree = _tree(name)
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]
    for node in ast.walk(tree):
        assert [id(c) for c in child_nodes(node)] == [id(c) for c in ast.iter_child_nodes(node)]


def _holds_nodes(annotation) -> bool:
    """True if a field annotation (3.13's ``_field_types``) admits a node with fields."""
    stack = [annotation]
    while stack:
        current = stack.pop()
        stack.extend(getattr(current, "__args__", ()))
        if isinstance(current, type) and issubclass(current, ast.AST):
            if current._fields or any(sub._fields for sub in current.__subclasses__()):
                return True
    return False


@pytest.mark.skipif(sys.version_info < (3, 13), reason="field types are declared from 3.13 on")
def test_child_fields_are_the_fields_declared_to_hold_nodes():
    for cls, fields in CHILD_FIELDS.items():
        declared = tuple(f for f in cls._fields if _holds_nodes(cls._field_types[f]))
        assert fields == declared, cls.__name__


@pytest.mark.parametrize("name", SAMPLES)
def test_child_fields_reach_every_node_with_fields(name):
    """Walking CHILD_FIELDS alone meets every node ``ast.walk`` meets, except operators and
    contexts (nodes without fields), on both versions."""
    tree = _tree(name)
    seen, todo = set(), [tree]
    while todo:
        node = todo.pop()
        seen.add(id(node))
        for field in CHILD_FIELDS[type(node)]:
            value = getattr(node, field, None)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.AST):
                    todo.append(item)
    expected = {id(n) for n in ast.walk(tree) if n._fields or not isinstance(n, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop))}
    assert seen == expected
