"""Which binding of a local a load reads (fatopt/analyses/local_bindings.py): ``locally_bound``
says whether every load of a name reads a binding made before it in its own block or an
enclosing one, so that the value one binding gives is never read after its block; ``binds``
finds every way a statement binds a name."""

from __future__ import annotations

import ast

import pytest

from fatopt.analyses.local_bindings import binds, locally_bound


def _body(source: str) -> list[ast.stmt]:
    return ast.parse(source).body[0].body  # type: ignore[attr-defined]


#: (function, whether v is locally bound)
CASES = [
    pytest.param("def f(a):\n    v = a\n    return v\n", True, id="straight"),
    pytest.param("def f(xs):\n    for a in xs:\n        v = a\n        print(v)\n", True, id="in-a-loop-body"),
    pytest.param("def f(xs):\n    for a in xs:\n        if a:\n            v = a\n            print(v)\n", True, id="in-a-branch"),
    pytest.param("def f(a):\n    if a:\n        v = 1\n    else:\n        v = 2\n    return v\n", True,
                 id="an-if-whose-branches-both-bind"),
    pytest.param("def f(a):\n    try:\n        v = a()\n    except:\n        log()\n        raise\n    return v\n", True,
                 id="a-try-that-re-raises"),
    pytest.param("def f(a):\n    v = a\n    if a:\n        print(v.x)\n    return v\n", True, id="read-in-a-nested-block"),
    pytest.param("def f(a):\n    if a:\n        v = 1\n    return v\n", False, id="a-branch-that-may-not-bind"),
    pytest.param("def f(xs):\n    for a in xs:\n        v = a\n    return v\n", False, id="read-after-the-loop"),
    pytest.param("def f(xs):\n    v = 0\n    for a in xs:\n        print(v)\n        v = a\n", False, id="read-in-the-next-iteration"),
    pytest.param("def f(a):\n    v = a\n    if a:\n        v = 2\n    return v\n", False, id="another-binding-in-between"),
    pytest.param("def f(a):\n    return v\n", False, id="never-bound"),
    pytest.param("def f(a):\n    v = a\n    return (v := 3) + v\n", False, id="walrus-in-the-reading-statement"),
    pytest.param("def f(a):\n    try:\n        v = a()\n    except E:\n        v = 0\n    return v\n", False,
                 id="a-try-with-a-handler-that-binds"),
]


@pytest.mark.parametrize("source, expected", CASES)
def test_locally_bound(source, expected):
    assert locally_bound(_body(source), "v") is expected


#: a statement binding v each way there is
BINDINGS = [
    "v = 1", "v += 1", "del v", "for v in x: pass", "with a as v: pass", "import v", "import v.w",
    "import a as v", "from a import v", "def v(): pass", "class v: pass", "(v := 1)",
    "try:\n    pass\nexcept E as v:\n    pass", "match x:\n    case [*v]:\n        pass",
    "match x:\n    case {**v}:\n        pass", "match x:\n    case v:\n        pass",
]


@pytest.mark.parametrize("statement", BINDINGS)
def test_binds(statement):
    assert binds(ast.parse(statement).body[0], "v")
    assert not binds(ast.parse(statement.replace("v", "w")).body[0], "v")
