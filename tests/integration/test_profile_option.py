"""A recorded type profile given to the optimizer: ``-X fatopt=profile=FILE``, the same in
``PYTHONFATOPT``, ``fatopt compileall --profile FILE`` (and ``-c profile=FILE``): loaded once, on
the first cache miss, and handed to the optimizer of every module; its content part of the cache
tag; a missing or bad file one line on stderr, and the program runs as plain."""

from __future__ import annotations

import sys

import pytest

from .helpers import fatopt_caches, normal_caches, python, write

MOD = """\
class Box:
    def __init__(self, v):
        self.v = v

    def get(self):
        return self.v

def scale(box, k):
    return box.get() * k
"""

MAIN = """\
import mod
print(sum(mod.scale(mod.Box(i), 2) for i in range(5)))
"""

#: A program that watches the module units the optimizer makes (the optimizer imported first,
#: plain, so that the cache misses to come use this very module) and says, for mod.py's, which
#: profile it got and what that profile answers for ``scale`` from the syntax tree's side.
SPY = """\
import ast, sys
import fatopt.optimizer as optimizer
from fatopt.profile import first_line

units = []

class Spy(optimizer.ModuleUnit):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        units.append(self)

optimizer.ModuleUnit = Spy
import mod
print(sum(mod.scale(mod.Box(i), 2) for i in range(5)))
for unit in units:
    if unit.filename.endswith("mod.py"):
        node = next(n for n in unit.tree.body if getattr(n, "name", "") == "scale")
        found = unit.profile and unit.profile.types_for_def(unit.filename, "scale", first_line(node), unit.def_source(node))
        print("unit", unit.profile and unit.profile.path, [[str(t) for t in row] for row in found or ()])
import fatopt.importer
print("loaded", len(fatopt.importer.loaded_profiles))
"""

#: Whether this run parsed a profile (only a cache miss does).
LOADED = """\
import mod
print(sum(mod.scale(mod.Box(i), 2) for i in range(5)))
import fatopt.importer
print("loaded", len(fatopt.importer.loaded_profiles))
"""


def fatopt_cmd(*args, **kwargs):
    return python("-m", "fatopt", *args, fatopt=None, **kwargs)


