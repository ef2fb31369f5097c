"""The dict watcher's filter (a bit per watched (dict, key) pair) never hides a watched key.

Most writes to a watched dict touch a key no condition names, and the filter answers those
without a lookup. A set bit only costs a lookup; a clear bit for a watched key would be a missed
invalidation. These tests grow, shrink and regrow the index (the filter is rebuilt each time the
table is) and check that every watched key still reaches its function."""

import fatopt
from fatopt.guards import GuardGlobals

from .helpers import active, load

SOURCE = """
FLAG = False
def plain():
    return "debug" if FLAG else "fast"
def fast():
    return "fast"
"""


def make(n: int) -> list[tuple[dict, object]]:
    made = []
    for _ in range(n):
        ns = load(SOURCE)
        fatopt.register(ns["fast"], ns["plain"], [GuardGlobals(values={"FLAG": False})])
        made.append((ns, ns["fast"]))
    return made


def check_each_key_reaches_its_function(made):
    for ns, func in made:
        assert active(func)
        ns["FLAG"] = True
        assert not active(func) and func() == "debug"
        ns["FLAG"] = False
        assert active(func) and func() == "fast"


def test_every_watched_key_is_seen_as_the_index_grows():
    made = make(300)  # the table, and its filter, are rebuilt several times on the way
    check_each_key_reaches_its_function(made)
    for ns, func in made:
        for i in range(20):
            ns[f"unrelated_{i}"] = i  # keys nobody depends on: no effect
        assert active(func)


def test_removed_conditions_leave_no_trace_and_new_ones_are_seen():
    first = make(200)
    for _, func in first[::2]:
        assert fatopt.unspecialize(func)
    for ns, func in first[::2]:
        ns["FLAG"] = True  # a stale bit at most: nothing to invalidate
        assert func() == "debug" and not fatopt.get_specialized(func)
    kept = first[1::2]
    second = make(300)  # regrows the table over the removed pairs
    check_each_key_reaches_its_function(kept + second)
