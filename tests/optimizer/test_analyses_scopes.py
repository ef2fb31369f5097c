"""Scope analysis: where names bind, as CPython's symtable decides."""

import ast
import symtable

import pytest

from fatopt.analyses import analyze_scopes, resolve, unsafe_reasons
from fatopt.emit import free_names

SOURCE = """\
import os
G = 1
def f(a, *args, k=1, **kw):
    global H
    b = a
    H = 2
    [c for c in args]
    (d := 1)
    def g():
        nonlocal b
        b = 3
        return d, len
    class K:
        z = b
        def m(self):
            return z
    return b, os, G, g
lambda q: q + G
"""


def test_function_bindings_match_symtable():
    tree = ast.parse(SOURCE)
    scopes = analyze_scopes(tree)
    f = scopes.scope_of(tree.body[2])
    table = symtable.symtable(SOURCE, "m.py", "exec").lookup("f").get_namespace()
    expected_locals = {s.get_name() for s in table.get_symbols() if s.is_local() and not s.is_global()}
    # since PEP 709 symtable lists inlined comprehension targets (c) among the function's
    # locals; semantically they stay local to the comprehension, as the analysis says
    assert {n for n in f.bindings if f.binds(n)} == expected_locals - {"c"}
    assert f.declared_global == {"H"}
    assert resolve(f, "a") == "local"
    assert resolve(f, "H") == "global"
    assert resolve(f, "G") == "module"
    assert resolve(f, "os") == "module"


def test_nested_and_class_scopes():
    tree = ast.parse(SOURCE)
    scopes = analyze_scopes(tree)
    f_node = tree.body[2]
    g_node = next(n for n in ast.walk(f_node) if isinstance(n, ast.FunctionDef) and n.name == "g")
    m_node = next(n for n in ast.walk(f_node) if isinstance(n, ast.FunctionDef) and n.name == "m")
    g, m = scopes.scope_of(g_node), scopes.scope_of(m_node)
    assert resolve(g, "b") == "nonlocal"
    assert resolve(g, "d") == "free"  # the walrus bound d in f, not in the comprehension
    assert resolve(g, "len") == "module"
    assert resolve(m, "z") == "module"  # class bodies are invisible to methods
    comp = scopes.scope_of(next(n for n in ast.walk(f_node) if isinstance(n, ast.ListComp)))
    assert resolve(comp, "c") == "local"


def test_free_names_agree_with_code_objects():
    code = compile(SOURCE, "m.py", "exec")
    f_code = next(c for c in code.co_consts if getattr(c, "co_name", "") == "f")
    g_code = next(c for c in f_code.co_consts if getattr(c, "co_name", "") == "g")
    tree = ast.parse(SOURCE)
    scopes = analyze_scopes(tree)
    g_node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "g")
    assert free_names(scopes.scope_of(g_node)) == set(g_code.co_freevars)
    assert free_names(scopes.scope_of(tree.body[2])) == set(f_code.co_freevars) == set()


@pytest.mark.parametrize(
    "body, reason",
    [
        ("exec('x = 1')", "uses exec"),
        ("eval('1')", "uses eval"),
        ("locals()", "uses locals"),
        ("vars()", "uses vars"),
        ("globals()", "uses globals"),
        ("import sys; sys._getframe()", "uses ._getframe"),
        ("__builtins__", "uses __builtins__"),
        ("breakpoint()", "uses breakpoint"),
    ],
)
def test_unsafe_constructs(body, reason):
    tree = ast.parse(f"def f():\n    {body}\n")
    scopes = analyze_scopes(tree)
    assert unsafe_reasons(scopes.scope_of(tree.body[0])) == [f"{reason} (line 2)"]


def test_unsafe_in_nested_scope_counts():
    tree = ast.parse("def f():\n    return lambda: eval('1')\n")
    scopes = analyze_scopes(tree)
    assert unsafe_reasons(scopes.scope_of(tree.body[0])) == ["uses eval (line 2)"]
