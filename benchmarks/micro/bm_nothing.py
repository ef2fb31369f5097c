"""Micro case: a function with nothing to specialize; fatopt must not slow it down.

``target`` reads a module global that changes (not a constant), calls builtins on arguments,
indexes and does arithmetic: fatopt leaves its code identical. The module also holds a
specialized function (``helper``), as real modules do, so its dict is watched by the guard
runtime. The floor is the same code under another name.

    python benchmarks/micro/bm_nothing.py --fast
"""

import _micro

SCALE = 3


def set_scale(value):
    global SCALE
    SCALE = value


def helper():
    return len("watched")


def target(items):
    total = 0
    for item in items:
        total += len(item) * SCALE
    return total


def floor(items):
    total = 0
    for item in items:
        total += len(item) * SCALE
    return total


if __name__ == "__main__":
    _micro.main("nothing_to_do", "no specialization possible: code unchanged",
                expect=_micro.UNCHANGED, args=(["ab", "cde", "f"],))
