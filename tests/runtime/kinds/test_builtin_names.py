"""GuardBuiltins (fatopt/guards/builtin_names.py): its example for the tests over every kind.
Its event paths: tests/runtime/test_dict_events.py, test_call_paths.py."""

from . import Example

EXAMPLES = [
    Example(
        id="builtins",
        kind="builtins",
        source="""
            def plain():
                return len("abc")
            def fast():
                return 3
        """,
        recipe='("builtins", "len")',
        text="GuardBuiltins('len')",
        breaks="len = lambda s: 7",
        restores="del len",
    ),
]
