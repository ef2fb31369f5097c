"""Debuggers, profilers and coverage see plain code: a module imported while a tracer, a profiler
or a ``sys.monitoring`` tool is active loads as plain Python loads it, cold or warm (fatopt's
cache file neither read nor written), and ``coverage``, ``pdb`` and ``cProfile`` report what they
report without fatopt. See docs/semantics.md, "Debuggers, profilers and coverage"."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from tests.integration.helpers import python, write

MODULE = """
    DEBUG = False


    def func(x):
        if DEBUG:
            print("debugging", x)
        return len("abc") + x


    def other(x):
        if DEBUG:
            return -x
        return x * 2
"""
OTHER_IF_DEBUG_LINE = 12  # `if DEBUG:` in other(), a line the specialized code no longer has

APP = """
    import mod

    print(mod.func(1), mod.other(2))
"""

SPECIALIZED = "import fatopt; print(bool(fatopt.get_specialized(mod.func)), fatopt.tracing_active())"


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    """One bytecode cache for the module's runs: the standard library and coverage are optimized
    (and cached) by the first run, not by every test. Each test's own modules start cold."""
    return tmp_path_factory.mktemp("prefix")


@pytest.fixture
def project(tmp_path) -> Path:
    write(tmp_path, "mod.py", MODULE)
    write(tmp_path, "app.py", APP)
    return tmp_path


def run(project: Path, prefix: Path, *args: str, fatopt: str | None = "", env: dict | None = None, **kwargs):
    result = python(*args, cwd=project, fatopt=fatopt, env={"PYTHONPYCACHEPREFIX": str(prefix), **(env or {})},
                    timeout=300, **kwargs)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def fatopt_cached(project: Path, prefix: Path, name: str = "mod") -> bool:
    mirrored = prefix / str(project.resolve()).lstrip("/")
    return any(mirrored.rglob(f"{name}.*.opt-fatopt*.pyc"))


def warm_up(project: Path, prefix: Path) -> None:
    """Without a tracer the module is specialized and cached: what the tests then see under one
    is the warm path."""
    result = run(project, prefix, "-c", f"import mod; {SPECIALIZED}")
    assert result.stdout == "True None\n"
    assert fatopt_cached(project, prefix)


# -- coverage ------------------------------------------------------------------------------------

def coverage_report(project: Path, prefix: Path, core: str, fatopt: bool) -> dict:
    """``[PYTHONFATOPT=1] coverage run app.py`` with this core, then ``coverage json``: the files
    part of the report (lines executed and missing, summaries), and what the app printed."""
    data = project / f".coverage-{core}-{fatopt}"
    env = {"COVERAGE_CORE": core, **({"PYTHONFATOPT": "1"} if fatopt else {})}
    ran = run(project, prefix, "-m", "coverage", "run", f"--data-file={data}", "app.py", fatopt=None, env=env)
    out = project / f"{data.name}.json"
    run(project, prefix, "-m", "coverage", "json", f"--data-file={data}", "-o", str(out), fatopt=None)
    report = json.loads(out.read_text())
    return {"stdout": ran.stdout, "files": report["files"], "totals": report["totals"]}


@pytest.mark.parametrize("core", ["ctrace", "sysmon"])
def test_coverage_under_fatopt_equals_plain_coverage(project, prefix, core):
    plain = coverage_report(project, prefix, core, fatopt=False)
    assert plain["files"]["mod.py"]["missing_lines"] == [7, 13]  # the two `if DEBUG:` bodies

    cold = coverage_report(project, prefix, core, fatopt=True)
    assert cold == plain
    assert not fatopt_cached(project, prefix)  # nothing of fatopt's written under the tracer

    warm_up(project, prefix)
    warm = coverage_report(project, prefix, core, fatopt=True)
    assert warm == plain


def test_coverage_uses_the_core_asked_for(project, prefix):
    """(So that the test above measures both: coverage falls back to its default core where
    sysmon cannot run.)"""
    write(project, "which.py", "import fatopt\nprint(fatopt.tracing_active())\n")
    seen = {}
    for core in ("ctrace", "sysmon"):
        result = run(project, prefix, "-m", "coverage", "run", f"--data-file={project / core}", "which.py",
                     fatopt=None, env={"COVERAGE_CORE": core, "PYTHONFATOPT": "1"})
        seen[core] = result.stdout.strip()
    assert seen == {"ctrace": "sys.settrace: coverage.CTracer", "sysmon": "sys.monitoring tool 1: 'coverage.py'"}


