"""A Hypothesis strategy producing small, valid, terminating Python modules as source text.

Each module has module constants, a few functions that use them (arithmetic and comparisons mixing
constants and arguments, loops over constants with break/continue/else, comprehensions, pure
builtin calls, methods on literals, closures, generators, exceptions), and a driver at the bottom
that calls every function and prints what it returned or raised. Between and during calls the
driver rebinds what the optimizer may have assumed: it patches ``builtins``, shadows builtins with
globals, rebinds module constants (to other values, to equal values of another type, to equal but
distinct objects) and puts everything back, calling the functions again after each step.

Most rebinding goes through the module object (``_mod.N = 5``) or ``builtins`` so the optimizer
cannot see it statically: that is what the runtime guards exist for. A few modules rebind in plain
sight (``N = 4``, ``len = ...``, ``globals()["N"] = 5``, ``global N``), which the optimizer's
analyses must notice.

Also generated: methods (plain and static, class attributes named like constants), coroutines
(driven without an event loop), decorated functions, positional-only / keyword-only / ``*args``
signatures, parameters and comprehension variables named like constants or builtins, walrus
bindings, deletes, late-binding closures made in loops, dead code after ``return``.

"During a call" means a function that rebinds something and then calls a generated function:
the callee starts after the rebinding, so its guards must already have switched it. A frame that
is already running keeps its code (docs/semantics.md, "Guards hold at function entry"), so no
generated function reads a name after rebinding it itself, except a callee of the "calls" shape:
code inlined from it tests that the callee is unchanged, so a caller rebinds it and calls it.

Programs are built to terminate quickly: loops run over small constant iterables or bounded
counters, functions call only functions defined before them, integers stay small (shift counts,
exponents and repetition counts are small literals). Types are tracked loosely so most
expressions make sense; a few are deliberately ill-typed so that exceptions are exercised too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from tests.fuzz import shapes

__all__ = ["Profile", "PROFILES", "modules", "build", "PATCHABLE_BUILTINS", "KNOWN_BUGS", "AVOID"]

#: Builtins the generated functions call (pure ones the optimizer folds, plus ``range``).
PURE = ("len", "abs", "chr", "ord", "min", "max", "sum", "int", "float", "str", "repr", "bool",
        "tuple", "frozenset", "divmod", "pow", "round", "hex", "oct", "bin")
#: Builtins that consume generator expressions (and ``next``/``iter``, which their elements call);
#: patched by the driver like the pure ones.
CONSUMER_BUILTINS = ("set", "list", "sorted", "any", "all", "dict", "next", "iter")
PATCHABLE_BUILTINS = PURE + ("range",) + CONSUMER_BUILTINS

TYPES = ("int", "float", "bool", "str", "bytes", "tuple", "none")

INT_LITERALS = ("0", "1", "2", "3", "-1", "-2", "4", "5", "7", "10", "255", "256", "1000", "-7")
FLOAT_LITERALS = ("0.0", "-0.0", "0.5", "1.5", "-2.25", "3.0", "1e309", "-1e309", "1e-310",
                  'float("nan")', 'float("-0.0")', "(1 / 3)", "2.5")
STR_LITERALS = ('""', '"abc"', '"a,b,c"', '" x "', '"ABC"', '"é"', '"12"', '"-3"', '"1_0"',
                '"nan"', '"-0.0"', '"a b"', '"0x1f"', '"aaa"', '"Hello World"')
BYTES_LITERALS = ('b""', 'b"ab"', 'b"a,b"', 'b"\\x00\\xff"', 'b"XY"', 'b"12"', 'b"abc"')
BOOL_LITERALS = ("True", "False")
SMALL = ("0", "1", "2", "3", "-1")
EXCEPTIONS = ("Exception", "TypeError", "ValueError", "ZeroDivisionError", "IndexError",
              "(TypeError, ValueError)", "ArithmeticError", "LookupError", "NameError",
              "OverflowError", "KeyError")

#: name pools for module constants, by type
CONSTANT_NAMES = {
    "int": ("N", "M", "K", "LIMIT", "ONE", "BIG", "COUNT"),
    "float": ("F", "NEG0", "HALF", "RATE", "INF"),
    "bool": ("DEBUG", "FLAG", "VERBOSE"),
    "str": ("NAME", "SEP", "WORD", "EMPTY", "PREFIX"),
    "bytes": ("DATA", "RAW"),
    "tuple": ("PAIR", "WORDS", "ITEMS", "NUMS", "NESTED"),
    "none": ("NOTHING",),
}
CONSTANT_VALUES = {
    "int": ("3", "0", "1", "-2", "7", "1000", "2 ** 40", "1 << 3", "-(5)", "256"),
    "float": ("0.5", "-0.0", "0.0", "1e309", "2.5", "-1.5", "1 / 4"),
    "bool": ("False", "True"),
    "str": ('"abc"', '"a,b"', '""', '" pad "', '"x" * 3', '"é" + "e"', '"ABC"', '"12"'),
    "bytes": ('b"ab"', 'b""', 'b"a,b"', 'b"\\x00\\x01"'),
    "tuple": ("(1, 2, 3)", '("a", "b")', "()", '(1, "a", None)', "(0.0, -0.0)", "(True, 1, 2)",
              "((1, 2), (3,))", "(3, 1, 2) + (0,)"),
    "none": ("None",),
}
#: element type of iterating a constant of each tuple value (None: mixed, treat as "any")
TUPLE_ELEMENTS = {"(1, 2, 3)": "int", '("a", "b")': "str", "()": "int", "(True, 1, 2)": "int",
                  "(3, 1, 2) + (0,)": "int", "(0.0, -0.0)": "float"}
#: a fresh object equal to a constant value (same type): the value guard still holds
FRESH_EQUAL = {
    "1000": 'int("1000")', "256": 'int("256")', "2 ** 40": 'int("1099511627776")',
    "0.5": 'float("0.5")', "-0.0": 'float("-0.0")', "0.0": 'float("0.0")', "2.5": 'float("2.5")',
    "-1.5": 'float("-1.5")', "1 / 4": 'float("0.25")', "1e309": 'float("inf")',
    '"abc"': '"".join(["a", "bc"])', '"a,b"': '",".join(["a", "b"])', '" pad "': '" pad  "[:5]',
    '"x" * 3': '"".join(["x"] * 3)', '"ABC"': '"abc".upper()', '"12"': 'str(12)',
    'b"ab"': 'bytes([97, 98])', "(1, 2, 3)": "tuple([1, 2, 3])", '("a", "b")': 'tuple("ab")',
    "(True, 1, 2)": "tuple([True, 1, 2])",
}
#: literals that call a builtin, and a spelling of the same value that reads no name
CALL_LITERALS = {'float("nan")': "(1e309 - 1e309)", 'float("-0.0")': "-0.0"}
#: an equal value of another type (or another sign): the value guard must fail
EQUAL_OTHER_TYPE = {"1": "True", "0": "False", "3": "3.0", "7": "7.0", "0.0": "-0.0", "-0.0": "0.0",
                    "True": "1", "False": "0", "1 << 3": "8.0", "256": "256.0", "-2": "-2.0"}
#: replacements for patched builtins
REPLACEMENTS = ("lambda *a, **k: 99", 'lambda *a, **k: "patched"', "_ORIG_{other}", "_ORIG_{same}",
                "lambda *a, **k: a")


#: Known fatopt bugs (each has an xfail test in test_regressions.py) that the generator does not
#: expose by default, so that the CI run stays green and can find new ones. Re-enable them with
#: ``tools/fuzz.py --expose-known`` (or ``avoid=frozenset()``) once they are fixed.
KNOWN_BUGS: dict[str, str] = {
    # "value-guard-identity" was fixed by GuardGlobals(objects=...), "bool-invert-warning" by never
    # leaving a bool constant under `~` (see test_regressions.py)
    # "fresh-rest-copied-twice" (fresh_receivers copied the rest of a block twice) was fixed by
    # copying only after a branch whose statements are the last of their blocks
}
#: Differences that docs/semantics.md documents ("An object that is only read is not made"):
#: not bugs, but not what a differential run can compare either; each has a test showing it in
#: test_regressions.py. Exposed with ``--expose-known`` too.
DOCUMENTED_DIFFERENCES: dict[str, str] = {
    "scalar-read-after-change": "scalar_replacement: a property for an attribute's name or a "
                                "__getattribute__ given to the class by code the function runs after "
                                "its last test of the flag is not seen by the reads of that call",
    "scalar-finalizer": "scalar_replacement: a __del__ given to the class by code the function runs "
                        "after the construction never runs for the object not made",
}
AVOID = frozenset(KNOWN_BUGS) | frozenset(DOCUMENTED_DIFFERENCES)


@dataclass(frozen=True)
class Profile:
    """What a module may contain; tests pick one per feature group."""

    functions: tuple[int, int] = (2, 5)
    #: function kinds to draw from
    kinds: tuple[str, ...] = ("simple", "body", "loop", "generator", "closure")
    #: percent chance of each driver step being a rebinding (vs. a plain round of calls)
    rebinding: int = 60
    #: percent chance that a rebinding is visible to the optimizer's analyses
    visible: int = 8
    #: statements per block
    statements: tuple[int, int] = (1, 5)
    #: nesting depth of compound statements
    depth: int = 2
    #: percent chance an expression is deliberately of the wrong type
    ill_typed: int = 6
    #: add functions that rebind something and call another function ("during a call")
    during: bool = True
    #: families of issue 16's code shapes to add (``shapes.FAMILIES``), each with this chance
    shapes: tuple[str, ...] = ()
    shape_chance: int = 100
    #: percent chance that module constants are bound by one tuple unpacking (``A, B = 1, 2``)
    unpacking: int = 20


PROFILES = {
    "mixed": Profile(shapes=shapes.FAMILIES, shape_chance=20),
    "expressions": Profile(kinds=("simple", "body"), rebinding=25, during=False),
    "loops": Profile(kinds=("loop", "body", "generator"), rebinding=35, depth=3),
    "closures": Profile(kinds=("closure", "generator", "simple"), rebinding=40),
    "rebinding": Profile(kinds=("simple", "body", "loop"), rebinding=80, visible=10),
    "calls": Profile(functions=(1, 2), kinds=("simple", "body"), shapes=("calls",), rebinding=60),
    "genexprs": Profile(functions=(1, 2), kinds=("simple", "body"), shapes=("genexprs", "calls"),
                        shape_chance=70, rebinding=50),
    "classes": Profile(functions=(1, 2), kinds=("simple", "body"), shapes=("classes",), rebinding=70,
                       visible=30),
    "recursive": Profile(functions=(1, 2), kinds=("simple", "generator"), shapes=("recursive",),
                         rebinding=50),
    "dunders": Profile(functions=(1, 2), kinds=("simple", "body"), shapes=("dunders",), rebinding=70,
                       visible=25),
    # issue 17's fresh objects (tests/fuzz/fresh.py); not in "mixed"
    "fresh": Profile(functions=(0, 1), kinds=("simple", "body"), shapes=("fresh",), rebinding=65,
                     visible=20),
}


@dataclass
class _Names:
    """Typed names visible at a point of a function: parameters, locals, loop variables."""

    types: dict[str, str] = field(default_factory=dict)

    def of(self, type_: str) -> list[str]:
        return [name for name, t in self.types.items() if t == type_]

    def child(self) -> "_Names":
        return _Names(dict(self.types))


@dataclass
class _Param:
    name: str
    type: str
    default: str | None
    kind: str  # "posonly", "pos", "kwonly", "star"


@dataclass
class _Function:
    name: str
    params: list[_Param]
    kind: str
    #: how the driver reaches it (a method: ``C0().m1``) and names it in the output
    call: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        self.call = self.call or self.name
        self.label = self.label or self.name


class _Tape:
    """Decisions read from a byte string Hypothesis draws once per module.

    One draw per module instead of thousands keeps generation about as cheap as running the
    program (per-decision draws cost ~80 ms a module). Hypothesis still shrinks the bytes (shorter,
    towards zero), and byte 0 always means the simplest choice: a leaf, the first option, "no". A
    tape that runs out reads as zeros, so every module is finite.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def byte(self) -> int:
        position = self.position
        self.position += 1
        return self.data[position] if position < len(self.data) else 0


