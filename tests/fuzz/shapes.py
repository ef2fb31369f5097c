"""Code shapes of issue 16's transformations, for the fuzz generator to put in its modules.

Four families, each a few module-level definitions, functions for the driver to call, and ways
to rebind what the optimizer may assume about them:

- ``calls``: small module-level functions (a single ``return``, early returns, defaults,
  keyword-only and positional-only parameters, callees that raise ``ZeroDivisionError``,
  ``StopIteration`` or a custom exception) called from others: with keywords, with the wrong
  arity or a bad keyword (``TypeError``), nested in arguments, in comprehensions, under
  ``try``/``except`` that catches or chains; the callee rebound at run time (``_mod.h = g``,
  ``h.__code__ = ...``, ``h.__defaults__ = ...``, ``h = g``, ``global h``).
- ``genexprs``: generator expressions consumed by ``set list tuple frozenset sorted dict min max
  any all sum`` and ``str.join``: short-circuiting, empty inputs, raising elements,
  ``StopIteration`` raised by the element or the condition, unhashable elements, two ``for``s,
  iterables and items that print their ``__iter__``/``__next__``/``__hash__``/``__eq__``/
  ``__lt__``/``__bool__`` calls; the consumer builtins patched at run time.
- ``classes``: class attributes used as constants (``K.RED`` read in functions, methods and
  static methods, inherited by a subclass), rebound with ``K.RED = ...``, ``setattr``, ``del``,
  ``type.__setattr__`` or by rebinding the class's global name.
- ``recursive``: recursive generators (``yield from walk(child)``, ``yield from self.left`` on a
  tree class) and recursive coroutines (``await fib(n - 1)``, some awaiting a suspending
  awaitable), driven with ``next``/``send``/``throw``/``close``; the function or ``__iter__``
  rebound at run time.

A fifth family, ``dunders`` (issue 17's type specialization: classes with operator dunders,
subscripts and protocols, subclasses, ``__class__`` assignment, changes in the middle of a frame),
lives in ``tests/fuzz/dunders.py``.

Every choice is read from the builder's tape, so a module is a function of its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from tests.fuzz.generator import _Builder

__all__ = ["FAMILIES", "PRELUDE", "Rebinder", "add_family", "unpacked_constants"]

FAMILIES = ("calls", "genexprs", "classes", "recursive", "dunders")

#: (key, statements, their undo): the driver's shape of a rebinding step
Rebinding = tuple[str, list[str], list[str]]
#: makes one rebinding step; ``visible`` says whether the optimizer's analyses can see it
Rebinder = tuple[bool, Callable[[], Rebinding]]

#: Helpers a module using any family starts with (after the generator's own prelude). Like the
#: generator's, they keep the builtins they use in defaults, so a patched builtin changes what the
#: code under test does, not how it is observed.
PRELUDE = (
    "class Err1(Exception):",
    "    pass",
    "",
    "class Err2(LookupError):",
    "    pass",
    "",
    "def _note(tag, value, _print=print):",
    "    _print('note', tag, value)",
    "    return value",
    "",
    "class _Item:",
    "    # an element that prints the special methods called on it",
    "    def __init__(self, v):",
    "        self.v = v",
    "    def __hash__(self, _print=print, _hash=hash):",
    "        _print('hash', self.v)",
    "        return _hash(self.v)",
    "    def __eq__(self, other, _print=print, _type=type):",
    "        _print('eq', self.v)",
    "        return _type(other) is _Item and self.v == other.v",
    "    def __lt__(self, other, _print=print):",
    "        _print('lt', self.v)",
    "        return self.v < other.v",
    "    def __bool__(self, _print=print, _bool=bool):",
    "        _print('bool', self.v)",
    "        return _bool(self.v)",
    "    def __repr__(self, _repr=repr):",
    "        return '_Item(' + _repr(self.v) + ')'",
    "",
    "class _Seq:",
    "    # an iterable that prints its __iter__ and __next__ calls; `fail` raises at that index",
    "    def __init__(self, items, fail=-1):",
    "        self.items = items",
    "        self.fail = fail",
    "    def __iter__(self, _print=print):",
    "        _print('iter', self.items)",
    "        self.index = 0",
    "        return self",
    "    def __next__(self, _print=print, _len=len):",
    "        _print('next', self.index)",
    "        if self.index == self.fail:",
    "            raise Err2('next failed')",
    "        if self.index >= _len(self.items):",
    "            raise StopIteration",
    "        self.index += 1",
    "        return self.items[self.index - 1]",
    "",
    "class _Tick:",
    "    # an awaitable that suspends the coroutine awaiting it once",
    "    def __init__(self, value):",
    "        self.value = value",
    "    def __await__(self):",
    "        sent = yield ('tick', self.value)",
    "        return sent",
    "",
)

ATTRIBUTE_NAMES = ("RED", "GREEN", "FORWARD", "SIZE", "LABEL", "STEP")
ATTRIBUTE_VALUES = {
    "int": ("0", "1", "2", "7", "1000", "-3"),
    "str": ('"fwd"', '"a,b"', '""', '"x" * 2'),
    "float": ("0.5", "-0.0", "2.5"),
    "tuple": ("(1, 2)", '("a", "b", "c")', "()"),
    "bool": ("True", "False"),
}
NESTED_DATA = ("(1, (2, 3), ((4,), 5))", "((), 1, ())", "(0, (1, 0))", '("a", ("b",))', "()",
               "((((1,),),), 2)", "(3,)", '(1, "x", (None, 2.5))')


@dataclass
class _Callee:
    name: str
    #: (name, default source or None, kind: "pos" | "posonly" | "kwonly")
    params: list[tuple[str, str | None, str]]
    has_defaults: bool
    #: ``def h(p): x, y = p; return ...``, called with a pair (a tuple display)
    pair: bool = False


def add_family(b: "_Builder", family: str) -> list[str]:
    """Definition lines of one ``family``; appends to ``b.functions`` and ``b.rebinders``."""
    from tests.fuzz.dunders import add_dunders
    from tests.fuzz.fresh import add_fresh

    b.function_locals = []  # the last generated function's locals are not in scope here
    return {"calls": _calls, "genexprs": _genexprs, "classes": _classes,
            "recursive": _recursive, "dunders": add_dunders, "fresh": add_fresh}[family](b)


# -- module constants bound by tuple unpacking ---------------------------------------------------

def unpacked_constants(b: "_Builder", candidates: list[tuple[str, str, str]]) -> str:
    """One statement binding several module constants at once (``A, B = 1, 2``)."""
    targets = ", ".join(name for name, _t, _v in candidates)
    values = ", ".join(value for _n, _t, value in candidates)
    style = b.between(0, 2)
    if style == 0:
        return f"{targets} = {values}"
    if style == 1:
        return f"({targets}) = ({values})"
    return f"[{targets}] = [{values}]"


# -- inlinable calls -----------------------------------------------------------------------------

def _callee_params(b: "_Builder") -> list[tuple[str, str | None, str]]:
    style = b.pick(("plain", "plain", "plain", "defaults", "kwonly", "posonly"))
    count = b.between(1, 3)
    params = []
    for index in range(count):
        name = "abc"[index]
        default = None
        if style == "defaults" and index > 0 or style == "plain" and index == count - 1 and b.chance(30):
            default = b.default_value("int")
        kind = "pos"
        if style == "kwonly" and index > 0:
            kind = "kwonly"
            default = default if default is not None or b.chance(50) else b.literal("int")
        if style == "posonly" and index == 0:
            kind = "posonly"
        params.append((name, default, kind))
    # a non-default positional after a default one is a SyntaxError
    seen_default = False
    for index, (name, default, kind) in enumerate(params):
        if kind == "kwonly":
            continue
        if seen_default and default is None:
            params[index] = (name, b.literal("int"), kind)
        seen_default = seen_default or default is not None
    return params


def _signature(params: list[tuple[str, str | None, str]]) -> str:
    parts = []
    star = False
    for name, default, kind in params:
        if kind == "kwonly" and not star:
            parts.append("*")
            star = True
        parts.append(name if default is None else f"{name}={default}")
        if kind == "posonly":
            parts.append("/")
    return ", ".join(parts)


def _callee_body(b: "_Builder", names, callees: list[_Callee]) -> list[str]:
    from tests.fuzz.generator import _Names

    assert isinstance(names, _Names)
    shape = b.between(0, 6)
    e = lambda depth=2: b.expr("int", names, depth)  # noqa: E731
    if shape in (0, 1):
        return [f"    return {e()}"]
    if shape == 2:
        # early returns, a local, a raise
        error = b.pick(("ValueError('zero')", "Err1(a)", "ZeroDivisionError('by hand')",
                        "StopIteration(a)", "Err2('missing', a)"))
        return [f"    if {b.expr('bool', names, 1)}:",
                f"        return {e(1)}",
                f"    x = {e()}",
                "    if x == 0:",
                f"        raise {error}",
                "    elif x < 0:",
                f"        return -x * {b.pick(('a', '2', 'x'))}",
                "    return x"]
    if shape == 3:
        return [f"    return {b.pick(('10', 'a', '7', '1'))} // {b.pick(('a', '(a - 1)', 'a % 3'))}"]
    if shape == 4:
        if callees:
            inner = b.pick(callees)
            return [f"    return {inner.name}({_arguments(b, inner, names)}) + {e(1)}"]
        return [f"    return {e()}"]
    if shape == 5:
        return ["    if a:", f"        return next(iter({b.pick(('()', '(a,)', '[]'))}))", f"    return {e(1)}"]
    return [f"    return ({e(1)}, {b.expr('str', names, 1)})"]


def _arguments(b: "_Builder", callee: _Callee, names) -> str:
    """A call's arguments: usually right, sometimes a wrong arity or a bad keyword."""
    arg = lambda: b.expr("int", names, 1)  # noqa: E731
    if callee.pair:
        # a pair read in place; now and then one that does not unpack (in the callee's line)
        return b.pick((f"({arg()}, {arg()})",) * 6 + (f"({arg()}, {arg()}, {arg()})", arg()))
    wrong = b.chance(12)
    if wrong:
        choice = b.between(0, 3)
        if choice == 0:
            return ""  # too few (unless everything has a default)
        if choice == 1:
            return ", ".join(arg() for _ in range(len(callee.params) + 1))
        if choice == 2:
            return f"{arg()}, zz={arg()}"
        first = callee.params[0][0]
        return f"{arg()}, {first}={arg()}"  # given twice (or positional-only by keyword)
    positional, keywords = [], []
    for name, default, kind in callee.params:
        if default is not None and b.chance(35):
            continue  # leave it to its default
        if kind == "kwonly" or (kind == "pos" and (keywords or b.chance(20))):
            keywords.append(f"{name}={arg()}")
        elif not keywords:
            positional.append(arg())
    return ", ".join(positional + keywords)


