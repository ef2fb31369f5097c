"""The benchmark runners' instruction mode, on made-up inputs: reading callgrind's totals, the
per-iteration difference, the ratios and geometric mean, the tables and the saved JSON. No
valgrind run (a fake one stands in for it), nothing timed."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import textwrap
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str, path: Path):
    saved_path = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path[:] = saved_path  # the runners put benchmarks/ on the path to find callgrind


callgrind = _load("callgrind", BENCHMARKS / "callgrind.py")
pyperformance_run = _load("pyperformance_run", BENCHMARKS / "pyperformance" / "run.py")
micro_run = _load("micro_run", BENCHMARKS / "micro" / "run.py")

CALLGRIND_OUT = """\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  python bm.py --run-variant plain:3
part: 1

positions: line
events: Ir Dr
summary: 98326848 1000

fl=(1) ???
fn=(1) 0x0000000000021c10
0 3
totals: 98326850 1001
"""


# -- callgrind.py --------------------------------------------------------------------------------


def test_parse_totals_reads_the_instruction_count():
    assert callgrind.parse_totals(CALLGRIND_OUT) == 98326850  # totals (the last), first event


def test_parse_totals_accepts_a_summary_alone():
    assert callgrind.parse_totals("events: Ir\nsummary: 17\n") == 17


def test_parse_totals_refuses_other_files():
    with pytest.raises(ValueError, match="not a callgrind output"):
        callgrind.parse_totals("events: Ir\nfn=main\n0 12\n")


def test_per_iteration_cancels_what_runs_once():
    start_up, cold, warm = 98_000_000, 5_000, 1_234

    def instructions(n):  # start-up, the first (cold) iteration, then warm ones
        return start_up + cold + (n - 1) * warm

    assert callgrind.per_iteration({1: instructions(1), 3: instructions(3)}) == warm
    assert callgrind.per_iteration({7: instructions(7), 2: instructions(2)}) == warm  # any order


@pytest.mark.parametrize("counts", [{1: 10}, {1: 10, 2: 20, 3: 30}])
def test_per_iteration_needs_exactly_two_counts(counts):
    with pytest.raises(ValueError):
        callgrind.per_iteration(counts)


def test_parse_loops_pair():
    assert callgrind.parse_loops_pair("1,3") == (1, 3)
    assert callgrind.parse_loops_pair("100,1100") == (100, 1100)


@pytest.mark.parametrize("text", ["3,1", "2,2", "0,2", "1", "1,2,3", "a,b"])
def test_parse_loops_pair_refuses(text):
    with pytest.raises(ValueError):
        callgrind.parse_loops_pair(text)


def test_ratio_and_geometric_mean():
    assert callgrind.ratio(300.0, 200.0) == 1.5
    assert callgrind.ratio(0.0, 200.0) is None
    assert math.isclose(callgrind.geometric_mean([2.0, 0.5, None]), 1.0)
    assert math.isclose(callgrind.geometric_mean([1.5, 1.5, 1.5]), 1.5)
    assert callgrind.geometric_mean([None]) is None


def test_fmt_count():
    assert callgrind.fmt_count(1234) == "1234"
    assert callgrind.fmt_count(1_046_980_000) == "1046.98M"
    assert callgrind.fmt_count(None) == "?"


def test_count_runs_the_command_under_callgrind_with_a_fixed_hash_seed(tmp_path, monkeypatch):
    """A fake valgrind: checks its arguments and environment, writes a callgrind file."""
    fake = tmp_path / "valgrind"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import os, sys
        tool, out, *cmd = sys.argv[1:]
        assert tool == "--tool=callgrind", tool
        assert out.startswith("--callgrind-out-file="), out
        assert os.environ["PYTHONHASHSEED"] == "0"
        with open(out.split("=", 1)[1], "w") as f:
            f.write("events: Ir\\ntotals: %d\\n" % (1000 + int(cmd[-1])))
        """))
    fake.chmod(0o755)
    monkeypatch.setattr(callgrind, "VALGRIND", str(fake))
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    assert callgrind.count(["python", "bm.py", "7"], env) == 1007


def test_count_reports_a_failing_command(tmp_path, monkeypatch):
    fake = tmp_path / "valgrind"
    fake.write_text(f"#!{sys.executable}\nimport sys\nprint('boom', file=sys.stderr)\nsys.exit(3)\n")
    fake.chmod(0o755)
    monkeypatch.setattr(callgrind, "VALGRIND", str(fake))
    with pytest.raises(RuntimeError, match="boom"):
        callgrind.count(["python", "x.py"], dict(os.environ))


