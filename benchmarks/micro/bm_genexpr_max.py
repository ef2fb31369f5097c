"""Micro case: ``max(<generator expression>)`` -- the shape of hexiom's ``max(k for k in cell if
k != EMPTY)``.

Issue 16's generator-expression elimination runs it as a loop before the statement that uses it
(guarded on the builtins ``max`` and ``ValueError``): the first item kept, then replaced when
``item > kept``, the builtin's ValueError if there was none. The floor is that loop written by
hand, without the bookkeeping fatopt's loop keeps for exactness (its temporaries set to None,
each item dropped before the next).
"""

import _micro


def target(items, skip):
    return max(x % 11 for x in items if x != skip)


def floor(items, skip):
    empty = True
    for x in items:
        if x != skip:
            value = x % 11
            if empty:
                best = value
                empty = False
            elif value > best:
                best = value
    if empty:
        raise ValueError("max() iterable argument is empty")
    return best


if __name__ == "__main__":
    _micro.main("genexpr_max", "max(genexpr) -> loop keeping the first largest", args=(list(range(40)), 7))