@pytest.fixture
def app(tmp_path):
    write(tmp_path, "mod.py", MOD)
    write(tmp_path, "main.py", MAIN)
    write(tmp_path, "spy.py", SPY)
    write(tmp_path, "loaded.py", LOADED)
    proc = fatopt_cmd("profile", "-o", "app.profile", "--", "main.py", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "20\n", proc.stderr
    return tmp_path


def mod_caches(directory):
    return [name for name in fatopt_caches(directory) if name.startswith("mod.")]


def test_the_x_option_hands_the_profile_to_the_optimizer(app):
    proc = python("spy.py", cwd=app, fatopt="profile=app.profile")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines() == [
        "20", f"unit {app / 'app.profile'} [['mod.Box', 'builtins.int']]", "loaded 1",
    ]


def test_the_environment_variable_does_the_same(app):
    proc = python("spy.py", cwd=app, fatopt=None, env={"PYTHONFATOPT": "profile=app.profile"})
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.splitlines()[1] == f"unit {app / 'app.profile'} [['mod.Box', 'builtins.int']]"


def test_without_a_profile_the_optimizer_gets_none(app):
    proc = python("spy.py", cwd=app)
    assert proc.returncode == 0 and proc.stdout.splitlines() == ["20", "unit None []", "loaded 0"]


def test_the_profile_is_part_of_the_cache_key_and_a_warm_start_does_not_parse_it(app):
    first = python("loaded.py", cwd=app, fatopt="profile=app.profile")
    assert first.stdout == "20\nloaded 1\n" and first.stderr == ""
    (with_profile,) = mod_caches(app)
    warm = python("loaded.py", cwd=app, fatopt="profile=app.profile")
    assert warm.stdout == "20\nloaded 0\n"  # every module from the cache: the profile not parsed
    assert mod_caches(app) == [with_profile]
    # no profile: the cache made with one is not used
    plain = python("loaded.py", cwd=app)
    assert plain.stdout == "20\nloaded 0\n"
    assert len(mod_caches(app)) == 2
    # another profile (re-recorded with other types): not used either
    write(app, "main.py", MAIN.replace("mod.Box(i), 2", "mod.Box(i * 1.5), 2"))
    assert fatopt_cmd("profile", "-o", "app.profile", "--", "main.py", cwd=app).returncode == 0
    changed = python("loaded.py", cwd=app, fatopt="profile=app.profile")
    assert changed.stdout == "20\nloaded 1\n"
    assert len(mod_caches(app)) == 3
    # the user's own .pyc: the one plain Python writes, untouched by the profile
    assert [name for name in normal_caches(app) if name.startswith("mod.")] == [f"mod.{sys.implementation.cache_tag}.pyc"]


def test_compileall_profile_writes_what_the_option_reads(app):
    proc = fatopt_cmd("compileall", "-q", "--profile", "app.profile", "mod.py", "loaded.py", cwd=app)
    assert proc.returncode == 0, proc.stderr
    (cached,) = mod_caches(app)
    run = python("loaded.py", cwd=app, fatopt="profile=app.profile")
    assert run.stdout == "20\nloaded 0\n" and run.stderr == ""  # from compileall's files: no miss
    assert mod_caches(app) == [cached]
    # -c profile=FILE is the same setting
    again = fatopt_cmd("compileall", "-q", "-f", "-c", "profile=app.profile", "mod.py", cwd=app)
    assert again.returncode == 0 and mod_caches(app) == [cached]
    # and without a profile, compileall writes another tag
    assert fatopt_cmd("compileall", "-q", "mod.py", cwd=app).returncode == 0
    assert len(mod_caches(app)) == 2


@pytest.mark.parametrize("content, why", [
    pytest.param(None, "cannot read the profile", id="missing"),
    pytest.param("not json", "not a fatopt profile (not JSON", id="not-json"),
    pytest.param('{"format": "fatopt-profile", "version": 99}', "profile format version 99", id="version"),
])
def test_a_bad_profile_is_one_line_naming_it_and_the_program_runs_plain(app, content, why):
    if content is not None:
        write(app, "bad.profile", content)
    proc = python("main.py", cwd=app, fatopt="profile=bad.profile")
    assert proc.returncode == 0 and proc.stdout == "20\n"
    (line,) = proc.stderr.splitlines()
    assert str(app / "bad.profile") in line and why in line and line.endswith("fatopt is off: running unoptimized")
    assert mod_caches(app) == []
    env = python("main.py", cwd=app, fatopt=None, env={"PYTHONFATOPT": "profile=bad.profile"})
    assert env.stdout == "20\n" and env.stderr == proc.stderr.replace("-X fatopt=", "PYTHONFATOPT=")
    compileall = fatopt_cmd("compileall", "-q", "--profile", "bad.profile", "mod.py", cwd=app)
    assert compileall.returncode == 2 and compileall.stdout == ""
    (line,) = compileall.stderr.splitlines()
    assert line.startswith("fatopt compileall: error: ") and str(app / "bad.profile") in line and why in line
    assert mod_caches(app) == []


def test_show_and_status_take_the_profile(app):
    show = fatopt_cmd("show", "-c", "profile=app.profile", "mod.py", cwd=app)
    assert show.returncode == 0 and "def scale" in show.stdout
    bad = fatopt_cmd("show", "-c", "profile=nope.profile", "mod.py", cwd=app)
    assert bad.returncode == 2 and "nope.profile" in bad.stderr
    status = python("-m", "fatopt", "status", cwd=app, fatopt=None, env={"PYTHONFATOPT": "profile=app.profile"})
    assert f"profile:      {app / 'app.profile'}" in status.stdout
