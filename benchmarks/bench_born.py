"""Import-time cost of ``born()``: executing an optimized module of N specialized functions.

The module (generated) has N functions each folded under a builtins guard and a globals guard,
as the optimizer emits them; it is optimized and compiled once, then its code is executed into
fresh namespaces. The same module compiled plainly is the baseline, so the difference is what
registering N specializations costs at each import.

    python benchmarks/bench_born.py              # N=50, pyperf
    python benchmarks/bench_born.py --fast

Instruction counts (deterministic, unlike times on a shared machine): run K executions without
pyperf under callgrind, K=100 and K=0, for each module; per execution = difference / 100:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        python benchmarks/bench_born.py --exec 100 optimized     # and 0; and plain
"""

from __future__ import annotations

import sys

import pyperf

from fatopt.config import Config
from fatopt.optimizer import optimize_to_code

N = 50

FUNCTION = '''
def f{i}(x):
    """Function {i}."""
    if DEBUG:
        print("debug", x)
    return x + len("abc") + WIDTH
'''


def module_source(n: int = N) -> str:
    return "DEBUG = False\nWIDTH = 80\n" + "".join(FUNCTION.format(i=i) for i in range(n))


def run_module(loops: int, code) -> float:
    t0 = pyperf.perf_counter()
    for _ in range(loops):
        exec(code, {"__name__": "bench_born_module"})
    return pyperf.perf_counter() - t0


def codes():
    source = module_source()
    tree = compile(source, "<bench_born>", "exec", 0x400)
    _tree, optimized, _warned = optimize_to_code(tree, "<bench_born>", Config.default())
    assert "__fatopt_runtime__" in optimized.co_names, "nothing was specialized"
    return compile(source, "<bench_born>", "exec"), optimized


def main() -> None:
    if sys.argv[1:2] == ["--exec"]:  # --exec K plain|optimized: for instruction counts
        plain, optimized = codes()
        code = optimized if sys.argv[3] == "optimized" else plain
        for _ in range(int(sys.argv[2])):
            exec(code, {"__name__": "bench_born_module"})
        return
    runner = pyperf.Runner()
    plain, optimized = codes()
    runner.bench_time_func(f"exec plain module ({N} functions)", run_module, plain)
    runner.bench_time_func(f"exec optimized module ({N} born functions)", run_module, optimized)


if __name__ == "__main__":
    sys.exit(main())
