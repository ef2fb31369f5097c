"""``fatopt profile`` at binary-operator sites ``a OP b``: the exact types of both operands when a
Python dunder ran the operation (forward on the left operand's type, reflected on the right's),
per site of a def, read back with ``Profile.operand_types_for_binop``; operations of builtin
types, augmented assignments and calls of the dunder by name recorded nowhere."""

from __future__ import annotations

import ast
import json

import pytest

from fatopt.profile import def_source, first_line, load, source_lines

from .helpers import python, write
from .test_profile import code_of

APP = """\
class V:
    def __init__(self, x):
        self.x = x

    def __sub__(self, other):
        return V(self.x - other.x)

    def __radd__(self, other):
        return V(other + self.x)

    def __mul__(self, k):
        return V(self.x * k)

class W(V):
    pass

class Refuses:
    def __add__(self, other):
        return NotImplemented

class Takes:
    def __radd__(self, other):
        return 0

def differences(p, q, n):
    d = p - q
    e = 1 + p
    k = n + n
    sub = lambda a, b: a - b
    f = sub(q, p)
    p -= q - p
    m = p.__sub__(q)
    s = p - q * 2
    return d, e, k, f, m, s

def both_dunders(a, b):
    return a + b

def local_class():
    class Local:
        def __sub__(self, other):
            return 0
    return Local() - Local()

for _ in range(3):
    differences(V(1), V(2), 3)
differences(W(1), V(2), 3)
for _ in range(4):
    both_dunders(Refuses(), Takes())
local_class()
print("done")
"""


def _binop_end(source: str, text: str) -> tuple[int, int]:
    """The end (line, column) of the binary operation whose source text is ``text``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and ast.get_source_segment(source, node) == text:
            return node.end_lineno, node.end_col_offset
    raise LookupError(text)


def _def(source: str, name: str) -> ast.FunctionDef:
    return next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name == name)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("operators")
    app = write(tmp_path, "app.py", APP)
    proc = python("-m", "fatopt", "profile", "-o", "app.profile", "--", "app.py", cwd=tmp_path, fatopt=None)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "done\n"
    data = json.loads((tmp_path / "app.profile").read_text())
    return tmp_path, app, proc, data


def _sites(data: dict, qualname: str) -> dict[tuple[int, int, str], list[tuple[list[str], int]]]:
    """(end line, end column, operator) -> [(operand type names, calls)] of a def's entry."""
    [entry] = [f for f in data["functions"] if f["qualname"] == qualname and f["file"].endswith("app.py")]
    return {
        (site["line"], site["col"], site["operator"]): [
            ([f"{t['module']}.{t['qualname']}" for t in row["types"]], row["calls"]) for row in site["operands"]
        ]
        for site in entry["operator_sites"]
    }


def test_operand_types_are_recorded_per_site_in_the_json(recorded):
    _tmp_path, _app, proc, data = recorded
    assert "operator sites" in proc.stderr.strip().splitlines()[-1]
    sites = _sites(data, "differences")
    assert sites == {
        # forward: (type(p), type(q)), most frequent first; W's __sub__ is V's, found along its MRO
        (*_binop_end(APP, "p - q"), "Sub"): [(["__main__.V", "__main__.V"], 3), (["__main__.W", "__main__.V"], 1)],
        # reflected: V.__radd__(p, 1) ran it, the pair is still (left, right)
        (*_binop_end(APP, "1 + p"), "Add"): [(["builtins.int", "__main__.V"], 3), (["builtins.int", "__main__.W"], 1)],
        # in a lambda of the def: the def's site
        (*_binop_end(APP, "a - b"), "Sub"): [(["__main__.V", "__main__.V"], 3), (["__main__.V", "__main__.W"], 1)],
        # once per evaluation: `p -= q - p`, which ends there too, ran V.__sub__ for `-=`, not counted
        (*_binop_end(APP, "q - p"), "Sub"): [(["__main__.V", "__main__.V"], 3), (["__main__.V", "__main__.W"], 1)],
        # two operations end at one place, told apart by their operator
        (*_binop_end(APP, "p - q * 2"), "Sub"): [(["__main__.V", "__main__.V"], 4)],
        (*_binop_end(APP, "q * 2"), "Mult"): [(["__main__.V", "builtins.int"], 4)],
    }
    # not recorded: ints (no Python dunder), `p -= ...` (an augmented assignment), `p.__sub__(q)`
    assert _binop_end(APP, "n + n") not in {site[:2] for site in sites}
    # the dunders' own `self.x - other.x` are ints' operations
    assert _sites(data, "V.__sub__") == {}


