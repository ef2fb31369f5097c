"""Run pyperformance's benchmark scripts plain and under fatopt, and compare.

pyperformance's own ``run`` command builds a venv per benchmark and cannot pass ``-X fatopt``
to its workers; but each of its benchmarks is a plain pyperf script
(``pyperformance/data-files/benchmarks/bm_<name>/run_benchmark.py``). This runner takes those
scripts from the ``pyperformance`` package installed for the interpreter given, copies each
benchmark directory into a work directory (so the installed package stays clean), and for each
benchmark:

1. counts what fatopt specializes in the benchmark's own files (so a 1.00x can be told apart
   from "nothing was specialized");
2. runs it once plain to calibrate the loop count (pyperf's choice; the smallest one when a
   script times several benchmarks), and once under fatopt, untimed, to fill fatopt's cache;
3. times it in alternating batches -- plain, fatopt, fatopt, plain, ... -- every batch with
   that fixed ``--loops``, appending to ``plain.json`` and ``fatopt.json``;
4. prints ``pyperf compare_to plain.json fatopt.json`` and a table with the ratio, the number of
   specialized functions and the peak RSS (pyperf's ``mem_max_rss``, median over worker
   processes) plain and under fatopt.

Both modes run the same interpreter with the same ``PYTHONPYCACHEPREFIX`` (a directory of the
work dir); the fatopt mode adds ``PYTHONFATOPT=1`` and ``--inherit-environ PYTHONFATOPT``
(pyperf's workers get neither ``-X`` options nor unnamed environment variables).

    python benchmarks/pyperformance/run.py                    # the default set, 3 rounds
    python benchmarks/pyperformance/run.py --fast             # 2 short rounds, noisy
    python benchmarks/pyperformance/run.py --benchmarks nbody,richards --rounds 4
    python benchmarks/pyperformance/run.py --python .venv-3.12/bin/python --fast
    python benchmarks/pyperformance/run.py --list             # every benchmark the package has
    python benchmarks/pyperformance/run.py --report -v        # the last run's tables again

``--instructions`` replaces the timing by a count that noise cannot move (valgrind's callgrind,
see ``benchmarks/callgrind.py``): for each benchmark, after the same untimed fatopt run that
fills the cache, the script runs as a single pyperf worker process (``--worker --worker-task=K
-l N -n 1 -w 0``: no child processes, so callgrind sees all of the work), plain and under
fatopt, with N = N1 and N = N2 iterations (``--loops-pair``; by default L and 3L, L being the
loop count pyperf calibrates for the benchmark, so that even a microsecond benchmark differs by
millions of instructions between the two runs), under
``PYTHONHASHSEED=0``; instructions per warm iteration are ``(I(N2) - I(N1)) / (N2 - N1)``, so
start-up, imports, fatopt's optimizer and the cold first iteration cancel. The table has plain
and fatopt instructions per iteration, their ratio (> 1: fatopt executes fewer), the
functions specialized, the geometric mean and, when a timed run of the same benchmark was
done before (its summary.json), the timed ratio beside it. Instruction mode and timed mode are
separate runs (``--instructions`` times nothing); ``--report`` prints the tables of both.
callgrind is about 50x slower than native: ``--jobs 2`` runs two counts at once (the counts do
not depend on the load). Counts do depend on where objects land in memory (about +-0.5% on
json_dumps): ``--layouts K`` counts every program in K layouts (the environment padded to K
lengths), reports the medians and shows the range of the K ratios.

    python benchmarks/pyperformance/run.py --instructions -b nqueens,spectral_norm
    python benchmarks/pyperformance/run.py --instructions --loops-pair 2,5 --jobs 2
    python benchmarks/pyperformance/run.py --instructions --layouts 5 -b json_dumps,go

``--profile`` gives fatopt a recorded type profile (``fatopt profile``, docs/usage.md, "Type
profiles"), in both modes of measure: for each benchmark, a separate short plain run of its
script -- one in-process pyperf worker, one loop, one value, no warm-up, so every task of the
script runs once -- is recorded with ``fatopt profile`` into ``profiles/<benchmark>.profile``, and
the fatopt runs get ``PYTHONFATOPT=profile=FILE`` (the cache tag includes the profile, so its
files never mix with a run without one). The results (summary.json, instructions.json, the
tables) say which mode was used.

    python benchmarks/pyperformance/run.py --profile -b scimark --instructions

The interpreter must have fatopt, pyperf and pyperformance installed (``make install``: the
``bench`` extra). Results: ``--output``/pyperformance-<version>/ (plain.json, fatopt.json,
summary.json; instructions.json for ``--instructions``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import callgrind  # noqa: E402  (benchmarks/callgrind.py, beside this directory)

DEFAULT = (
    "richards nbody float chaos deltablue go hexiom nqueens raytrace spectral_norm fannkuch "
    "unpack_sequence logging json_dumps pyflate deepcopy pickle_pure_python "
    "unpickle_pure_python scimark regex_compile generators coroutines comprehensions"
).split()

#: Run inside the interpreter measured: where pyperformance's benchmarks are, its version.
_LOCATE = """
import json, os, sys, pyperformance, pyperf, fatopt
print(json.dumps({
    "data": os.path.join(os.path.dirname(pyperformance.__file__), "data-files", "benchmarks"),
    "pyperformance": pyperformance.__version__, "pyperf": pyperf.__version__,
    "version": "%d.%d" % sys.version_info[:2], "full_version": sys.version,
}))
"""

#: Run inside the interpreter measured: what fatopt does to each file (default configuration;
#: with the type profile given as ``--profile FILE`` first, if any).
_COUNT = """
import json, sys
from fatopt.optimizer import optimize_source
from fatopt.results import Report
paths, profile = sys.argv[1:], None
if paths[:1] == ["--profile"]:
    from fatopt.profile import load
    profile, paths = load(paths[1]), paths[2:]
