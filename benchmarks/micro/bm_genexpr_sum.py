"""Micro case: ``sum(<generator expression>)`` -- a generator resumed per element.

``sum(x * x for x in items)``: fatopt leaves it alone, on purpose. Since 3.12 ``sum``
compensates float rounding from the first float it meets, so the floor, a loop accumulating from
``0`` with ``+``, differs from ``sum`` when an item is a float (``x * x`` may be one); fatopt only
rewrites a ``sum`` whose items are exact ints whatever the operands (``bm_genexpr_count.py``).
The floor shows what an inexact rewrite would gain.
"""

import _micro


def target(items):
    return sum(x * x for x in items)


def floor(items):
    total = 0
    for x in items:
        total = total + x * x
    return total


if __name__ == "__main__":
    _micro.main("genexpr_sum", "sum(genexpr) -> accumulating loop (not done: floats)",
                expect=_micro.UNCHANGED, args=(list(range(40)),))
