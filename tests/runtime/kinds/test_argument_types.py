"""GuardArgType (fatopt/guards/argument_types.py): its example for the tests over every kind.
It is never watched: the specialized code checks the type itself."""

from . import Example

EXAMPLES = [
    Example(
        id="arg_type",
        kind="arg_type",
        source="""
            def plain(x=1):
                return x + 2
            def fast(x=1):
                return 3 if type(x) is int and x == 1 else x + 2
        """,
        recipe='("arg_type", 0, (int,))',
        text="GuardArgType(0, (int,))",
    ),
]
