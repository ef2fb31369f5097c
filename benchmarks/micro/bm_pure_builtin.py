"""Micro case: a pure builtin called on constants, ``len("hello world")``.

fatopt replaces the call by its result, guarded on ``len`` still being the builtin
(``GuardBuiltins('len')``); the floor is the literal result.

    python benchmarks/micro/bm_pure_builtin.py --fast     # one case; run.py runs them all
"""

import _micro


def target(x):
    return x + len("hello world")


def floor(x):
    return x + 11


if __name__ == "__main__":
    _micro.main("pure_builtin", "x + len('hello world') -> x + 11", args=(1,))
