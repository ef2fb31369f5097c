"""Cold starts and the cache (issue 15, item 7): a script run as the main script and then
imported hits the cache; with bytecode writing off nothing is written unless fatopt has its own
cache directory; the optimizer is dropped once the imports that needed it are done; compile-time
warnings are shown as often as plain Python shows them."""

from __future__ import annotations

import json

import pytest

from integration.helpers import python, write

LOADED = "import sys; print('fatopt.optimizer' in sys.modules, 'fatopt.cache_miss' in sys.modules)"
#: ... after a collection: the first one that finds no import in progress drops the optimizer
COLLECTED = "import gc; gc.collect(); " + LOADED


def test_a_script_run_as_main_then_imported_is_a_cache_hit_every_time(tmp_path):
    write(tmp_path, "a.py", "X = 1\ndef f():\n    return X + 1\n")
    assert python("a.py", cwd=tmp_path).returncode == 0
    code = "import a; " + LOADED
    for _ in range(3):  # the first import writes the normal .pyc; it must not make fatopt's stale
        proc = python("-c", code, cwd=tmp_path)
        assert proc.stdout == "False False\n", proc.stderr


def test_bytecode_writing_off_writes_nothing_and_says_so_in_verbose_mode(tmp_path):
    write(tmp_path, "mod.py", "X = 1\n")
    for _ in range(2):
        proc = python("-c", "import mod; " + COLLECTED, cwd=tmp_path, fatopt="verbose", write_bytecode=False)
        assert proc.stdout == "False True\n"  # the optimizer ran (then was dropped), every time
        assert proc.stderr.count("bytecode writing is off") == 1, proc.stderr
        assert "cache_dir=" in proc.stderr
    assert list(tmp_path.rglob("*.pyc")) == []
    quiet = python("-c", "import mod", cwd=tmp_path, write_bytecode=False)
    assert quiet.stderr == ""


def test_a_cache_dir_caches_under_bytecode_writing_off_with_the_usual_tag(tmp_path):
    write(tmp_path, "mod.py", "X = 1\n")
    cache = tmp_path / "cache"
    code = "import mod; " + COLLECTED
    cold = python("-c", code, cwd=tmp_path, fatopt=f"cache_dir={cache}", write_bytecode=False)
    warm = python("-c", code, cwd=tmp_path, fatopt=f"cache_dir={cache}", write_bytecode=False)
    assert (cold.stdout, warm.stdout) == ("False True\n", "False False\n"), (cold.stderr, warm.stderr)
    [cached] = [p for p in cache.rglob("mod.*.pyc")]
    assert str(cached.parent).endswith(str(tmp_path.resolve()))  # mirrors the source's directory
    assert [p for p in tmp_path.rglob("*.opt-fatopt*") if cache not in p.parents] == []  # nowhere else
    tag = python("-c", "import _fatopt_importhook as h; print(h.options()[0])", cwd=tmp_path)
    assert cached.name.endswith(f".opt-{tag.stdout.strip()}.pyc")  # the tag is the default one


def test_cache_dir_needs_a_value(tmp_path):
    proc = python("-c", LOADED, cwd=tmp_path, fatopt="cache_dir=")
    assert proc.stdout == "False False\n"
    assert proc.stderr.count("\n") == 1 and "cache_dir" in proc.stderr


GC_COUNT = """
import gc, sys
import mod
if sys.argv[1:] == ["keep"]:  # a warm start that loads the optimizer and keeps it
    import fatopt.cache_miss
    fatopt.cache_miss.ensure_optimizer()
gc.collect(); gc.collect()
print('fatopt.optimizer' in sys.modules, len(gc.get_objects()))
"""


def test_the_optimizer_is_dropped_after_a_cold_import(tmp_path):
    write(tmp_path, "mod.py", "import json\nX = 3\ndef f(n):\n    return n * X + len('abc')\n")
    write(tmp_path, "app.py", GC_COUNT)
    cold = python("app.py", cwd=tmp_path)  # every module a miss: the optimizer loads
    kept = python("app.py", "keep", cwd=tmp_path)
    cold_loaded, cold_count = cold.stdout.split()
    kept_loaded, kept_count = kept.stdout.split()
    assert (cold_loaded, kept_loaded) == ("False", "True"), (cold.stderr, kept.stderr)
    # fatopt's optimizer modules are hundreds of objects (test_import_hook.py compares with a
    # warm start exactly)
    assert int(kept_count) - int(cold_count) > 300, (cold_count, kept_count)


def test_a_cold_start_loads_the_optimizer_once_for_many_imports(tmp_path):
    for name in "abcdef":
        write(tmp_path, f"{name}.py", f"X = {name!r}\ndef f():\n    return X * 2\n")
    write(tmp_path, "app.py", """
        import sys
        loads = []
        sys.addaudithook(lambda event, args: event == "import" and args[0] == "fatopt.optimizer" and loads.append(1))
        import a
        import b
        import c, d
        import e
        import f
        print(len(loads))
    """)
    # the script itself is a miss (the optimizer is loaded before the audit hook): no reload
    assert python("app.py", cwd=tmp_path).stdout == "0\n"


@pytest.mark.parametrize("source", ['def f(x):\n    return "\\d", x is 1\n', 'X = "\\d"\n'])
def test_compile_time_warnings_are_shown_as_often_as_plain_python_shows_them(tmp_path, source):
    write(tmp_path, "w.py", source)
    write(tmp_path, "app.py", "import w\n")
    for script in ("app.py", "w.py"):
        counts = {}
        for fatopt in (None, ""):
            for cache in (".prefix", "pycache"):  # caches cold, then warm
                for p in tmp_path.rglob("*.pyc"):
                    p.unlink()
                runs = [python(script, cwd=tmp_path, fatopt=fatopt) for _ in range(2)]
                counts[fatopt, cache] = [r.stderr.count("SyntaxWarning") for r in runs]
        assert counts[None, ".prefix"][0] > 0
        assert counts["", ".prefix"] == counts[None, ".prefix"], (script, counts)