def _calls(b: "_Builder") -> list[str]:
    from tests.fuzz.generator import _Function, _Names, _Param

    lines: list[str] = []
    callees: list[_Callee] = []
    for _ in range(b.between(1, 3)):
        name = b.fresh("h")
        pair = b.chance(25)
        params = [("p", None, "pos")] if pair else _callee_params(b)
        names = _Names({"x": "int", "y": "int"} if pair else {p: "int" for p, _d, _k in params})
        lines.append(f"def {name}({_signature(params)}):")
        if pair:
            # unpacking then one expression: inlined in place where called with a pair
            value = b.expr("int", names, 2)
            lines += ["    x, y = p", f"    return {b.pick((value, f'{value} // y', f'10 // (x - 1) + {value}'))}"]
        else:
            lines += _callee_body(b, names, callees)
        lines.append(f"_FN_{name} = {name}")
        lines.append(f"_DEFAULTS_{name} = {name}.__defaults__")
        lines.append("")
        callee = _Callee(name, params, any(d is not None for _n, d, _k in params), pair)
        callees.append(callee)
        b.rebinders.append((False, lambda c=callee: _rebind_callee(b, c, callees, visible=False)))
        b.rebinders.append((True, lambda c=callee: _rebind_callee(b, c, callees, visible=True)))
    for _ in range(b.between(1, 2)):
        name = b.fresh("caller")
        generator = b.chance(15)
        names = _Names({"a": "int", "b": "int"})
        lines.append(f"def {name}(a, b={b.pick(('1', '0', '2', '-1'))}):")
        lines.append("    out = []")
        for _ in range(b.between(1, 4)):
            statement = _caller_statement(b, callees, names, generator)
            if b.chance(50):
                lines.append("    try:")
                lines += [f"        {s}" for s in statement]
                lines += _handler(b, names)
            else:
                lines += [f"    {s}" for s in statement]
        lines.append("    yield out" if generator else "    return out")
        lines.append("")
        b.functions.append(_Function(name, [_Param("a", "int", None, "pos"),
                                            _Param("b", "int", "1", "pos")], "generator" if generator else "body"))
    return lines


