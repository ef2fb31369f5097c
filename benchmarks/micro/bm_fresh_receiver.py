"""Micro case: ``v = V(x, y)`` then ``return v.norm2()``: a method called on an object the
function has just made.

The call runs ``V.norm2`` inlined with no check (fatopt/passes/fresh_receivers.py: nothing else
can have given the new object an attribute of its own), and the object, then only read for its
attributes, is not made (fatopt/passes/scalar_replacement.py). The floor is what is left: the
method's expression on the arguments."""

import _micro


class V:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y


def norm_of(x, y):
    v = V(x, y)
    return v.norm2()


def norm_of_floor(x, y):
    return x * x + y * y


def target(n):
    t = 0
    for i in range(n):
        t += norm_of(i, 1)
    return t


def floor(n):
    t = 0
    for i in range(n):
        t += norm_of_floor(i, 1)
    return t


if __name__ == "__main__":
    _micro.main("fresh_receiver", "a method called on a new object: inlined, the object not made", args=(20,), checked="norm_of")