class _Builder:
    """Builds one module from a tape of decisions."""

    def __init__(self, tape: _Tape, profile: Profile, avoid: frozenset[str]) -> None:
        self.tape = tape
        self.profile = profile
        self.avoid = avoid
        self.constants: dict[str, tuple[str, str]] = {}  # name -> (type, value source)
        self.functions: list[_Function] = []
        self.used_builtins: set[str] = set()
        #: every local of the function being built, bound or not at a given point
        self.function_locals: list[str] = []
        self.counter = 0
        #: (visible, make) for each rebinding step the shape families offer (``shapes.Rebinder``)
        self.rebinders: list[shapes.Rebinder] = []
        #: what the driver passes for a parameter of type "obj" (instances of the ``dunders``
        #: family's classes, and builtins: an annotation is no promise)
        self.objects: list[str] = []
        #: what the driver passes for a parameter of another type a family names (the ``fresh``
        #: family's "field": values stored into attributes, small enough to multiply)
        self.pools: dict[str, tuple[str, ...]] = {}

    # -- primitive draws ----------------------------------------------------------------------
    def pick(self, options):
        options = tuple(options)
        return options[self.tape.byte() % len(options)]

    def chance(self, percent: int) -> bool:
        """True with about ``percent``% probability; byte 0 means False."""
        return self.tape.byte() * 100 // 256 >= 100 - percent

    def between(self, low: int, high: int) -> int:
        return low + self.tape.byte() % (high - low + 1)

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- expressions --------------------------------------------------------------------------
    def literal(self, type_: str) -> str:
        if type_ == "int":
            return self.pick(INT_LITERALS)
        if type_ == "float":
            return self.pick(FLOAT_LITERALS)
        if type_ == "bool":
            return self.pick(BOOL_LITERALS)
        if type_ == "str":
            return self.pick(STR_LITERALS)
        if type_ == "bytes":
            return self.pick(BYTES_LITERALS)
        if type_ == "obj":
            return self.pick(self.objects) if self.objects else "None"
        if type_ == "tuple":
            items = [self.literal(self.pick(("int", "str", "bool", "float"))) for _ in range(self.between(0, 3))]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if type_ in self.pools:
            return self.pick(self.pools[type_])
        return "None"

    @staticmethod
    def recv(source: str) -> str:
        """``source`` made safe as the receiver of ``.attr`` or ``[...]`` (``(1).real``)."""
        return f"({source})" if source[0] in "-+~0123456789." or source.startswith("not ") else source

    def shadowing_name(self) -> str:
        """A local name that hides a module constant or a builtin."""
        if self.constants and self.chance(50):
            return self.pick(sorted(self.constants))
        return self.pick(PURE[:8])

    def name_of(self, type_: str, names: _Names) -> str | None:
        options = names.of(type_) + [n for n, (t, _v) in self.constants.items() if t == type_]
        return self.pick(options) if options else None

    def call(self, builtin: str, *args: str) -> str:
        self.used_builtins.add(builtin)
        return f"{builtin}({', '.join(args)})"

    def expr(self, type_: str, names: _Names, depth: int) -> str:
        if type_ == "any":
            type_ = self.pick(TYPES)
        if type_ != "none" and self.chance(self.profile.ill_typed):
            type_ = self.pick(TYPES)
        leaf = depth <= 0 or self.chance(30)
        if leaf and self.function_locals and self.chance(3):
            return self.pick(self.function_locals)  # maybe unbound, maybe another type
        if leaf or type_ == "none":
            name = self.name_of(type_, names) if self.chance(65) else None
            return name if name is not None else self.literal(type_)
        producers = getattr(self, f"_{type_}_expr")
        return producers(names, depth - 1)

    def _int_expr(self, n: _Names, d: int) -> str:
        e = lambda t="int": self.expr(t, n, d)  # noqa: E731
        choice = self.between(0, 17)
        if choice == 0:
            return f"({e()} {self.pick(('+', '-', '*', '//', '%', '&', '|', '^'))} {e()})"
        if choice == 1:
            return f"({e()} {self.pick(('<<', '>>'))} {self.pick(SMALL[:4])})"
        if choice == 2:
            return f"({e()} ** {self.pick(('0', '1', '2', '3'))})"
        if choice == 3:
            signs = ("-", "+") if "bool-invert-warning" in self.avoid else ("-", "~", "+")
            return f"({self.pick(signs)}{e()})"
        if choice == 4:
            return self.call("len", e(self.pick(("str", "bytes", "tuple"))))
        if choice == 5:
            return self.call("abs", e())
        if choice == 6:
            return self.call("ord", e("str") if self.chance(60) else self.pick(('"a"', '"é"', 'b"x"')))
        if choice == 7:
            return self.call(self.pick(("min", "max")), *(e() for _ in range(self.between(1, 3))))
        if choice == 8:
            return self.call("sum", e("tuple") if self.chance(30) else f"({e()}, {e()})")
        if choice == 9:
            return self.call("int", e(self.pick(("str", "float", "bool", "int"))))
        if choice == 10:
            return self.call("round", e("float"))
        if choice == 11:
            args = [e(), self.pick(("0", "1", "2", "-1"))] + ([e()] if self.chance(30) else [])
            return self.call("pow", *args)
        if choice == 12:
            return f"{self.call('divmod', e(), e())}[{self.pick(('0', '1'))}]"
        if choice == 13:
            return f"{self.recv(e('str'))}.{self.pick(('count', 'find', 'index', 'rfind'))}({e('str')})"
        if choice == 14:
            return f"{self.recv(e(self.pick(('tuple', 'bytes'))))}[{e()}]"
        if choice == 15:
            return f"({e()} if {e('bool')} else {e()})"
        if choice == 16:
            return f"({e('bool')} + {e()})"
        return self.comprehension_reduction(n, d)

    def _float_expr(self, n: _Names, d: int) -> str:
        e = lambda t="float": self.expr(t, n, d)  # noqa: E731
        choice = self.between(0, 9)
        if choice == 0:
            return f"({e(self.pick(('int', 'float')))} {self.pick(('+', '-', '*', '/', '//', '%'))} {e()})"
        if choice == 1:
            return f"({e('int')} / {e('int')})"
        if choice == 2:
            return self.call("float", e(self.pick(("int", "str", "float", "bool"))))
        if choice == 3:
            return self.call("abs", e())
        if choice == 4:
            return self.call("round", e(), self.pick(("0", "1", "2", "-1")))
        if choice == 5:
            return f"(-{e()})"
        if choice == 6:
            return self.call("pow", e(), self.pick(("2", "0.5", "-1")))
        if choice == 7:
            return self.call(self.pick(("min", "max")), e(), e(self.pick(("int", "float"))))
        if choice == 8:
            return f"{self.call('divmod', e(), e(self.pick(('int', 'float'))))}[0]"
        return f"({e()} if {e('bool')} else {e()})"

    def _bool_expr(self, n: _Names, d: int) -> str:
        e = lambda t: self.expr(t, n, d)  # noqa: E731
        choice = self.between(0, 10)
        if choice == 0:
            t = self.pick(("int", "float", "str", "bytes", "tuple", "bool"))
            return f"({e(t)} {self.pick(('==', '!=', '<', '<=', '>', '>='))} {e(t)})"
        if choice == 1:
            t = self.pick(("int", "float", "str"))
            return f"({e(t)} {self.pick(('<', '<=', '=='))} {e(t)} {self.pick(('<', '!=', '>='))} {e(t)})"
        if choice == 2:
            return f"(not {e('any')})"
        if choice == 3:
            return self.call("bool", e("any"))
        if choice == 4:
            return f"({e('any')} {self.pick(('and', 'or'))} {e('any')})"
        if choice == 5:
            container = self.pick(("tuple", "str", "bytes"))
            item = {"tuple": "any", "str": "str", "bytes": "int"}[container]
            return f"({e(item)} {self.pick(('in', 'not in'))} {e(container)})"
        if choice == 6:
            # identity against a singleton (`x is None`, `f(x) is not True`): the identity of any
            # other constant is the documented difference "Folded calls return constants" (a
            # folded `float("-0.0")` can be the module's own `-0.0`); _identities checks those
            singleton = self.pick(("None", "True", "False", "..."))
            return f"({e('any')} {self.pick(('is', 'is not'))} {singleton})"
        if choice == 7:
            method = self.pick(("startswith", "endswith", "isdigit", "isalpha", "isupper", "isspace"))
            arg = e("str") if method in ("startswith", "endswith") else ""
            return f"{self.recv(e('str'))}.{method}({arg})"
        if choice == 8:
            frozen = self.call("frozenset", e("tuple") if self.chance(50) else self.literal("tuple"))
            return f"({e('any')} in {frozen})"
        if choice == 9:
            return f"({e('float')} {self.pick(('==', '!=', '<'))} {e('float')})"
        return f"({e('bool')} if {e('bool')} else {e('bool')})"

    def _str_expr(self, n: _Names, d: int) -> str:
        e = lambda t="str": self.expr(t, n, d)  # noqa: E731
        choice = self.between(0, 16)
        if choice == 0:
            return f"({e()} + {e()})"
        if choice == 1:
            return f"({e()} * {self.pick(SMALL)})"
        if choice == 2:
            return f"{self.recv(e())}[{e('int')}]"
        if choice == 3:
            lo, hi = self.pick(("", "1", "-1", "0", "2")), self.pick(("", "1", "-1", "3"))
            step = self.pick(("", ":-1", ":2"))
            return f"{self.recv(e())}[{lo}:{hi}{step}]"
        if choice == 4:
            return self.call(self.pick(("str", "repr")), e("any"))
        if choice == 5:
            return self.call("chr", e("int"))
        if choice == 6:
            return self.call(self.pick(("hex", "oct", "bin")), e("int"))
        if choice == 7:
            method = self.pick(("upper", "lower", "strip", "title", "swapcase", "capitalize", "casefold"))
            return f"{self.recv(e())}.{method}()"
        if choice == 8:
            return f"{self.recv(e())}.replace({e()}, {e()})"
        if choice == 9:
            return f"{self.pick(STR_LITERALS)}.join({e('tuple')})"
        if choice == 10:
            return f"{self.recv(e())}.{self.pick(('center', 'zfill', 'ljust', 'rjust'))}({self.pick(('0', '3', '6', '-1'))})"
        if choice == 11:
            return f"{self.recv(e())}.{self.pick(('partition', 'rpartition'))}({e()})[{self.pick(('0', '1', '2'))}]"
        if choice == 12:
            if self.chance(50):
                spec = self.pick((">5", "^4", "<3", "", "x", "05d", ".2f", "+", "!r", "!s:>4", ",", "e"))
                spec = spec if spec.startswith("!") or not spec else ":" + spec
                return f'f"<{{{e("any")}{spec}}}>"'
            return f'f"{{{e("any")}}}-{{{e("any")}!r}}"'
        if choice == 16:
            fmt = self.pick(('"%s"', '"%d-%s"', '"%r"', '"%5.1f"', '"%x"', '"%s%%"', '"%(a)s"'))
            args = e("any") if self.chance(50) else f"({e('any')}, {e('any')})"
            return f"({fmt} % {args})"
        if choice == 13:
            return f"{self.recv(e('bytes'))}.{self.pick(('decode', 'hex'))}()"
        if choice == 14:
            return f"{self.recv(e())}.{self.pick(('removeprefix', 'removesuffix', 'lstrip', 'rstrip'))}({e()})"
        return f"({e()} if {e('bool')} else {e()})"

    def _bytes_expr(self, n: _Names, d: int) -> str:
        e = lambda t="bytes": self.expr(t, n, d)  # noqa: E731
        choice = self.between(0, 5)
        if choice == 0:
            return f"({e()} + {e()})"
        if choice == 1:
            return f"({e()} * {self.pick(SMALL)})"
        if choice == 2:
            return f"{self.recv(e())}[{self.pick(('1', '-1', '0'))}:{self.pick(('', '2', '-1'))}]"
        if choice == 3:
            return f"{self.recv(e('str'))}.encode({self.pick(('', repr('ascii'), repr('utf-8'), repr('latin-1')))})"
        if choice == 4:
            return f"{self.recv(e())}.{self.pick(('upper', 'lower', 'strip', 'title'))}()"
        return f"{self.recv(e())}.replace({e()}, {e()})"

    def _tuple_expr(self, n: _Names, d: int) -> str:
        e = lambda t="tuple": self.expr(t, n, d)  # noqa: E731
        choice = self.between(0, 8)
        if choice == 0:
            return f"({e()} + {e()})"
        if choice == 1:
            return f"{self.recv(e())}[{self.pick(('1', '-1', '0', ''))}:{self.pick(('', '2', '-1'))}]"
        if choice == 2:
            return f"({e()} * {self.pick(SMALL)})"
        if choice == 3:
            return self.call("tuple", e(self.pick(("str", "bytes", "tuple"))))
        if choice == 4:
            return self.call("divmod", e(self.pick(("int", "float"))), e(self.pick(("int", "float"))))
        if choice == 5:
            return f"{self.recv(e('str'))}.{self.pick(('partition', 'rpartition'))}({e('str')})"
        if choice == 6:
            return f"({', '.join(e('any') for _ in range(self.between(1, 3)))},)"
        if choice == 7:
            return self.call("tuple", self.comprehension(n, d, "generator"))
        return f"{self.recv(e('str'))}.split({self.pick(('', repr(','), repr(' ')))})"

    def iterable(self, names: _Names) -> tuple[str, str]:
        """(source of a constant-ish iterable, type of its items)."""
        choice = self.between(0, 6)
        if choice == 0:
            items = [self.literal("int") for _ in range(self.between(0, 5))]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")", "int"
        if choice == 1:
            args = self.pick(("3", "0", "1, 4", "5, 0, -2", "-1", "2, 9, 3"))
            return self.call("range", args), "int"
        if choice == 2:
            return self.pick(STR_LITERALS), "str"
        if choice == 3:
            return "[" + ", ".join(self.literal("str") for _ in range(self.between(0, 3))) + "]", "str"
        if choice == 4:
            tuples = [n for n, (t, v) in self.constants.items() if t == "tuple"]
            if tuples:
                name = self.pick(tuples)
                return name, TUPLE_ELEMENTS.get(self.constants[name][1], "any")
            return "(1, 2)", "int"
        if choice == 5:
            strings = [n for n, (t, _v) in self.constants.items() if t in ("str", "bytes")]
            if strings:
                name = self.pick(strings)
                return name, "str" if self.constants[name][0] == "str" else "int"
            return '"xy"', "str"
        bound = self.name_of("int", names)
        if bound is not None and self.chance(50):
            # a variable bound, sliced: rebinding N to 2 ** 40 must not make the loop endless
            return f"{self.call('range', bound)}[:5]", "int"
        return self.call("range", self.pick(("2", "3"))), "int"

    def comprehension(self, names: _Names, depth: int, kind: str) -> str:
        source, item = self.iterable(names)
        var = self.fresh("c") if not self.chance(10) else self.shadowing_name()
        inner = names.child()
        inner.types[var] = item
        element = self.expr(item if self.chance(50) else "any", inner, depth)
        condition = f" if {self.expr('bool', inner, depth)}" if self.chance(40) else ""
        core = f"{element} for {var} in {source}{condition}"
        if kind == "list":
            return f"[{core}]"
        if kind == "set":
            return f"{{{core}}}"
        if kind == "dict":
            return f"{{{var}: {element} for {var} in {source}{condition}}}"
        return f"({core})"

    def comprehension_reduction(self, names: _Names, depth: int) -> str:
        reducer = self.pick(("sum", "len", "max", "min"))
        kind = "list" if reducer == "len" else "generator"
        comp = self.comprehension(names, depth, kind)
        if reducer == "len":
            return self.call("len", comp)
        return self.call(reducer, comp[1:-1] if self.chance(50) else comp)

    def any_value(self, names: _Names, depth: int) -> str:
        """An expression of any kind, including lists, sets and dicts."""
        choice = self.between(0, 7)
        if choice == 0:
            return self.comprehension(names, depth, self.pick(("list", "set", "dict")))
        if choice == 1:
            return f"{self.recv(self.expr('str', names, depth))}.split({self.pick(('', repr(','), repr(' ')))})"
        return self.expr("any", names, depth)

    # -- statements ---------------------------------------------------------------------------
    def block(self, names: _Names, depth: int, indent: str, ctx: "_Context") -> list[str]:
        count = self.between(*self.profile.statements)
        lines: list[str] = []
        for _ in range(count):
            lines += self.statement(names, depth, indent, ctx)
        return lines or [indent + "pass"]

    def protected_block(self, names: _Names, ctx: "_Context") -> list[str]:
        """A function's top-level statements, many wrapped in ``try`` so that one raising does
        not hide the rest; the handler records the exception and the line it came from."""
        lines: list[str] = []
        for _ in range(self.between(*self.profile.statements)):
            statement = self.statement(names, self.profile.depth, "        ", ctx)
            if self.chance(60):
                lines.append("    try:")
                lines += statement
                lines.append("    except Exception as e:")
                lines.append(self.emit_value("(type(e).__name__, str(e), e.__traceback__.tb_lineno)", "        ", ctx))
            else:
                lines += [line[4:] for line in statement]
        return lines or ["    pass"]

    def emit_value(self, value: str, indent: str, ctx: "_Context") -> str:
        if ctx.generator:
            return f"{indent}yield {value}"
        return f"{indent}out.append({value})"

    def statement(self, names: _Names, depth: int, indent: str, ctx: "_Context") -> list[str]:
        d = 2
        compound = depth > 0
        choice = self.between(0, 14 if compound else 5)
        if choice in (0, 1):
            return [self.emit_value(self.any_value(names, d), indent, ctx)]
        if choice == 2:
            type_ = self.pick(("int", "str", "float", "tuple", "bool", "bytes"))
            var = self.fresh("x")
            value = self.literal(type_) if self.chance(40) else self.expr(type_, names, d)
            names.types[var] = type_
            self.function_locals.append(var)
            return [f"{indent}{var} = {value}"]
        if choice == 3:
            ints = names.of("int")
            if ints:
                var = self.pick(ints)
                op = self.pick(("+=", "-=", "*=", "//=", "|="))
                return [f"{indent}{var} {op} {self.expr('int', names, 1)}"]
            return [self.emit_value(self.expr("int", names, d), indent, ctx)]
        if choice == 4:
            if not ctx.loop:
                return [self.emit_value(self.expr("any", names, d), indent, ctx)]
            keyword = self.pick(("break", "continue"))
            return [f"{indent}if {self.expr('bool', names, 1)}:", f"{indent}    {keyword}"]
        if choice == 5:
            return [f"{indent}if {self.condition(names)}:"] + self.returning(names, indent + "    ", ctx)
        if choice in (6, 7):
            return self.if_statement(names, depth, indent, ctx)
        if choice in (8, 9):
            return self.for_statement(names, depth, indent, ctx)
        if choice == 10:
            return self.while_statement(names, depth, indent, ctx)
        if choice in (11, 12):
            return self.try_statement(names, depth, indent, ctx)
        if choice == 13:
            return self.inner_function(names, indent, ctx)
        return self.rare_statement(names, indent, ctx)

    def rare_statement(self, names: _Names, indent: str, ctx: "_Context") -> list[str]:
        choice = self.between(0, 6)
        if choice == 0:
            return [f"{indent}assert {self.expr('bool', names, 1)}, {self.expr('str', names, 0)}"]
        if choice == 1:
            # `del` a local; later reads of it raise UnboundLocalError in both runs
            local = [n for n in names.types if n.startswith("x")]
            if local:
                var = self.pick(local)
                del names.types[var]
                return [f"{indent}del {var}"]
        if choice == 2:
            # walrus in a comprehension binds in the function (if the iterable is not empty)
            var = self.fresh("y")
            source, item = self.iterable(names)
            comp = self.fresh("c")
            inner = names.child()
            inner.types[comp] = item
            self.function_locals.append(var)
            return [self.emit_value(f"[({var} := {self.expr(item, inner, 1)}) for {comp} in {source}]", indent, ctx),
                    self.emit_value(var, indent, ctx)]
        if choice == 3 and ctx.loop and ctx.deferred:
            # a closure over the loop variable, called after the loop: late binding
            return [f"{indent}later.append(lambda: {self.expr('any', names, 1)})"]
        if choice == 4:
            var = self.fresh("y")
            self.function_locals.append(var)
            lines = [f"{indent}if ({var} := {self.expr('any', names, 1)}):"]
            inner = names.child()
            inner.types[var] = "any"
            return lines + [self.emit_value(var, indent + "    ", ctx)]
        if choice == 5 and names.of("int"):
            # one int expression in two statements (common_subexpressions), a statement between
            ints = names.of("int")
            shared = f"{self.pick(ints)} {self.pick(('+', '-', '*'))} {self.pick(ints + list(SMALL))}"
            first, second = self.fresh("x"), self.fresh("x")
            names.types[first] = names.types[second] = "int"
            self.function_locals += [first, second]
            return [f"{indent}{first} = {shared}", self.emit_value(self.expr("any", names, 1), indent, ctx),
                    f"{indent}{second} = ({shared}) * 2 + {first}"]
        return [self.emit_value(self.expr("any", names, 1), indent, ctx)]

    def condition(self, names: _Names) -> str:
        """Often a constant condition, so dead code appears."""
        flags = [n for n, (t, _v) in self.constants.items() if t == "bool"]
        choice = self.between(0, 4)
        if choice == 0 and flags:
            return ("not " if self.chance(40) else "") + self.pick(flags)
        if choice == 1:
            return self.pick(("False", "0", "True", '""', "()", "None"))
        if choice == 2:
            ints = [n for n, (t, _v) in self.constants.items() if t == "int"]
            if ints:
                return f"{self.pick(ints)} {self.pick(('>', '==', '<='))} {self.pick(SMALL)}"
        return self.expr("bool", names, 1)

    def returning(self, names: _Names, indent: str, ctx: "_Context") -> list[str]:
        """An early return (or raise), then dead code after it."""
        lines = []
        if self.chance(25):
            lines.append(f"{indent}raise ValueError({self.expr('str', names, 1)})")
        elif ctx.generator:
            lines.append(f"{indent}return")
        elif ctx.returns_out:
            lines.append(self.emit_value(self.expr("any", names, 1), indent, ctx))
            lines.append(f"{indent}return out")
        else:
            lines.append(f"{indent}return {self.expr('any', names, 1)}")
        if self.chance(40):
            lines.append(self.emit_value(self.expr("any", names, 1), indent, ctx))
        return lines

    def if_statement(self, names: _Names, depth: int, indent: str, ctx: "_Context") -> list[str]:
        lines = [f"{indent}if {self.condition(names)}:"]
        lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        if self.chance(30):
            lines.append(f"{indent}elif {self.condition(names)}:")
            lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        if self.chance(50):
            lines.append(f"{indent}else:")
            lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        return lines

    def for_statement(self, names: _Names, depth: int, indent: str, ctx: "_Context") -> list[str]:
        source, item = self.iterable(names)
        var = self.fresh("v")
        inner = names.child()
        inner.types[var] = item
        lines = [f"{indent}for {var} in {source}:"]
        lines += self.block(inner, depth - 1, indent + "    ", ctx.in_loop())
        if self.chance(40):
            lines.append(f"{indent}else:")
            lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        self.function_locals.append(var)
        if self.chance(30):
            names.types[var] = item  # read after the loop (unbound if it never ran)
        return lines

    def while_statement(self, names: _Names, depth: int, indent: str, ctx: "_Context") -> list[str]:
        counter = self.fresh("w")
        bound = self.pick(("0", "1", "3", *[n for n, (t, _v) in self.constants.items() if t == "int"]))
        lines = [f"{indent}{counter} = 0"]
        if self.chance(30):
            # `while FLAG:` on a constant (dead code unless the flag is rebound)
            flags = [n for n, (t, _v) in self.constants.items() if t == "bool"] or ["True"]
            lines.append(f"{indent}while {self.pick(flags)} and {counter} < 3:")
        else:
            lines.append(f"{indent}while {counter} < {bound} and {counter} < 6:")
        inner = names.child()
        body = [f"{indent}    {counter} += 1"]
        body += self.block(inner, depth - 1, indent + "    ", ctx.in_loop())
        lines += body
        if self.chance(30):
            lines.append(f"{indent}else:")
            lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        names.types.setdefault(counter, "int")
        return lines

    def try_statement(self, names: _Names, depth: int, indent: str, ctx: "_Context") -> list[str]:
        lines = [f"{indent}try:"]
        lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        lines.append(f"{indent}except {self.pick(EXCEPTIONS)} as e:")
        lines.append(self.emit_value("(type(e).__name__, str(e))", indent + "    ", ctx))
        if self.chance(30):
            lines.append(f"{indent}else:")
            lines += self.block(names.child(), depth - 1, indent + "    ", ctx)
        if self.chance(20):
            lines.append(f"{indent}finally:")
            lines.append(self.emit_value(self.expr("any", names, 1), indent + "    ", ctx))
        return lines

    def inner_function(self, names: _Names, indent: str, ctx: "_Context") -> list[str]:
        """A closure over the function's names, called right away (or a lambda)."""
        inner_name = self.fresh("inner")
        param = self.fresh("p")
        param_type = self.pick(("int", "str"))
        scope = names.child()
        scope.types[param] = param_type
        lines = []
        if self.chance(30):
            body = self.expr("any", scope, 2)
            lines.append(f"{indent}{inner_name} = lambda {param}: {body}")
        else:
            lines.append(f"{indent}def {inner_name}({param}):")
            ints = [n for n in names.of("int") if n.startswith(("x", "w"))]
            if ints and self.chance(40):
                target = self.pick(ints)
                lines.append(f"{indent}    nonlocal {target}")
                lines.append(f"{indent}    {target} += 1")
            lines.append(f"{indent}    return {self.expr('any', scope, 2)}")
        argument = self.expr(param_type, names, 1)
        lines.append(self.emit_value(f"{inner_name}({argument})", indent, ctx))
        return lines

    # -- functions ----------------------------------------------------------------------------
    def parameters(self) -> list[_Param]:
        """Parameters in one of a few signature styles (plain, positional-only, keyword-only,
        ``*args``); names are usually a/b/c, sometimes a module constant's or a builtin's."""
        style = self.pick(("plain",) * 7 + ("posonly", "kwonly", "star"))
        params: list[_Param] = []
        has_default = False
        taken: set[str] = set()
        for index in range(self.between(0, 3)):
            type_ = self.pick(("int", "str", "float", "tuple", "bool", "bytes"))
            name = self.shadowing_name() if self.chance(12) else "abc"[index]
            if name in taken:
                name = "abc"[index]
            taken.add(name)
            kind = "pos"
            if style == "posonly" and index == 0:
                kind = "posonly"
            elif style == "kwonly" and index > 0:
                kind = "kwonly"
            default = None
            if (has_default and kind != "kwonly") or self.chance(35):
                has_default = has_default or kind != "kwonly"
                default = self.default_value(type_)
            params.append(_Param(name, type_, default, kind))
        if style == "star":
            params.append(_Param("args", "tuple", None, "star"))
        return params

    @staticmethod
    def signature(params: list[_Param]) -> str:
        parts = []
        for index, param in enumerate(params):
            if param.kind == "kwonly" and not any(p.kind in ("kwonly", "star") for p in params[:index]):
                parts.append("*")
            parts.append("*args" if param.kind == "star" else
                         param.name if param.default is None else f"{param.name}={param.default}")
            if param.kind == "posonly":
                parts.append("/")
        return ", ".join(parts)

    def default_value(self, type_: str) -> str:
        same_type = [n for n, (t, _v) in self.constants.items() if t == type_]
        if same_type and self.chance(50):
            return self.pick(same_type)
        if type_ in ("int", "str") and self.chance(20):
            return self.call("len", self.pick(STR_LITERALS)) if type_ == "int" else self.call("str", self.literal("int"))
        return self.literal(type_)

    def function(self, name: str, indent: str = "", method: str = "") -> list[str]:
        """A function of a random kind. ``method`` is "", "method" or "static"."""
        kind = self.pick(self.profile.kinds + ("coroutine",) * (not method and self.chance(10)))
        params = self.parameters()
        self.function_locals = []
        self.functions.append(_Function(name, params, kind))
        names = _Names({p.name: p.type for p in params})
        signature = self.signature(params)
        if method == "method":
            signature = "self, " + signature if signature else "self"
        lines = []
        if method == "static":
            lines.append("@staticmethod")
        elif not method and self.chance(8):
            lines.append("@_wrap")
        lines.append(f"{'async ' if kind == 'coroutine' else ''}def {name}({signature}):")
        if self.chance(15):
            lines.append(f'    """Docstring of {name}."""')
        if kind == "simple":
            lines += self.simple_body(names)
        elif kind == "generator":
            ctx = _Context(generator=True)
            lines += self.protected_block(names, ctx)
            lines.append(f"    yield {self.expr('any', names, 2)}")
        elif kind == "closure":
            lines += self.closure_body(names)
        else:
            lines += self.collecting_body(names, kind)
        return [indent + line if line else line for line in lines]

    def collecting_body(self, names: _Names, kind: str) -> list[str]:
        """Statements appending to ``out``, returned at the end; closures made in loops are
        collected in ``later`` and called at the end (late binding of loop variables)."""
        deferred = self.chance(40)
        ctx = _Context(returns_out=True, deferred=deferred)
        lines = ["    out = []"] + (["    later = []"] if deferred else [])
        if kind == "loop":
            lines += self.for_statement(names, self.profile.depth, "    ", ctx)
        lines += self.protected_block(names, ctx)
        if deferred:
            lines.append("    out.append([g() for g in later])")
        if kind != "coroutine" and self.chance(5):
            lines += ["    if False:", "        yield out"]  # dead code that makes it a generator
        lines.append("    return out")
        if self.chance(20):
            lines.append(f"    out.append({self.expr('any', names, 1)})")  # dead code
        return lines

    def klass(self, index: int) -> list[str]:
        """A class whose methods use module constants; a class attribute may share a
        constant's name (methods still see the global)."""
        name = f"C{index}"
        lines = [f"class {name}:"]
        if self.constants and self.chance(50):
            lines.append(f"    {self.pick(sorted(self.constants))} = {self.literal(self.pick(TYPES))}")
        for m in range(self.between(1, 2)):
            static = self.chance(30)
            lines += self.function(f"m{m}", "    ", "static" if static else "method")
            method = self.functions[-1]
            method.call = f"{name}.m{m}" if static else f"{name}().m{m}"
            method.label = f"{name}.m{m}"
        return lines

    def simple_body(self, names: _Names) -> list[str]:
        lines = []
        if self.chance(40):
            var = self.fresh("x")
            type_ = self.pick(("int", "str", "float"))
            lines.append(f"    {var} = {self.literal(type_)}")
            names.types[var] = type_
        earlier = [f for f in self.functions[:-1] if f.kind in ("simple", "body", "loop")]
        if earlier and self.chance(25):
            callee = self.pick(earlier)
            args = _Driver(self).arguments(callee, literal_only=True)
            lines.append(f"    return ({callee.call}({args}), {self.expr('any', names, 3)})")
        else:
            lines.append(f"    return {self.expr(self.pick(TYPES[:-1]), names, 3)}")
        return lines

    def closure_body(self, names: _Names) -> list[str]:
        var = self.fresh("x")
        type_ = self.pick(("int", "str", "tuple"))
        lines = [f"    {var} = {self.expr(type_, names, 2)}"]
        names.types[var] = type_
        inner = names.child()
        inner.types["q"] = "int"
        lines.append("    def inner(q):")
        if type_ == "int" and self.chance(40):
            lines.append(f"        nonlocal {var}")
            lines.append(f"        {var} += q")
        lines.append(f"        return {self.expr('any', inner, 3)}")
        lines.append("    return inner")
        return lines

    # -- module -------------------------------------------------------------------------------
    def constant_lines(self) -> list[str]:
        lines = []
        unpacked: list[tuple[str, str, str]] = []
        unpacking = self.chance(self.profile.unpacking)
        for _ in range(self.between(1, 6)):
            type_ = self.pick(tuple(CONSTANT_NAMES))
            name = self.pick(CONSTANT_NAMES[type_])
            if name in self.constants:
                continue
            value = self.pick(CONSTANT_VALUES[type_])
            self.constants[name] = (type_, value)
            if unpacking and len(unpacked) < 3:
                unpacked.append((name, type_, value))  # `A, B = 1, 2`, written after the loop
                continue
            annotation = f": {type_ if type_ != 'none' else 'None'}" if self.chance(15) else ""
            lines.append(f"{name}{annotation} = {value}")
        if unpacked:
            lines.insert(0, shapes.unpacked_constants(self, unpacked))
        if self.chance(30) and "NAN" not in self.constants:
            self.constants["NAN"] = ("float", 'float("nan")')
            lines.append('NAN = float("nan")')
        return lines

    def module(self) -> str:
        lines = list(PRELUDE)
        lines += self.constant_lines()
        # identity of results vs constants: off while the value-guard identity bug is known
        checked = () if "value-guard-identity" in self.avoid else tuple(self.constants)
        lines.append(f"_CONSTANTS = {checked!r}")
        lines.append("_ORIGINALS = {name: _mod.__dict__[name] for name in _CONSTANTS}")
        lines.append("")
        # issue 16's shapes first, while the tape still has decisions to read
        families = [f for f in self.profile.shapes if self.chance(self.profile.shape_chance)]
        if families:
            lines += shapes.PRELUDE
            for family in families:
                lines += shapes.add_family(self, family)
        patched = self.chance(10)
        if patched:
            # functions defined (and registered) while a builtin is patched
            name = self.pick(PATCHABLE_BUILTINS)
            lines.append(f"_b.{name} = {_Driver(self).replacement(name)}")
        for index in range(self.between(*self.profile.functions)):
            lines += self.klass(index) if self.chance(12) else self.function(f"f{index}")
            lines.append("")
        if patched:
            lines.append(f"_b.{name} = _ORIG_{name}")
        if self.profile.during and self.chance(60):
            lines += self.during_functions()
        lines += _Driver(self).lines()
        return "\n".join(lines) + "\n"

    def during_functions(self) -> list[str]:
        """Functions that rebind something, call a generated function, and undo the rebinding:
        the callee starts after the rebinding, so it must see it."""
        lines = []
        callables = [f for f in self.functions if f.kind != "closure"]
        for index in range(self.between(1, 2)):
            if not callables:
                break
            target = self.pick(callables)
            _key, do, undo = _Driver(self).hidden_rebinding()
            lines.append(f"def during{index}():")
            lines += [f"    {line}" for line in do]
            lines.append("    try:")
            # literal arguments only: this frame must not read what it just rebound
            call = f"{target.call}({_Driver(self).arguments(target, literal_only=True)})"
            lines.append(f"        return list({call})" if target.kind == "generator" else f"        return {call}")
            lines.append("    finally:")
            lines += [f"        {line}" for line in undo] or ["        pass"]
            lines.append("")
            self.functions.append(_Function(f"during{index}", [], "during"))
        return lines


