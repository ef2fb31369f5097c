"""Micro case: ``g[x, y]`` on a 2-D grid class whose ``__getitem__`` unpacks its index --
scimark SOR's ``Array2D``.

Issue 17's type specialization: ``g: Grid2D`` checked once at entry, each subscript's index
bound part by part and substituted for the dunder's index parameter (read once), so the inlined
``x, y = xy`` builds and unpacks no tuple. The floor indexes the flat list directly.
"""

import _micro


class Grid2D:
    def __init__(self, w, h):
        self.w = w
        self.data = [1.0] * (w * h)

    def __getitem__(self, xy):
        x, y = xy
        return self.data[y * self.w + x]

    def __setitem__(self, xy, v):
        x, y = xy
        self.data[y * self.w + x] = v


GRID = Grid2D(21, 2)


def target(n, g: Grid2D = GRID):
    for x in range(n):
        g[x, 1] = g[x, 0] + g[x + 1, 0]


def floor(n, g: Grid2D = GRID):
    data = g.data
    w = g.w
    for x in range(n):
        data[w + x] = data[x] + data[x + 1]


if __name__ == "__main__":
    _micro.main("tuple_index", "a tuple index bound part by part: the inlined dunder unpacks no tuple", args=(20,))
