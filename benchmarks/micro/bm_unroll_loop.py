"""Micro case: a loop over a small constant range, ``for i in range(4)``.

fatopt turns ``range(4)`` into ``(0, 1, 2, 3)`` (guarded on ``range``) and unrolls the loop; the
floor is the straight-line code a person would write.

    python benchmarks/micro/bm_unroll_loop.py --fast
"""

import _micro


def target(seq):
    total = 0
    for i in range(4):
        total += seq[i] * i
    return total


def floor(seq):
    return seq[1] + seq[2] * 2 + seq[3] * 3


if __name__ == "__main__":
    _micro.main("unroll_loop", "for i in range(4): total += seq[i] * i -> unrolled", args=([5, 6, 7, 8],))