def _call_expr(b: "_Builder", callees: list[_Callee], names) -> str:
    callee = b.pick(callees)
    if b.chance(25):
        # a call nested in the arguments of another, evaluation order made visible
        outer = b.pick(callees)
        inner = f"{callee.name}({_arguments(b, callee, names)})"
        if b.chance(40):
            inner = f"_note({b.fresh('t')!r}, {inner})"
        extra = b.pick(("", f", {b.expr('int', names, 1)}", f", b=_note('kw', {b.expr('int', names, 0)})"))
        return f"{outer.name}({inner}{extra})"
    return f"{callee.name}({_arguments(b, callee, names)})"


def _caller_statement(b: "_Builder", callees, names, generator: bool) -> list[str]:
    emit = (lambda v: f"yield {v}") if generator else (lambda v: f"out.append({v})")
    choice = b.between(0, 7)
    call = _call_expr(b, callees, names)
    if choice == 7:
        # copies in a loop over range(): int expressions of the loop variable are read in place
        callee = b.pick(callees)
        inner = _with_v(names)
        parts = [f"{callee.name}({_arguments(b, callee, inner)})" for _ in range(b.between(1, 3))]
        return [f"for v in range({b.pick(('3', 'a % 4', '-1, 2'))}):",
                f"    {emit(b.pick((' + ', ' * ', ' - ')).join(parts))}"]
    if choice == 6:
        # one callee called two or three times in one statement: its copies share one handler,
        # which tells them apart by their calls' positions (the arguments may make one raise)
        callee = b.pick(callees)
        parts = [f"{callee.name}({_arguments(b, callee, names)})" for _ in range(b.between(2, 3))]
        if b.chance(30):
            parts[1] = f"_note({b.fresh('t')!r}, {parts[1]})"
        op = b.pick((" + ", " * ", " - ", ", "))
        joined = op.join(parts)
        return [emit(f"({joined})" if op == ", " else joined)]
    if choice == 0:
        return [emit(f"{call} + {b.expr('int', names, 1)}")]
    if choice == 1:
        return [f"if {call}:", f"    return {'' if generator else 'out'}", emit(call)]
    if choice == 2:
        return [emit(f"[{_call_expr(b, callees, _with_v(names))} for v in {b.pick(('range(3)', '(0, 1)', '()'))}]")]
    if choice == 3:
        return [f"x = {call}", emit(f"(x, {_call_expr(b, callees, names)})")]
    if choice == 4 and not generator and b.chance(50):
        # the callee rebound inside the running caller, then called there: code inlined when
        # the caller started must not run (its validity check makes the call as written)
        callee = b.pick(callees)
        _key, do, undo = _rebind_callee(b, callee, callees, visible=False)
        called = f"{callee.name}({_arguments(b, callee, names)})"
        return [*do, "try:", f"    {emit(called)}", "finally:", *([f"    {line}" for line in undo] or ["    pass"])]
    return [emit(call)]


