"""Micro case: ``g.idx(x, y)`` in a loop, ``g`` an ordinary instance (it has a ``__dict__``) --
scimark SOR's ``self._idx(x, y)``, and most methods of raytrace, richards, go, deltablue.

fatopt leaves the call alone (expected: unchanged): an attribute stored on the instance
(``g.idx = f``, ``mock.patch.object(g, "idx")``) must win over the class's method. fatopt
keeps that exact with a check at entry (``specialize_instance_methods``, docs/optimizer.md),
which it adds only to the entry check of a function ``specialize_types`` specialized (one that
subscripts ``g``); this loop has none. The floor is the method's body inlined by hand with no
check at all (``benchmarks/handedits/sor_idx_inlined.py`` measures the same with the check).
"""

import _micro


class Grid:
    def __init__(self, width, height):
        self.width = width
        self.height = height

    def idx(self, x, y):
        if 0 <= x < self.width and 0 <= y < self.height:
            return y * self.width + x
        raise IndexError


GRID = Grid(30, 30)


def target(n, g: Grid = GRID):
    total = 0
    for i in range(n):
        total += g.idx(i, 3)
    return total


def floor(n, g: Grid = GRID):
    total = 0
    for i in range(n):
        if 0 <= i < g.width and 0 <= 3 < g.height:
            total += 3 * g.width + i
        else:
            raise IndexError
    return total


if __name__ == "__main__":
    _micro.main("dict_instance_method", "a method of an ordinary instance: left alone (shadowing)",
                expect=_micro.UNCHANGED, args=(20,))
