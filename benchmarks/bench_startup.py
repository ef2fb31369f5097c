"""Start-up cost of fatopt, measured with pyperf in one run.

Four interpreters, all the same CPython: a venv without fatopt ("bare"), the same with one
empty ``.pth`` file ("bare + .pth": what any ``.pth`` costs; 3.13's site module imports the
``utf-8-sig`` codec to read them, about 0.5 ms, which 3.12 does not), a venv with fatopt
installed (``pip install .``, not editable) but not enabled ("off"), and the same with
``-X fatopt`` ("on", warm cache). Two workloads: ``-c pass`` and a script importing json, re,
argparse, collections, dataclasses, asyncio, decimal and email. Every run uses the same
``-X pycache_prefix`` directory, warmed before timing, so every case loads cached bytecode.

    python benchmarks/bench_startup.py [--python /path/to/python3.13] [--fast] [pyperf options]
    python benchmarks/bench_startup.py --paired 40   # interleaved rounds instead of pyperf blocks
    python benchmarks/bench_startup.py --instructions  # instructions executed (valgrind)

On a noisy machine prefer --paired: each round runs every command once, in turn, so drift hits
all cases alike (pyperf times one case after the other); it reports wall time and the children's
CPU time (user + system).

The venvs are built once under benchmarks/results/startup-<version>/ (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pyperf

ROOT = Path(__file__).resolve().parents[1]
IMPORTS = "import json, re, argparse, collections, dataclasses, asyncio, decimal, email, email.message"


def build(base_python: str, work: Path) -> dict[str, Path]:
    """The bare, bare + .pth and fatopt venvs (created if missing)."""
    venvs = {"bare": work / "bare", "pth": work / "bare-pth", "fatopt": work / "fatopt"}
    for name, venv in venvs.items():
        python = venv / "bin" / "python"
        if python.exists():
            continue
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
        if name == "fatopt":
            subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT)], check=True)
        elif name == "pth":
            site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip()
            Path(site, "empty.pth").write_text("# a .pth file with nothing in it\n")
    return {name: venv / "bin" / "python" for name, venv in venvs.items()}


def cases(pythons: dict[str, Path], prefix: Path, script: Path) -> dict[str, list[str]]:
    x_prefix = ["-X", f"pycache_prefix={prefix}"]
    out = {}
    for workload, tail in (("-c pass", ["-c", "pass"]), ("import 8 stdlib modules", [str(script)])):
        out[f"{workload}: bare venv"] = [str(pythons["bare"]), *x_prefix, *tail]
        out[f"{workload}: bare venv + empty .pth"] = [str(pythons["pth"]), *x_prefix, *tail]
        out[f"{workload}: fatopt installed, off"] = [str(pythons["fatopt"]), *x_prefix, *tail]
        out[f"{workload}: fatopt on (-X fatopt)"] = [str(pythons["fatopt"]), *x_prefix, "-X", "fatopt", *tail]
    return out


def table(medians: dict[str, float], note: str = "", unit: str = "ms", title: str = "median") -> str:
    """Median per case, and its ratio to the bare venv, to the bare venv with an empty .pth (what
    any .pth costs is CPython's), and to fatopt installed but off."""
    rows = [f"{'case':48} {title:>9} {'vs bare':>8} {'vs .pth':>8} {'vs off':>7}   {note}".rstrip()]
    for name, ms in medians.items():
        workload = name.split(":")[0]
        bare, pth = medians[f"{workload}: bare venv"], medians[f"{workload}: bare venv + empty .pth"]
        off = medians[f"{workload}: fatopt installed, off"]
        rows.append(f"{name:48} {ms:7.2f}{unit:2} {ms / bare:7.3f}x {ms / pth:7.3f}x {ms / off:6.3f}x")
    return "\n".join(rows)


def summary(results: dict[str, pyperf.Benchmark]) -> str:
    return table({name: bench.median() * 1e3 for name, bench in results.items()})


def run_once(command: list[str], env: dict) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from wait4) of one run of `command`. posix_spawn
    and wait4 keep the parent's own work out of the figure (subprocess.run adds pipes and
    bookkeeping to every run)."""
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, env, file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed ({os.waitstatus_to_exitcode(status)}): {' '.join(command)}")
    return wall, usage.ru_utime + usage.ru_stime


def paired(commands: dict[str, list[str]], env: dict, rounds: int) -> str:
    """Run every command once per round, in a new random order each round (so neither drift
    nor a command's place in the round favours a case); report medians and ratios, of wall
    time and of CPU time."""
    import random
    import statistics

    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands.items())
    for done in range(rounds):
        random.shuffle(order)
        for name, command in order:
            wall, cpu = run_once(command, env)
            walls[name].append(wall)
            cpus[name].append(cpu)
        if sys.stderr.isatty():
            sys.stderr.write(f"\rround {done + 1}/{rounds}")
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    return "\n\n".join(
        table({name: statistics.median(values) * 1e3 for name, values in figures.items()},
              f"({what}, medians of {rounds} shuffled rounds)")
        for what, figures in (("wall time", walls), ("CPU time", cpus))
    )


def instructions(commands: dict[str, list[str]], env: dict) -> str:
    """Instructions each command executes, counted by valgrind's callgrind: identical from run
    to run (string hashing is fixed, PYTHONHASHSEED=0: random seeds move dict layouts and the
    counts by about 0.1%), where wall time on a shared machine moves by a few per cent between
    runs (it misses what is not an instruction: page faults, cache misses, the kernel's work)."""
    import re
    import shutil

    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on PATH")
    env = {**env, "PYTHONHASHSEED": "0"}
    counts = {}
    for name, command in commands.items():
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        found = re.search(r"Collected\s*:\s*(\d+)", proc.stderr)
        if found is None:
            raise SystemExit(f"no instruction count from valgrind for {name}:\n{proc.stderr}")
        counts[name] = int(found.group(1)) / 1e6
    return table(counts, "(millions of instructions, callgrind)", unit="M", title="count")


def main() -> None:
    own = argparse.ArgumentParser(add_help=False)
    own.add_argument("--python", default=sys.executable, help="the CPython to measure (default: this one)")
    own.add_argument("--paired", type=int, metavar="ROUNDS", help="interleaved rounds, medians (no pyperf)")
    own.add_argument("--instructions", action="store_true",
                     help="count instructions with valgrind (deterministic; no pyperf)")
    known, rest = own.parse_known_args()
    version = subprocess.run([known.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    work = ROOT / "benchmarks" / "results" / f"startup-{version}"
    work.mkdir(parents=True, exist_ok=True)
    script = work / "imports.py"
    script.write_text(IMPORTS + "\n")
    prefix = work / "pycache"
    pythons = build(known.python, work)
    commands = cases(pythons, prefix, script)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONFATOPT")}
    for command in commands.values():  # warm every cache, the fatopt ones included
        subprocess.run(command, check=True, env=env)
    if known.instructions:
        print(instructions(commands, env))
        return
    if known.paired:
        print(paired(commands, env, known.paired))
        return
    sys.argv = [sys.argv[0], *rest]
    runner = pyperf.Runner()
    runner.metadata["description"] = f"fatopt start-up cost, CPython {version}"
    results = {}
    for name, command in commands.items():
        bench = runner.bench_command(name, command)
        if bench is not None:
            results[name] = bench
    if len(results) == len(commands):
        print()
        print(summary(results))


if __name__ == "__main__":
    main()
