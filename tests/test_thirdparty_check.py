"""tools/thirdparty_check.py's own logic on small made-up inputs: reading pytest's junit XML,
comparing failing sets, what the probe proves, the table. No network, no venv, no pytest run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent.parent / "tools"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


check = _load("thirdparty_check")
probe = _load("thirdparty_probe")

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="6">
  <testcase classname="tests.test_a.TestX" name="test_ok" time="0.001"/>
  <testcase classname="tests.test_a.TestX" name="test_fails[1-2]" time="0.001">
    <failure message="assert 1 == 2">tests/test_a.py:3: AssertionError</failure></testcase>
  <testcase classname="tests.test_a" name="test_skipped" time="0"><skipped message="no"/></testcase>
  <testcase classname="tests.test_a" name="test_teardown" time="0.001"/>
  <testcase classname="tests.test_a" name="test_teardown" time="0.001">
    <error message="failed on teardown">boom</error></testcase>
  <testcase classname="" name="tests.test_broken" time="0">
    <error message="collection failure">ImportError</error></testcase>
</testsuite></testsuites>
"""


def test_parse_junit_gives_each_test_id_its_outcome():
    outcomes = check.parse_junit(JUNIT)
    assert outcomes == {
        "tests.test_a.TestX::test_ok": "passed",
        "tests.test_a.TestX::test_fails[1-2]": "failed",
        "tests.test_a::test_skipped": "skipped",
        "tests.test_a::test_teardown": "failed",  # passed its call, failed its teardown
        "tests.test_broken": "failed",  # a collection error, without a class name
    }


def test_a_teardown_error_reported_first_still_counts_as_failed():
    xml = """<testsuites><testsuite>
      <testcase classname="m" name="t"><error message="setup"/></testcase>
      <testcase classname="m" name="t"/>
    </testsuite></testsuites>"""
    assert check.parse_junit(xml) == {"m::t": "failed"}


def test_compare_uses_sets_of_ids_not_counts():
    plain = {"a": "failed", "b": "passed", "c": "skipped", "gone": "passed"}
    fatopt = {"a": "passed", "b": "failed", "c": "failed", "new": "failed"}
    # the same number of failures (one against three would hide nothing), different tests
    diff = check.compare(plain, fatopt)
    assert diff.only_fatopt == ["b", "c", "new"]
    assert diff.only_plain == ["a"]
    assert diff.missing == ["gone"]


def test_compare_same_failures_is_no_difference():
    outcomes = {"a": "failed", "b": "passed"}
    diff = check.compare(outcomes, dict(outcomes))
    assert (diff.only_fatopt, diff.only_plain, diff.missing) == ([], [], [])


def _module(name, file, optimized, loader=probe.SOURCE_LOADER):
    return {"name": name, "file": file, "loader": loader, "fatopt_cached": optimized, "optimized": optimized}


def test_summarize_probe_splits_library_tests_and_the_rest():
    library = check.Library("demo", "1.0", ("demo",))
    data = {
        "modules": [
            _module("demo", "/site/demo/__init__.py", True),
            _module("demo.core", "/site/demo/core.py", True),
            _module("tests.test_core", "/src/demo-1.0/tests/test_core.py", False,
                    loader="_pytest.assertion.rewrite.AssertionRewritingHook"),
            _module("json", "/stdlib/json/__init__.py", True),
            _module("demo.tests.test_inside", "/src/demo-1.0/demo/tests/test_inside.py", True),  # tests in the package
            _module("demo.moves.json", "/stdlib/json/__init__.py", True),  # an alias, not the library's
        ],
        "specialized": {"demo.core": 3, "json": 5, "tests.test_core": 1},
    }
    summary = check.summarize_probe(data, library, "/src/demo-1.0")
    assert summary["library"]["modules"] == 2
    assert summary["library"]["optimized"] == 2
    assert summary["library"]["specialized"] == 3
    assert summary["tests"]["optimized"] == 1
    assert summary["tests"]["not_optimized"] == ["tests.test_core"]
    # a specialized function in a module that did not run from fatopt's cache: reported
    assert summary["tests"]["specialized_in_plain"] == ["tests.test_core"]
    assert summary["specialized_total"] == 9


