"""Micro case: ``g[i, 1]`` in a loop, ``g`` an ordinary instance (it has a ``__dict__``) whose
``__getitem__`` calls ``self._idx(x, y)`` -- scimark SOR's grid.

The entry check ``type(g) is Grid`` (the parameter's annotation, or a profile) lets the
inlining splice ``__getitem__`` in (specialize_types); ``specialize_instance_methods`` then
calls ``Grid._idx`` through its class behind the validity flag, the entry check asking the
runtime that ``g`` has no instance attribute ``_idx`` (``unshadowed``; CPython 3.13+), and the
inlining splices ``_idx`` in too. On 3.12 ``_idx`` stays a call (a watched instance dict makes
its attribute loads slower there). The floor is both inlined by hand with no check at all.
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
    for i in range(n):
        total += g[i, 1]
    return total


def floor(n, g: Grid = GRID):
    total = 0.0
    for i in range(n):
        if 0 <= i < g.w and 0 <= 1 < g.h:
            total += g.data[1 * g.w + i]
        else:
            raise IndexError(i, 1)
    return total


if __name__ == "__main__":
    _micro.main("instance_method_in_dunder", "an ordinary instance's method called by an inlined dunder: inlined too",
                args=(20,))
