"""Micro case: ``sum(<generator expression>)`` -- a generator resumed per element.

``sum(x * x for x in items)`` becomes, with issue 16's generator-expression elimination, a
loop accumulating from ``0`` (``sum``'s start) without building a list (guarded on the builtin
``sum``); the floor is that loop. fatopt does not do this yet: today its column shows what
plain does, the floor the room left.

    python benchmarks/micro/bm_genexpr_sum.py --fast --allow-unexpected   # until fatopt does it
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
    _micro.main("genexpr_sum", "sum(genexpr) -> accumulating loop", args=(list(range(40)),))
