"""Micro case: ``d = a - b`` then ``return d.norm2()``, both operands of one class: raytrace's
``Sphere.intersectionTime`` in small.

The operation's dunder is inlined under a type check at the site
(fatopt/passes/specialize_operators.py); the rest of the function is copied after the branch
of the dunder that makes the new object, where ``d.norm2()`` is inlined with no check
(fatopt/passes/fresh_receivers.py) and ``d`` is not made (fatopt/passes/scalar_replacement.py).
The floor is the arithmetic on the operands' attributes, with the dunder's test."""

import _micro


class V:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def is_point(self):
        return True

    def __sub__(self, other):
        if other.is_point():
            return V(self.x - other.x, self.y - other.y)
        return W(self.x - other.x, self.y - other.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y


class W(V):
    pass


def dist2(a: V, b: V):
    d = a - b
    return d.norm2()


def dist2_floor(a, b):
    if b.is_point():
        x = a.x - b.x
        y = a.y - b.y
        return x * x + y * y
    return (a - b).norm2()


A, B = V(3, 4), V(1, 1)


def target(n):
    t = 0
    for _ in range(n):
        t += dist2(A, B)
    return t


def floor(n):
    t = 0
    for _ in range(n):
        t += dist2_floor(A, B)
    return t


if __name__ == "__main__":
    _micro.main("operator_then_method", "a - b then a method of the result: dunder and method inlined, the object not made",
                args=(20,), checked="dist2")