def _with_v(names):
    inner = names.child()
    inner.types["v"] = "int"
    return inner


def _handler(b: "_Builder", names) -> list[str]:
    caught = b.pick(("ZeroDivisionError", "TypeError", "Err1", "LookupError", "Exception",
                     "(ValueError, StopIteration)", "ArithmeticError"))
    action = b.between(0, 3)
    lines = [f"    except {caught} as e:"]
    if action == 0:
        lines.append(f"        raise Err1({b.expr('int', names, 0)}) from e")
    elif action == 1:
        lines.append("        out.append(('caught', type(e).__name__, str(e)))")
        lines.append("        raise KeyError('during handling')")
    else:
        lines.append("        out.append(('caught', type(e).__name__, str(e), e.__traceback__.tb_next is None))")
    return lines


def _rebind_callee(b: "_Builder", callee: _Callee, callees: list[_Callee], visible: bool) -> Rebinding:
    name = callee.name
    key = f"global.{name}"
    # only callees defined before it: they cannot call it, so no rebinding makes a recursion
    # (an endless one through a function with defaults exhausts memory instead of raising
    # RecursionError on CPython 3.13.0, plain or optimized)
    others = [c.name for c in callees[:callees.index(callee)]]
    other = b.pick(others) if others else None
    replacement = b.pick((f"_FN_{other}" if other else "_note", "lambda *a, **k: 99",
                          "lambda a, b=2, c=3: (a, b, c)"))
    if visible:
        choice = b.between(0, 2)
        if choice == 0:
            return key, [f"{name} = {replacement}"], [f"{name} = _FN_{name}"]
        if choice == 1:
            return key, [f"globals()[{name!r}] = {replacement}"], [f"globals()[{name!r}] = _FN_{name}"]
        setter = b.fresh("_set_")
        return key, [f"def {setter}(v):", f"    global {name}", f"    {name} = v", f"{setter}({replacement})"], \
            [f"{setter}(_FN_{name})"]
    choice = b.between(0, 4)
    if choice == 0:
        return key, [b.pick((f"_mod.{name} = {replacement}", f"setattr(_mod, {name!r}, {replacement})"))], \
            [f"_mod.{name} = _FN_{name}"]
    if choice == 1:
        return key, [f"del _mod.{name}"], [f"_mod.{name} = _FN_{name}"]
    if choice == 2 and callee.has_defaults:
        defaults = sum(1 for _n, d, k in callee.params if d is not None and k != "kwonly")
        values = ", ".join(b.pick(("0", "5", "-1", '"s"')) for _ in range(defaults))
        return f"defaults.{name}", [f"_FN_{name}.__defaults__ = ({values}{',' if defaults == 1 else ''})"], \
            [f"_FN_{name}.__defaults__ = _DEFAULTS_{name}"]
    # The same function object, other code: the guard must see it. For good: code read from a
    # specialized function is its specialized code, and writing it back runs that code whatever
    # its guards say (docs/semantics.md, "`__code__` shows the specialized code").
    return f"code.{name}", [f"_FN_{name}.__code__ = (lambda a=0, b=0, c=0: ('swapped', a, b)).__code__"], []