out = {}
for path in paths:
    report = Report()
    with open(path, "rb") as f:
        optimize_source(f.read(), path, report=report, profile=profile)
    out[path] = {
        "specialized": len(report.specialized),
        "optimized": len(report.by_status("optimized")),
        "functions": len(report.functions),
        "guards": dict(report.guard_counts()),
        "lines": report.lines(),
    }
print(json.dumps(out))
"""


@dataclass
class Benchmark:
    name: str
    directory: Path  # in the installed package
    extra_args: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Default benchmarks: " + ", ".join(DEFAULT),
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure (default: this one)")
    parser.add_argument("--benchmarks", "-b", help="comma-separated benchmark names (default: the set above)")
    parser.add_argument("--fast", action="store_true",
                        help="2 rounds of 1 process x 3 values per mode: quick and noisy")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 3; --fast: 2)")
    parser.add_argument("--processes", "-p", type=int, help="worker processes per mode per round (default 4; --fast: 1)")
    parser.add_argument("--values", "-n", type=int, default=3, help="values per worker process (default 3)")
    parser.add_argument("--output", "-o", type=Path, default=ROOT / "benchmarks" / "results",
                        help="results directory (default: benchmarks/results)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks the installed package has and exit")
    parser.add_argument("--report", action="store_true",
                        help="run nothing: print the tables of the last finished run again")
    parser.add_argument("--verbose", "-v", action="store_true", help="also print what fatopt specialized, per function")
    parser.add_argument("--profile", action="store_true",
                        help="record a type profile of each benchmark on a separate short plain run (fatopt profile) "
                             "and run the fatopt mode with it (-X fatopt=profile=FILE)")
    parser.add_argument("--settings", default="", metavar="KEY=VALUE,...",
                        help="more fatopt settings for the fatopt mode, as -X fatopt= takes them "
                             "(e.g. max_inline_size=48,inline_functions=off): to measure a setting's effect")
    callgrind.add_arguments(parser, "auto", "warm iteration")
    parser.add_argument("--layouts", type=int, default=1, metavar="K",
                        help=f"--instructions: count each program in K memory layouts (1..{len(callgrind.LAYOUT_PADS)}, "
                             "default 1) and report the median; the table shows the range of the K ratios")
    args = parser.parse_args(argv)
    if os.sep in args.python:
        # the scripts run from their own directories: a relative path would name nothing there
        # (abspath, not realpath: a venv's python is a symlink that must stay one)
        args.python = os.path.abspath(args.python)
    try:
        args.loops_pair = None if args.loops_pair == "auto" else callgrind.parse_loops_pair(args.loops_pair)
        if not 1 <= args.layouts <= len(callgrind.LAYOUT_PADS):
            raise ValueError(f"--layouts must be 1..{len(callgrind.LAYOUT_PADS)}, got {args.layouts}")
    except ValueError as exc:
        parser.error(str(exc))
    try:
        check_settings(args.settings)
    except ValueError as exc:
        parser.error(str(exc))
    global EXTRA_SETTINGS
    EXTRA_SETTINGS = args.settings
    args.rounds = args.rounds or (2 if args.fast else 3)
    args.processes = args.processes or (1 if args.fast else 4)
    return args


def locate(python: str) -> dict:
    proc = subprocess.run([python, "-c", _LOCATE], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{python} cannot import fatopt, pyperf and pyperformance; run "
                 f"'make install PYTHON=...' (the bench extra installs them):\n{proc.stderr}")
    return json.loads(proc.stdout)


def _tool_section(toml_path: Path) -> dict:
    import tomllib

    with toml_path.open("rb") as f:
        return tomllib.load(f).get("tool", {}).get("pyperformance", {})


def available(data: Path) -> dict[str, Benchmark]:
    """Every benchmark of the package's MANIFEST: name -> directory and extra arguments."""
    found: dict[str, Benchmark] = {}
    in_section = False
    for line in (data / "MANIFEST").read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            in_section = line == "[benchmarks]"
            continue
        if not in_section or not line or line.startswith("name"):
            continue
        name, _, where = line.partition("\t")
        where = where.strip()
        if where == "<local>":
            directory, meta = data / f"bm_{name}", data / f"bm_{name}" / "pyproject.toml"
        elif where.startswith("<local:") and where.endswith(">"):
            directory = data / f"bm_{where[7:-1]}"
            meta = directory / f"bm_{name}.toml"
        else:
            continue
        extra = list(_tool_section(meta).get("extra_opts", [])) if meta.exists() else []
        found[name] = Benchmark(name, directory, extra)
    return found


