"""Acceptance run of the optimizer over every .py file of a CPython standard library.

    .venv-3.13/bin/python tools/stdlib_optimize.py [--lib DIR] [--workers 1|2]
        [--hashes OUT.json] [--compare BEFORE.json]

Copies the library's .py files (site-packages excluded) to a temporary directory, then, in the
same run and with the same number of worker processes:

1. times ``python -m compileall -f -q -j N`` over the copy;
2. times ``fatopt.optimize_source`` over every file (read + optimize, as compileall reads +
   compiles), counting specialized functions, guards by kind, syntax errors and failures;
3. checks, untimed: every output compiles, and every file rejected with ``SyntaxError`` is
   rejected by ``compile()`` with the same message, line and offset.

Prints a summary; exits non-zero if an exception escaped, an output did not compile or a syntax
error differed from CPython's.

``--hashes OUT.json`` also records, per file, digests of what the optimizer produced (untimed, a
separate pass): the optimized tree with every position (``ast``), the same tree with the guard
arguments of each ``born(...)`` decorator left out (``body``: the code, whatever the guards'
spelling), and the report (``report``: status, guards and passes of each function). ``--compare
BEFORE.json`` lists every file whose digests differ from an earlier run's: the way to show that a
refactoring of the optimizer changed nothing, or exactly what it changed.
"""

from __future__ import annotations

import argparse
import ast
import collections
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

DEFAULT_LIB = "/root/.pyenv/versions/3.13.0/lib/python3.13"


def collect(lib: str) -> list[str]:
    """Relative paths of the library's .py files, sorted, site-packages excluded."""
    found = []
    for directory, dirs, files in os.walk(lib):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        for name in sorted(files):
            if name.endswith(".py"):
                found.append(os.path.relpath(os.path.join(directory, name), lib))
    return found


