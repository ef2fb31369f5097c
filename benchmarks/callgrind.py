"""Instructions per warm iteration, counted by valgrind's callgrind: a measure noise can't move.

Timings on a shared machine wander by 10-15%; the number of instructions a deterministic
program executes does not (same interpreter, ``PYTHONHASHSEED=0``, same input: the same count,
however busy the machine). Both benchmark runners (``micro/run.py`` and
``pyperformance/run.py``) use this module for their ``--instructions`` mode.

A whole process is counted, start-up, imports and fatopt's optimizer included. To keep only
the benchmark's own work, each program runs twice, with ``n1`` and ``n2`` iterations of its
timed loop (``n2 > n1 >= 1``), and the figure is ``(I(n2) - I(n1)) / (n2 - n1)``: everything
done once per process cancels out, and so does the first, cold iteration (the interpreter's
specialization of its bytecode, fatopt's first guard checks) as long as ``n1 >= 1``.

callgrind's ``--toggle-collect`` could count only inside one function, but it names C
functions: a Python benchmark function is one more ``_PyEval_EvalFrameDefault`` among many, so
the difference of two runs is the simpler and more exact choice.

This module holds the pure logic (parsing, the difference, the table) and the one function
that runs valgrind; it imports nothing from fatopt.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

VALGRIND = "valgrind"

_TOTALS = re.compile(r"^(?:totals|summary):\s*(\d+)", re.MULTILINE)


def parse_loops_pair(text: str) -> tuple[int, int]:
    """``"1,3"`` -> ``(1, 3)``; the two iteration counts whose difference is measured."""
    try:
        n1, n2 = (int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"expected two iteration counts like '1,3', got {text!r}") from None
    if not 1 <= n1 < n2:
        raise ValueError(f"need 1 <= N1 < N2 (N1 >= 1 so the cold first iteration cancels), got {text!r}")
    return n1, n2


def add_arguments(parser, default_pair: str, unit: str) -> None:
    """The runners' instruction-mode options: ``--instructions``, ``--loops-pair N1,N2`` (whose
    difference is counted; ``unit`` names what is counted per loop) and ``--jobs``."""
    parser.add_argument("--instructions", action="store_true",
                        help=f"count instructions per {unit} under callgrind instead of timing")
    parser.add_argument("--loops-pair", default=default_pair, metavar="N1,N2",
                        help=f"--instructions: the two loop counts whose difference is counted (default {default_pair})")
    parser.add_argument("--jobs", "-j", type=int, default=1,
                        help="--instructions: callgrind runs at once (default 1; counts do not depend on load)")


def parse_totals(text: str) -> int:
    """The instruction count (first event, ``Ir``) of a callgrind output file's text.

    callgrind writes ``summary:`` in the header and ``totals:`` at the end (both hold the same
    numbers, one per event); the last one in the file wins.
    """
    found = _TOTALS.findall(text)
    if not found:
        raise ValueError("no 'totals:' or 'summary:' line: not a callgrind output file")
    return int(found[-1])


def per_iteration(counts: Mapping[int, int]) -> float:
    """Instructions per iteration from ``{iterations: instructions}`` of two runs.

    ``(I(n2) - I(n1)) / (n2 - n1)``: what both runs did once (start-up, imports, the first
    iteration's warm-up) cancels.
    """
    if len(counts) != 2:
        raise ValueError(f"need the counts of exactly two iteration counts, got {sorted(counts)}")
    (n1, i1), (n2, i2) = sorted(counts.items())
    return (i2 - i1) / (n2 - n1)


def ratio(plain: float, fatopt: float) -> float | None:
    """plain/fatopt (> 1: fatopt executes fewer instructions); None if undefined."""
    if plain <= 0 or fatopt <= 0:
        return None
    return plain / fatopt


def geometric_mean(ratios: Sequence[float | None]) -> float | None:
    """Geometric mean of the defined ratios; None when there is none."""
    defined = [r for r in ratios if r is not None and r > 0]
    if not defined:
        return None
    return math.exp(sum(math.log(r) for r in defined) / len(defined))


def fmt_count(n: float | None) -> str:
    """An instruction count for a table: 1234 -> '1234', 5.6e6 -> '5.60M'."""
    if n is None:
        return "?"
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= 10 * scale:
            return f"{n / scale:.2f}{suffix}"
    return f"{n:.0f}"


def fmt_ratio(r: float | None) -> str:
    return "?" if r is None else f"{r:.3f}x"


def environment(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` made deterministic for counting: a fixed hash seed."""
    env = dict(base)
    env["PYTHONHASHSEED"] = "0"
    return env


#: Deterministic is not layout-free: where objects land in memory moves the count (a dict keyed
#: by ``id()``, as json's encoder keeps, collides differently; copies align differently). The same
#: program with a longer environment (which shifts the stack and the heap) counted json_dumps
#: between 133.63M and 134.43M per iteration on 3.13, and fatopt/plain between -0.5% and +0.6%.
#: Counting each program in several layouts, and taking the median, measures fatopt rather than
#: where its few extra objects pushed the program's own. Layout i pads the environment with a
#: variable of LAYOUT_PADS[i] characters (none for layout 0).
LAYOUT_VARIABLE = "FATOPT_LAYOUT_PAD"
LAYOUT_PADS = (0, 17, 333, 1000, 2500, 61, 4000, 129, 700)


def layout_environment(base: Mapping[str, str], layout: int) -> dict[str, str]:
    """``base`` with the environment padding of layout number ``layout`` (see LAYOUT_PADS)."""
    if not 0 <= layout < len(LAYOUT_PADS):
        raise ValueError(f"layout {layout} out of range 0..{len(LAYOUT_PADS) - 1}")
    env = dict(base)
    env.pop(LAYOUT_VARIABLE, None)
    if LAYOUT_PADS[layout]:
        env[LAYOUT_VARIABLE] = "x" * LAYOUT_PADS[layout]
    return env


def median(values: Sequence[float]) -> float:
    """The median (the mean of the two middle values for an even count)."""
    if not values:
        raise ValueError("median of nothing")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def available() -> bool:
    return shutil.which(VALGRIND) is not None


def count(cmd: Sequence[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
    """Instructions executed by ``cmd`` (one process: valgrind does not follow children)."""
    with tempfile.TemporaryDirectory(prefix="fatopt-callgrind-") as tmp:
        out = os.path.join(tmp, "callgrind.out")
        full = [VALGRIND, "--tool=callgrind", f"--callgrind-out-file={out}", *cmd]
        proc = subprocess.run(full, env=environment(env), cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"failed under callgrind: {' '.join(full)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        with open(out, encoding="utf-8", errors="replace") as f:
            return parse_totals(f.read())
