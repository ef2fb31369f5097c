"""Micro case: ``set(<generator expression>)`` -- the shape of nqueens' hot line.

``set(x % 7 for x in items)`` becomes ``{x % 7 for x in items}`` with issue 16's
generator-expression elimination (guarded on the builtin ``set``): a comprehension, inlined in
its function on 3.12+, instead of a generator resumed per element. The floor is the set
comprehension, which is what fatopt's column runs.

    python benchmarks/micro/bm_genexpr_set.py --fast
"""

import _micro


def target(items):
    return set(x % 7 for x in items)


def floor(items):
    return {x % 7 for x in items}


if __name__ == "__main__":
    _micro.main("genexpr_set", "set(genexpr) -> set comprehension", args=(list(range(40)),))