TEST_MODULE = """
    import fatopt

    DEBUG = False


    def helper(x):
        if DEBUG:
            print("debugging", x)
        return len("ab") + x


    def test_helper():
        print("SPECIALIZED", bool(fatopt.get_specialized(helper)))
        assert helper(1) == 3
"""


def pytest_coverage(project: Path, prefix: Path, fatopt: bool, coverage: bool) -> tuple[str, dict | None]:
    """pytest on a test module (which pytest's assertion rewriting loads, through fatopt's pytest
    plugin), under coverage or not: whether its helper was specialized, and its coverage."""
    data = project / f".coverage-pytest-{fatopt}"
    command = ["-m", "pytest", "-s", "-q", "-p", "no:cacheprovider", "test_helper.py"]
    if coverage:
        command = ["-m", "coverage", "run", f"--data-file={data}", *command]
    result = run(project, prefix, *command, fatopt=None, env={"PYTHONFATOPT": "1"} if fatopt else {})
    said = re.findall(r"^SPECIALIZED (\w+)", result.stdout, re.M)
    if not coverage:
        return said, None
    out = project / f"{data.name}.json"
    run(project, prefix, "-m", "coverage", "json", f"--data-file={data}", "-o", str(out), fatopt=None)
    return said, json.loads(out.read_text())["files"]["test_helper.py"]


def test_test_modules_under_coverage_load_plain(project, prefix):
    write(project, "test_helper.py", TEST_MODULE)
    assert pytest_coverage(project, prefix, fatopt=True, coverage=False)[0] == ["True"]  # and cached
    plain = pytest_coverage(project, prefix, fatopt=False, coverage=True)
    assert plain[0] == ["False"] and plain[1]["missing_lines"] == [9]
    assert pytest_coverage(project, prefix, fatopt=True, coverage=True) == plain


# -- pdb and cProfile ----------------------------------------------------------------------------

PDB_COMMANDS = f"b mod.func\nb mod.py:{OTHER_IF_DEBUG_LINE}\nc\nwhere\nc\nwhere\nc\nq\n"


def pdb_transcript(project: Path, prefix: Path, fatopt: str | None) -> str:
    result = run(project, prefix, "-m", "pdb", "app.py", fatopt=fatopt, input=PDB_COMMANDS)
    return re.sub(r"0x[0-9a-f]+", "0x?", result.stdout + result.stderr)


def test_pdb_stops_where_it_stops_without_fatopt(project, prefix):
    plain = pdb_transcript(project, prefix, None)
    assert f"mod.py({OTHER_IF_DEBUG_LINE})other()" in plain  # the breakpoint on `if DEBUG:` is hit
    assert pdb_transcript(project, prefix, "") == plain  # cold
    assert not fatopt_cached(project, prefix)
    warm_up(project, prefix)
    assert pdb_transcript(project, prefix, "") == plain  # warm


PROFILE_ROW = re.compile(r"^\s*(\d+(?:/\d+)?)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(.+)$", re.M)


def profiled_calls(project: Path, prefix: Path, fatopt: str | None) -> list[tuple[str, str]]:
    """cProfile's function list: (call count, function), sorted (its order among equal keys
    depends on the timings)."""
    result = run(project, prefix, "-m", "cProfile", "app.py", fatopt=fatopt)
    return sorted((calls, re.sub(r"0x[0-9a-f]+", "0x?", name)) for calls, name in PROFILE_ROW.findall(result.stdout))


def test_cprofile_sees_the_calls_it_sees_without_fatopt(project, prefix):
    profiled_calls(project, prefix, None)  # (writes the normal .pyc, which the runs below read)
    plain = profiled_calls(project, prefix, None)
    assert ("1", "mod.py:5(func)") in plain and ("1", "mod.py:11(other)") in plain
    assert profiled_calls(project, prefix, "") == plain  # cold
    warm_up(project, prefix)
    assert profiled_calls(project, prefix, "") == plain  # warm (len("abc") is folded: one builtin call fewer)


# -- what counts as a tracer ---------------------------------------------------------------------