def test_summarize_probe_of_a_plain_run():
    library = check.Library("demo", "1.0", ("demo",))
    data = {"modules": [_module("demo", "/site/demo/__init__.py", False)], "specialized": None}
    summary = check.summarize_probe(data, library, "/src/demo-1.0")
    assert summary["library"]["specialized"] == 0
    assert summary["specialized_total"] == 0


def _row(name, plain_failed, fatopt_only):
    runs = {mode: {"cpu": cpu, "outcomes": {}, "returncode": 0} for mode, cpu in zip(check.MODES, (1.0, 9.5, 1.25, 1.5), strict=True)}
    runs["plain"]["outcomes"] = {f"t{i}": "failed" if i < plain_failed else "passed" for i in range(10)}
    differences = {mode: {"only_fatopt": list(fatopt_only), "only_plain": [], "missing": []}
                   for mode in check.FATOPT_MODES}
    group = {"specialized": 4, "optimized": 1, "modules": 1}
    return {"library": name, "version": "1.0", "runs": runs, "differences": differences,
            "probe_summary": {"library": group, "tests": {**group, "specialized": 0}}}


def test_table_has_a_row_per_library_with_failures_and_cpu_per_mode():
    table = check.format_table([_row("alpha", 2, []), _row("beta-long-name", 0, ["x", "y"])])
    header, alpha, beta = table.splitlines()
    assert header.split()[:4] == ["library", "version", "tests", "fail"]
    assert alpha.split() == ["alpha", "1.0", "10", "2", "0", "0", "0", "4+0", "1.0", "9.5", "1.2", "1.5"]
    assert beta.split()[3:7] == ["0", "2", "2", "2"]
    # columns line up: every row's cells start where the header's do
    assert alpha.index("1.0") == header.index("version") == beta.index("1.0")


def test_table_marks_modes_not_run():
    row = _row("alpha", 0, [])
    del row["runs"]["compileall"], row["differences"]["compileall"]
    cells = check.format_table([row]).splitlines()[1].split()
    assert cells[6] == "-" and cells[-1] == "-"


def test_select_by_subset_name_or_all():
    assert [lib.name for lib in check.select([], "ci")] == list(check.SUBSETS["ci"])
    assert [lib.name for lib in check.select(["idna"], None)] == ["idna"]
    assert len(check.select([], None)) == len(check.LIBRARIES) >= 12
    with pytest.raises(SystemExit):
        check.select(["no-such-library"], None)


def test_every_library_is_pinned_and_subsets_name_known_libraries():
    names = {lib.name for lib in check.LIBRARIES}
    assert len(names) == len(check.LIBRARIES)
    for lib in check.LIBRARIES:
        assert lib.version and lib.version[0].isdigit(), lib
    for members in check.SUBSETS.values():
        assert set(members) <= names
    for requirement in check.TEST_DEPENDENCIES:
        assert "==" in requirement, requirement


def test_sdist_path_normalizes_names(tmp_path):
    (tmp_path / "more_itertools-11.2.1.tar.gz").write_bytes(b"")
    (tmp_path / "more_itertools-11.2.0.tar.gz").write_bytes(b"")
    lib = check.Library("more-itertools", "11.2.1", ("more_itertools",))
    assert check.sdist_path(tmp_path, lib).name == "more_itertools-11.2.1.tar.gz"
    assert check.sdist_path(tmp_path, check.Library("six", "1.17.0", ("six",))) is None


def test_remove_fatopt_files_only_under_the_given_sources(tmp_path):
    prefix = tmp_path / "prefix"
    pkg = tmp_path / "src" / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "mod.py").write_text("")
    single = tmp_path / "src" / "test_one.py"
    single.write_text("")
    mirror = prefix / pkg.relative_to("/")
    mirror.mkdir(parents=True)
    kept = [mirror / "mod.cpython-313.pyc", mirror.parent / "other.cpython-313.opt-fatoptabcd1234.pyc"]
    gone = [mirror / "mod.cpython-313.opt-fatoptabcd1234.pyc", mirror.parent / "test_one.cpython-313.opt-fatoptabcd1234.pyc"]
    for path in kept + gone:
        path.write_bytes(b"")
    assert check.remove_fatopt_files(prefix, [str(pkg), str(single)]) == 2
    assert all(path.exists() for path in kept)
    assert not any(path.exists() for path in gone)


