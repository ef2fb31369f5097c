"""Run CPython's own test suite with the standard library optimized by fatopt, against a plain
baseline, and report every difference test by test.

    python tools/stdlib_check.py                      # full suite, modes a and b (about 40 min)
    python tools/stdlib_check.py --mode a test_json test_re test_dataclasses   # a subset
    python tools/stdlib_check.py --python /path/to/python3.12 --mode a

Modes:
  a  the standard library optimized, test modules plain (PYTHONFATOPT=exclude=test)
  b  test modules optimized too (PYTHONFATOPT=1)

The interpreter must have fatopt installed (the venvs made by `make install` do). The standard
library is precompiled with `fatopt compileall` into a private cache (PYTHONPYCACHEPREFIX under
the work directory): nothing is written into the installation. Workers of `python -m test -j`
drop -X options, so fatopt is turned on with the PYTHONFATOPT environment variable, which they
keep. PYTHONDONTWRITEBYTECODE and PYTHONUNBUFFERED are removed for every run (some tests assert
on them), identically for the baseline and the modes.

A job started in the background inherits SIGINT ignored, which its children keep: the tests that
interrupt the main thread would fail alike in every run, and one child of test_threading would
recurse for ever. So this script puts SIGINT back to its default before it starts anything.
--mode baseline, then --reuse-baseline, runs the plain suite once for several fatopt runs.

A "new failure" is a test case (or a whole test file) that passes in the baseline and fails or
errors with fatopt. The report (text and JSON) goes to the work directory; the exit status is 1
if any mode has a new failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODES = {
    "baseline": None,
    "a": "exclude=test",
    "b": "1",
}


@dataclass
class RunResult:
    mode: str
    seconds: float
    returncode: int
    cases: dict[str, str] = field(default_factory=dict)  # case id -> ok | failure | error | skipped
    failed_files: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def interpreter_facts(python: str) -> dict:
    code = "import sys, sysconfig, json; print(json.dumps([sys.version.split()[0], sysconfig.get_paths()['stdlib']]))"
    version, stdlib = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)
    return {"version": version, "stdlib": stdlib}


def clean_env(prefix: Path, fatopt: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONFATOPT")}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if fatopt is not None:
        env["PYTHONFATOPT"] = fatopt
    return env


def precompile(python: str, stdlib: str, prefix: Path, log: Path) -> str:
    """fatopt compileall over the whole standard library (tests included) into the prefix."""
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "fatopt", "compileall", "-q", "-j", "0", "-x", r"[/\\]site-packages[/\\]", stdlib],
        env=clean_env(prefix, None), capture_output=True, text=True,
    )
    log.write_text(proc.stdout + proc.stderr)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]
    return f"{summary} (wall {time.perf_counter() - start:.0f}s)"


PROBE = (
    "import fatopt, json.decoder, email.message, argparse, dataclasses, collections, test.support\n"
    "s = fatopt.stats(); print(s['live'], sum(f['function'].startswith('test.') for f in s['functions']))"
)


def probe(python: str, mode: str, prefix: Path) -> str:
    """Prove fatopt is on in this mode's environment: live specializations after a few imports."""
    proc = subprocess.run([python, "-c", PROBE], env=clean_env(prefix, MODES[mode]), capture_output=True, text=True)
    if proc.returncode != 0:
        return f"probe failed: {proc.stderr.strip()[-300:]}"
    live, in_tests = proc.stdout.split()
    return f"{live} live specializations after importing a few modules ({in_tests} in test.*)"


def run_tests(python: str, mode: str, tests: list[str], jobs: int, prefix: Path, work: Path, timeout: int) -> RunResult:
    junit = work / f"junit-{mode}.xml"
    junit.unlink(missing_ok=True)
    command = [python, "-m", "test", f"-j{jobs}", "--junit-xml", str(junit), f"--timeout={timeout}", *tests]
    start = time.perf_counter()
    proc = subprocess.run(command, env=clean_env(prefix, MODES[mode]), capture_output=True, text=True, cwd=work)
    seconds = time.perf_counter() - start
    (work / f"regrtest-{mode}.log").write_text(proc.stdout + proc.stderr)
    (work / f"run-{mode}.json").write_text(json.dumps({"seconds": seconds, "returncode": proc.returncode, "tests": tests}))
    return load_run(mode, work)


def load_run(mode: str, work: Path) -> RunResult:
    """Read a finished run back from its junit XML and regrtest log (see --reuse-baseline)."""
    junit = work / f"junit-{mode}.xml"
    meta = json.loads((work / f"run-{mode}.json").read_text())
    result = RunResult(mode, meta["seconds"], meta["returncode"])
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            outcome = "ok"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = child.tag
            result.cases[case.get("name", "?")] = outcome
    result.failed_files = _failed_files((work / f"regrtest-{mode}.log").read_text())
    for outcome in result.cases.values():
        result.counts[outcome] = result.counts.get(outcome, 0) + 1
    return result


