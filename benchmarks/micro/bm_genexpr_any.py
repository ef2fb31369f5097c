"""Micro case: ``any(<generator expression>)`` -- the generator's frame on every element.

``any(x > limit for x in items)`` makes a generator and resumes its frame once per element.
Issue 16's generator-expression elimination turns it into a loop that returns at the first
true element (guarded on the builtin ``any``); the floor is that loop, written by hand.
fatopt does not do this yet: today its column shows what plain does, the floor the room left.

    python benchmarks/micro/bm_genexpr_any.py --fast --allow-unexpected   # until fatopt does it
"""

import _micro


def target(items, limit):
    return any(x > limit for x in items)


def floor(items, limit):
    for x in items:
        if x > limit:
            return True
    return False


if __name__ == "__main__":
    _micro.main("genexpr_any", "any(genexpr) -> loop with early return",
                args=(list(range(40)), 35))
