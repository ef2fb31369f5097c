"""Micro case: ``range`` of constants too long to unroll becomes a constant tuple.

``for i in range(24)`` (more items than ``unroll_loops`` = 16, at most ``max_seq_len`` = 32)
iterates over ``(0, 1, ..., 23)`` instead, guarded on ``range``; the floor is that loop written
with the tuple literal.

    python benchmarks/micro/bm_range_tuple.py --fast
"""

import _micro


def target(x):
    total = 0
    for i in range(24):
        total += i ^ x
    return total


def floor(x):
    total = 0
    for i in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23):
        total += i ^ x
    return total


if __name__ == "__main__":
    _micro.main("range_tuple", "for i in range(24) -> for i in (0, ..., 23)", args=(5,))