def test_remove_fatopt_files_keeps_pytests_cache_files(tmp_path):
    # fatopt's pytest plugin writes them, in pytest's cache: `fatopt compileall` would not write them again
    prefix = tmp_path / "prefix"
    single = tmp_path / "src" / "test_one.py"
    single.parent.mkdir(parents=True)
    single.write_text("")
    mirror = prefix / single.parent.relative_to("/")
    mirror.mkdir(parents=True)
    pytests = mirror / "test_one.cpython-313-pytest-9.2.0.opt-fatoptabcd1234.pyc"
    fatopts = mirror / "test_one.cpython-313.opt-fatoptabcd1234.pyc"
    for path in (pytests, fatopts):
        path.write_bytes(b"")
    assert check.remove_fatopt_files(prefix, [str(single)]) == 1
    assert pytests.exists() and not fatopts.exists()


def test_probe_finds_fatopt_cache_files_beside_the_normal_pyc(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "pycache_prefix", None)
    source = tmp_path / "mod.py"
    source.write_text("")
    assert probe.fatopt_cache_files(str(source)) == []
    cache = Path(importlib.util.cache_from_source(str(source)))
    cache.parent.mkdir()
    optimized = cache.with_name(cache.name[: -len(".pyc")] + ".opt-fatopt0123abcd.pyc")
    optimized.write_bytes(b"")
    cache.write_bytes(b"")  # the normal .pyc is not fatopt's
    assert probe.fatopt_cache_files(str(source)) == [str(optimized)]


def test_probe_finds_the_cache_files_of_pytests_rewriting_under_fatopts_tag(tmp_path, monkeypatch):
    from _pytest.assertion import rewrite

    monkeypatch.setattr(sys, "pycache_prefix", None)
    source = tmp_path / "test_mod.py"
    source.write_text("")
    cache_dir = rewrite.get_cache_dir(source)
    cache_dir.mkdir()
    plain = cache_dir / ("test_mod" + rewrite.PYC_TAIL)  # pytest's own file: not fatopt's
    plain.write_bytes(b"")
    assert probe.rewrite_cache_files(str(source)) == []
    ours = cache_dir / ("test_mod" + rewrite.PYC_TAIL[: -len(".pyc")] + ".opt-fatopt0123abcd.pyc")
    ours.write_bytes(b"")
    assert probe.rewrite_cache_files(str(source)) == [str(ours)]


