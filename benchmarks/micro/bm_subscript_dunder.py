"""Micro case: ``g[i]`` and ``g[i] = x`` on a Python class in a loop -- scimark's arrays.

Issue 17's type specialization: ``g: Grid`` is checked once at entry, then each subscript calls
``Grid.__getitem__``/``__setitem__`` inlined (linearized around the sites, each behind the
validity flag). The floor is the loop on the list itself, with no check at all.
"""

import _micro


class Grid:
    def __init__(self, n):
        self.data = [0.0] * n

    def __getitem__(self, i):
        return self.data[i]

    def __setitem__(self, i, v):
        self.data[i] = v


GRID = Grid(20)


def target(n, g: Grid = GRID):
    for i in range(n):
        g[i] = g[i] + 1.0


def floor(n, g: Grid = GRID):
    data = g.data
    for i in range(n):
        data[i] = data[i] + 1.0


if __name__ == "__main__":
    _micro.main("subscript_dunder", "Grid.__getitem__/__setitem__ inlined under one entry check", args=(20,))
