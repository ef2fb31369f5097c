"""Micro case: ``g.idx(x, y)`` in a loop, ``g`` an ordinary instance (it has a ``__dict__``) --
scimark SOR's ``self._idx(x, y)``, and most methods of raytrace, richards, go, deltablue.

fatopt leaves the call alone (expected: unchanged): an attribute stored on the instance
(``g.idx = f``, ``mock.patch.object(g, "idx")``) must win over the class's method. The runtime
can keep that exact at no cost per call (``unshadowed`` at entry, on 3.13.0 with the class's
shared keys closed: docs/optimizer.md, ``specialize_receivers``), but no pass emits it yet. The
floor is the method's body inlined by hand with no check at all: the gain that would give
(``benchmarks/handedits/sor_idx_inlined.py`` measures it with the mechanism in place).
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
