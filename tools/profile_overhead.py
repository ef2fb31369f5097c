"""What recording a type profile costs per call, by mechanism: why fatopt/profile.py uses
``sys.monitoring`` rather than ``sys.setprofile``.

    .venv-3.13/bin/python tools/profile_overhead.py [--calls N] [--rounds R]

Times a loop that calls a small Python function ``f(i, 1.0, "x")`` and the builtin ``len`` once
per iteration: plain; under fatopt.profile's own recorder (PY_START with ``sys._getframe(1)``);
and under a ``sys.setprofile`` function that records the same thing from its ``call`` event (it
is also called for the C call, the C return and the Python return). Prints nanoseconds per
iteration, the best of R rounds for each, and checks that both recorders counted every call.
A wall-clock figure on a shared machine: compare the columns, not the absolute values.
"""

from __future__ import annotations

import argparse
import sys
import time


def f(a, b, c=None):
    return a


def loop(n: int) -> None:
    for i in range(n):
        f(i, 1.0, "x")
        len("abc")


def _with_monitoring(n: int) -> float:
    from fatopt.profile import _Recorder

    recorder = _Recorder(8)
    recorder.start()
    try:
        start = time.perf_counter()
        loop(n)
        elapsed = time.perf_counter() - start
    finally:
        recorder.stop()
    [counts] = [record[1] for code, record in recorder.records.items() if code is f.__code__]
    assert sum(counts.values()) == n, counts
    return elapsed


def _with_setprofile(n: int) -> float:
    counts: dict[tuple, int] = {}
    keep: dict[int, type] = {}

    def on_event(frame, event, arg):
        if event == "call" and frame.f_code is f.__code__:
            code = frame.f_code
            arg_types = [type(frame.f_locals[name]) for name in code.co_varnames[:code.co_argcount]]
            key = tuple([id(t) for t in arg_types])
            if key in counts:
                counts[key] += 1
            else:
                counts[key] = 1
                keep.update((id(t), t) for t in arg_types)

    sys.setprofile(on_event)
    try:
        start = time.perf_counter()
        loop(n)
        elapsed = time.perf_counter() - start
    finally:
        sys.setprofile(None)
    assert sum(counts.values()) == n, counts
    return elapsed


def _plain(n: int) -> float:
    start = time.perf_counter()
    loop(n)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    ns = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {ns.calls} iterations, best of {ns.rounds}")
    for name, run in (("plain", _plain), ("sys.monitoring", _with_monitoring), ("sys.setprofile", _with_setprofile)):
        best = min(run(ns.calls) for _ in range(ns.rounds))
        print(f"{name:>15}: {best * 1e9 / ns.calls:7.0f} ns per iteration")


if __name__ == "__main__":
    main()
