"""A type profile reaches the optimizer: entries found from the syntax tree's side (file,
qualname, first line, the def's text) exactly as from the code object's, ignored once the def's
text changes; the profile and the source text carried by the module unit through every entry
point; the profile's content in the cache tag."""

from __future__ import annotations

import ast
import json
import os
import sys
import types

import pytest

import fatopt.optimizer as optimizer
from fatopt.compiler import compile_source, compile_tree, profile_for
from fatopt.importer import Options, OptionsError, from_environment
from fatopt.profile import ProfileError, TypeName, def_source, first_line, load, source_lines
from fatopt.profile import _Recorder
from integration.test_profile import code_of, names

SOURCE = '''\
import functools

class Vec:
    def __init__(self, x):
        self.x = x

    @functools.lru_cache
    @staticmethod
    def unit(n):
        return n

    def add(self, other):
        return Vec(self.x + other.x)

def total(vs, start):
    t = Vec(start)
    for v in vs:
        t = t.add(v)
    return t.x

def local_type():
    class Local:
        pass
    return total([], Local())
'''

RUN = '''
total([Vec(1), Vec(2)], 0)
total([Vec(1.5)], 0.5)
total([Vec(1)], 0)
Vec.unit(3)
try:
    local_type()
except Exception:
    pass
'''


def _record(path: str, source: str, run: str) -> dict:
    """The profile JSON of running ``source`` + ``run`` as the module ``recorded_app`` from the
    file ``path``, recorded in this process (what ``fatopt profile`` writes, without a child)."""
    module = types.ModuleType("recorded_app")
    module.__file__ = path
    sys.modules["recorded_app"] = module
    recorder = _Recorder(8)
    try:
        exec(compile(source, path, "exec"), vars(module))
        recorder.start()
        try:
            exec(compile(run, path, "exec"), vars(module))
        finally:
            recorder.stop()
        return recorder.to_json()
    finally:
        del sys.modules["recorded_app"]


@pytest.fixture
def recorded(tmp_path):
    app = tmp_path / "recorded_app.py"
    app.write_text(SOURCE)
    data = _record(str(app), SOURCE, RUN)
    path = tmp_path / "app.profile"
    path.write_text(json.dumps(data))
    return app, path, load(str(path))


