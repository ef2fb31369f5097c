"""Micro case: pure ``str`` methods called on literals.

fatopt computes ``"/".join(("usr", "local")).upper()`` at compile time; ``str`` methods cannot be
replaced, so no guard is needed (the function is rewritten, not specialized); the floor is the
literal.

    python benchmarks/micro/bm_string_methods.py --fast
"""

import _micro


def target(x):
    return x + "/".join(("usr", "local")).upper()


def floor(x):
    return x + "USR/LOCAL"


if __name__ == "__main__":
    _micro.main(
        "string_methods", "x + '/'.join(('usr', 'local')).upper() -> x + 'USR/LOCAL'",
        expect=_micro.REWRITTEN, args=("/",),
    )
