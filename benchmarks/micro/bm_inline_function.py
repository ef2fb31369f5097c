"""Micro case: a small module-level function called in a loop -- spectral_norm's ``eval_A``.

Issue 16's inlining puts the body of ``eval_a`` into its caller (guarded: *function unchanged*
on ``eval_a``), so each iteration saves a call and a frame. The floor is the loop with the body
written in; fatopt's code binds ``i + 1`` to a temporary with ``:=`` where the floor assigns it.
"""

import _micro


def eval_a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def target(n):
    total = 0.0
    for i in range(n):
        total += eval_a(i, i + 1)
    return total


def floor(n):
    total = 0.0
    for i in range(n):
        j = i + 1
        total += 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)
    return total


if __name__ == "__main__":
    _micro.main("inline_function", "eval_a(i, j) inlined into its caller's loop", args=(20,))
