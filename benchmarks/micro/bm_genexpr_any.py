"""Micro case: ``any(<generator expression>)`` -- the generator's frame on every element.

``any(x > limit for x in items)`` makes a generator and resumes its frame once per element.
Issue 16's generator-expression elimination turns it into a loop run before the ``return``,
stopping at the first true element (guarded on the builtin ``any``); the floor is a loop
returning at once, written by hand, without the bookkeeping fatopt's loop keeps for exactness
(the result in a temporary, its temporaries set to None, each item dropped before the next).
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
