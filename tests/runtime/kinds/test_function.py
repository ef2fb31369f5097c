"""GuardFunc (fatopt/guards/function.py): its example for the tests over every kind. Its event
paths: tests/runtime/test_func_type_guards.py."""

from . import Example

EXAMPLES = [
    Example(
        id="func",
        kind="func",
        source="""
            def helper(x=1):
                return x + 2
            SAVED = helper.__defaults__  # defaults compare by identity
            def plain():
                return helper()
            def fast():
                return 3
        """,
        recipe='("func", helper)',
        text="GuardFunc(helper)",
        breaks="helper.__defaults__ = (10,)",
        restores="helper.__defaults__ = SAVED",
        recipe_holds_the_namespace=True,
    ),
]