def optimize_one(path: str) -> tuple:
    """(path, outcome, details) for one file; outcome is ok, unchanged, syntax or crash."""
    import fatopt
    from fatopt.optimizer import OptimizerWarning

    with open(path, "rb") as f:
        source = f.read()
    report = fatopt.Report()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", OptimizerWarning)
        try:
            output = fatopt.optimize_source(source, path, report=report)
        except SyntaxError as exc:
            return path, "syntax", (type(exc).__name__, exc.msg, exc.lineno, exc.offset), None
        except Exception as exc:  # an escaped exception: the acceptance fails
            return path, "crash", f"{type(exc).__name__}: {exc}", None
    failures = [str(w.message) for w in caught if issubclass(w.category, OptimizerWarning)]
    stats = {
        "specialized": len(report.specialized),
        "guards": dict(report.guard_counts()),
        "guard_names": collections.Counter(
            g for row in report.specialized for g in row.guards
        ),
        "failures": failures,
        "changed": any(r.status in ("specialized", "optimized") for r in report.functions),
        "optimized": len(report.by_status("optimized")),
    }
    return path, "ok", stats, output if stats["changed"] else None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _without_guard_arguments(tree: ast.Module) -> ast.Module:
    """``tree`` with each ``__fatopt_runtime__.born(f, ...)`` decorator reduced to ``born(f)``."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if (
                    type(decorator) is ast.Call and type(decorator.func) is ast.Attribute
                    and decorator.func.attr == "born" and type(decorator.func.value) is ast.Name
                    and decorator.func.value.id == "__fatopt_runtime__"
                ):
                    decorator.args[1:] = []
                    decorator.keywords = []
    return tree


def digests_of(path: str) -> tuple[str, dict | None]:
    """(path, digests of what the optimizer makes of the file), None for a syntax error."""
    import fatopt

    with open(path, "rb") as f:
        source = f.read()
    report = fatopt.Report()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
            text = source.decode("utf-8", "surrogateescape")
            result = fatopt.optimize_ast(tree, path, report=report, source=text)
        except SyntaxError:
            return path, None
    rows = [(r.qualname, r.lineno, r.status, r.guards, r.passes, r.reason) for r in report.functions]
    return path, {
        "ast": _digest(ast.dump(result, include_attributes=True)),
        "body": _digest(ast.dump(_without_guard_arguments(result), include_attributes=True)),
        "report": _digest(repr(rows)),
    }


def compare_digests(before: dict, after: dict) -> list[str]:
    """One line per file whose digests differ, naming which ones."""
    lines = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, "missing"), after.get(path, "missing")
        if old != new:
            if isinstance(old, dict) and isinstance(new, dict):
                what = ", ".join(k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))
            else:
                what = f"{old if not isinstance(old, dict) else 'present'} -> {new if not isinstance(new, dict) else 'present'}"
            lines.append(f"{path}: {what}")
    return lines


def verify(item: tuple) -> str | None:
    """None if the file's outcome is right, else what is wrong."""
    path, outcome, details, output = item
    if outcome == "crash":
        return f"{path}: exception escaped: {details}"
    with open(path, "rb") as f:
        source = f.read()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if outcome == "syntax":
            try:
                compile(source, path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                expected = (type(exc).__name__, exc.msg, exc.lineno, exc.offset)
                return None if expected == details else f"{path}: {details} != compile()'s {expected}"
            return f"{path}: SyntaxError {details} but compile() accepts the file"
        if output is not None:
            try:
                compile(output, path, "exec", dont_inherit=True)
            except Exception as exc:
                return f"{path}: output does not compile: {exc!r}"
    return None


def run_fatopt(paths: list[str], workers: int) -> tuple[list[tuple], float]:
    start = time.perf_counter()
    if workers == 1:
        results = [optimize_one(p) for p in paths]
    else:
        with multiprocessing.Pool(workers) as pool:
            results = pool.map(optimize_one, paths, chunksize=8)
    return results, time.perf_counter() - start


def run_compileall(root: str, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-f", "-q", "-j", str(workers), root],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default=DEFAULT_LIB, help="standard library directory")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1,
                        help="worker processes, for both fatopt and compileall")
    parser.add_argument("--hashes", metavar="OUT.json",
                        help="write digests of each file's optimized tree and report here")
    parser.add_argument("--compare", metavar="BEFORE.json",
                        help="list files whose digests differ from this earlier --hashes file")
    args = parser.parse_args(argv)

    relative = collect(args.lib)
    workdir = tempfile.mkdtemp(prefix="fatopt-stdlib-")
    try:
        for rel in relative:
            target = os.path.join(workdir, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(os.path.join(args.lib, rel), target)
        paths = [os.path.join(workdir, rel) for rel in relative]

        compileall_time = run_compileall(workdir, args.workers)
        results, fatopt_time = run_fatopt(paths, args.workers)
        problems = [p for p in map(verify, results) if p is not None]
        digests = None
        if args.hashes or args.compare:
            with multiprocessing.Pool(args.workers) as pool:
                pairs = pool.map(digests_of, paths, chunksize=8)
            digests = {os.path.relpath(path, workdir): d for path, d in pairs}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    outcomes = collections.Counter(r[1] for r in results)
    oks = [r[2] for r in results if r[1] == "ok"]
    guards: collections.Counter = collections.Counter()
    names: collections.Counter = collections.Counter()
    for stats in oks:
        guards.update(stats["guards"])
        names.update(stats["guard_names"])
    failures = [f for stats in oks for f in stats["failures"]]
    print(f"python              {sys.version.split()[0]}  ({args.workers} worker(s) on each side)")
    print(f"files               {len(results)}")
    print(f"syntax errors       {outcomes['syntax']} (all match compile(): "
          f"{not any('SyntaxError' in p or 'compile()' in p for p in problems)})")
    print(f"modules changed     {sum(1 for s in oks if s['changed'])}")
    print(f"specialized funcs   {sum(s['specialized'] for s in oks)}")
    print(f"optimized (unguarded) {sum(s['optimized'] for s in oks)}")
    print(f"guards by kind      {dict(sorted(guards.items()))}")
    print(f"most common guards  {', '.join(f'{g} x{n}' for g, n in names.most_common(8))}")
    print(f"failures (warnings) {len(failures)}")
    for failure in failures[:20]:
        print(f"    {failure}")
    print(f"escaped exceptions  {outcomes['crash']}")
    print(f"outputs not compiling / syntax mismatches: {len(problems) - outcomes['crash']}")
    for problem in problems[:20]:
        print(f"    {problem}")
    ratio = fatopt_time / compileall_time if compileall_time else float("inf")
    print(f"time fatopt         {fatopt_time:.2f} s")
    print(f"time compileall     {compileall_time:.2f} s  (python -m compileall -f -q -j {args.workers})")
    print(f"ratio               {ratio:.2f}x  (goal: at most 3x)")
    if digests is not None and args.hashes:
        with open(args.hashes, "w") as f:
            json.dump(digests, f, indent=0, sort_keys=True)
        print(f"digests             {len(digests)} files -> {args.hashes}")
    if digests is not None and args.compare:
        with open(args.compare) as f:
            differences = compare_digests(json.load(f), digests)
        print(f"digests differing from {args.compare}: {len(differences)}")
        for line in differences[:50]:
            print(f"    {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