def _failed_files(output: str) -> list[str]:
    """Test files regrtest lists as failed (a crash leaves no test cases behind)."""
    files: list[str] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\s*\d+ tests? (failed|crashed)( again)?:$", line):
            j = i + 1
            while j < len(lines) and lines[j].startswith("    "):
                files.extend(lines[j].split())
                j += 1
    return sorted(set(files))


def compare(baseline: RunResult, run: RunResult) -> dict:
    broken = sorted(
        case for case, outcome in run.cases.items()
        if outcome in ("failure", "error") and baseline.cases.get(case, "ok") in ("ok", "skipped")
    )
    fixed = sorted(
        case for case, outcome in baseline.cases.items()
        if outcome in ("failure", "error") and run.cases.get(case) == "ok"
    )
    missing = sorted(set(baseline.cases) - set(run.cases))
    new_files = sorted(set(run.failed_files) - set(baseline.failed_files))
    return {"new_failures": broken, "fixed": fixed, "cases_missing": len(missing), "new_failed_files": new_files}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Test names are passed to `python -m test` (default: the whole suite).")
    parser.add_argument("tests", nargs="*", help="test files to run, e.g. test_json (default: all)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with fatopt installed (default: this one)")
    parser.add_argument("--mode", choices=["a", "b", "both", "baseline"], default="both",
                        help="which fatopt runs to make after the baseline (baseline: only the plain run)")
    parser.add_argument("--reuse-baseline", action="store_true",
                        help="read the plain run left in the work directory by an earlier call with the same tests "
                             "instead of running it again (it does not depend on fatopt's code)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="regrtest worker processes (default 2)")
    parser.add_argument("--timeout", type=int, default=900, help="per-test-file timeout in seconds (regrtest --timeout)")
    parser.add_argument("--workdir", type=Path, help="where caches, logs and reports go (default: build/stdlib-check-X.Y)")
    args = parser.parse_args(argv)
    if os.sep in args.python:
        # regrtest runs from the work directory: a relative path would name nothing there
        # (abspath, not realpath: a venv's python is a symlink that must stay one)
        args.python = os.path.abspath(args.python)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # a background job: see the docstring
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    facts = interpreter_facts(args.python)
    work = (args.workdir or ROOT / "build" / f"stdlib-check-{facts['version']}").resolve()
    work.mkdir(parents=True, exist_ok=True)
    prefix = work / "pycache"
    print(f"CPython {facts['version']}, stdlib {facts['stdlib']}, work dir {work}", flush=True)
    if args.mode != "baseline":
        print("precompiling:", precompile(args.python, facts["stdlib"], prefix, work / "compileall.log"), flush=True)

    modes = {"both": ["a", "b"], "baseline": []}.get(args.mode, [args.mode])
    results = {}
    for mode in ["baseline", *modes]:
        if mode == "baseline" and args.reuse_baseline:
            meta = work / "run-baseline.json"
            if not meta.exists() or json.loads(meta.read_text())["tests"] != args.tests:
                parser.error(f"--reuse-baseline: no baseline for these tests in {work}")
            results[mode] = load_run(mode, work)
            print(f"baseline reused from {meta}", flush=True)
            continue
        print(f"running {mode} ... ({probe(args.python, mode, prefix)})", flush=True)
        results[mode] = run_tests(args.python, mode, args.tests, args.jobs, prefix, work, args.timeout)
        r = results[mode]
        print(f"  {mode}: {len(r.cases)} cases {r.counts}, failed files {r.failed_files or 'none'}, {r.seconds:.0f}s", flush=True)

    report = {"python": facts, "tests": args.tests or "all", "runs": {m: {k: v for k, v in asdict(r).items() if k != "cases"} for m, r in results.items()}}
    status = 0
    lines = [f"fatopt stdlib check, CPython {facts['version']}, tests: {' '.join(args.tests) or 'all'}"]
    base = results["baseline"]
    lines.append(f"baseline: {len(base.cases)} cases, {base.counts}, failed files: {' '.join(base.failed_files) or 'none'}, {base.seconds:.0f}s")
    for mode in modes:
        diff = compare(base, results[mode])
        report[f"diff_{mode}"] = diff
        r = results[mode]
        lines.append(
            f"mode {mode}: {len(r.cases)} cases, {r.counts}, {r.seconds:.0f}s; "
            f"new failures: {len(diff['new_failures'])}, new failed files: {' '.join(diff['new_failed_files']) or 'none'}, "
            f"fixed: {len(diff['fixed'])}, cases not run: {diff['cases_missing']}"
        )
        lines += [f"    NEW: {case}" for case in diff["new_failures"]]
        if diff["new_failures"] or diff["new_failed_files"]:
            status = 1
    (work / "report.json").write_text(json.dumps(report, indent=2))
    (work / "report.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