def test_a_forward_and_a_reflected_dunder_of_one_evaluation_count_it_once(recorded):
    _tmp_path, _app, _proc, data = recorded
    assert _sites(data, "both_dunders") == {
        (*_binop_end(APP, "a + b"), "Add"): [(["__main__.Refuses", "__main__.Takes"], 4)],
    }


def test_operand_types_for_binop_answers_from_the_syntax_tree(recorded):
    tmp_path, app, _proc, _data = recorded
    profile = load(str(tmp_path / "app.profile"))
    lines = source_lines(APP)

    def operands(qualname, text, operator=None, source=None):
        node = _def(APP, qualname.rpartition(".")[2])
        found = profile.operand_types_for_binop(
            str(app), qualname, first_line(node), source or def_source(lines, node), *_binop_end(APP, text),
            operator=operator)
        return [(str(left), str(right)) for left, right in found]

    assert operands("differences", "p - q") == [("__main__.V", "__main__.V"), ("__main__.W", "__main__.V")]
    assert operands("differences", "1 + p") == [("builtins.int", "__main__.V"), ("builtins.int", "__main__.W")]
    assert operands("differences", "a - b") == [("__main__.V", "__main__.V"), ("__main__.V", "__main__.W")]
    assert operands("differences", "n + n") == []
    # where two operations end, the operator picks one; without it, neither answers
    assert operands("differences", "p - q * 2", "Sub") == [("__main__.V", "__main__.V")]
    assert operands("differences", "q * 2", "Mult") == [("__main__.V", "builtins.int")]
    assert operands("differences", "q * 2", "Add") == []
    assert operands("differences", "q * 2") == []
    # a local class is unreachable: recorded, never offered
    assert operands("local_class", "Local() - Local()") == []
    entry = profile.entry(code_of(app, "local_class"))
    [site] = entry.operator_sites.values()
    assert [(str(left), left.reachable) for (left, _right), _calls in site.operands] == [
        ("__main__.local_class.<locals>.Local", False),
    ]


def test_an_edited_defs_sites_are_ignored(recorded):
    tmp_path, app, _proc, _data = recorded
    profile = load(str(tmp_path / "app.profile"))
    node = _def(APP, "differences")
    text = def_source(source_lines(APP), node)
    end = _binop_end(APP, "p - q")
    assert profile.operand_types_for_binop(str(app), "differences", first_line(node), text, *end) != []
    edited = text.replace("k = n + n", "k = n * n")
    assert profile.operand_types_for_binop(str(app), "differences", first_line(node), edited, *end) == []


def test_a_profile_without_operator_sites_still_loads(recorded, tmp_path):
    source_dir, app, _proc, data = recorded
    old = json.loads(json.dumps(data))
    for function in old["functions"]:
        del function["operator_sites"]
    path = tmp_path / "old.profile"
    path.write_text(json.dumps(old))
    profile = load(str(path))
    node = _def(APP, "differences")
    text = def_source(source_lines(APP), node)
    assert profile.operand_types_for_binop(str(app), "differences", first_line(node), text, *_binop_end(APP, "p - q")) == []
    assert profile.types_for_def(str(app), "differences", first_line(node), text) != []
