"""GuardDict (fatopt/guards/dict_keys.py): its example for the tests over every kind. Its event
paths: tests/runtime/test_dict_events.py."""

from . import Example

EXAMPLES = [
    Example(
        id="dict",
        kind="dict",
        source="""
            import types
            config = types.ModuleType("config")
            config.LIMIT = 3
            def plain():
                return config.LIMIT
            def fast():
                return 3
        """,
        recipe='("dict", config.__dict__, "LIMIT")',
        text="GuardDict(<dict of config>, 'LIMIT')",
        breaks="config.LIMIT = 4",
        restores="config.LIMIT = 3",
    ),
]