def env_for(mode: str, pycache: Path, profile: Path | None = None) -> dict[str, str]:
    """The environment of a run in ``mode``; the fatopt mode with the type ``profile``, if any."""
    env = dict(os.environ)
    env.pop("PYTHONFATOPT", None)
    # The warm-up run must fill the cache (a directory of the work dir): without it every worker
    # optimizes all it imports again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if mode == "fatopt":
        env["PYTHONFATOPT"] = fatopt_setting(profile)
    return env


#: --settings: what the fatopt mode's PYTHONFATOPT adds ("" for none)
EXTRA_SETTINGS = ""


def check_settings(text: str) -> None:
    """Refuse a --settings text fatopt would not take: each item ``key=value`` for a known key."""
    from fatopt.settings import OptionsError, parse_setting

    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"--settings item {item!r} is not KEY=VALUE")
        try:
            parse_setting(key.strip(), value)
        except OptionsError as exc:
            raise ValueError(f"--settings: {exc}") from None


def fatopt_setting(profile: Path | None) -> str:
    """PYTHONFATOPT for the fatopt mode: on, with the type profile if there is one, and --settings."""
    items = [f"profile={profile}"] if profile is not None else ["1"]
    if profile is not None and "," in str(profile):
        raise RuntimeError(f"{profile}: a profile path with a comma cannot be given in PYTHONFATOPT")
    if EXTRA_SETTINGS:
        items.append(EXTRA_SETTINGS)
    return ",".join(items)


def mode_text(profile: bool) -> str:
    """What the results say of the fatopt mode."""
    more = f", settings {EXTRA_SETTINGS}" if EXTRA_SETTINGS else ""
    if profile:
        return ("fatopt with a type profile recorded on a separate plain run "
                f"(1 in-process worker, 1 loop, 1 value, no warm-up){more}")
    return f"fatopt without a type profile{more}"


def record_profile(python: str, script: Path, bench: Benchmark, pycache: Path, work: Path) -> Path:
    """Record the type profile of ``bench`` with ``fatopt profile`` on a short plain run of its
    script, in a process of its own: one in-process pyperf worker (``--worker`` without a task:
    every benchmark of the script, in this process, where the recorder sees it), one loop, one
    value, no warm-up. Returns the profile's path (``profiles/<benchmark>.profile``)."""
    profiles = work / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    output = profiles / f"{bench.name}.profile"
    output.unlink(missing_ok=True)
    cmd = [python, "-m", "fatopt", "profile", "-o", str(output), "--", str(script), *bench.extra_args,
           "--worker", "--loops", "1", "--values", "1", "--warmups", "0"]
    proc = subprocess.run(cmd, env=env_for("plain", pycache), cwd=script.parent, capture_output=True, text=True)
    if proc.returncode != 0 or not output.exists():
        raise RuntimeError(f"{bench.name}: recording its profile failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-4000:]}")
    return output


def inherit(mode: str) -> str:
    return "--inherit-environ=" + ("PYTHONFATOPT,PYTHONPYCACHEPREFIX" if mode == "fatopt" else "PYTHONPYCACHEPREFIX")


