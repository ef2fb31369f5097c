"""Micro case: raytrace's ``_lightIsVisible`` shape, ``o.hit(Ray(p, l - p))`` in a loop: an
operation whose new object goes to a constructor that calls a method of it, a method calling
methods of its own object.

The construction becomes a statement of its own (fatopt/passes/specialize_operators.py), the
operator's dunder is inlined, the object it makes is followed into the inlined ``Ray.__init__``
and through ``unit`` → ``scale``, ``norm2`` (fatopt/passes/fresh_receivers.py), and, only read
then, is not made (fatopt/passes/scalar_replacement.py); the loop body's branch for an invalid
flag ends with ``continue``. The floor is what is left: the ray and its vector made from the
differences, the method found once per object."""

import _micro


class V:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def scale(self, k):
        return V(k * self.x, k * self.y)

    def norm2(self):
        return self.x * self.x + self.y * self.y

    def unit(self):
        return self.scale(1.0 / self.norm2())


class P:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __sub__(self, other):
        return V(self.x - other.x, self.y - other.y)


class Ray:
    def __init__(self, p, v):
        self.p = p
        self.v = v.unit()


class Wall:
    def __init__(self, at):
        self.at = at

    def hit(self, ray):
        return ray.v.x - self.at


def first_hit(objects, l: P, p: P):
    for o in objects:
        t = o.hit(Ray(p, l - p))
        if t > 0:
            return t
    return 0.0


def first_hit_floor(objects, l, p):
    for o in objects:
        dx = l.x - p.x
        dy = l.y - p.y
        k = 1.0 / (dx * dx + dy * dy)
        ray = Ray.__new__(Ray)
        ray.p = p
        ray.v = V(k * dx, k * dy)
        t = o.hit(ray)
        if t > 0:
            return t
    return 0.0


WALLS = [Wall(2.0), Wall(3.0), Wall(4.0), Wall(0.5)]


def target(n):
    t = 0.0
    for i in range(n):
        t += first_hit(WALLS, P(i + 3.0, 1.0), P(1.0, 2.0))
    return t


def floor(n):
    t = 0.0
    for i in range(n):
        t += first_hit_floor(WALLS, P(i + 3.0, 1.0), P(1.0, 2.0))
    return t


if __name__ == "__main__":
    _micro.main("fresh_in_loop", "o.hit(Ray(p, l - p)) in a loop: followed into the constructor, not made",
                args=(20,), checked="first_hit")
