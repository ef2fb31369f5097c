"""Run the test suites of pinned third-party libraries plain and under fatopt, and report every
test id that fails only under fatopt, with the time each mode costs.

    python tools/thirdparty_check.py                          # every library, the newest Python found
    python tools/thirdparty_check.py --subset ci              # the few fast ones CI runs
    python tools/thirdparty_check.py six idna --python /root/.pyenv/versions/3.12.1/bin/python3.12
    python tools/thirdparty_check.py idna --modes warm --repeat 5     # median CPU, plain against warm
    python tools/thirdparty_check.py six --pytest-args=--assert=plain  # test modules through fatopt's own hook
    python tools/thirdparty_check.py --list

What it does, per interpreter:
  1. downloads each library's sdist once (pip download --no-binary :all:, versions pinned) into
     the cache directory (--cache, default ~/.cache/fatopt-thirdparty);
  2. makes one venv per interpreter there (or under --venvs), installs the pinned test dependencies, the libraries
     from their sdists, and fatopt from this checkout (rebuilt when its sources change);
  3. unpacks each sdist into the work directory and runs its tests with pytest in four modes:
       plain       no fatopt (normal bytecode cache warm: a first plain run warms it)
       cold        PYTHONFATOPT=1, no fatopt cache file yet (stdlib, library and tests optimized at import)
       warm        PYTHONFATOPT=1 again, over the cache the cold run wrote
       compileall  the library's and its tests' fatopt cache files deleted, written again by
                   `fatopt compileall`, then PYTHONFATOPT=1 (the test modules pytest's assertion
                   rewriting loads keep their cache files from the cold run: fatopt's pytest plugin
                   writes them, in pytest's cache, which `fatopt compileall` does not write)
     Each library gets its own PYTHONPYCACHEPREFIX, so nothing is written into the interpreter's
     installation and libraries never share cache files.
  4. compares the SETS of failing test ids (from pytest's junit XML) of each fatopt mode with
     plain's, and counts, from a small pytest plugin (tools/thirdparty_probe.py), the modules of
     the library and of its tests that ran from a fatopt cache file and their specialized functions.

Progress goes to stderr; the table and the per-library differences to stdout; everything (logs,
junit files, JSON) to the work directory. Exit status: 0 if no test id fails only under fatopt,
1 if one does, 2 if a library could not be downloaded or installed, or its suite not run at all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[1]
PROBE_SOURCE = Path(__file__).with_name("thirdparty_probe.py")
PROBE_MODULE = "fatopt_thirdparty_probe"
DEFAULT_CACHE = Path.home() / ".cache" / "fatopt-thirdparty"
MODES = ("plain", "cold", "warm", "compileall")
FATOPT_MODES = MODES[1:]

#: Test dependencies, pinned, installed from wheels (they are not under test).
TEST_DEPENDENCIES = (
    "pytest==9.2.0",
    "hypothesis==6.170.15",
    "freezegun==1.5.5",
    "pympler==1.1",
    "cloudpickle==3.1.2",
    "tzdata==2026.6",
    "trio==0.35.0",  # jinja2's async tests
    "railroad-diagrams==3.0.1",  # pyparsing's diagram tests
)


@dataclass(frozen=True)
class Library:
    """One library under test: its sdist, what it imports as, where its tests are."""

    name: str
    version: str
    packages: tuple[str, ...]  # top-level import names: the library's own modules
    tests: tuple[str, ...] = ("tests",)  # paths inside the unpacked sdist
    pytest_args: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


LIBRARIES = (
    Library("six", "1.17.0", ("six",), ("test_six.py",)),
    Library("idna", "3.20", ("idna",)),
    Library("cachetools", "8.0.0", ("cachetools",)),
    Library("toolz", "1.2.0", ("toolz", "tlz"), ("toolz",)),
    Library("more-itertools", "11.2.1", ("more_itertools",)),
    Library("markupsafe", "3.0.4", ("markupsafe",)),
    Library("boltons", "26.2.0", ("boltons",)),
    Library("simplejson", "4.3.0", ("simplejson",), ("simplejson/tests",)),
    Library("jinja2", "3.1.6", ("jinja2",)),
    Library("pyparsing", "3.3.3", ("pyparsing",)),
    # its tests mark some cases no_cover, a mark of pytest-cov (not installed), under filterwarnings=error
    Library("python-dateutil", "4.0.0", ("dateutil",), pytest_args=("-W", "ignore::pytest.PytestUnknownMarkWarning")),
    Library("attrs", "26.1.0", ("attr", "attrs")),
)

#: Named subsets: `ci` is the few fastest suites, for .ci/run.
SUBSETS = {
    "ci": ("six", "idna", "cachetools", "toolz"),
}

#: simplejson is tested pure (its C speedups not built); markupsafe's suite runs both its pure
#: and its C implementation by itself.
BUILD_ENVIRONMENT = {"DISABLE_SPEEDUPS": "1"}


# ---------------------------------------------------------------- results: parsing and comparing


@dataclass
class SuiteRun:
    """One pytest run of one library in one mode."""

    mode: str
    returncode: int
    wall: float
    cpu: float
    max_rss_kb: int
    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed|failed|skipped
    probe: dict = field(default_factory=dict)

    @property
    def failed(self) -> set[str]:
        return {test for test, outcome in self.outcomes.items() if outcome == "failed"}


def test_id(classname: str, name: str) -> str:
    """A stable id from a junit testcase: ``tests.test_x.TestY::test_z[param]``."""
    return f"{classname}::{name}" if classname else name


def parse_junit(text: str) -> dict[str, str]:
    """Outcome per test id from pytest's junit XML. A test that failed in any phase (call, or
    an error in setup/teardown, reported as a second testcase of the same id) is failed."""
    outcomes: dict[str, str] = {}
    for case in ET.fromstring(text).iter("testcase"):
        test = test_id(case.get("classname", ""), case.get("name", "?"))
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped" and outcome == "passed":
                outcome = "skipped"
        if outcomes.get(test) != "failed":
            outcomes[test] = outcome
    return outcomes


@dataclass
class Difference:
    """How a fatopt mode's outcomes differ from plain's."""

    only_fatopt: list[str]  # failed under fatopt, passed or skipped (or did not exist) plain
    only_plain: list[str]  # failed plain, not under fatopt
    missing: list[str]  # run plain, absent under fatopt


#: pytest's exit codes for "ran, all passed" and "ran, some failed": anything else (interrupted,
#: internal error, usage error, no tests, killed by a signal) means the suite did not run through.
COMPLETED = (0, 1)


def exit_id(returncode: int) -> str:
    """The pseudo test id that stands for a run that did not complete."""
    return f"<pytest exit status {returncode}>"


def compare(plain: dict[str, str], fatopt: dict[str, str], plain_exit: int = 0, fatopt_exit: int = 0) -> Difference:
    """Compare the failing sets of two runs, test id by test id; a run that did not complete
    (a crash, an internal error) where plain's did is one more failing id."""
    failed_plain = {t for t, o in plain.items() if o == "failed"}
    failed_fatopt = {t for t, o in fatopt.items() if o == "failed"}
    if plain_exit not in COMPLETED:
        failed_plain.add(exit_id(plain_exit))
    if fatopt_exit not in COMPLETED:
        failed_fatopt.add(exit_id(fatopt_exit))
    return Difference(
        only_fatopt=sorted(failed_fatopt - failed_plain),
        only_plain=sorted(failed_plain - failed_fatopt),
        missing=sorted(set(plain) - set(fatopt)),
    )