@pytest.mark.parametrize("start, expected", [
    ("sys.settrace(lambda *args: None)", "sys.settrace: __main__.<lambda>"),
    ("sys.setprofile(lambda *args: None)", "sys.setprofile: __main__.<lambda>"),
    ("sys.monitoring.use_tool_id(3, 'x')", "sys.monitoring tool 3: 'x'"),
], ids=["settrace", "setprofile", "monitoring"])
def test_a_module_imported_under_a_tracer_is_not_specialized(project, prefix, start, expected):
    code = f"import sys; {start}; import mod; {SPECIALIZED}"
    assert run(project, prefix, "-c", code).stdout == f"False {expected}\n"  # cold
    assert not fatopt_cached(project, prefix)
    warm_up(project, prefix)
    assert run(project, prefix, "-c", code).stdout == f"False {expected}\n"  # warm


def test_fatopts_own_monitoring_tool_does_not_count(project, prefix):
    # (the main script's start is watched by a tool named "fatopt", until the script starts)
    code = f"import sys; sys.monitoring.use_tool_id(3, 'fatopt'); import mod; {SPECIALIZED}"
    assert run(project, prefix, "-c", code).stdout == "True None\n"


def test_the_check_is_made_at_each_import(project, prefix):
    write(project, "mod2.py", MODULE)
    code = ("import sys; sys.monitoring.use_tool_id(3, 'x'); import mod; sys.monitoring.free_tool_id(3); import mod2\n"
            "import fatopt; print(bool(fatopt.get_specialized(mod.func)), bool(fatopt.get_specialized(mod2.func)))")
    assert run(project, prefix, "-c", code).stdout == "False True\n"


def test_a_tracer_on_another_thread_does_not_count(project, prefix):
    code = textwrap.dedent("""
        import sys, threading
        traced, done = threading.Event(), threading.Event()
        def worker():
            sys.settrace(lambda *args: None)
            traced.set()
            done.wait()
        thread = threading.Thread(target=worker)
        thread.start()
        traced.wait()
        import mod
        done.set()
        thread.join()
    """) + SPECIALIZED
    assert run(project, prefix, "-c", code).stdout == "True None\n"


def test_a_tracer_started_by_sitecustomize_covers_the_main_script_too(project, prefix):
    site = write(project / "site", "sitecustomize.py", "import sys\nsys.settrace(lambda *args: None)\n")
    write(project, "main.py", f"""
        import mod


        def own():
            return len("abc")


        {SPECIALIZED}
        print(bool(fatopt.get_specialized(own)))
    """)
    env = {"PYTHONPATH": str(site.parent)}
    assert run(project, prefix, "main.py", env=env).stdout == "False sys.settrace: sitecustomize.<lambda>\nFalse\n"
    warm_up(project, prefix)
    assert run(project, prefix, "main.py").stdout == "True None\nTrue\n"  # (the main script, cached now)
    assert run(project, prefix, "main.py", env=env).stdout == "False sys.settrace: sitecustomize.<lambda>\nFalse\n"


def test_verbose_mode_says_it_once(project, prefix):
    write(project, "mod2.py", MODULE)
    result = run(project, prefix, "-c", "import sys; sys.settrace(lambda *args: None); import mod, mod2",
                 fatopt="verbose")
    lines = [line for line in result.stderr.splitlines() if "tracer/profiler/monitoring" in line]
    assert lines == ["fatopt: a tracer/profiler/monitoring tool is active (sys.settrace: __main__.<lambda>): "
                     "modules imported now run unoptimized"]
    quiet = run(project, prefix, "-c", "import sys; sys.settrace(lambda *args: None); import mod2")
    assert "tracer" not in quiet.stderr


def test_tracing_active_without_a_tool(project, prefix):
    assert run(project, prefix, "-c", "import fatopt; print(fatopt.tracing_active())", fatopt=None).stdout == "None\n"


def test_fatopt_status_names_the_active_tool(project, prefix):
    """``fatopt status`` says which tool makes imports load plain, and nothing when none is."""
    show = "import sys; {}from fatopt.cli import main; main(['status', '--json'])"
    traced = run(project, prefix, "-c", show.format("sys.setprofile(lambda *a: None); "), fatopt=None)
    assert json.loads(traced.stdout)["tracing"] == "sys.setprofile: __main__.<lambda>"
    text = run(project, prefix, "-c", show.format("sys.settrace(lambda *a: None); ").replace(", '--json'", ""),
               fatopt=None)
    assert re.search(r"^  tracing: +sys\.settrace: __main__\.<lambda>: modules imported while", text.stdout, re.M)
    assert json.loads(run(project, prefix, "-c", show.format(""), fatopt=None).stdout)["tracing"] is None
