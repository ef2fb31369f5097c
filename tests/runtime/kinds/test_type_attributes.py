"""GuardTypeAttr (fatopt/guards/type_attributes.py): its example for the tests over every kind.
Its event paths: tests/runtime/test_func_type_guards.py."""

from . import Example

EXAMPLES = [
    Example(
        id="type_attr",
        kind="type_attr",
        source="""
            class Base:
                def greet(self):
                    return 3
            class Child(Base):
                pass
            def plain():
                return Child().greet()
            def fast():
                return 3
        """,
        recipe='("type_attr", Child, "greet")',
        text="GuardTypeAttr(Child, 'greet')",
        breaks="Child.greet = lambda self: 4",
        restores="del Child.greet",
        recipe_holds_the_namespace=True,
    ),
]