def belongs_to(module: dict, packages: tuple[str, ...]) -> bool:
    """True for a module of the library itself: named in one of its packages and loaded from
    that package's files (six.moves.queue is the standard library's queue under another name)."""
    top = module["name"].split(".")[0]
    if top not in packages:
        return False
    path = Path(module["file"])
    return top in path.parent.parts or path.stem == top


def is_test_module(module: dict, tests_root: str) -> bool:
    """True for a module of the suite: under the unpacked sdist, in a tests folder or named like
    a test file or conftest (toolz and simplejson keep their tests inside the package)."""
    if not module["file"].startswith(tests_root + os.sep):
        return False
    path = Path(module["file"]).relative_to(tests_root)
    return (any(part in ("tests", "test", "testing") for part in path.parent.parts)
            or path.name.startswith("test_") or path.name.endswith("_test.py") or path.name == "conftest.py")


def summarize_probe(probe: dict, library: Library, tests_root: str) -> dict:
    """From the probe's JSON: the library's and its tests' modules, how many ran from a fatopt
    cache file, and the specialized functions in each group."""
    groups: dict[str, list[dict]] = {"library": [], "tests": []}
    for module in probe.get("modules", []):
        if is_test_module(module, tests_root):
            groups["tests"].append(module)
        elif belongs_to(module, library.packages):
            groups["library"].append(module)
    specialized = probe.get("specialized") or {}
    summary = {}
    for group, modules in groups.items():
        names = {m["name"] for m in modules}
        summary[group] = {
            "modules": len(modules),
            "cached": sum(m["fatopt_cached"] for m in modules),
            "optimized": sum(m.get("optimized", False) for m in modules),
            "specialized": sum(n for name, n in specialized.items() if name in names),
            "loaders": sorted({m["loader"] for m in modules}),
            "not_optimized": sorted(m["name"] for m in modules if not m.get("optimized")),
            # fatopt.stats() and the cache must agree: no specialized function in a plain module
            "specialized_in_plain": sorted(name for name in names - {m["name"] for m in modules if m.get("optimized")}
                                           if specialized.get(name)),
        }
    summary["specialized_total"] = sum(specialized.values())
    return summary


