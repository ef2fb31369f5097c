"""Micro case: ``g[i - 1, 1] + g[i, 1] + g[i + 1, 1]`` in a loop -- scimark SOR's five-neighbour
statement, three neighbours wide, on an ordinary instance whose ``__getitem__`` unpacks its index
and calls ``self._idx(x, y)``.

The entry check ``type(g) is Grid`` (the parameter's annotation, or a profile) lets the inlining
read each tuple display in place (``x, y = xy`` with ``xy`` the display ``(i - 1, 1)``: the int
expression ``i - 1`` of the loop variable is computed where ``x`` is read) and inline all three
copies in the one statement, each with its ``_idx`` copy inside (CPython 3.13+: on 3.12 ``_idx``
stays a call); the traceback of an ``IndexError`` names the copy that raised. The floor is the
same statement written by hand: the bounds tested once, no other check.
"""

import _micro


class Grid:
    def __init__(self, w, h):
        self.w = w
        self.h = h
        self.data = [float(i) for i in range(w * h)]

    def _idx(self, x, y):
        if 0 <= x < self.w and 0 <= y < self.h:
            return y * self.w + x
        raise IndexError(x, y)

    def __getitem__(self, xy):
        x, y = xy
        return self.data[self._idx(x, y)]


GRID = Grid(30, 3)


def target(n, g: Grid = GRID):
    total = 0.0
    for i in range(1, n):
        total += g[i - 1, 1] + g[i, 1] + g[i + 1, 1]
    return total


def floor(n, g: Grid = GRID):
    total = 0.0
    for i in range(1, n):
        if not (0 <= i - 1 < g.w and 0 <= i < g.w and 0 <= i + 1 < g.w and 0 <= 1 < g.h):
            raise IndexError(i, 1)
        total += g.data[g.w + i - 1] + g.data[g.w + i] + g.data[g.w + i + 1]
    return total


if __name__ == "__main__":
    _micro.main("neighbours", "several copies of an unpacking dunder with its method inside, in one statement",
                args=(20,))