# -- generator expressions -----------------------------------------------------------------------

CONSUMERS = ("set", "list", "tuple", "frozenset", "sorted", "dict", "min", "max", "any", "all",
             "sum", "join")


def _gen_iterable(b: "_Builder", names) -> tuple[str, str]:
    choice = b.between(0, 5)
    if choice == 0:
        items = ", ".join(b.pick(("0", "1", "2", "3", "-1", "5")) for _ in range(b.between(0, 4)))
        fail = b.pick(("", ", fail=1", ", fail=0", ", fail=3"))
        return f"_Seq(({items}{',' if items and ',' not in items else ''}){fail})", "int"
    if choice == 1:
        return b.pick(("()", "[]", "range(0)", '""')), "int"
    if choice == 2:
        return b.pick(("a", "(a, b)", "range(a % 4)", "(b, a, 0)")), "int"
    return b.iterable(names)


def _element(b: "_Builder", names, item: str, var: str) -> str:
    choice = b.between(0, 7)
    if choice == 0:
        return f"10 // {var}" if item == "int" else f"len({var})"
    if choice == 1:
        return f"_Item({var})"
    if choice == 2:
        return f"({var} if {var} != {b.pick(('0', '1', '2'))} else next(iter(())))"
    if choice == 3:
        return f"[{var}]"  # unhashable
    if choice == 4:
        return var
    return b.expr(item if b.chance(60) else "any", names, 1)


def _genexp(b: "_Builder", names, consumer: str) -> str:
    source, item = _gen_iterable(b, names)
    var = b.fresh("g")
    inner = names.child()
    inner.types[var] = item
    element = _element(b, inner, item, var)
    loops = f"for {var} in {source}"
    if b.chance(20):
        var2 = b.fresh("g")
        second, item2 = _gen_iterable(b, inner)
        inner.types[var2] = item2
        loops += f" for {var2} in {second}"
        if b.chance(50):
            element = f"({element}, {var2})"
    if b.chance(35):
        condition = b.pick((f"{var}", f"_Item({var})", f"{var} != {b.pick(('0', '1'))}",
                            f"(next(iter(())) if {var} == 2 else True)", b.expr("bool", inner, 1)))
        loops += f" if {condition}"
    if consumer == "dict":
        element = f"({element}, {var})"
    elif consumer == "join":
        element = f"str({element})" if b.chance(80) else element
    return f"{element} {loops}"


def _consume(b: "_Builder", names) -> str:
    consumer = b.pick(CONSUMERS)
    genexp = _genexp(b, names, consumer)
    if consumer == "join":
        separator = b.pick(('""', '", "', '"-"'))
        return f"{separator}.join({genexp})"
    b.used_builtins.add(consumer)
    if consumer in ("min", "max") and b.chance(20):
        return f"{consumer}(({genexp}), default={b.pick(('0', 'None'))})"
    if b.chance(10):
        return f"{consumer}(({genexp}))"  # parenthesized: the same generator expression
    return f"{consumer}({genexp})"


def _genexprs(b: "_Builder") -> list[str]:
    from tests.fuzz.generator import _Function, _Names, _Param

    lines: list[str] = []
    for _ in range(b.between(1, 3)):
        name = b.fresh("gx")
        names = _Names({"a": "int", "b": "int"})
        generator = b.chance(10)
        lines.append(f"def {name}(a, b={b.pick(('0', '1', '3'))}):")
        if b.chance(30):
            lines.append(f"    return {_consume(b, names)}")
        else:
            lines.append("    out = []")
            for _ in range(b.between(1, 4)):
                value = _consume(b, names)
                statement = f"yield {value}" if generator else f"out.append({value})"
                if b.chance(50):
                    lines += ["    try:", f"        {statement}", "    except Exception as e:",
                              "        out.append((type(e).__name__, str(e)))"]
                else:
                    lines.append(f"    {statement}")
            lines.append("    yield out" if generator else "    return out")
        lines.append("")
        b.functions.append(_Function(name, [_Param("a", "int", None, "pos"), _Param("b", "int", "0", "pos")],
                                     "generator" if generator else "body"))
    return lines


# -- class attributes as constants ---------------------------------------------------------------