def test_fatopt_compileall_warns_as_compileall_does(tmp_path):
    write(tmp_path, "w.py", 'def f(x):\n    return "\\d", x is 1\n')
    plain = python("-m", "compileall", "-q", "w.py", cwd=tmp_path, fatopt=None)
    ours = python("-m", "fatopt", "compileall", "-q", "w.py", cwd=tmp_path, fatopt=None)
    assert plain.stderr.count("SyntaxWarning") == ours.stderr.count("SyntaxWarning") > 0


def test_status_names_the_settings_tag_and_what_bytecode_writing_off_means(tmp_path):
    text = python("-m", "fatopt", "status", cwd=tmp_path, fatopt=None, write_bytecode=False)
    assert text.returncode == 0
    assert "bytecode writing is off" in text.stdout and "cache_dir=" in text.stdout
    info = json.loads(python("-m", "fatopt", "status", "--json", cwd=tmp_path, fatopt=None,
                             env={"PYTHONFATOPT": "unroll_loops=4,cache_dir=cache"}).stdout)
    assert info["active_by_environment"] and info["settings"] == {"unroll_loops": 4}
    assert info["cache_dir"] == str(tmp_path / "cache") and info["caching"]
    tag = python("-c", "import _fatopt_importhook as h; print(h.options()[0])", cwd=tmp_path,
                 fatopt="unroll_loops=4,cache_dir=elsewhere")
    assert info["cache_tag"] == tag.stdout.strip()
    assert all(info["extensions"].values())
    bad = json.loads(python("-m", "fatopt", "status", "--json", cwd=tmp_path, fatopt=None,
                            env={"PYTHONFATOPT": "unroll_loop=4"}).stdout)
    assert "unroll_loop" in bad["settings_error"] and not bad["active_by_environment"]


def test_clean_removes_fatopt_caches_only(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/mod.py", "X = 1\n")
    write(tmp_path, "app.py", "import pkg.mod\n")
    env = {"PYTHONPYCACHEPREFIX": ""}  # beside the sources, as by default
    python("app.py", cwd=tmp_path, env=env)
    python("app.py", cwd=tmp_path, env=env, fatopt="unroll_loops=2")  # a second tag
    ours = sorted(p for p in tmp_path.rglob("*.opt-fatopt*.pyc"))
    normal = sorted(p for p in tmp_path.rglob("*.pyc") if ".opt-fatopt" not in p.name)
    assert len(ours) == 6 and len(normal) == 2  # app.py's, as the main script, is fatopt's only
    sources = {p: p.read_bytes() for p in tmp_path.rglob("*.py")}
    clean = ["-m", "fatopt", "clean"]
    dry = python(*clean, "--dry-run", cwd=tmp_path, fatopt=None, env=env)
    assert dry.stdout.splitlines()[-1].startswith("fatopt clean: would remove 6 files (")
    assert sorted(tmp_path.rglob("*.opt-fatopt*.pyc")) == ours
    current = python(*clean, "--current-tag", cwd=tmp_path, fatopt=None, env=env)
    assert "removed 3 files" in current.stdout
    everything = python(*clean, str(tmp_path), cwd=tmp_path / "pkg", fatopt=None, env=env)
    assert "removed 3 files" in everything.stdout
    assert list(tmp_path.rglob("*.opt-fatopt*.pyc")) == []
    assert sorted(p for p in tmp_path.rglob("*.pyc")) == normal
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.py")} == sources
    assert python(*clean, "nowhere", cwd=tmp_path, fatopt=None).returncode == 2


def test_compileall_precompiles_into_a_cache_dir(tmp_path):
    write(tmp_path, "solo.py", "X = 1\ndef f():\n    return len('ab') + X\n")
    cache = tmp_path / "cache"
    compiled = python("-m", "fatopt", "compileall", "-qq", "-c", f"cache_dir={cache}", "solo.py", cwd=tmp_path, fatopt=None)
    assert compiled.returncode == 0, compiled.stderr
    [written] = cache.rglob("solo.*.pyc")
    stamp = written.stat().st_mtime_ns
    code = "import fatopt, solo; print(bool(fatopt.get_specialized(solo.f)))"
    proc = python("-c", code, cwd=tmp_path, fatopt=f"cache_dir={cache}", write_bytecode=False)
    assert proc.stdout == "True\n", proc.stderr
    assert list(cache.rglob("solo.*.pyc")) == [written] and written.stat().st_mtime_ns == stamp  # read, not rewritten


def test_what_the_api_handed_out_before_the_optimizer_was_dropped_still_works(tmp_path):
    # guards from get_specialized, given back to specialize after the collection that dropped
    # the optimizer (and a later cache miss that imported it again): the same classes
    write(tmp_path, "mod.py", "def f():\n    return len('abc')\n")
    write(tmp_path, "late.py", "def g():\n    return len('ab')\n")
    write(tmp_path, "app.py", """
        import gc, sys, fatopt, mod
        [(code, guards)] = fatopt.get_specialized(mod.f)
        gc.collect()
        dropped = "fatopt.optimizer" not in sys.modules
        import late  # a miss: the optimizer again
        gc.collect()
        fatopt.unspecialize(mod.f)
        print(dropped, fatopt.specialize(mod.f, code, guards), mod.f(), late.g())
    """)
    for _ in range(2):  # cold, then warm
        for p in tmp_path.rglob("late.*.pyc"):
            p.unlink()
        proc = python("app.py", cwd=tmp_path)
        assert proc.stdout == "True True 3 2\n", proc.stderr