def run_script(python: str, script: Path, bench: Benchmark, mode: str, pycache: Path, pyperf_args: list[str],
               profile: Path | None = None) -> None:
    cmd = [python, str(script), *bench.extra_args, "--quiet", inherit(mode), *pyperf_args]
    proc = subprocess.run(cmd, env=env_for(mode, pycache, profile), cwd=script.parent, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{bench.name} ({mode}) failed: {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def load(path: Path) -> dict:
    with path.open() as f:
        return json.load(f)


def bench_meta(data: dict, bench: dict) -> dict:
    """A benchmark's metadata: pyperf moves what all benchmarks of a file share to the top."""
    return {**data.get("metadata", {}), **bench.get("metadata", {})}


def bench_names(data: dict) -> list[str]:
    return [bench_meta(data, b)["name"] for b in data["benchmarks"]]


def calibrate(python: str, script: Path, bench: Benchmark, pycache: Path, work: Path,
              profile: Path | None = None) -> tuple[int, list[str]]:
    """Plain calibration run, then an untimed fatopt run that fills fatopt's cache."""
    tmp = work / f"{bench.name}.calibrate.json"
    tmp.unlink(missing_ok=True)
    run_script(python, script, bench, "plain", pycache, ["-p", "1", "-n", "1", "-w", "0", "-o", str(tmp)])
    data = load(tmp)
    tmp.unlink()
    loops = [r.get("metadata", {}).get("loops") or bench_meta(data, b).get("loops")
             for b in data["benchmarks"] for r in b["runs"]]
    loops = [n for n in loops if n]
    warm_fatopt(python, script, bench, pycache, work, profile)
    return (min(loops) if loops else 1), bench_names(data)


#: Run inside the interpreter measured, in the fatopt mode's environment: its cache tag.
_TAG = "from fatopt.importer import from_environment; print(from_environment().cache_tag())"


def warm_fatopt(python: str, script: Path, bench: Benchmark, pycache: Path, work: Path,
                profile: Path | None = None) -> list[str]:
    """An untimed one-iteration fatopt run: fills fatopt's cache, proves fatopt ran in pyperf's
    worker (with the profile, if any); returns the names of the benchmarks the script times, in
    task order."""
    tmp = work / f"{bench.name}.warm.json"
    tmp.unlink(missing_ok=True)
    run_script(python, script, bench, "fatopt", pycache, ["-p", "1", "-n", "1", "-w", "0", "-l", "1", "-o", str(tmp)],
               profile)
    names = bench_names(load(tmp))
    tmp.unlink()
    # Proof that fatopt was active in the worker: it cached its own code for the main script,
    # under the tag of this mode's settings (the tag names the profile's content: a file under
    # it was optimized with the profile loaded).
    tag = subprocess.run([python, "-c", _TAG], env=env_for("fatopt", pycache, profile), capture_output=True,
                         text=True)
    if tag.returncode != 0 or not tag.stdout.strip():
        raise RuntimeError(f"{bench.name}: cannot compute fatopt's cache tag: {tag.stderr[-2000:]}")
    cached = pycache / script.parent.relative_to(script.parent.anchor)
    if not list(cached.glob(f"{script.stem}.*.opt-{tag.stdout.strip()}.pyc")):
        raise RuntimeError(f"{bench.name}: no fatopt cache file for {script} under {cached} with the tag "
                           f"{tag.stdout.strip()}: fatopt did not run in pyperf's worker (is PYTHONFATOPT "
                           "inherited? does the profile load?)")
    return names


def count_specialized(python: str, directory: Path, profile: Path | None = None) -> dict:
    files = sorted(str(p) for p in directory.rglob("*.py"))
    given = ["--profile", str(profile)] if profile is not None else []
    proc = subprocess.run([python, "-c", _COUNT, *given, *files], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    per_file = json.loads(proc.stdout)
    total = {"specialized": 0, "optimized": 0, "functions": 0, "guards": {}, "lines": []}
    for path, r in per_file.items():
        for key in ("specialized", "optimized", "functions"):
            total[key] += r[key]
        for guard, n in r["guards"].items():
            total["guards"][guard] = total["guards"].get(guard, 0) + n
        rel = os.path.relpath(path, directory)
        total["lines"] += [f"{rel}: {line}" for line in r["lines"]]
    return total


def runs_of(data: dict, name: str) -> tuple[list[dict], list[int]]:
    """The runs with values of benchmark ``name``, and the peak RSS of each worker process
    (pyperf's ``mem_max_rss``; stored with the benchmark or the file when all runs agree)."""
    for b in data["benchmarks"]:
        meta = bench_meta(data, b)
        if meta["name"] == name:
            runs = [r for r in b["runs"] if r.get("values")]
            rss = [r.get("metadata", {}).get("mem_max_rss", meta.get("mem_max_rss")) for r in runs]
            return runs, [n for n in rss if n]
    return [], []


def summarize(work: Path, names: dict[str, list[str]], counts: dict[str, dict], processes: int) -> list[dict]:
    """One row per pyperf benchmark. ``ratio`` is the median of the per-round ratios (each
    round's plain and fatopt batches ran back to back, so a busy spell hits both); ``plain`` and
    ``fatopt`` are medians over all values."""
    plain, fatopt = load(work / "plain.json"), load(work / "fatopt.json")
    rows = []
    for bench, subnames in names.items():
        for sub in subnames:
            (p, prss), (f, frss) = runs_of(plain, sub), runs_of(fatopt, sub)
            if not p or not f:
                continue
            pv = [v for r in p for v in r["values"]]
            fv = [v for r in f for v in r["values"]]
            rounds = [
                statistics.median(v for r in p[i:i + processes] for v in r["values"])
                / statistics.median(v for r in f[i:i + processes] for v in r["values"])
                for i in range(0, min(len(p), len(f)), processes)
            ]
            c = counts.get(bench, {})
            rows.append({
                "benchmark": sub, "script": bench,
                "plain": statistics.median(pv), "fatopt": statistics.median(fv),
                "ratio": statistics.median(rounds), "round_ratios": rounds,
                "values": (len(pv), len(fv)),
                "specialized": c.get("specialized"), "optimized": c.get("optimized"),
                "functions": c.get("functions"), "guards": c.get("guards", {}),
                "rss_plain": statistics.median(prss) if prss else None,
                "rss_fatopt": statistics.median(frss) if frss else None,
            })
    return rows


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e3), ("us", 1e6), ("ns", 1e9)):
        if seconds * scale >= 1:
            return f"{seconds * scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def table(rows: list[dict]) -> str:
    head = (f"{'benchmark':28} {'plain':>9} {'fatopt':>9} {'plain/fatopt':>12} {'(rounds)':>11} {'spec/funcs':>10} "
            f"{'rss plain':>9} {'rss fatopt':>10}")
    out = [head, "-" * len(head)]
    for r in rows:
        spec = f"{r['specialized']}/{r['functions']}" if r["specialized"] is not None else "?"
        rp = f"{r['rss_plain'] / 2**20:.1f}M" if r["rss_plain"] else "?"
        rf = f"{r['rss_fatopt'] / 2**20:.1f}M" if r["rss_fatopt"] else "?"
        out.append(f"{r['benchmark']:28} {fmt_time(r['plain']):>9} {fmt_time(r['fatopt']):>9} "
                   f"{r['ratio']:11.2f}x {min(r['round_ratios']):5.2f}-{max(r['round_ratios']):4.2f}x "
                   f"{spec:>10} {rp:>9} {rf:>10}")
    if rows:
        geo = statistics.geometric_mean([r["ratio"] for r in rows])
        out.append(f"{'geometric mean':28} {'':>9} {'':>9} {geo:11.2f}x")
    out.append("times: medians over all values. plain/fatopt: median of the per-round ratios (> 1: faster "
               "under fatopt), range over rounds.")
    out.append("spec/funcs: functions fatopt specialized (guarded) in the benchmark's own files / functions "
               "there. rss: peak RSS of a worker process (median).")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = locate(args.python)
    data = Path(info["data"])
    known = available(data)
    if args.list:
        for name in sorted(known):
            b = known[name]
            print(f"{name:36} {b.directory.name} {' '.join(b.extra_args)}")
        return
    wanted = args.benchmarks.split(",") if args.benchmarks else DEFAULT
    unknown = [n for n in wanted if n not in known]
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)} (see --list)")

    work = args.output / f"pyperformance-{info['version']}"
    if args.report:
        report_only(args.python, info, work, args.verbose)
        return
    if args.instructions:
        count_instructions(args, info, known, wanted, work)
        return
    src, pycache = work / "src", work / "pycache"
    for name in ("plain.json", "fatopt.json"):
        (work / name).unlink(missing_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    print(f"python {info['full_version'].split()[0]} ({args.python}); pyperformance {info['pyperformance']}, "
          f"pyperf {info['pyperf']}; work dir {work}", file=sys.stderr)

    print(f"mode: {mode_text(args.profile)}", file=sys.stderr)

    loops: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    counts: dict[str, dict] = {}
    scripts: dict[str, Path] = {}
    profiles: dict[str, Path | None] = {}
    failed: dict[str, str] = {}
    for name in wanted:
        bench = known[name]
        dest = src / bench.directory.name
        if not dest.exists():
            shutil.copytree(bench.directory, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        scripts[name] = dest / "run_benchmark.py"
        try:
            t0 = time.monotonic()
            profiles[name] = record_profile(args.python, scripts[name], bench, pycache, work) if args.profile else None
            counts[name] = count_specialized(args.python, dest, profiles[name])
            loops[name], names[name] = calibrate(args.python, scripts[name], bench, pycache, work, profiles[name])
        except RuntimeError as exc:
            failed[name] = str(exc)
            print(f"FAILED {exc}", file=sys.stderr)
            continue
        print(f"warm-up {name}: {loops[name]} loops, {counts[name].get('specialized')} function(s) "
              f"specialized ({time.monotonic() - t0:.0f}s)", file=sys.stderr)

    for rnd in range(args.rounds):
        modes = ("plain", "fatopt") if rnd % 2 == 0 else ("fatopt", "plain")
        for name in names:
            if name in failed:
                continue
            print(f"round {rnd + 1}/{args.rounds}: {name}", file=sys.stderr)
            for mode in modes:
                try:
                    run_script(args.python, scripts[name], known[name], mode, pycache, [
                        "-p", str(args.processes), "-n", str(args.values), "--loops", str(loops[name]),
                        "--append", str(work / f"{mode}.json"),
                    ], profiles[name])
                except RuntimeError as exc:
                    failed[name] = str(exc)
                    print(f"FAILED {exc}", file=sys.stderr)
                    break

    report(args.python, info, work, names, counts, failed, args.rounds, args.processes, args.values,
           args.fast, args.verbose, loops, args.profile)


def report(python: str, info: dict, work: Path, names: dict[str, list[str]], counts: dict[str, dict],
           failed: dict[str, str], rounds: int, processes: int, values: int, fast: bool, verbose: bool,
           loops: dict[str, int], profile: bool = False) -> None:
    """Print compare_to and the table; write summary.json; exit 1 if a benchmark failed."""
    if not (work / "plain.json").exists() or not (work / "fatopt.json").exists():
        sys.exit(f"no results in {work}")
    compare = subprocess.run(
        [python, "-m", "pyperf", "compare_to", str(work / "plain.json"), str(work / "fatopt.json"),
         "--table", "--min-speed=1"],
        capture_output=True, text=True,
    )
    print()
    print(f"pyperf compare_to plain.json fatopt.json  (python {info['full_version'].split()[0]}, "
          f"{rounds} rounds x {processes} processes x {values} values per mode"
          f"{', --fast' if fast else ''})")
    print(f"mode: {mode_text(profile)}")
    print(compare.stdout or compare.stderr)
    rows = summarize(work, {n: names[n] for n in names if n not in failed}, counts, processes)
    print(table(rows))
    for name, error in failed.items():
        print(f"FAILED: {name}: {error.splitlines()[0]}")
    if verbose:
        for name in names:
            print(f"\n{name}: what fatopt specialized")
            for line in counts[name].get("lines", []):
                print(f"  {line}")
    (work / "summary.json").write_text(json.dumps({
        "python": info["full_version"], "pyperformance": info["pyperformance"], "fast": fast,
        "rounds": rounds, "processes": processes, "values": values, "names": names,
        "loops": loops, "rows": rows, "counts": counts, "failed": failed,
        "profile": profile, "mode": mode_text(profile),
    }, indent=1))
    if failed:
        sys.exit(1)


def report_only(python: str, info: dict, work: Path, verbose: bool) -> None:
    """--report: the tables again from a finished run's files (timed, instructions, or both)."""
    have_instructions = (work / "instructions.json").exists()
    if have_instructions:
        print_instructions(json.loads((work / "instructions.json").read_text()), time_ratios(work))
    try:
        summary = json.loads((work / "summary.json").read_text())
    except FileNotFoundError:
        if have_instructions:
            return
        sys.exit(f"no finished run in {work} (summary.json and instructions.json are missing)")
    names = summary.get("names") or {}
    if not names:
        for row in summary["rows"]:
            names.setdefault(row["script"], []).append(row["benchmark"])
    report(python, info, work, names, summary["counts"], summary["failed"], summary["rounds"],
           summary["processes"], summary["values"], summary["fast"], verbose, summary["loops"],
           summary.get("profile", False))



# -- instruction mode ----------------------------------------------------------------------------


def worker_command(python: str, script: Path, bench: Benchmark, task: int, loops: int) -> list[str]:
    """The script as one in-process pyperf worker: task ``task``, ``loops`` iterations, one
    value, no warm-up (the cold first iteration cancels in the difference)."""
    return [python, str(script), *bench.extra_args, "--worker", f"--worker-task={task}",
            "--loops", str(loops), "--values", "1", "--warmups", "0"]


def auto_loops_pair(loops: int) -> tuple[int, int]:
    """The iteration counts to difference when none are given: pyperf's calibrated loop count L
    (enough iterations for about 100 ms) and 3L. With a fixed 1,3, a benchmark of a few
    microseconds per iteration differs by a few thousand instructions between the two runs,
    about what pyperf's own handling of the measured times varies (its arithmetic on the
    timings depends on their values): deepcopy_reduce read +0.9% or +4.5% under fatopt."""
    loops = max(1, loops)
    return loops, 3 * loops


def instruction_row(name: str, script: str, counts: dict[str, dict[int, int] | list[dict[int, int]]],
                    specialized: dict) -> dict:
    """One table row from ``{mode: {iterations: instructions}}``, or ``{mode: [that, per layout]}``.

    With several layouts, plain and fatopt are the medians of their per-layout figures, and
    ``ratio_range`` the smallest and largest plain/fatopt of one layout.
    """
    per_layout = {mode: c if isinstance(c, list) else [c] for mode, c in counts.items()}
    figures = {mode: [callgrind.per_iteration(c) for c in cs] for mode, cs in per_layout.items()}
    plain, fatopt = callgrind.median(figures["plain"]), callgrind.median(figures["fatopt"])
    ratios = [callgrind.ratio(p, f) for p, f in zip(figures["plain"], figures["fatopt"], strict=True)]
    defined = [r for r in ratios if r is not None]
    return {
        "benchmark": name, "script": script, "plain": plain, "fatopt": fatopt,
        "ratio": callgrind.ratio(plain, fatopt),
        "layouts": len(figures["plain"]),
        "loops_pair": sorted(per_layout["plain"][0]),
        "ratio_range": [min(defined), max(defined)] if defined else None,
        "counts": {mode: [{str(n): i for n, i in c.items()} for c in cs] for mode, cs in per_layout.items()},
        "specialized": specialized.get("specialized"), "functions": specialized.get("functions"),
    }


def instructions_table(rows: list[dict], loops_pair: tuple[int, int] | None, time_ratio: dict[str, float]) -> str:
    """The instruction table, with the timed ratio of an earlier timed run where there is one."""
    layouts = max((r.get("layouts", 1) for r in rows), default=1)
    head = (f"{'benchmark':28} {'plain instr/it':>14} {'fatopt instr/it':>15} {'plain/fatopt':>12} "
            + (f"{'layout range':>15} " if layouts > 1 else "") + f"{'spec/funcs':>10} {'time ratio':>10}")
    out = [head, "-" * len(head)]
    for r in rows:
        spec = f"{r['specialized']}/{r['functions']}" if r.get("specialized") is not None else "?"
        timed = time_ratio.get(r["benchmark"])
        spread = ""
        if layouts > 1:
            low, high = r.get("ratio_range") or (None, None)
            spread = f"{'?' if low is None else f'{low:.3f}-{high:.3f}':>15} "
        out.append(f"{r['benchmark']:28} {callgrind.fmt_count(r['plain']):>14} {callgrind.fmt_count(r['fatopt']):>15} "
                   f"{callgrind.fmt_ratio(r['ratio']):>12} {spread}{spec:>10} "
                   f"{(f'{timed:.2f}x' if timed else '-'):>10}")
    geo = callgrind.geometric_mean([r["ratio"] for r in rows])
    if geo is not None:
        timed = callgrind.geometric_mean([time_ratio.get(r["benchmark"]) for r in rows])
        out.append(f"{'geometric mean':28} {'':>14} {'':>15} {callgrind.fmt_ratio(geo):>12} "
                   + (f"{'':>15} " if layouts > 1 else "") + f"{'':>10} "
                   f"{(f'{timed:.2f}x' if timed else '-'):>10}")
    if loops_pair is None:
        pairs = ", ".join(f"{r['benchmark']} {r['loops_pair'][0]}" for r in rows if r.get("loops_pair"))
        out.append("instr/it: callgrind instructions per warm iteration, (I(3L) - I(L)) / 2L, L = pyperf's "
                   "calibrated loops (PYTHONHASHSEED=0). plain/fatopt > 1: fatopt executes fewer.")
        out.append(f"L: {pairs}")
    else:
        n1, n2 = loops_pair
        out.append(f"instr/it: callgrind instructions per warm iteration, (I({n2}) - I({n1})) / {n2 - n1} "
                   "(PYTHONHASHSEED=0). plain/fatopt > 1: fatopt executes fewer.")
    if layouts > 1:
        out.append(f"Each program counted in up to {layouts} memory layouts (environment padding, "
                   "benchmarks/callgrind.py): instr/it are the medians; layout range: the smallest and "
                   "largest plain/fatopt of one layout.")
    out.append("spec/funcs: functions fatopt specialized in the benchmark's files / functions there. "
               "time ratio: plain/fatopt of the last timed run (summary.json), '-' if none.")
    return "\n".join(out)


def time_ratios(work: Path) -> dict[str, float]:
    """benchmark -> timed plain/fatopt ratio of the last finished timed run, if any."""
    try:
        summary = json.loads((work / "summary.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {row["benchmark"]: row["ratio"] for row in summary.get("rows", [])}


def print_instructions(saved: dict, time_ratio: dict[str, float]) -> None:
    print()
    print(f"instructions per iteration (python {saved['python'].split()[0]}, callgrind, "
          f"--loops-pair {','.join(map(str, saved['loops_pair'] or ['auto']))}, layouts {saved.get('layouts', 1)})")
    print(f"mode: {mode_text(saved.get('profile', False))}")
    pair = saved["loops_pair"]
    print(instructions_table(saved["rows"], tuple(pair) if pair else None, time_ratio))
    for name, error in saved.get("failed", {}).items():
        print(f"FAILED: {name}: {error.splitlines()[0]}")


def count_instructions(args: argparse.Namespace, info: dict, known: dict[str, Benchmark], wanted: list[str],
                       work: Path) -> None:
    """--instructions: count each benchmark plain and under fatopt at two iteration counts."""
    from concurrent.futures import ThreadPoolExecutor

    if not callgrind.available():
        sys.exit("--instructions needs valgrind (callgrind) on PATH")
    src, pycache = work / "src", work / "pycache"
    work.mkdir(parents=True, exist_ok=True)
    (work / "instructions.json").unlink(missing_ok=True)
    print(f"python {info['full_version'].split()[0]} ({args.python}); pyperformance {info['pyperformance']}, "
          f"pyperf {info['pyperf']}; callgrind, --loops-pair {args.loops_pair}; work dir {work}", file=sys.stderr)
    print(f"mode: {mode_text(args.profile)}", file=sys.stderr)
    rows: list[dict] = []
    counts: dict[str, dict] = {}
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for name in wanted:
            bench = known[name]
            dest = src / bench.directory.name
            if not dest.exists():
                shutil.copytree(bench.directory, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            script = dest / "run_benchmark.py"
            t0 = time.monotonic()
            try:
                profile = record_profile(args.python, script, bench, pycache, work) if args.profile else None
                counts[name] = count_specialized(args.python, dest, profile)
                if args.loops_pair is None:
                    loops, subnames = calibrate(args.python, script, bench, pycache, work, profile)
                    pair = auto_loops_pair(loops)
                else:
                    subnames = warm_fatopt(args.python, script, bench, pycache, work, profile)
                    pair = args.loops_pair
                layouts = range(args.layouts)
                jobs = {
                    (task, mode, n, layout): pool.submit(
                        callgrind.count, worker_command(args.python, script, bench, task, n),
                        callgrind.layout_environment(env_for(mode, pycache, profile), layout), script.parent)
                    for task in range(len(subnames)) for layout in layouts for mode in ("plain", "fatopt")
                    for n in pair
                }
                for task, sub in enumerate(subnames):
                    per_mode = {mode: [{n: jobs[task, mode, n, layout].result() for n in pair}
                                       for layout in layouts]
                                for mode in ("plain", "fatopt")}
                    rows.append(instruction_row(sub, name, per_mode, counts[name]))
                    print(f"{sub}: {callgrind.fmt_count(rows[-1]['plain'])} plain, "
                          f"{callgrind.fmt_count(rows[-1]['fatopt'])} fatopt instructions per iteration "
                          f"({time.monotonic() - t0:.0f}s)", file=sys.stderr)
            except RuntimeError as exc:
                failed[name] = str(exc)
                print(f"FAILED {exc}", file=sys.stderr)
    saved = {"python": info["full_version"], "pyperformance": info["pyperformance"],
             "loops_pair": list(args.loops_pair) if args.loops_pair else None, "layouts": args.layouts, "rows": rows, "counts": counts, "failed": failed,
             "profile": args.profile, "mode": mode_text(args.profile)}
    (work / "instructions.json").write_text(json.dumps(saved, indent=1))
    print_instructions(saved, time_ratios(work))
    if args.verbose:
        for name in counts:
            print(f"\n{name}: what fatopt specialized")
            for line in counts[name].get("lines", []):
                print(f"  {line}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