# ---------------------------------------------------------------- the table


def format_table(rows: list[dict]) -> str:
    """The summary table: one row per library; failures as plain/fatopt-only per mode, the
    specialized functions (library+tests, from the warm run) and CPU seconds per mode."""
    header = ["library", "version", "tests", "fail plain", *(f"only {m}" for m in FATOPT_MODES),
              "spec lib+tests", *(f"cpu {m}" for m in MODES)]
    lines = [header]
    for row in rows:
        runs = row.get("runs", {})
        plain = runs.get("plain")
        cells = [row["library"], row["version"],
                 str(len(plain["outcomes"])) if plain else "-",
                 str(sum(o == "failed" for o in plain["outcomes"].values())) if plain else "-"]
        cells += [str(len(row["differences"][m]["only_fatopt"])) if m in row.get("differences", {}) else "-"
                  for m in FATOPT_MODES]
        probe = row.get("probe_summary", {})
        cells.append(f"{probe['library']['specialized']}+{probe['tests']['specialized']}" if probe else "-")
        cells += [f"{runs[m]['cpu']:.1f}" if m in runs else "-" for m in MODES]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip() for line in lines)


# ---------------------------------------------------------------- running things


def progress(message: str) -> None:
    print(f"[thirdparty] {message}", file=sys.stderr, flush=True)