@dataclass(frozen=True)
class _Context:
    loop: bool = False
    generator: bool = False
    returns_out: bool = False
    #: the function has a `later` list of closures called at its end
    deferred: bool = False

    def in_loop(self) -> "_Context":
        return _Context(True, self.generator, self.returns_out, self.deferred)


#: Helpers every module starts with. They keep the builtins they use in defaults, so a patched
#: builtin changes what the functions under test do, not how results are printed.
PRELUDE = (
    "import builtins as _b",
    "import sys",
    "import traceback as _tb",
    "_mod = sys.modules[__name__]",
    "_ERRORS = []  # what the calls raised: the runner compares their traceback text",
    *(f"_ORIG_{name} = {name}" for name in PATCHABLE_BUILTINS),
    "",
    "def _show(x, _type=type, _repr=repr, _sorted=sorted, _tuple=tuple, _list=list, _set=set,",
    "          _frozenset=frozenset, _dict=dict, _getattr=getattr):",
    "    t = _type(x)",
    "    if t is _set or t is _frozenset:",
    "        return (t.__name__, _tuple(_sorted(_repr(_show(i)) for i in x)))",
    "    if t is _list or t is _tuple:",
    "        return t(_show(i) for i in x)",
    "    if t is _dict:",
    "        return ('dict', _tuple((_show(k), _show(v)) for k, v in x.items()))",
    "    if ' at 0x' in _repr(x):",
    "        return '<' + t.__name__ + ' ' + _getattr(x, '__qualname__', '?') + '>'",
    "    return x",
    "",
    "def _line(e):",
    "    if isinstance(e, RecursionError):",
    "        return None  # where the limit hit moves with the depth (documented)",
    "    tb = e.__traceback__",
    "    while tb.tb_next is not None:",
    "        tb = tb.tb_next",
    "    return tb.tb_lineno",
    "",
    "def _run(coroutine):",
    "    try:",
    "        coroutine.send(None)",
    "    except StopIteration as stop:",
    "        return stop.value",
    "    raise AssertionError('suspended')",
    "",
    "def _wrap(fn):",
    "    def wrapper(*args, **kwargs):",
    "        return fn(*args, **kwargs)",
    "    return wrapper",
    "",
    "def _fresh(x, _type=type, _float=float, _int=int, _str=str, _bytes=bytes, _tuple=tuple,",
    "           _list=list, _bytearray=bytearray):",
    "    # an equal value in a new object (where CPython makes new objects: not small ints,",
    "    # single characters, empty or singleton values)",
    "    t = _type(x)",
    "    if t is _float:",
    "        return x * 1.0",
    "    if t is _int:",
    "        return x + 0",
    "    if t is _str:",
    "        return ''.join(_list(x))",
    "    if t is _bytes:",
    "        return _bytes(_bytearray(x))",
    "    if t is _tuple:",
    "        return _tuple(_list(x))",
    "    return x",
    "",
    "def _identities(result, _type=type, _list=list, _tuple=tuple, _getattr=getattr):",
    "    # which rebound module constants the result (or an item of it) is, by identity; before",
    "    # rebinding a folded result may be the very constant object (as CPython's own folding).",
    "    # A value _fresh cannot renew (b'', a small int, None) is one object CPython shares or",
    "    # not as it likes (3.13.0: `b' x ' * 0` is a new empty bytes, the literal b'' is not)",
    "    items = [result] + (_list(result) if _type(result) in (_list, _tuple) else [])",
    "    rebound = [name for name in _CONSTANTS if _getattr(_mod, name, None) is not _ORIGINALS[name]]",
    "    marks = [name + ':' + ''.join('1' if i is _getattr(_mod, name) else '0' for i in items)",
    "             for name in rebound if _fresh(_getattr(_mod, name)) is not _getattr(_mod, name)]",
    "    return [mark for mark in marks if '1' in mark]",
    "",
    "def _call(label, fn, /, *args, _print=print, _repr=repr, _type=type, _str=str, _list=list,",
    "          **kwargs):",
    "    try:",
    "        result = fn(*args, **kwargs)",
    "        if _type(result).__name__ == 'generator':",
    "            result = _list(result)",
    "        elif _type(result).__name__ == 'coroutine':",
    "            result = _run(result)",
    "        _print(label, _repr(_show(result)), *_identities(result))",
    "    except Exception as e:",
    "        _print(label, 'raised', _type(e).__name__, _repr(_str(e)), 'line', _line(e))",
    "        _record(e)",
    "",
    "def _record(e, _clear=_tb.clear_frames):",
    "    # keep the exception for the runner to format, but not its frames' locals: they die",
    "    # here, about when they would without the record",
    "    _ERRORS.append(e)",
    "    steps = 0",
    "    while e is not None and steps < 8:",
    "        _clear(e.__traceback__)",
    "        e = e.__cause__ if e.__cause__ is not None else e.__context__",
    "        steps += 1",
    "",
)


