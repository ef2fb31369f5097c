"""Micro case: ``c = a - b`` of two instances of a class with ``__sub__`` (annotated
parameters), raytrace's ``self.centre - ray.point``.

The operation runs ``V.__sub__`` inlined under ``type(a) is V and type(b) is V`` at the site
(fatopt/passes/specialize_operators.py): no call through the type's slot, no frame. The floor
is the dunder's body written in place, with no check."""

import _micro


class V:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __sub__(self, other):
        return V(self.x - other.x, self.y - other.y)


A, B = V(3, 4), V(1, 1)


def target(n, a: V = A, b: V = B):
    out = None
    for _ in range(n):
        out = a - b
    return out


def floor(n, a=A, b=B):
    out = None
    for _ in range(n):
        out = V(a.x - b.x, a.y - b.y)
    return out


if __name__ == "__main__":
    _micro.main("operator_dunder", "a - b of two instances: the class's __sub__ inlined under a type check at the site",
                args=(20,))
