"""Run the micro suite and print one table: what each fatopt transformation gains.

Each ``bm_*.py`` beside this file times one case three ways in one pyperf process group (see
``_micro.py``): ``plain`` (the code as written, not optimized), ``fatopt`` (the same function
as fatopt left it) and ``floor`` (the optimal code written by hand). This script runs every case
in interleaved rounds -- round 1 runs all cases, round 2 all cases again with the variants in
another order, ... -- appending to one pyperf JSON file per case with a fixed loop count
(calibrated once per case in an untimed warm-up run, which also fills fatopt's cache), then
prints medians and two ratios:

* ``plain/fatopt``: the speed-up fatopt gives (> 1: fatopt faster);
* ``fatopt/floor``: how far fatopt is from hand-written code (1.00: as fast as the floor).

Both ratios are the median of the per-round ratios (each round compares variants timed minutes
apart at most, so a busy spell on a shared machine cancels out); their range over the rounds
shows how stable the figure is. Many short rounds beat few long ones.

    python benchmarks/micro/run.py                       # full run (about 5 minutes)
    python benchmarks/micro/run.py --fast                # one short round (noisy)
    python benchmarks/micro/run.py --cases pure_builtin,nothing --rounds 2
    python benchmarks/micro/run.py --python .venv-3.12/bin/python

``--instructions`` counts instead of timing (valgrind's callgrind, see ``benchmarks/callgrind.py``):
each case's script runs one variant's timing loop in a single process (``--run-variant
VARIANT:N``, no pyperf), N = N1 and N = N2 (``--loops-pair``, default 100,1100), under
``PYTHONHASHSEED=0``; ``(I(N2) - I(N1)) / (N2 - N1) / 20`` is the instructions per call, with
start-up, imports and the cold first iteration cancelled out. The table has plain, fatopt and
floor per call, ``plain/fatopt`` (what fatopt gains) and ``plain/floor`` (what the hand-written
code gains: the room left). A count run again agrees to within about 0.1% (not exactly: the
process is not fully deterministic), so one run is enough. Results: ``--output``/micro-<version>/instructions.json (``--report`` prints it again).

    python benchmarks/micro/run.py --instructions --cases genexpr_any,inline_function
    python benchmarks/micro/run.py --report

The interpreter given must have fatopt and pyperf installed (``make install``). Byte code,
optimized or not, is cached under ``--output``/pycache (``PYTHONPYCACHEPREFIX``), the same for
every variant. Results: ``--output``/micro-<python version>/<case>.json (``python -m pyperf
compare_to``, ``pyperf stats`` and ``pyperf hist`` read them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

import callgrind  # noqa: E402  (benchmarks/callgrind.py)
CASES = sorted(p.stem[3:] for p in HERE.glob("bm_*.py"))
VARIANTS = ("plain", "fatopt", "floor")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Cases: " + ", ".join(CASES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure (default: this one)")
    parser.add_argument("--cases", help="comma-separated cases (default: all)")
    parser.add_argument("--fast", action="store_true", help="1 round of 2 processes per variant: quick, noisy")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 8; --fast: 1)")
    parser.add_argument("--processes", "-p", type=int, help="worker processes per variant per round (default 2)")
    parser.add_argument("--values", "-n", type=int, default=3, help="values per worker process (default 3)")
    parser.add_argument("--output", "-o", type=Path, default=ROOT / "benchmarks" / "results",
                        help="results directory (default: benchmarks/results)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    callgrind.add_arguments(parser, "100,1100", "call")
    parser.add_argument("--report", action="store_true", help="run nothing: print the last --instructions table again")
    args = parser.parse_args(argv)
    try:
        args.loops_pair = callgrind.parse_loops_pair(args.loops_pair)
    except ValueError as exc:
        parser.error(str(exc))
    args.rounds = args.rounds or (1 if args.fast else 8)
    args.processes = args.processes or 2
    cases = args.cases.split(",") if args.cases else CASES
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    args.cases = cases
    return args


def interpreter_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys, fatopt, pyperf; print('%d.%d' % sys.version_info[:2]); print(sys.version)"],
        capture_output=True, text=True,
    )
    if out.returncode != 0:
        sys.exit(f"{python} cannot import fatopt and pyperf (run 'make install PYTHON=...'):\n{out.stderr}")
    return out.stdout.splitlines()[0]


def environment(pycache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONFATOPT", None)  # each case script sets its own fatopt options
    # The warm-up run must fill the cache (under --output): without it every process optimizes
    # all it imports again, pyperf included.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_case(python: str, case: str, env: dict[str, str], extra: list[str]) -> None:
    cmd = [python, str(HERE / f"bm_{case}.py"), "--allow-unexpected", "--quiet", *extra]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"case {case} failed ({' '.join(cmd)}):\n{proc.stdout}\n{proc.stderr}")
    for line in proc.stderr.splitlines():
        if line.startswith("WARNING: ") and "expected fatopt" in line:
            print(f"  {case}: {line}", file=sys.stderr)


def calibrate(python: str, case: str, env: dict[str, str], work: Path) -> int:
    """Untimed warm-up run (fills the cache); returns the smallest loop count pyperf chose."""
    path = work / f"{case}.calibrate.json"
    path.unlink(missing_ok=True)
    run_case(python, case, env, ["-p", "1", "-n", "1", "-w", "0", "-o", str(path)])
    with path.open() as f:
        data = json.load(f)
    loops = []
    for bench in data["benchmarks"]:
        for run in bench["runs"]:
            loops.append(run.get("metadata", {}).get("loops") or {**data.get("metadata", {}), **bench.get("metadata", {})}.get("loops"))
    loops = [n for n in loops if n]
    path.unlink()
    return min(loops) if loops else 2 ** 14


def load_values(path: Path, processes: int) -> tuple[dict[str, list[float]], dict[str, list[list[float]]], dict]:
    """Per variant: all values, and values grouped by round; plus the case's metadata."""
    with path.open() as f:
        data = json.load(f)
    common = data.get("metadata", {})
    values: dict[str, list[float]] = {}
    rounds: dict[str, list[list[float]]] = {}
    for bench in data["benchmarks"]:
        variant = bench["metadata"]["name"].rsplit(": ", 1)[1]
        meta = {**common, **bench["metadata"]}
        runs = [r for r in bench["runs"] if r.get("values")]
        values[variant] = [v for r in runs for v in r["values"]]
        rounds[variant] = [
            [v for r in runs[i:i + processes] for v in r["values"]] for i in range(0, len(runs), processes)
        ]
    return values, rounds, meta