def _defs(source: str) -> dict[str, ast.FunctionDef]:
    """qualname -> def node, for the top-level and class-level defs of ``source``."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    found[f"{node.name}.{item.name}"] = item
    return found


def test_the_ast_side_finds_what_the_code_side_finds(recorded):
    app, _path, profile = recorded
    lines = source_lines(SOURCE)
    for qualname, node in _defs(SOURCE).items():
        code = code_of(app, qualname)
        assert first_line(node) == code.co_firstlineno
        from_ast = profile.types_for_def(str(app), qualname, first_line(node), def_source(lines, node))
        assert from_ast == profile.argument_types(code), qualname
    node = _defs(SOURCE)["total"]
    assert names(profile.types_for_def(str(app), "total", node.lineno, def_source(lines, node))) == [
        ("builtins.list", "builtins.int"), ("builtins.list", "builtins.float"),  # most frequent first
    ]  # (the call with a local class's instance is left out: that type is unreachable)
    decorated = _defs(SOURCE)["Vec.unit"]
    assert decorated.lineno != first_line(decorated)  # the decorators' lines are the def's
    assert names(profile.types_for_def(str(app), "Vec.unit", first_line(decorated), def_source(lines, decorated))) == [
        ("builtins.int",)]


def test_an_entry_is_not_found_once_its_def_text_changes(recorded):
    app, _path, profile = recorded
    node = _defs(SOURCE)["Vec.add"]
    text = def_source(source_lines(SOURCE), node)
    assert profile.types_for_def(str(app), "Vec.add", node.lineno, text)
    edited = text.replace("self.x + other.x", "other.x + self.x")
    assert profile.types_for_def(str(app), "Vec.add", node.lineno, edited) == []
    # nor under another file, name or line
    assert profile.types_for_def(str(app) + "x", "Vec.add", node.lineno, text) == []
    assert profile.types_for_def(str(app), "Vec.sub", node.lineno, text) == []
    assert profile.types_for_def(str(app), "Vec.add", node.lineno + 1, text) == []


def test_a_relative_file_name_is_taken_from_the_current_directory(recorded, monkeypatch):
    app, _path, profile = recorded
    node = _defs(SOURCE)["total"]
    monkeypatch.chdir(app.parent)
    assert profile.types_for_def(app.name, "total", node.lineno, def_source(source_lines(SOURCE), node))


def test_lines_are_numbered_as_the_syntax_tree_numbers_them():
    text = "x = 1\x0c\ndef f(a):\r\n    return a\rdef g(b):\n    return b"
    tree = ast.parse(text)
    lines = source_lines(text)
    f, g = tree.body[1], tree.body[2]
    assert def_source(lines, f) == "def f(a):\n    return a\n"
    assert def_source(lines, g) == "def g(b):\n    return b"


def test_a_type_name_gives_what_the_optimizer_imports():
    assert TypeName("vectors", "Vector", True).reference() == ("vectors", "Vector")
    assert TypeName("builtins", "int", True).reference() == ("builtins", "int")
    assert TypeName("app", "f.<locals>.C", False).reference() is None


def test_relocated_files_the_entries_under_the_shown_name(recorded, tmp_path):
    app, _path, profile = recorded
    node = _defs(SOURCE)["total"]
    text = def_source(source_lines(SOURCE), node)
    shown = str(tmp_path / "elsewhere" / "recorded_app.py")
    moved = profile.relocated(str(app), shown)
    assert moved.types_for_def(shown, "total", node.lineno, text) == profile.types_for_def(str(app), "total", node.lineno, text)
    assert profile.types_for_def(shown, "total", node.lineno, text) == []  # the original is unchanged
    assert profile.relocated(str(tmp_path / "other.py"), shown) is profile  # nothing recorded there


@pytest.fixture
def spy(monkeypatch):
    """The module units the optimizer makes: (filename, source, profile) of each."""
    seen = []

    class Spy(optimizer.ModuleUnit):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(optimizer, "ModuleUnit", Spy)
    return seen


def test_every_entry_point_gives_the_module_unit_its_profile_and_source(recorded, spy):
    app, _path, profile = recorded
    tree = ast.parse(SOURCE)
    optimizer.optimize_ast(tree, str(app), profile=profile, source=SOURCE)
    optimizer.optimize_to_code(tree, str(app), profile=profile, source=SOURCE)
    optimizer.optimize_source(SOURCE, str(app), profile=profile)
    optimizer.optimize_source(SOURCE.encode(), str(app), profile=profile)
    compile_source(SOURCE.encode(), str(app), profile=profile)
    compile_tree(tree, str(app), source=SOURCE, profile=profile)
    assert len(spy) == 6
    for unit in spy:
        assert unit.profile is profile and unit.source == SOURCE
        node = _defs(SOURCE)["total"]
        found = unit.profile.types_for_def(unit.filename, "total", first_line(node), unit.def_source(node))
        assert names(found)[0] == ("builtins.list", "builtins.int")


def test_without_a_profile_or_source_the_unit_has_none(spy):
    tree = ast.parse(SOURCE)
    optimizer.optimize_ast(tree, "app.py")
    compile_source(SOURCE, "app.py")
    assert [unit.profile for unit in spy] == [None, None]
    assert spy[0].source is None and spy[0].def_source(_defs(SOURCE)["total"]) is None
    assert spy[1].source == SOURCE


def test_compileall_display_path_keeps_the_entries(recorded, spy, tmp_path):
    app, _path, profile = recorded
    shown = str(tmp_path / "shown" / "recorded_app.py")
    compile_source(SOURCE, str(app), display_path=shown, profile=profile)
    (unit,) = spy
    node = _defs(SOURCE)["total"]
    assert unit.filename == shown
    assert unit.profile.types_for_def(shown, "total", first_line(node), unit.def_source(node))


def test_the_profile_is_part_of_the_cache_tag(recorded, tmp_path):
    _app, path, _profile = recorded
    plain = from_environment({}, {"fatopt": True})
    with_profile = from_environment({}, {"fatopt": f"profile={path}"})
    assert with_profile.profile == str(path) and plain.cache_tag() != with_profile.cache_tag()
    copy = tmp_path / "copy.profile"
    copy.write_bytes(path.read_bytes())
    assert from_environment({}, {"fatopt": f"profile={copy}"}).cache_tag() == with_profile.cache_tag()  # content, not path
    copy.write_bytes(path.read_bytes().replace(b'"calls"', b'"calls" ', 1))
    assert from_environment({}, {"fatopt": f"profile={copy}"}).cache_tag() != with_profile.cache_tag()
    assert from_environment({"PYTHONFATOPT": f"profile={path}"}, {}).cache_tag() == with_profile.cache_tag()


def test_a_missing_profile_is_an_error_of_the_option(tmp_path):
    missing = tmp_path / "missing.profile"
    with pytest.raises(OptionsError, match="cannot read the profile .*missing.profile"):
        from_environment({}, {"fatopt": f"profile={missing}"})
    with pytest.raises(OptionsError, match="needs a file"):
        from_environment({}, {"fatopt": "profile="})


def test_profile_for_loads_once_and_refuses_a_changed_or_bad_file(recorded, tmp_path):
    _app, path, _profile = recorded
    options = Options(enabled=True)
    assert profile_for(options) is None
    options.use_profile(str(path))
    loaded = profile_for(options)
    assert loaded is profile_for(options) and loaded.path == str(path)
    path.write_text(path.read_text() + "\n")  # changed after the option was read: its tag is stale
    options = Options(enabled=True)
    options.use_profile(str(path))
    path.write_text(path.read_text() + "\n")
    with pytest.raises(ProfileError, match="changed since"):
        profile_for(options)
    bad = tmp_path / "bad.profile"
    bad.write_text("{}")
    options.use_profile(str(bad))
    with pytest.raises(ProfileError, match=f"{os.path.basename(bad)}: not a fatopt profile"):
        profile_for(options)


SITES = '''\
import posixpath

class Base:
    def m(self, x):
        return x

class Child(Base):
    def m(self, x):
        return super().m(x) + 1

class Static:
    m = staticmethod(lambda x: x)

def calls(objs):
    total = 0
    for o in objs:
        total += o.m(
            1)
    total += sum(o.m(2) for o in objs)
    posixpath.join("a", "b")
    return total + Static().m(3)

def no_parameters():
    return calls([Child()]) + Child().m(0)
'''

SITES_RUN = '''
calls([Base(), Child(), Child()])
no_parameters()
'''


def _call_end(source: str, text: str) -> tuple[int, int]:
    """The end (line, column) of the call whose source text is ``text``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and ast.get_source_segment(source, node) == text:
            return node.end_lineno, node.end_col_offset
    raise LookupError(text)


