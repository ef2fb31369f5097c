"""Micro case: ``sum(<generator expression of exact ints>)`` -- the shape of hexiom's
``sum((1 if v in cell else 0) for cell in cells)``.

Every item is an int whatever the operands are, so issue 16's generator-expression elimination
adds them with a loop (guarded on the builtin ``sum``): what ``sum`` computes in C for ints, with
no float compensation to reproduce. The floor is that loop written by hand.
"""

import _micro


def target(items, limit):
    return sum((1 if x > limit else 0) for x in items)


def floor(items, limit):
    total = 0
    for x in items:
        total += 1 if x > limit else 0
    return total


if __name__ == "__main__":
    _micro.main("genexpr_count", "sum(genexpr of ints) -> adding loop", args=(list(range(40)), 20))
