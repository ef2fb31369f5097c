"""Micro case: copy builtins to constants (``-X fatopt=copy_builtins_to_constants=on``).

Builtins called on non-constant arguments (``len(seq)``, ``min(seq)``) cannot be folded, but a
guarded function could load them as constants instead of looking them up in globals then
builtins. The floor is the classic hand-written version: builtins bound as default arguments
(fast locals). This case runs with the switch on, which is off by default.

    python benchmarks/micro/bm_copy_builtins.py --fast
"""

import _micro


def target(seq):
    return len(seq) + min(seq) + max(seq) + abs(seq[0])


def floor(seq, len=len, min=min, max=max, abs=abs):
    return len(seq) + min(seq) + max(seq) + abs(seq[0])


if __name__ == "__main__":
    _micro.main(
        "copy_builtins", "len/min/max/abs loaded as constants (switch on)",
        args=([3, 1, 2],), fatopt_options="copy_builtins_to_constants=on",
    )
