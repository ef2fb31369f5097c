"""Guard runtime costs, measured with pyperf in one run.

Calls: ``def f(): return len("abc")`` plain, specialized to ``return 3`` (born specialized through
``fatopt.register``, and installed on an existing function through ``fatopt.specialize``), against
the floor ``def e(): return 3``; and after swaps: a specialized ``f`` invalidated (a guarded global
changed: it runs the plain code, to compare with plain ``f``) and one invalidated then revalidated
(to compare with the floor), which shows whether call sites specialize again after a swap.
Writes: ``counter += 1`` on a global of a module whose dict is watched (a specialization there
depends on another key) and of one that is not.

    python benchmarks/bench_runtime.py            # full run (about 2 minutes)
    python benchmarks/bench_runtime.py --fast     # quicker, noisier
    python benchmarks/bench_runtime.py -o out.json
    python benchmarks/bench_runtime.py --cases "global write"   # only the cases named so
    python benchmarks/bench_runtime.py --paired   # differences, alternating in one process

Each timed loop makes CALLS calls unrolled, so loop overhead is a small, equal share of every
case. The summary table (medians, ratios) prints at the end.

Differences of a few ns drown in this machine's drift between pyperf's workers (other jobs come
and go): ``--paired`` times the two cases of each pair in alternation, in one process, and prints
the median of the per-round differences, which drift cancels out of.
"""

from __future__ import annotations

import sys
import types

import pyperf

import fatopt
from fatopt.guards import GuardBuiltins, GuardGlobals

CALLS = 20

MODULE_SOURCE = """
counter = 0
DEBUG = False

def plain():
    return len("abc")

def born():
    return 3

def assigned():
    return len("abc")

def floor():
    return 3

def bump():
    global counter
    counter += 1
"""


def make_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(MODULE_SOURCE, f"<{name}>", "exec"), module.__dict__)
    return module


calls = make_module("bench_calls")
assert fatopt.register(calls.born, calls.plain, [GuardBuiltins("len")])
assert fatopt.specialize(calls.assigned, calls.born.__code__, [GuardBuiltins("len")])

# Swapped once (invalidated: a guarded global changed for good) and twice (invalidated, then
# revalidated: the global changed back).
swapped = make_module("bench_swapped")
swapped.TRACE = False
invalidated = swapped.born
revalidated = types.FunctionType(swapped.born.__code__, swapped.__dict__, "born")
assert fatopt.register(invalidated, swapped.plain, [GuardGlobals("TRACE"), GuardBuiltins("len")])
assert fatopt.register(revalidated, swapped.plain, [GuardGlobals("DEBUG"), GuardBuiltins("len")])
swapped.TRACE = swapped.DEBUG = True
assert not fatopt.get_specialized(invalidated) and not fatopt.get_specialized(revalidated)
swapped.DEBUG = False
assert fatopt.get_specialized(revalidated) and not fatopt.get_specialized(invalidated)

unwatched = make_module("bench_unwatched")
watched = make_module("bench_watched")
# Any specialization in the module makes the runtime watch its dict; `counter` is not guarded.
assert fatopt.register(watched.born, watched.plain, [GuardGlobals(values={"DEBUG": False}), GuardBuiltins("len")])


def time_calls(func):
    body = "\n".join(["    f()"] * CALLS)
    src = f"def timed(loops, f, perf_counter):\n  t0 = perf_counter()\n  for _ in range(loops):\n{body}\n  return perf_counter() - t0\n"
    ns: dict = {}
    exec(src, ns)
    timed = ns["timed"]
    return lambda loops: timed(loops, func, pyperf.perf_counter)


CASES = {
    "call plain f (len('abc'))": calls.plain,
    "call specialized f, born (fatopt.register)": calls.born,
    "call specialized f, assigned (fatopt.specialize)": calls.assigned,
    "call floor e (return 3)": calls.floor,
    "call invalidated f (runs len('abc'))": invalidated,
    "call revalidated specialized f": revalidated,
    "global write, unwatched module dict": unwatched.bump,
    "global write, watched module dict": watched.bump,
}


def summary(results: dict[str, pyperf.Benchmark]) -> str:
    med = {name: bench.median() * 1e9 for name, bench in results.items()}
    floor = med.get("call floor e (return 3)")
    plain = med.get("call plain f (len('abc'))")
    rows = [f"{'case':50} {'median':>10} {'vs floor':>9} {'plain/x':>8}"]
    for name, ns in med.items():
        if name.startswith("call"):
            vs_floor = f"{ns / floor:8.3f}x" if floor else f"{'':9}"
            vs_plain = f"{plain / ns:7.2f}x" if plain else ""
            rows.append(f"{name:50} {ns:8.1f}ns {vs_floor} {vs_plain}")
        else:
            rows.append(f"{name:50} {ns:8.1f}ns")
    if "global write, watched module dict" in med and "global write, unwatched module dict" in med:
        delta = med["global write, watched module dict"] - med["global write, unwatched module dict"]
        rows.append(f"{'watched - unwatched write':50} {delta:+8.1f}ns")
    rows.append(f"python {sys.version.split()[0]}; per call/write, {CALLS} unrolled per loop iteration")
    return "\n".join(rows)


# (reference, case): what each case should cost as much as.
PAIRS = [
    ("call floor e (return 3)", "call specialized f, born (fatopt.register)"),
    ("call floor e (return 3)", "call specialized f, assigned (fatopt.specialize)"),
    ("call floor e (return 3)", "call revalidated specialized f"),
    ("call plain f (len('abc'))", "call invalidated f (runs len('abc'))"),
    ("global write, unwatched module dict", "global write, watched module dict"),
]


def paired(rounds: int = 2000, loops: int = 500) -> str:
    """Per pair: median ns per call/write of each case and of their difference, the two loops
    alternating round by round."""
    import statistics

    rows = [f"{'case':50} {'median':>8} {'reference':>10} {'difference':>11}"]
    for reference, case in PAIRS:
        ref_loop, case_loop = time_calls(CASES[reference]), time_calls(CASES[case])
        ref_loop(5000), case_loop(5000)  # warm: call sites specialize
        refs, cases, diffs = [], [], []
        for _ in range(rounds):
            r, c = ref_loop(loops) / loops / CALLS * 1e9, case_loop(loops) / loops / CALLS * 1e9
            refs.append(r), cases.append(c), diffs.append(c - r)
        rows.append(
            f"{case:50} {statistics.median(cases):6.1f}ns {statistics.median(refs):8.1f}ns"
            f" {statistics.median(diffs):+9.2f}ns  (vs {reference})"
        )
    rows.append(f"python {sys.version.split()[0]}; {rounds} alternating rounds of {loops} loops x {CALLS}")
    return "\n".join(rows)


def pass_cases(cmd: list[str], args) -> None:
    """pyperf starts its workers with their own command line: pass --cases on."""
    if args.cases:
        cmd.extend(("--cases", args.cases))


def main() -> None:
    if "--paired" in sys.argv[1:]:
        print(paired())
        return
    runner = pyperf.Runner(add_cmdline_args=pass_cases)
    runner.argparser.add_argument("--cases", default="", help="only the cases whose name contains this text")
    runner.metadata["description"] = "fatopt guard runtime micro-benchmarks"
    args = runner.parse_args()
    cases = {name: func for name, func in CASES.items() if args.cases in name}
    results = {}
    for name, func in cases.items():
        bench = runner.bench_time_func(name, time_calls(func), inner_loops=CALLS)
        if bench is not None:
            results[name] = bench
    if results and len(results) == len(cases):  # the parent process, after all workers
        print()
        print(summary(results))


if __name__ == "__main__":
    main()