def _classes(b: "_Builder") -> list[str]:
    from tests.fuzz.generator import _Function, _Names, _Param

    base, sub = b.fresh("K"), b.fresh("K")
    attributes: dict[str, tuple[str, str]] = {}
    for _ in range(b.between(1, 3)):
        attribute = b.pick(ATTRIBUTE_NAMES)
        type_ = b.pick(tuple(ATTRIBUTE_VALUES))
        attributes.setdefault(attribute, (type_, b.pick(ATTRIBUTE_VALUES[type_])))
    readable = {f"{base}.{a}": t for a, (t, _v) in attributes.items()}
    readable.update({f"{sub}.{a}": t for a, (t, _v) in attributes.items()})
    names = _Names({"a": "int", **readable})
    lines = [f"class {base}:"]
    lines += [f"    {attribute} = {value}" for attribute, (_t, value) in attributes.items()]
    for _ in range(b.between(0, 2)):
        # methods reading the constants through the class, self and type(self)
        method = b.fresh("m")
        attribute = b.pick(sorted(attributes))
        if b.chance(40):
            lines += ["    @staticmethod", f"    def {method}(a):", f"        return {b.expr('any', names, 2)}"]
            call = f"{base}.{method}"
        else:
            lines += [f"    def {method}(self, a):",
                      f"        return (self.{attribute}, type(self).{attribute}, {b.expr('any', names, 2)})"]
            call = f"{b.pick((base, sub))}().{method}"
        b.functions.append(_Function(method, [_Param("a", "int", None, "pos")], "simple", call=call))
    # a staticmethod called through the class (inline_functions), by a method of the class and
    # by functions after it
    static = b.fresh("s") if b.chance(70) else None
    if static is not None:
        # (not a function the driver calls itself: a "during" function calling it right after
        # changing it would run the body inlined at its own entry, docs/semantics.md "Guards
        # hold at function entry"; module callees are not called so either)
        lines += ["    @staticmethod", f"    def {static}(a):", f"        return {b.expr('any', names, 2)}"]
        if b.chance(60):
            method = b.fresh("m")
            lines += [f"    def {method}(self, a):", f"        return ({base}.{static}(a), {b.expr('any', names, 1)})"]
            b.functions.append(_Function(method, [_Param("a", "int", None, "pos")], "simple",
                                         call=f"{b.pick((base, sub))}().{method}"))
    overridden = {a: b.literal(t) for a, (t, _v) in attributes.items() if b.chance(40)}
    lines += ["", f"class {sub}({base}):"]
    lines += [f"    {a} = {value}" for a, value in overridden.items()] or ["    pass"]
    lines += ["", f"_CLS_{base} = {base}", f"_CLS_{sub} = {sub}", ""]
    if static is not None:
        lines += [f"_SM_{base} = vars({base})[{static!r}]", f"_SA_{base}, _DA_{base} = setattr, delattr", ""]
    for _ in range(b.between(1, 2)):
        name = b.fresh("kf")
        first = f"{base}.{static}(a)" if static is not None and b.chance(60) else b.expr('any', names, 2)
        lines += [f"def {name}(a):", f"    return ({first}, {b.expr('any', names, 2)})", ""]
        b.functions.append(_Function(name, [_Param("a", "int", None, "pos")], "simple"))
    if static is not None:
        b.rebinders.append((False, lambda: _rebind_static(b, base, sub, static)))
        b.rebinders.append((True, lambda: (f"attr.{base}.{static}",
                                           [f"{base}.{static} = staticmethod(lambda a: ('visible', a))"],
                                           [f"{base}.{static} = _SM_{base}"])))
    for attribute, (type_, value) in attributes.items():
        for visible in (False, True):
            b.rebinders.append((visible, lambda a=attribute, t=type_, v=value: _rebind_attribute(
                b, base, sub, a, t, v, overridden.get(a))))
    b.rebinders.append((False, lambda: (f"global.{base}", [f"_mod.{base} = {sub}"], [f"_mod.{base} = _CLS_{base}"])))
    return lines


