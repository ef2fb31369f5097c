"""Micro case: a module constant flag, ``if DEBUG: ...`` with ``DEBUG = False``.

fatopt assumes ``DEBUG`` keeps its value (``GuardGlobals``) and removes the dead branch; the
floor is the function written without it.

    python benchmarks/micro/bm_module_constant.py --fast
"""

import _micro

DEBUG = False


def target(x):
    if DEBUG:
        print("target called with", x)
    return x + 1


def floor(x):
    return x + 1


if __name__ == "__main__":
    _micro.main("module_constant", "if DEBUG: ... (DEBUG = False) -> branch removed", args=(1,))
