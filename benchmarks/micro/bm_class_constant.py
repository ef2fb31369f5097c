"""Micro case: a class attribute used as a constant -- deltablue's ``Direction.FORWARD``.

``Direction.FORWARD`` is a global load and an attribute load on every use. Issue 16's class
constants fold it to ``1`` (guarded: *class attribute constant* on ``Direction`` and the
global ``Direction`` itself), the class_constants pass. The floor is the loop with the literal.

    python benchmarks/micro/bm_class_constant.py --fast
"""

import _micro


class Direction:
    NONE = 0
    FORWARD = 1
    BACKWARD = -1


def target(directions):
    count = 0
    for d in directions:
        if d == Direction.FORWARD:
            count += 1
        elif d == Direction.BACKWARD:
            count -= 1
    return count


def floor(directions):
    count = 0
    for d in directions:
        if d == 1:
            count += 1
        elif d == -1:
            count -= 1
    return count


if __name__ == "__main__":
    _micro.main("class_constant", "Direction.FORWARD -> 1", args=([1, 0, -1, 1] * 10,))