def run_measured(command: list[str], env: dict, cwd: Path, log: Path, timeout: float) -> tuple[int, float, float, int]:
    """Run ``command`` with output to ``log``; return (returncode, wall s, CPU s of the child and
    its descendants, peak RSS in KiB), from os.wait4 on the child."""
    start = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    return proc.returncode, time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def stop(message: str) -> NoReturn:
    """End the run with exit status 2, the one for "nothing could be compared" (1 says a test id
    fails only under fatopt: CI must not mistake a failed download or build for that)."""
    print(f"[thirdparty] error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def checked(command: list[str], log: Path, **kwargs) -> None:
    """Run a set-up command; on failure show its log's tail and stop."""
    with open(log, "ab") as out:
        proc = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
    if proc.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        stop(f"failed ({proc.returncode}): {' '.join(command)}\n{tail}")


def sdist_path(sdists: Path, library: Library) -> Path | None:
    """The cached sdist of ``library`` (file names normalize '-' to '_', and case)."""
    stem = re.sub(r"[-_.]+", "_", library.name).lower()
    for path in sdists.glob("*.tar.gz"):
        name = path.name[: -len(".tar.gz")]
        base, _, version = name.rpartition("-")
        if re.sub(r"[-_.]+", "_", base).lower() == stem and version == library.version:
            return path
    return None


def download(python: str, sdists: Path, libraries: list[Library], log: Path) -> dict[str, Path]:
    """Each library's sdist, downloaded once into ``sdists``."""
    sdists.mkdir(parents=True, exist_ok=True)
    missing = [lib for lib in libraries if sdist_path(sdists, lib) is None]
    if missing:
        progress(f"downloading {len(missing)} sdists into {sdists}")
        checked([python, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "-d", str(sdists),
                 *(lib.requirement for lib in missing)], log)
    paths = {}
    for lib in libraries:
        path = sdist_path(sdists, lib)
        if path is None:
            stop(f"no sdist for {lib.requirement} in {sdists} after pip download")
        paths[lib.name] = path
    return paths


def fatopt_source_stamp() -> str:
    """A hash of fatopt's sources in this checkout: the venv's copy is rebuilt when it changes."""
    digest = hashlib.sha256()
    files = sorted(p for p in (ROOT / "fatopt").rglob("*") if p.suffix in (".py", ".c", ".h"))
    for path in [*files, ROOT / "setup.py", ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def venv_python(venv: Path) -> str:
    return str(venv / "bin" / "python")


def make_venv(python: str, venv: Path, log: Path) -> str:
    """One venv per interpreter, with the pinned test dependencies; made once."""
    vpy = venv_python(venv)
    deps_marker = venv / ".deps-installed"
    if not deps_marker.exists():
        progress(f"creating {venv}")
        checked([python, "-m", "venv", "--clear", str(venv)], log)
        checked([vpy, "-m", "pip", "install", "-q", "--upgrade", "pip", "setuptools>=77", "wheel"], log)
    if not deps_marker.exists() or deps_marker.read_text() != "\n".join(TEST_DEPENDENCIES):
        progress("installing the test dependencies")
        checked([vpy, "-m", "pip", "install", "-q", *TEST_DEPENDENCIES], log)
        deps_marker.write_text("\n".join(TEST_DEPENDENCIES))
    return vpy


def install_libraries(vpy: str, venv: Path, sdists: list[Path], log: Path) -> None:
    """The libraries from their sdists (built here, without their dependencies: those are the
    other pinned libraries); each sdist once."""
    marker = venv / ".sdists-installed"
    installed = set(marker.read_text().splitlines()) if marker.exists() else set()
    todo = sorted(str(path) for path in sdists if str(path) not in installed)
    if todo:
        progress(f"installing {len(todo)} libraries from their sdists")
        env = {**os.environ, **BUILD_ENVIRONMENT}
        checked([vpy, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", *todo], log, env=env)
        marker.write_text("\n".join(sorted(installed | set(todo))))


def install_probe(vpy: str) -> None:
    """The probe plugin, importable as PROBE_MODULE in the venv (copied each run: it is tiny)."""
    site = subprocess.run([vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    shutil.copyfile(PROBE_SOURCE, Path(site) / f"{PROBE_MODULE}.py")


def install_fatopt(vpy: str, venv: Path, log: Path) -> None:
    """fatopt built from this checkout (its C extensions compiled here); again whenever its
    sources change."""
    stamp = fatopt_source_stamp()
    stamp_file = venv / ".fatopt-stamp"
    if not stamp_file.exists() or stamp_file.read_text() != stamp:
        progress(f"building and installing fatopt from {ROOT}")
        checked([vpy, "-m", "pip", "install", "-q", "--no-build-isolation", "--force-reinstall", "--no-deps", str(ROOT)], log)
        stamp_file.write_text(stamp)


def unpack(sdist: Path, into: Path) -> Path:
    """A fresh copy of the sdist's tree (tests may write into it)."""
    if into.exists():
        shutil.rmtree(into)
    into.mkdir(parents=True)
    with tarfile.open(sdist) as archive:
        archive.extractall(into, filter="data")
    (root,) = into.iterdir()
    return root


def run_environment(prefix: Path, fatopt: bool, probe_output: Path) -> dict:
    """The environment of a test run: private bytecode caches, fatopt on or off, nothing that
    changes what the tests see between modes."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONFATOPT", "PYTHONPATH", "PYTHONUNBUFFERED")}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    env["FATOPT_THIRDPARTY_PROBE"] = str(probe_output)
    if fatopt:
        env["PYTHONFATOPT"] = "1"
    return env


def run_suite(vpy: str, library: Library, tree: Path, mode: str, prefix: Path, work: Path, timeout: float,
              extra: tuple[str, ...] = ()) -> SuiteRun:
    """One pytest run of the library's suite; outcomes from its junit XML."""
    junit, probe_output, log = work / f"junit-{mode}.xml", work / f"probe-{mode}.json", work / f"pytest-{mode}.log"
    for path in (junit, probe_output):
        path.unlink(missing_ok=True)
    # --continue-on-collection-errors: a test module that fails to import (only under fatopt,
    # say) is one failing id, and the rest of the suite is still compared
    command = [vpy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", PROBE_MODULE, "--continue-on-collection-errors",
               f"--junitxml={junit}", f"--basetemp={work / ('tmp-' + mode)}", "--hypothesis-seed=0",
               *library.pytest_args, *extra, *library.tests]
    env = run_environment(prefix, mode in FATOPT_MODES, probe_output)
    returncode, wall, cpu, rss = run_measured(command, env, tree, log, timeout)
    run = SuiteRun(mode, returncode, wall, cpu, rss)
    if junit.exists():
        run.outcomes = parse_junit(junit.read_text(errors="replace"))
    if probe_output.exists():
        run.probe = json.loads(probe_output.read_text())
    return run


def library_cache_dirs(vpy: str, library: Library, tree: Path) -> list[str]:
    """The directories `fatopt compileall` covers in the compileall mode: the library as
    installed (or as found first on sys.path from the sdist's root) and its test paths."""
    code = ("import importlib.util, json, os, sys; sys.path.insert(0, os.getcwd()); "
            "specs = [importlib.util.find_spec(n) for n in sys.argv[1:]]; "
            "print(json.dumps([s.submodule_search_locations[0] if s.submodule_search_locations else s.origin "
            "for s in specs if s and s.origin]))")
    out = subprocess.run([vpy, "-c", code, *library.packages], capture_output=True, text=True, cwd=tree, check=True).stdout
    return [*json.loads(out), *(str(tree / t) for t in library.tests)]


def is_pytest_cache_file(path: Path) -> bool:
    """A cache file of pytest's assertion rewriting (``test_x.cpython-313-pytest-9.2.0[.opt-fatoptXXXXXXXX].pyc``),
    which only pytest (with fatopt's plugin under fatopt) writes."""
    return "-pytest-" in path.name


def remove_fatopt_files(prefix: Path, under: list[str]) -> int:
    """Delete fatopt's cache files for the sources under these paths (files or directories),
    mirrored in the prefix as CPython mirrors them (no __pycache__ level); not those in pytest's
    cache, which `fatopt compileall` does not write again."""
    removed = 0
    for source in map(Path, under):
        mirrored = prefix / source.resolve().relative_to("/")
        if source.is_dir():
            found = list(mirrored.rglob("*.opt-fatopt*.pyc")) if mirrored.is_dir() else []
        else:
            found = list(mirrored.parent.glob(f"{source.stem}.*.opt-fatopt*.pyc"))
        for cached in found:
            if is_pytest_cache_file(cached):
                continue
            cached.unlink()
            removed += 1
    return removed


def fatopt_files_written_since(prefix: Path, since_ns: int) -> int:
    """fatopt cache files written in the prefix since then: the modules a run optimized. A warm
    run must write none (each module is optimized once, then read from its cache file)."""
    if not prefix.is_dir():
        return 0
    # a coarse file system clock can stamp a file a little before `since_ns`: allow 10 ms
    return sum(path.stat().st_mtime_ns >= since_ns - 10_000_000 for path in prefix.rglob("*.opt-fatopt*.pyc"))


def check_library(vpy: str, library: Library, sdist: Path, work: Path, modes: list[str], timeout: float,
                  extra: tuple[str, ...] = (), repeat: int = 1) -> dict:
    """All modes of one library; the row of the table plus the details."""
    work.mkdir(parents=True, exist_ok=True)
    tree = unpack(sdist, work / "src")
    plain_prefix, fatopt_prefix = work / "pyc-plain", work / "pyc-fatopt"
    row: dict = {"library": library.name, "version": library.version, "runs": {}, "differences": {}}
    if not plain_prefix.exists():
        progress(f"{library.name}: warming the plain bytecode cache")
        run_suite(vpy, library, tree, "warmup", plain_prefix, work, timeout, extra)
    for mode in MODES:
        if mode not in modes and mode != "plain":
            continue
        if mode == "cold":
            if fatopt_prefix.exists():
                shutil.rmtree(fatopt_prefix)
            shutil.copytree(plain_prefix, fatopt_prefix)  # normal .pyc warm: cold means fatopt's files only
        elif mode == "compileall":
            dirs = library_cache_dirs(vpy, library, tree)
            removed = remove_fatopt_files(fatopt_prefix, dirs)
            env = run_environment(fatopt_prefix, False, work / "unused.json")
            # the venv's console script, from the work directory: `python -m fatopt` from this
            # checkout would import the checkout's fatopt, whose other code stamp names other files
            fatopt_command = str(Path(vpy).with_name("fatopt"))
            checked([fatopt_command, "compileall", "-q", *dirs], work / "compileall.log", env=env, cwd=work)
            row["compileall"] = {"dirs": dirs, "removed_before": removed}
        progress(f"{library.name} {library.version}: {mode}")
        prefix = plain_prefix if mode == "plain" else fatopt_prefix
        started = time.time_ns()
        run = run_suite(vpy, library, tree, mode, prefix, work, timeout, extra)
        written = fatopt_files_written_since(prefix, started)
        progress(f"{library.name}: {mode}: {len(run.outcomes)} tests, {len(run.failed)} failed, "
                 f"wall {run.wall:.1f}s, cpu {run.cpu:.1f}s, exit {run.returncode}, fatopt cache files written {written}")
        row["runs"][mode] = asdict(run)
        row["runs"][mode]["fatopt_files_written"] = written
        if mode != "plain":
            plain = row["runs"]["plain"]
            difference = compare(plain["outcomes"], run.outcomes, plain["returncode"], run.returncode)
            row["differences"][mode] = asdict(difference)
            if difference.only_fatopt:
                progress(f"{library.name}: {mode}: FAILING ONLY UNDER FATOPT: {', '.join(difference.only_fatopt[:10])}")
        if mode == "warm" or (mode in FATOPT_MODES and "probe_summary" not in row):
            row["probe_summary"] = summarize_probe(run.probe, library, str(tree.resolve()))
    if repeat > 1 and "warm" in row["runs"]:
        row["cpu_samples"] = alternate_plain_and_warm(vpy, library, tree, work, timeout, extra, repeat, row["runs"])
    (work / "result.json").write_text(json.dumps(row, indent=1))
    return row


def alternate_plain_and_warm(vpy: str, library: Library, tree: Path, work: Path, timeout: float,
                             extra: tuple[str, ...], repeat: int, runs: dict) -> dict[str, list[float]]:
    """CPU seconds of `repeat` plain and warm runs, alternating (the machine's drift hits both
    alike); the first pair is the one the modes already ran."""
    samples = {"plain": [runs["plain"]["cpu"]], "warm": [runs["warm"]["cpu"]]}
    for index in range(1, repeat):
        for mode in ("plain", "warm"):
            prefix = work / ("pyc-plain" if mode == "plain" else "pyc-fatopt")
            run = run_suite(vpy, library, tree, mode, prefix, work, timeout, extra)
            samples[mode].append(run.cpu)
        progress(f"{library.name}: pair {index + 1}/{repeat}: cpu plain {samples['plain'][-1]:.1f}s, "
                 f"warm {samples['warm'][-1]:.1f}s")
    return samples


def warm_overhead(samples: dict[str, list[float]]) -> str:
    """The warm runs' CPU against plain's, medians of the alternating samples."""
    plain, warm = statistics.median(samples["plain"]), statistics.median(samples["warm"])
    change = (warm / plain - 1) * 100 if plain else 0.0
    return f"cpu median of {len(samples['plain'])} alternating runs: plain {plain:.2f}s, warm {warm:.2f}s ({change:+.1f}%)"


def details(rows: list[dict]) -> str:
    """What the table cannot show: the failing ids, missing ids, and what ran optimized."""
    lines = []
    for row in rows:
        for mode, diff in row.get("differences", {}).items():
            for test in diff["only_fatopt"]:
                lines.append(f"{row['library']}: {mode}: fails only under fatopt: {test}")
            if diff["missing"]:
                lines.append(f"{row['library']}: {mode}: {len(diff['missing'])} test ids run plain are absent")
        runs = row.get("runs", {})
        if runs:
            lines.append(f"{row['library']}: wall s " + ", ".join(f"{m} {r['wall']:.1f}" for m, r in runs.items())
                         + "; peak RSS MB " + ", ".join(f"{m} {r['max_rss_kb'] / 1024:.0f}" for m, r in runs.items())
                         + "; fatopt cache files written " + ", ".join(
                             f"{m} {r['fatopt_files_written']}" for m, r in runs.items()
                             if m != "plain" and "fatopt_files_written" in r))
        if row.get("cpu_samples"):
            lines.append(f"{row['library']}: {warm_overhead(row['cpu_samples'])}")
        for mode in ("warm", "compileall"):
            written = runs.get(mode, {}).get("fatopt_files_written")
            if written:
                lines.append(f"{row['library']}: {mode}: {written} modules optimized again (expected none, unless "
                             "the tests write and import new modules)")
        probe = row.get("probe_summary")
        if probe:
            for group in ("library", "tests"):
                g = probe[group]
                lines.append(f"{row['library']}: {group}: {g.get('optimized', '?')}/{g['modules']} modules ran from a fatopt "
                             f"cache file ({g['cached']} have one), {g['specialized']} functions specialized; "
                             f"loaders {', '.join(g['loaders'])}")
                if g.get("specialized_in_plain"):
                    lines.append(f"{row['library']}: {group}: INCONSISTENT: specialized functions in modules that "
                                 f"did not run from a fatopt cache file: {', '.join(g['specialized_in_plain'])}")
    return "\n".join(lines)


def select(names: list[str], subset: str | None) -> list[Library]:
    """The libraries asked for: by name, by subset, or all."""
    by_name = {lib.name: lib for lib in LIBRARIES}
    wanted = list(SUBSETS[subset]) if subset else names or list(by_name)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        stop(f"unknown libraries: {', '.join(unknown)} (see --list)")
    return [by_name[n] for n in wanted]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("libraries", nargs="*", help="libraries to check (default: all; see --list)")
    parser.add_argument("--subset", choices=sorted(SUBSETS), help="a named subset instead of names")
    parser.add_argument("--python", default=sys.executable, help="interpreter to test (default: this one)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"sdists and venvs, kept between runs (default {DEFAULT_CACHE})")
    parser.add_argument("--venvs", type=Path,
                        help="where the venv of each interpreter is made (default CACHE): a checkout of its own "
                             "(CI) keeps the shared venvs from being rebuilt with its fatopt under another run")
    parser.add_argument("--work", type=Path, help="logs, sources, results (default CACHE/work-X.Y)")
    parser.add_argument("--modes", default=",".join(FATOPT_MODES),
                        help=f"fatopt modes to run, comma-separated (plain always runs): {', '.join(FATOPT_MODES)}")
    parser.add_argument("--pytest-args", default="",
                        help="more pytest arguments for every run, e.g. '--assert=plain' (test modules loaded "
                             "by fatopt's own import hook rather than by pytest's assertion rewriting and fatopt's "
                             "pytest plugin)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run plain and warm this many times, alternating, and report the median CPU time of each")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per pytest run (default 1800)")
    parser.add_argument("--report", nargs="+", type=Path, metavar="RESULTS_JSON",
                        help="print the table and details of earlier runs (their results.json files), run nothing")
    parser.add_argument("--list", action="store_true", help="print the pinned libraries and subsets, and exit")
    return parser.parse_args(argv)


def interpreter_version(python: str) -> str:
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for lib in LIBRARIES:
            print(f"{lib.requirement:28} imports {', '.join(lib.packages):24} tests {' '.join(lib.tests)}")
        for name, members in SUBSETS.items():
            print(f"--subset {name}: {' '.join(members)}")
        return 0
    if args.report:
        rows = [row for path in args.report for row in json.loads(path.read_text())]
        return print_report(rows, f"from {', '.join(map(str, args.report))}")
    modes = [m for m in args.modes.split(",") if m]
    if not set(modes) <= set(FATOPT_MODES):
        stop(f"unknown modes in {args.modes!r}; choose among {', '.join(FATOPT_MODES)}")
    libraries = select(args.libraries, args.subset)
    version = interpreter_version(args.python)
    work = (args.work or args.cache / f"work-{version}").resolve()
    work.mkdir(parents=True, exist_ok=True)
    log = work / "setup.log"
    venv = ((args.venvs or args.cache) / f"venv-{version}").resolve()
    vpy = make_venv(args.python, venv, log)
    sdists = download(vpy, args.cache / "sdists", libraries, log)
    install_libraries(vpy, venv, list(sdists.values()), log)
    install_probe(vpy)
    install_fatopt(vpy, venv, log)
    extra = tuple(shlex.split(args.pytest_args))
    rows = [check_library(vpy, lib, sdists[lib.name], work / lib.name, modes, args.timeout, extra, args.repeat)
            for lib in libraries]
    (work / "results.json").write_text(json.dumps(rows, indent=1))
    return print_report(rows, f"Python {version}, fatopt from {ROOT}; details in {work}")


def print_report(rows: list[dict], title: str) -> int:
    """Print the table and the details; return the exit status they call for."""
    print(title)
    print(format_table(rows))
    text = details(rows)
    if text:
        print(text)
    return exit_status(rows)


def exit_status(rows: list[dict]) -> int:
    """1 if a test id fails only under fatopt in some mode; 2 if a plain suite did not run through."""
    if any(diff["only_fatopt"] for row in rows for diff in row.get("differences", {}).values()):
        return 1
    plain_runs = [row.get("runs", {}).get("plain") for row in rows]
    if any(not run or run["returncode"] not in COMPLETED or not run["outcomes"] for run in plain_runs):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