# -- pyperformance/run.py ------------------------------------------------------------------------


def _pyperformance_row(name, plain_per_iter, fatopt_per_iter, specialized=2):
    counts = {
        "plain": {1: 10_000 + plain_per_iter, 3: 10_000 + 3 * plain_per_iter},
        "fatopt": {1: 12_000 + fatopt_per_iter, 3: 12_000 + 3 * fatopt_per_iter},
    }
    return pyperformance_run.instruction_row(name, name, counts, {"specialized": specialized, "functions": 9})


def test_pyperformance_row_is_per_iteration():
    row = _pyperformance_row("nqueens", 3_000, 2_000)
    assert (row["plain"], row["fatopt"], row["ratio"]) == (3_000, 2_000, 1.5)
    assert row["counts"]["plain"] == [{"1": 13_000, "3": 19_000}]  # JSON keys, one layout
    assert (row["layouts"], row["ratio_range"]) == (1, [1.5, 1.5])
    json.dumps(row)


def test_pyperformance_row_takes_the_median_of_layouts():
    def runs(per_iter):
        return [{1: 10_000 + p, 3: 10_000 + 3 * p} for p in per_iter]

    counts = {"plain": runs([3_000, 3_300, 2_900]), "fatopt": runs([2_000, 3_000, 2_100])}
    row = pyperformance_run.instruction_row("json_dumps", "json_dumps", counts, {})
    assert (row["plain"], row["fatopt"], row["layouts"]) == (3_000, 2_100, 3)
    assert row["ratio"] == 3_000 / 2_100
    assert row["ratio_range"] == [1.1, 1.5]  # layout 1: 3300/3000, layout 0: 3000/2000
    text = pyperformance_run.instructions_table([row], (1, 3), {})
    assert "1.100-1.500" in text and "3 memory layouts" in text


def test_layout_environment_pads_all_but_the_first_layout():
    base = {"PATH": "/bin", callgrind.LAYOUT_VARIABLE: "stale"}
    assert callgrind.layout_environment(base, 0) == {"PATH": "/bin"}
    padded = [callgrind.layout_environment(base, i)[callgrind.LAYOUT_VARIABLE]
              for i in range(1, len(callgrind.LAYOUT_PADS))]
    assert len({len(p) for p in padded}) == len(padded)  # every layout a different length
    with pytest.raises(ValueError):
        callgrind.layout_environment(base, len(callgrind.LAYOUT_PADS))


@pytest.mark.parametrize(("values", "expected"), [([3], 3), ([5, 1, 3], 3), ([4, 1, 3, 2], 2.5)])
def test_median(values, expected):
    assert callgrind.median(values) == expected


def test_pyperformance_table_has_rows_geomean_and_time_ratio():
    rows = [_pyperformance_row("nqueens", 3_000, 2_000), _pyperformance_row("deltablue", 1_000, 1_500)]
    text = pyperformance_run.instructions_table(rows, (1, 3), {"nqueens": 1.2})
    lines = text.splitlines()
    nqueens = next(line for line in lines if line.startswith("nqueens"))
    assert "3000" in nqueens and "2000" in nqueens and "1.500x" in nqueens and "2/9" in nqueens
    assert nqueens.rstrip().endswith("1.20x")
    deltablue = next(line for line in lines if line.startswith("deltablue"))
    assert "0.667x" in deltablue and deltablue.rstrip().endswith("-")
    geo = next(line for line in lines if line.startswith("geometric mean"))
    assert "1.000x" in geo  # sqrt(1.5 * 2/3)
    assert "(I(3) - I(1)) / 2" in text


def test_pyperformance_report_reprints_saved_instructions(tmp_path, capsys):
    saved = {"python": "3.13.0 (main)", "loops_pair": [1, 3], "failed": {},
             "rows": [_pyperformance_row("nqueens", 3_000, 2_000)]}
    (tmp_path / "instructions.json").write_text(json.dumps(saved))
    pyperformance_run.report_only(sys.executable, {}, tmp_path, verbose=False)
    out = capsys.readouterr().out
    assert "nqueens" in out and "1.500x" in out and "--loops-pair 1,3" in out


def test_time_ratios_come_from_the_timed_summary(tmp_path):
    assert pyperformance_run.time_ratios(tmp_path) == {}
    (tmp_path / "summary.json").write_text(json.dumps({"rows": [{"benchmark": "go", "ratio": 1.1}]}))
    assert pyperformance_run.time_ratios(tmp_path) == {"go": 1.1}