def test_help_describes_the_modes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        check.parse_args(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for mode in check.MODES:
        assert mode in text
    assert "--subset" in text


def test_exit_status_is_1_for_a_failure_only_under_fatopt():
    assert check.exit_status([_row("alpha", 2, [])]) == 0
    assert check.exit_status([_row("alpha", 0, []), _row("beta", 0, ["t1"])]) == 1
    not_run = _row("gamma", 0, [])
    not_run["runs"]["plain"]["outcomes"] = {}
    assert check.exit_status([not_run]) == 2
    internal_error = _row("delta", 0, [])
    internal_error["runs"]["plain"]["returncode"] = 3
    assert check.exit_status([internal_error]) == 2


def test_a_run_that_does_not_complete_only_under_fatopt_is_a_failure():
    outcomes = {"a": "passed"}
    crashed = check.compare(outcomes, {}, 0, -11)  # killed by SIGSEGV: no junit file, no outcomes
    assert crashed.only_fatopt == ["<pytest exit status -11>"]
    assert crashed.missing == ["a"]
    assert check.compare(outcomes, outcomes, 1, 1).only_fatopt == []
    assert check.compare(outcomes, outcomes, 3, 3).only_fatopt == []  # broken alike: no difference


def test_files_written_counts_only_fatopt_files_newer_than_the_start(tmp_path):
    import os
    old = tmp_path / "a" / "m.cpython-313.opt-fatopt00000000.pyc"
    old.parent.mkdir()
    old.write_bytes(b"")
    os.utime(old, ns=(1_000_000_000, 1_000_000_000))
    (tmp_path / "a" / "m.cpython-313.pyc").write_bytes(b"")  # a normal .pyc: not counted
    (tmp_path / "n.cpython-313.opt-fatopt00000000.pyc").write_bytes(b"")
    assert check.fatopt_files_written_since(tmp_path, 2_000_000_000) == 1
    assert check.fatopt_files_written_since(tmp_path / "missing", 0) == 0


def test_warm_overhead_compares_medians():
    text = check.warm_overhead({"plain": [10.0, 30.0, 10.0], "warm": [11.0, 11.0, 1.0]})
    assert text == "cpu median of 3 alternating runs: plain 10.00s, warm 11.00s (+10.0%)"


def _fake_tool(monkeypatch, tmp_path, outcomes_by_mode, returncode_by_mode=None):
    """main() with everything that needs the network, a venv or pytest replaced: each mode's run
    gives the outcomes asked for (the tool's own comparison and exit status are what runs)."""
    returncode_by_mode = returncode_by_mode or {}
    monkeypatch.setattr(check, "interpreter_version", lambda python: "3.99")
    monkeypatch.setattr(check, "make_venv", lambda python, venv, log: str(venv / "bin" / "python"))
    monkeypatch.setattr(check, "download", lambda python, sdists, libraries, log:
                        {lib.name: sdists / f"{lib.name}.tar.gz" for lib in libraries})
    for name in ("install_libraries", "install_probe", "install_fatopt", "checked"):
        monkeypatch.setattr(check, name, lambda *args, **kwargs: None)
    monkeypatch.setattr(check, "library_cache_dirs", lambda vpy, library, tree: [str(tree)])

    def unpack(sdist, into):
        tree = into / "lib-1.0"
        tree.mkdir(parents=True, exist_ok=True)
        return tree

    def run_suite(vpy, library, tree, mode, prefix, work, timeout, extra=()):
        prefix.mkdir(parents=True, exist_ok=True)
        outcomes = outcomes_by_mode.get(mode, outcomes_by_mode["plain"])
        returncode = returncode_by_mode.get(mode, 1 if "failed" in outcomes.values() else 0)
        return check.SuiteRun(mode, returncode, 0.1, 0.1, 1024, dict(outcomes))

    monkeypatch.setattr(check, "unpack", unpack)
    monkeypatch.setattr(check, "run_suite", run_suite)
    return ["six", "--cache", str(tmp_path / "cache"), "--work", str(tmp_path / "work")]


def test_main_exits_0_when_fatopt_fails_the_same_ids_as_plain(monkeypatch, tmp_path, capsys):
    plain = {"t::ok": "passed", "t::broken_anyway": "failed"}
    assert check.main(_fake_tool(monkeypatch, tmp_path, {"plain": plain})) == 0
    assert "fails only under fatopt" not in capsys.readouterr().out


@pytest.mark.parametrize("mode", check.FATOPT_MODES)
def test_main_exits_1_when_an_id_fails_only_under_fatopt(monkeypatch, tmp_path, capsys, mode):
    plain = {"t::ok": "passed", "t::broken_anyway": "failed"}
    worse = {**plain, "t::ok": "failed"}
    assert check.main(_fake_tool(monkeypatch, tmp_path, {"plain": plain, mode: worse})) == 1
    assert f"six: {mode}: fails only under fatopt: t::ok" in capsys.readouterr().out


def test_main_exits_1_when_a_fatopt_run_crashes(monkeypatch, tmp_path, capsys):
    plain = {"t::ok": "passed"}
    argv = _fake_tool(monkeypatch, tmp_path, {"plain": plain, "cold": {}}, {"cold": -11})
    assert check.main(argv) == 1
    assert "six: cold: fails only under fatopt: <pytest exit status -11>" in capsys.readouterr().out


def test_main_exits_2_when_the_plain_suite_does_not_run(monkeypatch, tmp_path):
    argv = _fake_tool(monkeypatch, tmp_path, {"plain": {}}, {"plain": 4})
    assert check.main(argv) == 2


def test_a_failed_set_up_step_exits_2_not_1(tmp_path, capsys):
    # 1 means "a test id fails only under fatopt": a failed download or build must not say that
    log = tmp_path / "setup.log"
    with pytest.raises(SystemExit) as exit_info:
        check.checked([sys.executable, "-c", "import sys; print('no network'); sys.exit(3)"], log)
    assert exit_info.value.code == 2
    assert "no network" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        check.select(["no-such-library"], None)
    assert exit_info.value.code == 2
