"""Fast equivalents of ``ast.walk`` and ``ast.iter_child_nodes``: the same nodes in the same order.

The standard ones stack two generators per node (``iter_child_nodes`` over ``iter_fields``) and
look every field up with ``getattr``; the optimizer walks every function several times, and they
took about a tenth of its time. These read each node's instance dict directly (a missing field
reads as None, as an omitted optional field does).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from ast import AST
from typing import Iterator

__all__ = ["child_nodes", "walk", "CHILD_FIELDS"]

#: Fields that never hold a node with fields of its own: operators and contexts (nodes without
#: fields, never worth visiting), identifiers, numbers and flags.
_NOT_CHILDREN = frozenset({
    "op", "ops", "ctx", "id", "attr", "arg", "asname", "conversion", "is_async", "kind",
    "kwd_attrs", "level", "module", "simple", "tag", "type_comment", "rest", "lineno",
})
#: Fields whose meaning depends on the class: a string (a name, names, a constant's value) in
#: these classes, a node elsewhere (``TypeAlias.name``, ``Expr.value``).
_NOT_CHILDREN_OF = {
    "name": ("FunctionDef", "AsyncFunctionDef", "ClassDef", "alias", "ExceptHandler", "MatchAs",
             "MatchStar", "TypeVar", "ParamSpec", "TypeVarTuple"),
    "names": ("Global", "Nonlocal"),
    "value": ("Constant", "MatchSingleton"),
}


def _child_fields(cls: type) -> tuple[str, ...]:
    return tuple(
        field for field in cls._fields  # type: ignore[attr-defined]
        if field not in _NOT_CHILDREN and cls.__name__ not in _NOT_CHILDREN_OF.get(field, ())
    )


#: node class -> the fields that can hold nodes with fields (a node, a list of nodes, where a
#: ``Dict`` key may be None, or None): what a walker that has nothing to do with operators,
#: contexts and identifiers visits, without testing every field's value.
CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    cls: _child_fields(cls)
    for cls in vars(ast).values()
    if isinstance(cls, type) and issubclass(cls, AST)
}


def child_nodes(node: AST) -> list[AST]:
    """The direct children of ``node``, as ``ast.iter_child_nodes`` yields them."""
    out: list[AST] = []
    fields = node.__dict__
    for name in node._fields:
        value = fields.get(name)
        if type(value) is list:
            for item in value:
                if isinstance(item, AST):
                    out.append(item)
        elif isinstance(value, AST):
            out.append(value)
    return out


def walk(node: AST) -> Iterator[AST]:
    """``node`` and all its descendants, breadth first, as ``ast.walk`` yields them."""
    todo = [node]
    append = todo.append
    for current in todo:  # the list grows while it is iterated: a breadth-first queue
        fields = current.__dict__
        for name in current._fields:
            value = fields.get(name)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        append(item)
            elif isinstance(value, AST):
                append(value)
        yield current