def table(results: list[dict], python_version: str, args: argparse.Namespace) -> str:
    head = (f"{'case':16} {'plain':>9} {'fatopt':>9} {'floor':>9} {'plain/fatopt':>12} {'(rounds)':>11} "
            f"{'fatopt/floor':>12} {'(rounds)':>11}  fatopt did")
    rows = [head, "-" * len(head)]
    for r in results:
        s, f = r["round_speedups"], r["round_vs_floor"]
        rows.append(
            f"{r['case']:16} {r['plain_ns']:7.1f}ns {r['fatopt_ns']:7.1f}ns {r['floor_ns']:7.1f}ns "
            f"{r['speedup']:11.2f}x {min(s):5.2f}-{max(s):4.2f}x {r['vs_floor']:11.2f}x {min(f):5.2f}-{max(f):4.2f}x  {r['did']}"
        )
    rows.append("")
    rows.append(
        f"python {python_version}; times: median per call over all values; ratios: median of the per-round "
        "ratios (range over rounds); 20 calls unrolled per loop iteration; "
        f"{args.rounds} round(s) x {args.processes} process(es) x {args.values} value(s) per variant"
        + (" (--fast)" if args.fast else "")
    )
    rows.append("plain/fatopt > 1: fatopt faster; fatopt/floor = 1: as fast as the hand-written code")
    unexpected = [r for r in results if not r["did"].startswith(r["expected"])]
    for r in unexpected:
        rows.append(f"NOTE: {r['case']}: fatopt was expected to leave the function {r['expected']}, "
                    f"but it is {r['did']}: its fatopt column times unoptimized code")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    version = interpreter_version(args.python)
    work = args.output / f"micro-{version}"
    work.mkdir(parents=True, exist_ok=True)
    env = environment(args.output / f"pycache-{version}")
    if args.report:
        try:
            saved = json.loads((work / "instructions.json").read_text())
        except FileNotFoundError:
            sys.exit(f"no instruction run in {work} (instructions.json is missing)")
        print(instructions_table(saved["results"], saved["python"], tuple(saved["loops_pair"])))
        return
    if args.instructions:
        count_instructions(args, version, work, env)
        return
    loops = {}
    for case in args.cases:
        (work / f"{case}.json").unlink(missing_ok=True)
        loops[case] = calibrate(args.python, case, env, work)
        print(f"warm-up {case}: {loops[case]} loops", file=sys.stderr)
    for rnd in range(args.rounds):
        for case in args.cases:
            print(f"round {rnd + 1}/{args.rounds}: {case}", file=sys.stderr)
            run_case(args.python, case, env, [
                f"--rotate={rnd}", "-p", str(args.processes), "-n", str(args.values),
                "--loops", str(loops[case]), "--append", str(work / f"{case}.json"),
            ])
    results = []
    for case in args.cases:
        values, rounds, meta = load_values(work / f"{case}.json", args.processes)
        med = {v: statistics.median(values[v]) * 1e9 for v in VARIANTS}
        round_speedups = [
            statistics.median(p) / statistics.median(f) for p, f in zip(rounds["plain"], rounds["fatopt"], strict=True)
        ]
        round_vs_floor = [
            statistics.median(f) / statistics.median(e) for f, e in zip(rounds["fatopt"], rounds["floor"], strict=True)
        ]
        results.append({
            "case": case,
            "plain_ns": med["plain"], "fatopt_ns": med["fatopt"], "floor_ns": med["floor"],
            "speedup": statistics.median(round_speedups), "vs_floor": statistics.median(round_vs_floor),
            "round_speedups": round_speedups, "round_vs_floor": round_vs_floor,
            "did": meta.get("fatopt_did", "?"), "expected": meta.get("fatopt_expected", "?"),
            "fatopt_options": meta.get("fatopt_options", "?"), "loops": loops[case],
            "values": len(values["plain"]),
        })
    print()
    print(table(results, meta.get("python_version", version), args))
    if args.json:
        args.json.write_text(json.dumps({"python": meta.get("python_version", version), "fast": args.fast,
                                         "rounds": args.rounds, "processes": args.processes,
                                         "results": results}, indent=1))



