"""Micro case: ``tuple(<generator expression>)``.

``tuple(x + 1 for x in items)`` becomes ``tuple([x + 1 for x in items])`` with issue 16's
generator-expression elimination (guarded on the builtin ``tuple``): a list comprehension,
inlined in its function, then one copy. The floor is that code, which is what fatopt's
column runs.

    python benchmarks/micro/bm_genexpr_tuple.py --fast
"""

import _micro


def target(items):
    return tuple(x + 1 for x in items)


def floor(items):
    return tuple([x + 1 for x in items])


if __name__ == "__main__":
    _micro.main("genexpr_tuple", "tuple(genexpr) -> tuple(list comprehension)", args=(list(range(40)),))
