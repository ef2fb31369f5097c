"""Hand edit: scimark SOR's loop with ``_idx`` inlined as an exact pass could emit it (issue 17).

pyperformance's ``scimark_sor`` spends its time in ``G[x, y]`` on an ``Array2D``, whose
``__getitem__``/``__setitem__`` call ``self._idx(x, y)``, an ordinary method: fatopt inlines the
dunders but leaves ``_idx`` alone, since an instance attribute ``G._idx`` would have to win. This
script measures what inlining ``_idx`` too would give, with the runtime's exact mechanism: one
entry check (``type(G) is Array2D`` and ``fatopt._guards.unshadowed(G, ("_idx",))``, which on
3.13.0 also closes the class's shared keys), then a validity-flag test at each site, as fatopt's
inlined code does. The setups show the mechanism's own cost: ``none`` (no dict made), ``dict``
(the instance dict materialized, as ``unshadowed`` does), ``checked`` (``unshadowed`` called).

Instructions per grid point (callgrind; the difference of 1 and 3 calls, 28x28 points x 10
cycles a call)::

    for v in "plain none" "inlined none" "inlined dict" "inlined checked"; do
        a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null python sor_idx_inlined.py $v 1 2>&1 | grep Collected)
        ...
    done

or simply ``python sor_idx_inlined.py --count`` (runs that loop itself; needs valgrind).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from array import array

POINTS_PER_CALL = 10 * 28 * 28


class Array2D(object):
    """pyperformance's scimark ``Array2D``, the parts SOR uses."""

    def __init__(self, w, h):
        self.width = w
        self.height = h
        self.data = array('d', [0]) * (w * h)

    def _idx(self, x, y):
        if 0 <= x < self.width and 0 <= y < self.height:
            return y * self.width + x
        raise IndexError

    def __getitem__(self, x_y):
        (x, y) = x_y
        return self.data[self._idx(x, y)]

    def __setitem__(self, x_y, val):
        (x, y) = x_y
        self.data[self._idx(x, y)] = val


FLAG = [True]  # the specialization's validity flag (emptied by the runtime when a guard fails)


def sor_plain(omega, G, cycles):
    for _p in range(cycles):
        for y in range(1, G.height - 1):
            for x in range(1, G.width - 1):
                G[x, y] = (omega * 0.25 * (G[x, y - 1] + G[x, y + 1] + G[x - 1, y]
                                           + G[x + 1, y])
                           + (1.0 - omega) * G[x, y])


def _checked(G) -> bool:
    from fatopt import _guards
    return _guards.unshadowed(G, ("_idx",))


def sor_inlined(omega, G, cycles, check=None):
    if not (type(G) is Array2D and (check is None or check(G))):
        return sor_plain(omega, G, cycles)
    v = FLAG
    for _p in range(cycles):
        for y in range(1, G.height - 1):
            for x in range(1, G.width - 1):
                if v:
                    yy = y - 1
                    if 0 <= x < G.width and 0 <= yy < G.height:
                        a = G.data[yy * G.width + x]
                    else:
                        raise IndexError
                else:
                    a = G[x, y - 1]
                if v:
                    yy = y + 1
                    if 0 <= x < G.width and 0 <= yy < G.height:
                        b = G.data[yy * G.width + x]
                    else:
                        raise IndexError
                else:
                    b = G[x, y + 1]
                if v:
                    xx = x - 1
                    if 0 <= xx < G.width and 0 <= y < G.height:
                        c = G.data[y * G.width + xx]
                    else:
                        raise IndexError
                else:
                    c = G[x - 1, y]
                if v:
                    xx = x + 1
                    if 0 <= xx < G.width and 0 <= y < G.height:
                        d = G.data[y * G.width + xx]
                    else:
                        raise IndexError
                else:
                    d = G[x + 1, y]
                if v:
                    if 0 <= x < G.width and 0 <= y < G.height:
                        e = G.data[y * G.width + x]
                    else:
                        raise IndexError
                else:
                    e = G[x, y]
                value = omega * 0.25 * (a + b + c + d) + (1.0 - omega) * e
                if v:
                    if 0 <= x < G.width and 0 <= y < G.height:
                        G.data[y * G.width + x] = value
                    else:
                        raise IndexError
                else:
                    G[x, y] = value


def run(variant: str, setup: str, calls: int) -> float:
    G = Array2D(30, 30)
    for i in range(900):
        G.data[i] = i * 0.001
    check = None
    if setup == "dict":
        G.__dict__  # noqa: B018 - materializes the instance dict
    elif setup == "checked":
        check = _checked
    if variant == "plain":
        def step(cycles): sor_plain(1.25, G, cycles)
    else:
        def step(cycles): sor_inlined(1.25, G, cycles, check)
    step(1)  # warm: the interpreter specializes
    for _ in range(calls):
        step(10)
    return sum(G.data)


def _instructions(args: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, PYTHONHASHSEED="0")
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                        __file__, *args], check=True, capture_output=True, env=env)
        with open(out) as f:
            return int(re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M).group(1))


def count() -> None:
    """Instructions per grid point of each variant, and its ratio to plain."""
    rows = [("plain", "none"), ("inlined", "none"), ("inlined", "dict"), ("inlined", "checked")]
    plain = None
    for variant, setup in rows:
        one, three = (_instructions([variant, setup, str(n)]) for n in (1, 3))
        per_point = (three - one) / 2 / POINTS_PER_CALL
        plain = plain or per_point
        print(f"{variant:8} {setup:8} {per_point:10,.0f} per point  {plain / per_point:5.2f}x", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--count"]:
        count()
    elif len(sys.argv) == 4:
        print(run(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    else:
        sys.exit(__doc__)