# -- instruction mode ----------------------------------------------------------------------------


def run_variant(python: str, case: str, variant: str, loops: int) -> list[str]:
    """The command running one variant's timing loop ``loops`` times, without pyperf."""
    return [python, str(HERE / f"bm_{case}.py"), "--run-variant", f"{variant}:{loops}"]


def warm(python: str, case: str, env: dict[str, str]) -> dict:
    """An uncounted run (fills fatopt's cache); what the script says: options, what fatopt did."""
    proc = subprocess.run(run_variant(python, case, "fatopt", 1), env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"case {case} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def instruction_result(case: str, counts: dict[str, dict[int, int]], info: dict) -> dict:
    """One row from ``{variant: {loops: instructions}}``: instructions per call of each variant."""
    per_call = {v: callgrind.per_iteration(counts[v]) / info["calls"] for v in VARIANTS}
    return {
        "case": case, **{f"{v}_instructions": per_call[v] for v in VARIANTS},
        "speedup": callgrind.ratio(per_call["plain"], per_call["fatopt"]),
        "floor_gain": callgrind.ratio(per_call["plain"], per_call["floor"]),
        "did": info["did"], "expected": info["expected"], "fatopt_options": info["fatopt_options"],
        "counts": {v: {str(n): i for n, i in c.items()} for v, c in counts.items()},
    }


def instructions_table(results: list[dict], python_version: str, loops_pair: tuple[int, int]) -> str:
    head = (f"{'case':26} {'plain':>8} {'fatopt':>8} {'floor':>8} {'plain/fatopt':>12} {'plain/floor':>11}  fatopt did")
    rows = [head, "-" * len(head)]
    for r in results:
        rows.append(
            f"{r['case']:26} {r['plain_instructions']:8.1f} {r['fatopt_instructions']:8.1f} "
            f"{r['floor_instructions']:8.1f} {callgrind.fmt_ratio(r['speedup']):>12} "
            f"{callgrind.fmt_ratio(r['floor_gain']):>11}  {r['did']}"
        )
    gains = [r["speedup"] for r in results]
    floors = [r["floor_gain"] for r in results]
    if results:
        rows.append(f"{'geometric mean':26} {'':>8} {'':>8} {'':>8} "
                    f"{callgrind.fmt_ratio(callgrind.geometric_mean(gains)):>12} "
                    f"{callgrind.fmt_ratio(callgrind.geometric_mean(floors)):>11}")
    n1, n2 = loops_pair
    rows.append("")
    rows.append(f"python {python_version}; callgrind instructions per call, (I({n2}) - I({n1})) / {n2 - n1} "
                "loop iterations / 20 calls (PYTHONHASHSEED=0)")
    rows.append("plain/fatopt > 1: fatopt executes fewer instructions; plain/floor: what the hand-written "
                "code saves (the room left)")
    for r in results:
        if not r["did"].startswith(r["expected"]):
            rows.append(f"NOTE: {r['case']}: fatopt is expected to leave the function {r['expected']}, "
                        f"but it is {r['did']}")
    return "\n".join(rows)


def count_instructions(args: argparse.Namespace, version: str, work: Path, env: dict[str, str]) -> None:
    """--instructions: each case's variants counted at two loop counts under callgrind."""
    from concurrent.futures import ThreadPoolExecutor

    if not callgrind.available():
        sys.exit("--instructions needs valgrind (callgrind) on PATH")
    (work / "instructions.json").unlink(missing_ok=True)
    results = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for case in args.cases:
            info = warm(args.python, case, env)
            counted_env = {**env, "PYTHONFATOPT": info["fatopt_options"]}  # callgrind can't follow the re-exec
            jobs = {(v, n): pool.submit(callgrind.count, run_variant(args.python, case, v, n), counted_env)
                    for v in VARIANTS for n in args.loops_pair}
            counts = {v: {n: jobs[v, n].result() for n in args.loops_pair} for v in VARIANTS}
            results.append(instruction_result(case, counts, info))
            print(f"{case}: " + ", ".join(f"{v} {results[-1][v + '_instructions']:.1f}" for v in VARIANTS)
                  + " instructions per call", file=sys.stderr)
    python_version = subprocess.run([args.python, "-c", "import sys; print(sys.version)"],
                                    capture_output=True, text=True).stdout.strip()
    saved = {"python": python_version, "loops_pair": list(args.loops_pair), "results": results}
    (work / "instructions.json").write_text(json.dumps(saved, indent=1))
    if args.json:
        args.json.write_text(json.dumps(saved, indent=1))
    print()
    print(instructions_table(results, python_version, args.loops_pair))


if __name__ == "__main__":
    main()