def test_receivers_of_method_calls_are_recorded_per_site(tmp_path):
    app = tmp_path / "recorded_app.py"
    app.write_text(SITES)
    path = tmp_path / "sites.profile"
    path.write_text(json.dumps(_record(str(app), SITES, SITES_RUN)))
    profile = load(str(path))
    lines, defs = source_lines(SITES), _defs(SITES)

    def receivers(qualname, call_text):
        node = defs[qualname]
        found = profile.receiver_types_for_call(str(app), qualname, first_line(node), def_source(lines, node),
                                                *_call_end(SITES, call_text))
        return [str(t) for t in found]

    # most frequent first; a call spread over lines, and one in a generator expression, count for the def
    assert receivers("calls", "o.m(\n            1)") == ["recorded_app.Child", "recorded_app.Base"]
    assert receivers("calls", "o.m(2)") == ["recorded_app.Child", "recorded_app.Base"]
    assert receivers("Child.m", "super().m(x)") == ["recorded_app.Child"]  # the method found along the MRO
    # a module's function and a static method: no receiver is bound, none recorded
    assert receivers("calls", 'posixpath.join("a", "b")') == []
    assert receivers("calls", "Static().m(3)") == []
    # a def without parameters of its own gets an entry for its sites
    assert receivers("no_parameters", "Child().m(0)") == ["recorded_app.Child"]
    assert receivers("no_parameters", "calls([Child()])") == []  # (not an attribute call)
    entry = profile.entry_for_def(str(app), "calls", first_line(defs["calls"]), def_source(lines, defs["calls"]))
    assert sorted(site.attribute for site in entry.call_sites.values()) == ["m", "m"]
    assert [calls for _t, calls in entry.call_sites[_call_end(SITES, "o.m(2)")].receivers] == [3, 1]
    # and nothing once the def's text changes
    node = defs["calls"]
    edited = def_source(lines, node).replace("total = 0", "total = 0.0")
    assert profile.receiver_types_for_call(str(app), "calls", first_line(node), edited, *_call_end(SITES, "o.m(2)")) == []