def _rebind_static(b: "_Builder", base: str, sub: str, static: str) -> Rebinding:
    """The staticmethod changed from outside the module's sight (a call of ``setattr`` under
    another name is no write the analyses see): replaced, deleted, its function's code changed, overridden in
    the subclass (no change for calls through the base)."""
    other = "staticmethod(lambda a: ('other', a))"
    choice = b.between(0, 3)
    if choice == 0:
        return f"attr.{base}.{static}", [f"_SA_{base}(_CLS_{base}, {static!r}, {other})"], \
            [f"_SA_{base}(_CLS_{base}, {static!r}, _SM_{base})"]
    if choice == 1:
        return f"attr.{base}.{static}", [f"_DA_{base}(_CLS_{base}, {static!r})"], \
            [f"_SA_{base}(_CLS_{base}, {static!r}, _SM_{base})"]
    if choice == 2:
        # for good, as for module callees: code read from a specialized function is its
        # specialized code, which runs unguarded once written back (docs/semantics.md)
        return f"code.{base}.{static}", [f"_SM_{base}.__func__.__code__ = (lambda a: ('code', a)).__code__"], []
    return f"attr.{sub}.{static}", [f"_SA_{base}(_CLS_{sub}, {static!r}, {other})"], \
        [f"_DA_{base}(_CLS_{sub}, {static!r})"]


def _rebind_attribute(b: "_Builder", base: str, sub: str, attribute: str, type_: str, value: str,
                      override: str | None) -> Rebinding:
    new = f"_fresh({b.literal(type_ if b.chance(80) else b.pick(('int', 'str', 'float')))})"
    if b.chance(30):
        # on the subclass: shadows the base's attribute (or replaces the override)
        undo = f"_CLS_{sub}.{attribute} = {override}" if override else f"del _CLS_{sub}.{attribute}"
        return f"attr.{sub}.{attribute}", [f"_CLS_{sub}.{attribute} = {new}"], [undo]
    do = b.pick((f"_CLS_{base}.{attribute} = {new}", f"setattr(_CLS_{base}, {attribute!r}, {new})",
                 f"type.__setattr__(_CLS_{base}, {attribute!r}, {new})", f"del _CLS_{base}.{attribute}",
                 f"{base}.{attribute} = {new}"))
    return f"attr.{base}.{attribute}", [do], [f"_CLS_{base}.{attribute} = {value}"]


# -- recursive generators and coroutines ---------------------------------------------------------

def _recursive(b: "_Builder") -> list[str]:
    choice = b.between(0, 2)
    if choice == 0:
        return _walk(b)
    if choice == 1:
        return _tree(b)
    return _fib(b)


def _walk(b: "_Builder") -> list[str]:
    from tests.fuzz.generator import _Function, _Param

    name = b.fresh("walk")
    data = b.pick(NESTED_DATA)
    leaf = b.pick(("t", "(t, depth)", "10 // t", "t * 2", "str(t)"))
    lines = [f"def {name}(t, depth=0):",
             "    if type(t) is tuple:"]
    if b.chance(40):
        lines += ["        total = 0",
                  "        for child in t:",
                  f"            total += (yield from {name}(child, depth + 1)) or 0",
                  "        return total"]
    else:
        lines += ["        for child in t:",
                  f"            yield from {name}(child, depth + 1)"]
    lines += ["    else:"]
    if b.chance(25):
        lines += ["        if t == 0:", f"            raise {b.pick(('Err1(depth)', 'StopIteration', 'ZeroDivisionError(t)'))}"]
    if b.chance(20):
        lines += ["        try:", f"            got = yield {leaf}", "        finally:", "            _note('finally', depth)"]
    else:
        lines += [f"        got = yield {leaf}"]
    lines += ["        if got is not None:", "            yield ('got', got, depth)", "        return depth", "",
              f"def _{name}_other(t, depth=0):", "    yield ('other', t)", "",
              f"_FN_{name} = {name}", ""]
    driver = b.fresh("drive")
    lines += _driver_function(b, driver, f"{name}({data})")
    b.functions.append(_Function(driver, [_Param("a", "int", None, "pos")], "body"))
    b.functions.append(_Function(name, [_Param("t", "tuple", None, "pos")], "generator"))
    key = f"global.{name}"
    b.rebinders.append((False, lambda: _rebind_recursive(b, name)))
    b.rebinders.append((True, lambda: (key, [f"{name} = _{name}_other"], [f"{name} = _FN_{name}"])))
    return lines