def test_pyperformance_worker_command_runs_one_task_in_process():
    bench = pyperformance_run.Benchmark("logging", Path("/x"), ["--extra"])
    cmd = pyperformance_run.worker_command("py", Path("/w/run_benchmark.py"), bench, 2, 3)
    assert cmd[:3] == ["py", "/w/run_benchmark.py", "--extra"]
    assert "--worker" in cmd and "--worker-task=2" in cmd
    assert cmd[cmd.index("--loops") + 1] == "3" and cmd[cmd.index("--warmups") + 1] == "0"


def test_pyperformance_environment_writes_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = pyperformance_run.env_for("fatopt", tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["PYTHONFATOPT"] == "1"
    assert "PYTHONFATOPT" not in pyperformance_run.env_for("plain", tmp_path)


# -- micro/run.py --------------------------------------------------------------------------------


def _micro_result(case, per_call, did="unchanged", expected="specialized"):
    calls = 20
    counts = {v: {100: 5_000_000 + 100 * calls * n, 1100: 5_000_000 + 1100 * calls * n} for v, n in per_call.items()}
    info = {"calls": calls, "did": did, "expected": expected, "fatopt_options": "1"}
    return micro_run.instruction_result(case, counts, info)


def test_micro_result_is_per_call():
    r = _micro_result("genexpr_any", {"plain": 900, "fatopt": 900, "floor": 300})
    assert (r["plain_instructions"], r["fatopt_instructions"], r["floor_instructions"]) == (900, 900, 300)
    assert r["speedup"] == 1.0 and r["floor_gain"] == 3.0


def test_micro_table_notes_what_fatopt_does_not_do_yet():
    results = [
        _micro_result("genexpr_any", {"plain": 900, "fatopt": 900, "floor": 300}),
        _micro_result("pure_builtin", {"plain": 400, "fatopt": 200, "floor": 200},
                      did="specialized (guards x)", expected="specialized"),
    ]
    text = micro_run.instructions_table(results, "3.13.0", (100, 1100))
    assert "NOTE: genexpr_any" in text and "NOTE: pure_builtin" not in text
    geo = next(line for line in text.splitlines() if line.startswith("geometric mean"))
    assert "1.414x" in geo and "2.449x" in geo  # sqrt(1 * 2), sqrt(3 * 2)


def test_micro_new_cases_exist():
    for case in ("genexpr_any", "genexpr_sum", "genexpr_set", "genexpr_tuple", "genexpr_max", "genexpr_count", "inline_function",
                 "inline_recursive_generator", "class_constant", "dict_instance_method", "instance_method_in_dunder",
                 "neighbours"):
        assert case in micro_run.CASES


def test_pyperformance_runner_makes_a_relative_interpreter_path_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = pyperformance_run.parse_args(["--python", os.path.join("venv", "bin", "python")])
    assert args.python == str(tmp_path / "venv" / "bin" / "python")
    assert pyperformance_run.parse_args(["--python", "python3"]).python == "python3"  # found on PATH


def test_pyperformance_loops_pair_defaults_to_calibrated_loops():
    assert pyperformance_run.parse_args([]).loops_pair is None  # "auto"
    assert pyperformance_run.parse_args(["--loops-pair", "2,5"]).loops_pair == (2, 5)
    assert pyperformance_run.auto_loops_pair(1) == (1, 3)
    assert pyperformance_run.auto_loops_pair(4096) == (4096, 12288)
    row = _pyperformance_row("deepcopy_reduce", 3_000, 2_000)
    text = pyperformance_run.instructions_table([row], None, {})
    assert "(I(3L) - I(L)) / 2L" in text and "L: deepcopy_reduce 1" in text


def test_pyperformance_environment_with_a_profile(tmp_path):
    profile = tmp_path / "bench.profile"
    env = pyperformance_run.env_for("fatopt", tmp_path, profile)
    assert env["PYTHONFATOPT"] == f"profile={profile}"
    assert "PYTHONFATOPT" not in pyperformance_run.env_for("plain", tmp_path, profile)
    with pytest.raises(RuntimeError, match="comma"):
        pyperformance_run.env_for("fatopt", tmp_path, tmp_path / "a,b.profile")


def test_pyperformance_settings_reach_the_fatopt_mode_only(tmp_path):
    try:
        pyperformance_run.parse_args(["--settings", "max_inline_size=48,inline_recursive=off"])
        env = pyperformance_run.env_for("fatopt", tmp_path, tmp_path / "b.profile")
        assert env["PYTHONFATOPT"] == f"profile={tmp_path / 'b.profile'},max_inline_size=48,inline_recursive=off"
        assert pyperformance_run.env_for("fatopt", tmp_path)["PYTHONFATOPT"] == "1,max_inline_size=48,inline_recursive=off"
        assert "PYTHONFATOPT" not in pyperformance_run.env_for("plain", tmp_path)
        assert "settings max_inline_size=48" in pyperformance_run.mode_text(False)
    finally:
        pyperformance_run.parse_args([])
    assert pyperformance_run.env_for("fatopt", tmp_path)["PYTHONFATOPT"] == "1"


@pytest.mark.parametrize("text, message", [
    ("max_inline_sz=4", "did you mean 'max_inline_size'"),
    ("max_inline_size", "not KEY=VALUE"),
    ("inline_functions=maybe", "needs on or off"),
])
def test_pyperformance_settings_refuses_what_fatopt_would(text, message, capsys):
    with pytest.raises(SystemExit):
        pyperformance_run.parse_args(["--settings", text])
    assert message in capsys.readouterr().err


TINY_BENCHMARK = """\
import pyperf

class Box:
    def __init__(self, v):
        self.v = v

    def get(self):
        return self.v

def work(n):
    return sum(Box(i).get() for i in range(n))

def bench(loops):
    t0 = pyperf.perf_counter()
    for _ in range(loops):
        work(50)
    return pyperf.perf_counter() - t0

if __name__ == "__main__":
    pyperf.Runner().bench_time_func("tiny", bench)
"""


def test_pyperformance_profile_is_recorded_apart_and_used_by_the_fatopt_mode(tmp_path):
    pytest.importorskip("pyperf")
    from fatopt.profile import load

    script = tmp_path / "bm_tiny" / "run_benchmark.py"
    script.parent.mkdir()
    script.write_text(TINY_BENCHMARK)
    bench = pyperformance_run.Benchmark("tiny", script.parent)
    pycache = tmp_path / "pycache"
    profile = pyperformance_run.record_profile(sys.executable, script, bench, pycache, tmp_path)
    assert profile == tmp_path / "profiles" / "tiny.profile"
    work = next(e for e in load(str(profile)).functions.values() if e.qualname == "work")
    assert [[str(t) for t in row] for row, _calls in work.type_tuples] == [["builtins.int"]]
    # the untimed fatopt run finds its main script cached under the tag of the profile's settings
    assert pyperformance_run.warm_fatopt(sys.executable, script, bench, pycache, tmp_path, profile) == ["tiny"]
    # a profile the workers cannot load leaves no file under its tag: the run is refused
    bad = tmp_path / "bad.profile"
    bad.write_text("{}")
    with pytest.raises(RuntimeError, match="no fatopt cache file"):
        pyperformance_run.warm_fatopt(sys.executable, script, bench, pycache, tmp_path, bad)


def test_pyperformance_tables_say_which_mode(tmp_path, capsys):
    saved = {"python": "3.13.0 (main)", "loops_pair": [1, 3], "failed": {}, "profile": True,
             "rows": [_pyperformance_row("nqueens", 3_000, 2_000)]}
    (tmp_path / "instructions.json").write_text(json.dumps(saved))
    pyperformance_run.report_only(sys.executable, {}, tmp_path, verbose=False)
    assert "mode: fatopt with a type profile recorded on a separate plain run" in capsys.readouterr().out
    saved["profile"] = False
    (tmp_path / "instructions.json").write_text(json.dumps(saved))
    pyperformance_run.report_only(sys.executable, {}, tmp_path, verbose=False)
    assert "mode: fatopt without a type profile" in capsys.readouterr().out


def test_sor_hand_edit_computes_what_plain_computes():
    # benchmarks/handedits/sor_idx_inlined.py: its figures mean something only if the inlined
    # loop is the same computation, and its entry check falls back where it must
    sor = _load("sor_idx_inlined", BENCHMARKS / "handedits" / "sor_idx_inlined.py")
    plain = sor.run("plain", "none", 1)
    assert plain != 0
    assert [sor.run("inlined", setup, 1) for setup in ("none", "dict", "checked")] == [plain] * 3
    grids = [sor.Array2D(30, 30) for _ in range(3)]
    for grid in grids:
        grid.data[:] = sor.array("d", [i * 0.001 for i in range(900)])
    for grid in grids[:2]:
        grid._idx = lambda x, y: (x * 7 + y) % 900  # an instance attribute wins over the method
    assert not sor._checked(grids[0])  # so the entry check takes the plain loop
    sor.sor_inlined(1.25, grids[0], 1, sor._checked)
    sor.sor_plain(1.25, grids[1], 1)
    sor.sor_plain(1.25, grids[2], 1)
    assert grids[0].data == grids[1].data != grids[2].data
