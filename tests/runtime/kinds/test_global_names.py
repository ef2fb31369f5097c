"""GuardGlobals (fatopt/guards/global_names.py): its examples for the tests over every kind.
Its event paths: tests/runtime/test_dict_events.py, test_guard_objects.py."""

from . import Example

SOURCE = """
    DEBUG = False
    def plain():
        return -1 if DEBUG else 3
    def fast():
        return 3
"""

EXAMPLES = [
    Example(
        id="globals-objects",
        kind="globals",
        source=SOURCE,
        recipe='("globals", ("DEBUG", False))',
        text="GuardGlobals(objects={'DEBUG': False})",
        breaks="DEBUG = True",
        restores="DEBUG = False",
    ),
    Example(
        id="globals-mixed",
        kind="globals",
        source=SOURCE + "    WIDTH = 80.0\n",
        recipe='("globals", "UNBOUND", ("DEBUG", False), ("WIDTH", 80.0, "constant"))',
        text="GuardGlobals('UNBOUND', objects={'DEBUG': False}, values={'WIDTH': 80.0})",
        breaks="UNBOUND = 1",
        restores="del UNBOUND",
    ),
]