def _tree(b: "_Builder") -> list[str]:
    from tests.fuzz.generator import _Function, _Param

    name = b.fresh("Tree")
    value = b.pick(("self.value", "10 // self.value", "(self.value, self.value)"))
    lines = [f"class {name}:",
             "    def __init__(self, left, value, right):",
             "        self.left = left",
             "        self.value = value",
             "        self.right = right",
             "    def __iter__(self):",
             "        if self.left:",
             "            yield from self.left",
             f"        yield {value}",
             "        if self.right:",
             "            yield from self.right",
             "",
             f"def _build_{name}(values):",
             "    if not values:",
             "        return None",
             "    middle = len(values) // 2",
             f"    return {name}(_build_{name}(values[:middle]), values[middle], _build_{name}(values[middle + 1:]))",
             "",
             f"_ITER_{name} = {name}.__iter__",
             "",
             f"def _{name}_flat(self):",
             "    yield ('flat', self.value)",
             ""]
    values = b.pick(("(1, 2, 3, 4, 5)", "(3,)", "(2, 0, 1)", '("a", "b")', "(1, 2, 3, 4, 5, 6, 7)"))
    driver = b.fresh("drive")
    tree = f"_build_{name}({values})"
    lines += _driver_function(b, driver, f"iter({tree})")
    b.functions.append(_Function(driver, [_Param("a", "int", None, "pos")], "body"))
    listing = b.fresh("listing")
    lines += [f"def {listing}(a):", f"    return list({tree}), sorted({tree})", ""]
    b.functions.append(_Function(listing, [_Param("a", "int", None, "pos")], "simple"))
    key = f"attr.{name}.__iter__"
    b.rebinders.append((False, lambda: (key, [b.pick((f"{name}.__iter__ = _{name}_flat",
                                                      f"setattr({name}, '__iter__', _{name}_flat)"))],
                                        [f"{name}.__iter__ = _ITER_{name}"])))
    return lines


def _fib(b: "_Builder") -> list[str]:
    from tests.fuzz.generator import _Function, _Param

    name = b.fresh("fib")
    tick = b.chance(50)
    lines = [f"async def {name}(n):",
             "    if n < 2:"]
    if tick:
        lines.append("        got = await _Tick(n)")
        lines.append("        if got == 'boom':")
        lines.append("            raise Err1(n)")
    if b.chance(20):
        lines.append("        if n == 0:")
        lines.append(f"            raise {b.pick(('ZeroDivisionError(n)', 'StopIteration(n)', 'Err2(n)'))}")
    lines.append("        return n")
    lines.append(f"    return await {name}(n - 1) + await {name}(n - 2)")
    lines += ["", f"async def _{name}_other(n):", "    return -n", "",
              f"_FN_{name} = {name}", ""]
    driver = b.fresh("drive")
    lines += [f"def {driver}(a):",
              f"    c = {name}(a % {b.pick(('5', '7'))})",
              "    out = []",
              "    sent = None",
              "    for step in range(100):",
              "        try:"]
    action = b.between(0, 3)
    throw_at = b.pick(("0", "1", "3"))
    if action == 0:
        lines.append("            out.append(c.send(sent))")
    elif action == 1:
        lines += [f"            if step == {throw_at}:",
                  f"                out.append(c.throw({b.pick(('Err1(step)', 'ValueError(step)', 'StopIteration'))}))",
                  "            else:",
                  "                out.append(c.send(sent))"]
    elif action == 2:
        lines += [f"            if step == {throw_at}:",
                  "                c.close()",
                  "                out.append('closed')",
                  "            out.append(c.send(sent))"]
    else:
        lines += [f"            out.append(c.send('boom' if step == {throw_at} else sent))"]
    lines += ["        except StopIteration as stop:",
              "            out.append(('done', stop.value))",
              "            break",
              f"        sent = {b.pick(('step', 'None', 'a'))}",
              "    return out",
              ""]
    b.functions.append(_Function(driver, [_Param("a", "int", None, "pos")], "body"))
    # not called by the driver itself: fib(1000) would not finish
    b.rebinders.append((False, lambda: _rebind_recursive(b, name)))
    return lines


def _rebind_recursive(b: "_Builder", name: str) -> Rebinding:
    if b.chance(25):
        # for good (see _rebind_callee)
        return f"code.{name}", [f"_FN_{name}.__code__ = _{name}_other.__code__"], []
    return f"global.{name}", [f"_mod.{name} = _{name}_other"], [f"_mod.{name} = _FN_{name}"]


def _driver_function(b: "_Builder", driver: str, start: str) -> list[str]:
    """A function driving a generator step by step: next, send, throw, close, the rest."""
    lines = [f"def {driver}(a):", f"    g = {start}", "    out = []"]
    for _ in range(b.between(1, 5)):
        op = b.between(0, 5)
        if op in (0, 1):
            step = "out.append(next(g))"
        elif op == 2:
            sent = b.pick(("a", "None", '"s"'))
            step = f"out.append(g.send({sent}))"
        elif op == 3:
            thrown = b.pick(("ValueError(a)", "Err1(a)", "StopIteration(a)", "KeyError"))
            step = f"out.append(g.throw({thrown}))"
        elif op == 4:
            step = "g.close()"
        else:
            step = "out.append(list(g))"
        if b.chance(60):
            lines += ["    try:", f"        {step}", "    except Exception as e:",
                      "        out.append((type(e).__name__, str(e)))"]
        else:
            lines.append(f"    {step}")
    lines += ["    return out", ""]
    return lines
