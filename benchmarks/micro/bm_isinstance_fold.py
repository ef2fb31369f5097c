"""Micro case: a dunder that tests ``isinstance(idx, tuple)`` indexed by a ``range`` variable --
scimark's ``ArrayList.__getitem__``.

Inlined (issue 17's type specialization), the test folds to ``False`` (the index is an exact int:
fatopt/analyses/int_locals.py): a false ``isinstance`` costs ~500 instructions on 3.13. The
floor indexes the rows directly.
"""

import _micro


class Rows:
    def __init__(self, n):
        self.data = [[1.0] * n for _ in range(n)]

    def __getitem__(self, idx):
        if isinstance(idx, tuple):
            return self.data[idx[1]][idx[0]]
        else:
            return self.data[idx]


ROWS = Rows(20)


def target(n, a: Rows = ROWS):
    total = 0.0
    for i in range(n):
        total += a[i][i]
    return total


def floor(n, a: Rows = ROWS):
    total = 0.0
    data = a.data
    for i in range(n):
        total += data[i][i]
    return total


if __name__ == "__main__":
    _micro.main("isinstance_fold", "isinstance(i, tuple) of an inlined dunder folded", args=(20,))