class _Driver:
    """The module's bottom: rounds of calls with rebinding steps between them."""

    def __init__(self, builder: _Builder) -> None:
        self.b = builder
        #: names rebound and not yet restored (a second `del` of one would fail)
        self.touched: set[str] = set()

    def value(self, type_: str, literal_only: bool) -> str:
        """A literal or a module constant (``f(N)``), usually of ``type_``. ``literal_only``: no
        name is read, not even a builtin's (``float("nan")`` reads ``float``)."""
        b = self.b
        if b.chance(6):
            type_ = b.pick(TYPES)
        constants = [n for n, (t, _v) in b.constants.items() if t == type_]
        if constants and not literal_only and b.chance(35):
            return b.pick(constants)
        literal = b.literal(type_)
        if literal_only:
            for call, same in CALL_LITERALS.items():
                literal = literal.replace(call, same)
        return literal

    def arguments(self, function: _Function, literal_only: bool = False) -> str:
        """Arguments for a call respecting the signature: positional, then keywords; trailing
        defaults sometimes left out; ``*args`` filled only after every positional."""
        b = self.b
        args = []
        keywords = False
        positional_done = False
        for param in function.params:
            if param.kind == "star":
                if not keywords and not positional_done:
                    args += [self.value("any", literal_only) for _ in range(b.between(0, 2))]
                continue
            if param.kind == "kwonly":
                if param.default is None or not b.chance(40):
                    args.append(f"{param.name}={self.value(param.type, literal_only)}")
                continue
            if positional_done:
                continue
            if param.default is not None and b.chance(40):
                positional_done = True  # leave the rest to their defaults
                continue
            value = self.value(param.type, literal_only)
            keywords = keywords or (param.kind == "pos" and b.chance(15))
            args.append(f"{param.name}={value}" if keywords else value)
        # keyword-only arguments were appended in order; positionals precede all keywords
        positional = [a for a in args if not _is_keyword(a)]
        named = [a for a in args if _is_keyword(a)]
        return ", ".join(positional + named)

    def call_round(self) -> list[str]:
        lines = []
        for function in self.b.functions:
            args = self.arguments(function)
            if function.kind == "closure":
                label = f"{function.label}()()"
                arg = self.b.literal("int")
                lines.append(f"_call({label!r}, lambda: {function.call}({args})({arg}))")
            else:
                lines.append(f"_call({function.label!r}, {function.call}{', ' if args else ''}{args})")
        return lines

    def lines(self) -> list[str]:
        b = self.b
        out = ["# driver"] + self.call_round()
        pending: list[tuple[str, list[str]]] = []
        for _ in range(b.between(1, 5)):
            if b.chance(b.profile.rebinding):
                visible = b.chance(b.profile.visible)
                key, do, undo = self.visible_rebinding() if visible else self.hidden_rebinding()
                if key in self.touched:
                    continue
                self.touched.add(key)
                out += do
                pending.append((key, undo))
            elif pending and b.chance(50):
                key, undo = pending.pop(b.between(0, len(pending) - 1))
                self.touched.discard(key)
                out += undo
            out += self.call_round()
        while pending:
            out += pending.pop()[1]
        out += self.call_round()
        return out

    # -- rebinding ----------------------------------------------------------------------------
    def builtin_name(self) -> str:
        used = sorted(self.b.used_builtins)
        return self.b.pick(used) if used and self.b.chance(85) else self.b.pick(PATCHABLE_BUILTINS)

    def replacement(self, name: str) -> str:
        template = self.b.pick(REPLACEMENTS)
        other = self.b.pick([n for n in PATCHABLE_BUILTINS if n != name])
        return template.format(other=other, same=name)

    def constant_value(self, name: str) -> str:
        """A new value for a module constant: different, equal of another type, or equal but a
        different object (the value guard then holds)."""
        type_, value = self.b.constants[name]
        choice = self.b.between(0, 4)
        if choice == 0 and value in FRESH_EQUAL:
            return FRESH_EQUAL[value]
        if choice == 1 and value in EQUAL_OTHER_TYPE:
            return f"_fresh({EQUAL_OTHER_TYPE[value]})"
        if choice == 2:
            return value  # the same constant again
        # A new object, not a constant of the module's code: CPython shares equal constants of
        # one module, and a call fatopt folds returns such a constant, so a literal here could be
        # the very object a folded call returns (docs/semantics.md, "Folded calls return
        # constants"), which `_identities` would report.
        return f"_fresh({self.b.literal(type_ if self.b.chance(80) else self.b.pick(TYPES))})"

    def hidden_rebinding(self) -> tuple[str, list[str], list[str]]:
        """(what is rebound, statements the optimizer cannot attribute to a name, their undo)."""
        b = self.b
        offered = [make for visible, make in b.rebinders if not visible]
        if offered and b.chance(50):
            return b.pick(offered)()
        choice = b.between(0, 5) if b.constants else b.between(0, 2)
        if choice == 0:
            name = self.builtin_name()
            value = self.replacement(name)
            do = b.pick((f"_b.{name} = {value}", f"setattr(_b, {name!r}, {value})",
                         f"_b.__dict__[{name!r}] = {value}", f"del _b.{name}"))
            return f"builtins.{name}", [do], [f"_b.{name} = _ORIG_{name}"]
        if choice in (1, 2):
            name = self.builtin_name()
            value = self.replacement(name)
            do = b.pick((f"_mod.{name} = {value}", f"setattr(_mod, {name!r}, {value})",
                         f"_mod.__dict__[{name!r}] = {value}"))
            undo = b.pick((f"del _mod.{name}", f"delattr(_mod, {name!r})",
                           f"del _mod.__dict__[{name!r}]", f"_mod.__dict__.pop({name!r})"))
            return f"global.{name}", [do], [undo]
        name = b.pick(sorted(b.constants))
        original = b.constants[name][1]
        restore = [f"_mod.{name} = {original}"]
        if b.chance(15):
            return f"global.{name}", [f"del _mod.{name}"], restore
        value = self.constant_value(name)
        do = b.pick((f"_mod.{name} = {value}", f"setattr(_mod, {name!r}, {value})",
                     f"_mod.__dict__[{name!r}] = {value}", f"_mod.__dict__.update({name}={value})"))
        return f"global.{name}", [do], restore

    def visible_rebinding(self) -> tuple[str, list[str], list[str]]:
        """Rebinding the optimizer's analyses must notice (and then assume nothing)."""
        b = self.b
        offered = [make for visible, make in b.rebinders if visible]
        if offered and b.chance(50):
            return b.pick(offered)()
        choice = b.between(0, 3) if b.constants else 0
        if choice == 0:
            name = self.builtin_name()
            return f"global.{name}", [f"{name} = {self.replacement(name)}"], [f"del {name}"]
        name = b.pick(sorted(b.constants))
        original = b.constants[name][1]
        value = self.constant_value(name)
        if choice == 1:
            return f"global.{name}", [f"{name} = {value}"], [f"{name} = {original}"]
        if choice == 2:
            return f"global.{name}", [f"globals()[{name!r}] = {value}"], [f"globals()[{name!r}] = {original}"]
        setter = b.fresh("_set_")
        return (f"global.{name}", [f"def {setter}(v):", f"    global {name}", f"    {name} = v", f"{setter}({value})"],
                [f"{setter}({original})"])


def _is_keyword(argument: str) -> bool:
    """``name=value`` (not ``float("nan")`` or ``"a=b"``)."""
    head, sep, _rest = argument.partition("=")
    return bool(sep) and head.isidentifier()


def build(data: bytes, profile: Profile = PROFILES["mixed"], avoid: frozenset[str] = AVOID) -> str:
    """Source text of the module the decisions in ``data`` describe."""
    return _Builder(_Tape(data), profile, avoid).module()


def modules(
    profile: Profile = PROFILES["mixed"], size: int = 2048, avoid: frozenset[str] = AVOID,
) -> st.SearchStrategy[str]:
    """Source text of generated modules; ``avoid`` names known bugs not to expose."""
    return st.binary(min_size=size // 4, max_size=size).map(lambda data: build(data, profile, avoid))
