"""Micro case: a recursive generator walking a tree -- pyperformance's ``generators``.

Every ``yield from walk(child)`` adds a generator to the chain each value passes through.
Issue 16's one-level self-inlining (fatopt/passes/inline_recursive.py) puts ``walk``'s body
once into itself (guarded: *callee unchanged* on its own name), so each generator handles two
levels of the tree and the chains are half as long. The floor is ``walk`` written that way by
hand, kept as written (``# fatopt: off``: inlined once more it would handle three levels).
``target`` itself is unchanged: the check is on ``walk``.

    python benchmarks/micro/bm_inline_recursive_generator.py --fast
"""

import _micro


class Tree:
    def __init__(self, left, value, right):
        self.left = left
        self.value = value
        self.right = right


def build(depth, start=0):
    if depth == 0:
        return None
    left = build(depth - 1, start)
    size = 2 ** (depth - 1) - 1
    return Tree(left, start + size, build(depth - 1, start + size + 1))


def walk(node):
    if node.left:
        yield from walk(node.left)
    yield node.value
    if node.right:
        yield from walk(node.right)


def walk_floor(node):  # fatopt: off
    left = node.left
    if left:
        if left.left:
            yield from walk_floor(left.left)
        yield left.value
        if left.right:
            yield from walk_floor(left.right)
    yield node.value
    right = node.right
    if right:
        if right.left:
            yield from walk_floor(right.left)
        yield right.value
        if right.right:
            yield from walk_floor(right.right)


def target(tree):
    total = 0
    for value in walk(tree):
        total += value
    return total


def floor(tree):
    total = 0
    for value in walk_floor(tree):
        total += value
    return total


if __name__ == "__main__":
    _micro.main("inline_recursive_generator", "yield from walk(child) self-inlined one level",
                args=(build(5),), checked="walk")
