"""Code shapes of issue 17's fresh objects, for the fuzz generator's ``fresh`` profile.

What ``specialize_operators``, ``fresh_receivers`` and ``scalar_replacement`` rewrite, and what
must make the rewritten code fall back:

- a class whose new instances hold only what ``__init__`` stores (``self.x = x`` for each
  parameter, in any order, sometimes a constant too: fatopt/analyses/fresh_objects.py), with
  small methods: ones reading attributes (``norm``, ``total``, ``dot``), ones returning ``self``
  (``check``) or a constant (``flag``), ones calling a method of another parameter as a statement
  (``other.check()``), ones returning a new instance (``plus``, ``shifted``, ``swap``), one that
  lets ``self`` escape (``keep``), methods making and using a fresh object themselves (``grow``,
  ``twice``), and binary dunders (``+ - *``) making a new instance, choosing between two classes
  (``if other.flag(): return W(...)``, or a conditional expression), returning a number, or
  ``NotImplemented`` (which the operator pass must leave alone); now and then a class that does
  not qualify (``__slots__``, a default in ``__init__``, an ``__init__`` computing a value);
- a subclass whose ``check`` runs the changes the calling function registered (``_fire()``) and
  whose ``flag`` is true, a subclass overriding reflected dunders (Python asks it first), an
  unrelated class of the same layout (the other branch of a dunder, a ``__class__`` target);
- a holder class whose ``__init__`` stores a method's value of its second parameter, not the
  object (a constructor that keeps a fresh object, raytrace's ``Ray(p, v)``), and a method using
  the values of other methods of ``self`` (``chain``: ``self.shifted(1 + self.total())``);
- functions making ``v = V(args)`` and then reading ``v.x``, calling methods on ``v`` (whole
  statements, expression statements, inside expressions), making a second object, letting ``v``
  escape (a helper keeps it, a list holds it, an alias, an attribute stored on it, a method that
  keeps ``self``, returned) before later calls, a kept object changed through the keeper; the
  object made inside ``if`` blocks in a loop, and at the top of a loop body that goes on (with a
  ``continue`` or ``break`` now and then, the object now and then read after the loop or in the
  next iteration); a holder made of it; functions with annotated parameters
  (``def f(a: V, b: V): c = a - b; return c.norm()``), also operating in a loop or passing the
  operation to the holder's constructor (``H(a, a - b).n``), called with
  instances of the class, of the subclasses, of the unrelated class, and builtins;
- changes made in the middle of such a function, by code it calls between the construction and
  a later method call or read (``_fire()``, ``w.check()`` of a subclass instance, a method or
  dunder that calls ``other.check()``): a method or dunder replaced or deleted, a property for
  an attribute's name, ``__setattr__``/``__getattr__``/``__getattribute__``/``__del__`` added,
  ``__init__`` replaced (by one storing an instance attribute named like a method), the class's
  global name rebound, the argument's ``__class__`` assigned; undone by the wrapper the driver
  calls. The same changes between the driver's calls;
- exceptions raised inside the inlined methods and dunders (a ``str`` or ``None`` attribute in
  arithmetic, a missing method, a replaced method raising), whose traceback text the runner
  compares.

Safety rules: the values stored in attributes come from a small pool (``FIELDS``: small ints,
a float, a short str, ``None``), never from the generator's int expressions (``2 ** 40`` times a
str would not fit in memory); ``*`` in a dunder multiplies two attributes, once; no method calls
a method of ``self`` but ``check`` (no recursion); kept objects are at most two.

Documented differences (``generator.DOCUMENTED_DIFFERENCES``) are avoided unless asked for (``--expose-known``): the
operator loop is not made of a dunder that makes the object in a branch
(``fresh-rest-copied-twice``), and a change made in the middle of a function gives no property
to an attribute's name, no ``__getattribute__`` (``scalar-read-after-change``) and no
``__del__`` (``scalar-finalizer``); the draws are the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.fuzz.dunders import BINARY_REPLACEMENTS
from tests.fuzz.dunders import PRELUDE as DUNDERS_PRELUDE

if TYPE_CHECKING:  # pragma: no cover
    from tests.fuzz.generator import _Builder

__all__ = ["PRELUDE", "FIELDS", "add_fresh"]

#: Helpers of the family (after the ``dunders`` family's, which it uses too): the changes a
#: function registered, run by a subclass's ``check``; a keeper of escaped objects; finalizers.
PRELUDE = (
    "_HOOKS = []  # changes the running function registered: _fire() makes them",
    "",
    "def _fire():",
    "    while _HOOKS:",
    "        _HOOKS.pop()()",
    "",
    "_KEPT = []",
    "",
    "def _keep(o):",
    "    # an object handed to other code: kept (the last two)",
    "    _KEPT.append(o)",
    "    del _KEPT[:-2]",
    "    return 0",
    "",
    "_DELS = []",
    "",
    "def _alt_del(self, _append=_DELS.append, _type=type):",
    "    _append(_type(self).__name__)",
    "",
    "def _deaths(_sorted=sorted):",
    "    # the finalizers that ran since the last call",
    "    seen = _sorted(_DELS)",
    "    del _DELS[:]",
    "    return seen",
    "",
    "def _alt_setattr(self, name, value, _set=object.__setattr__):",
    "    _set(self, name, ('set', value))",
    "",
)

#: what the driver passes for a value stored into an attribute (mostly small ints: a str or
#: None makes the arithmetic of the inlined methods raise)
FIELDS = ("1", "2", "3", "-1", "0", "5", "1", "2", "3", "-2", "4", "7", "1", "6", "-3", "2", "2.5", '"s"', "None")
#: how many times the "inst" pool (the driver's operands) holds each module instance (twice
#: that for the base class's: both operands of a site must be exactly of it) per builtin
INSTANCE_WEIGHT = 3
#: binary operators: dunder stem and symbol
OPERATORS = (("add", "+"), ("sub", "-"), ("mul", "*"))
#: methods of the base class: name -> the driver types of its parameters after ``self``
METHODS = {
    "norm": (), "total": (), "first": (), "dot": ("inst",), "plus": ("inst",), "shifted": ("field",),
    "swap": (), "keep": (), "grow": ("inst",), "twice": (), "chain": (),
}
#: percent of modules that use ``globals()`` (a dynamic module)
DYNAMIC = 20
#: what a rebinding may put in place of a method
METHOD_REPLACEMENTS = ("_alt_method", "_alt_raise", "lambda self, *a: ('lambda', a)", "property(_alt_unary)")
#: what may be added to a class between an instance attribute and its lookup, or its end
HOOKS = {"__setattr__": "_alt_setattr", "__getattr__": "_alt_getattr", "__getattribute__": "_alt_getattribute",
         "__del__": "_alt_del", "__delattr__": "_alt_raise"}


@dataclass
class _Kind:
    name: str
    base: "_Kind | None"
    #: the attributes ``__init__`` stores from its parameters, in parameter order
    fields: tuple[str, ...]
    #: methods and dunders its own body defines
    own: set[str] = field(default_factory=set)


@dataclass
class _Family:
    #: the class the functions make (``V``), its subclass whose ``check`` fires the registered
    #: changes (``W``), its subclass with reflected dunders (or None), an unrelated class of the
    #: same layout (``U``)
    base: _Kind
    hooked: _Kind
    reflected: _Kind | None
    other: _Kind
    #: the base class's methods (``METHODS`` names) and operator symbols
    methods: list[str]
    operators: list[str]
    #: module-level instances: (global name, class)
    instances: list[tuple[str, _Kind]] = field(default_factory=list)
    #: the operators whose dunder gives a number, not an instance
    numbers: set[str] = field(default_factory=set)
    #: the operators whose dunder makes an instance of one class or another
    branching: set[str] = field(default_factory=set)

    @property
    def classes(self) -> list[_Kind]:
        return [k for k in (self.base, self.hooked, self.reflected, self.other) if k is not None]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.base.fields


def add_fresh(b: "_Builder") -> list[str]:
    """Definition lines of the family; appends to ``b.functions``, ``b.rebinders``, ``b.objects``."""
    from tests.fuzz.generator import _Function

    b.pools["field"] = FIELDS
    lines = list(DUNDERS_PRELUDE) + list(PRELUDE)
    if b.chance(DYNAMIC):
        # no method is inlined, and on 3.12 no constructor either (so that `v = V(...)` stays a
        # call, which scalar replacement needs: otherwise it runs after the constructor's inlining)
        lines += ["_NAMES = sorted(globals())  # a dynamic module", ""]
    family, class_lines = _classes(b)
    lines += class_lines
    for klass in family.classes:
        lines += [f"_CLS_{klass.name} = {klass.name}", f"_SAVED_{klass.name} = dict(vars({klass.name}))"]
    lines += _init_replacement(family) + _poke(family)
    # two of the base class and one of each other, then any; an attribute holding a str or None
    # now and then
    first = [family.base, *family.classes]
    for index in range(b.between(len(first), len(first) + 2)):
        klass = first[index] if index < len(first) else b.pick(family.classes)
        name = b.fresh("_F")
        values = [b.pick(FIELDS[:-3]) if b.chance(92) else b.pick(FIELDS[-3:]) for _ in family.fields]
        lines.append(f"{name} = {klass.name}({', '.join(values)})")
        family.instances.append((name, klass))
        b.objects.append(name)
    b.objects += ["3", "-1", "2.5", '"s"']
    # an operand or argument: mostly an instance of the family, now and then a builtin
    b.pools["inst"] = tuple(name for name, k in family.instances for _ in range(2 if k is family.base else 1)) \
        * INSTANCE_WEIGHT + ("3", "2.5", '"s"')
    lines.append("")
    makers = (_making, _making, _making, _operating, _operating, _operating, _in_loop, _reading, _looping, _looping)
    for _ in range(b.between(2, 4)):
        lines += b.pick(makers)(b, family)
    for method in ("grow", "twice"):
        if method in family.methods and b.chance(60):
            # a method making a fresh object itself, called on a module instance (of the class
            # or of a subclass, which inherits it)
            instance, _klass = b.pick(family.instances[:2])
            params = [_param(f"p{i}", t) for i, t in enumerate(METHODS[method])]
            b.functions.append(_Function(f"{instance}.{method}", params, "body",
                                         call=f"(lambda *a, **k: {instance}.{method}(*a, **k))"))
    b.functions.append(_Function("_deaths", [], "body"))
    for visible in (False, True):
        b.rebinders.append((visible, lambda v=visible: _rebind_member(b, family, v)))
        b.rebinders.append((visible, lambda v=visible: _rebind_member(b, family, v)))
        b.rebinders.append((visible, lambda v=visible: _rebind_instance(b, family, v)))
    b.rebinders.append((False, lambda: _rebind_class_name(b, family)))
    return lines


def _param(name: str, type_: str, default: str | None = None):  # type: ignore[no-untyped-def]
    from tests.fuzz.generator import _Param

    return _Param(name, type_, default, "pos")


# -- classes --------------------------------------------------------------------------------------

def _classes(b: "_Builder") -> tuple[_Family, list[str]]:
    fields = ("x", "y", "z") if b.chance(20) else ("x", "y")
    base = _Kind(b.fresh("V"), None, fields)
    hooked = _Kind(b.fresh("W"), base, fields)
    reflected = _Kind(b.fresh("R"), base, fields) if b.chance(60) else None
    other = _Kind(b.fresh("U"), None, fields)
    operators = [sym for _stem, sym in OPERATORS if b.chance(65)] or ["-"]
    methods = [m for m in METHODS if b.chance(55) and (m != "twice" or "+" in operators)] or ["norm"]
    family = _Family(base, hooked, reflected, other, methods, operators)
    lines = _base_lines(b, family)
    # the subclass: flag() true, check() runs the registered changes
    lines += [f"class {hooked.name}({base.name}):", "    def flag(self):", "        return True",
              "    def check(self):", "        _fire()", "        return self"]
    hooked.own |= {"flag", "check"}
    if "norm" in methods and b.chance(30):
        lines += ["    def norm(self):", f"        return ({hooked.name + '.norm'!r}, self.{fields[0]})"]
        hooked.own.add("norm")
    lines.append("")
    if reflected is not None:
        # reflected dunders of the base's operators: Python asks the subclass first
        lines.append(f"class {reflected.name}({base.name}):")
        for stem, sym in OPERATORS:
            if sym in operators and b.chance(70):
                lines += [f"    def __r{stem}__(self, other):",
                          f"        return ({reflected.name + '.__r' + stem + '__'!r}, type(other).__name__, self.x)"]
                reflected.own.add(f"__r{stem}__")
        if not reflected.own:
            lines.append("    pass")
        lines.append("")
    lines += _other_lines(b, family)
    lines += _holder_lines(b, family)
    return family, lines


def _holder_lines(b: "_Builder", family: _Family) -> list[str]:
    """``H_V``: a class whose ``__init__`` calls a method of its second parameter and stores
    the value, not the object (raytrace's ``Ray(p, v)`` storing ``v.normalized()``): a
    constructor that keeps a fresh object, which fresh_receivers follows into."""
    unary = [m for m in family.methods if not METHODS[m] and m not in ("keep",)] or ["check"]
    used = b.pick(unary + ["check"])
    return [f"class H_{family.base.name}:", "    def __init__(self, p, v):", "        self.p = p",
            f"        self.n = v.{used}()", "    def __repr__(self):",
            "        return 'H' + repr(vars(self))", ""]


def _init_lines(b: "_Builder", klass: _Kind, qualifying: bool) -> list[str]:
    """``__init__`` storing each parameter (in a drawn order), sometimes a constant too."""
    fields = klass.fields
    signature = ", ".join(fields)
    stores = [f"self.{f} = {f}" for f in fields]
    if not qualifying:
        if b.chance(50):
            signature = ", ".join(fields[:-1] + (f"{fields[-1]}=0",))  # a default: not fresh
        else:
            last = fields[-1]
            stores[-1] = f"self.{last} = {last} if {last} is not None else 0"  # computed: not fresh
    if b.chance(30):
        stores.reverse()
    if b.chance(20):
        stores.insert(b.between(0, len(stores)), f"self.tag = {b.pick(('0', repr('t'), 'None'))}")
    return [f"    def __init__(self, {signature}):", *[f"        {s}" for s in stores]]


def _base_lines(b: "_Builder", family: _Family) -> list[str]:
    base, fields = family.base, family.fields
    C = base.name
    qualifying = not b.chance(12)
    lines = [f"class {C}:"]
    if not qualifying and b.chance(40):
        lines.append(f"    __slots__ = {fields + ('tag',)!r}")
    lines += _init_lines(b, base, qualifying)
    # what plain Python made shows in the repr: its class, its attributes in their order
    lines += ["    def __repr__(self):", "        return type(self).__name__ + repr(vars(self))"
              if not any("__slots__" in line for line in lines) else
              "        return type(self).__name__ + repr(tuple(getattr(self, n, '-') for n in self.__slots__))"]
    lines += ["    def check(self):", "        return self", "    def flag(self):", "        return False",
              "    def lift(self, k):", f"        return self.{fields[0]} + k"]
    base.own |= {"__init__", "__repr__", "check", "flag", "lift"}

    def each(template: str, joiner: str) -> str:
        return joiner.join(template.format(f=f) for f in fields)

    # the dunders first: what they give decides what a method may do with the result
    dunders: list[str] = []
    for stem, sym in OPERATORS:
        if sym in family.operators:
            dunders += _dunder(b, family, stem, sym)
            base.own.add(f"__{stem}__")
    for method in family.methods:
        checks = ["other.check()"] if method in ("dot", "plus") and b.chance(50) else []
        body = {
            "norm": [f"return {each('self.{f} * self.{f}', ' + ')}"],
            "total": [f"return {each('self.{f}', ' + ')}"],
            "first": [f"return self.{fields[0]}"],
            "dot": [*checks, f"return {each('self.{f} * other.{f}', ' + ')}"],
            "plus": [*checks, f"return {C}({each('self.{f} + other.{f}', ', ')})"],
            "shifted": [f"return {C}(self.{fields[0]} + k, {', '.join(f'self.{f}' for f in fields[1:])})"],
            "swap": [f"return {C}({', '.join(f'self.{f}' for f in reversed(fields))})"],
            "keep": ["_keep(self)", f"return self.{fields[-1]}"],
            "grow": [f"g = {C}({each('self.{f} + other.{f}', ', ')})",
                     f"return {b.pick(('g.norm()', 'g.total()', 'g.first()', 'g.x - g.y'))}"],
            "twice": ["d = self + self", "return d + 1" if "+" in family.numbers else
                      f"return {b.pick(('d.norm()', 'd.x', 'd.check().y', 'd.total()'))}"],
            # methods of self whose values it uses (raytrace's `self.scale(1.0 / self.magnitude())`)
            "chain": ["return self.shifted(1 + self.total())" if {"shifted", "total"} <= set(family.methods)
                      else "return self.lift(1 + self.first())" if "first" in family.methods
                      else "return self.lift(self.flag())"],
        }[method]
        body = [_existing(line, family.methods) for line in body]
        params = {"dot": "other", "plus": "other", "grow": "other", "shifted": "k"}.get(method)
        lines.append(f"    def {method}(self{', ' + params if params else ''}):")
        lines += [f"        {line}" for line in body]
        base.own.add(method)
    return lines + dunders + [""]


def _existing(line: str, methods: list[str]) -> str:
    """``line`` calling only methods the class has (``g.norm()`` becomes ``g.x`` otherwise)."""
    for method in ("norm", "total", "first"):
        if f".{method}()" in line and method not in methods:
            line = line.replace(f".{method}()", ".x")
    return line


def _dunder(b: "_Builder", family: _Family, stem: str, sym: str) -> list[str]:
    C, fields = family.base.name, family.fields
    made = f"{C}({', '.join(f'self.{f} {sym} other.{f}' for f in fields)})"
    alternative = b.pick((family.hooked, family.other)).name
    other_made = f"{alternative}({', '.join(f'other.{f} {sym} self.{f}' for f in fields)})"
    choice = b.between(0, 6)
    body = (
        [f"return {made}"],
        [f"return {made}"],
        ["other.check()", f"return {made}"],
        # the object made in one branch of the inlined dunder (the rest copied after it)
        ["if other.flag():", f"    return {other_made}", f"return {made}"],
        [f"return {made} if other.flag() else {other_made}"],
        [f"return {' + '.join(f'self.{f} {sym} other.{f}' for f in fields)}"],
        # may give NotImplemented: the operator pass leaves it alone
        [f"if isinstance(other, {C}):", f"    return {made}", "return NotImplemented"],
    )[choice]
    if choice == 5:
        family.numbers.add(sym)
    if choice in (3, 4):
        family.branching.add(sym)
    return [f"    def __{stem}__(self, other):", *[f"        {line}" for line in body]]


def _other_lines(b: "_Builder", family: _Family) -> list[str]:
    """The unrelated class: the same attributes (``__class__`` may move between them), methods of
    the same names answering otherwise."""
    other, fields = family.other, family.fields
    lines = [f"class {other.name}:", *_init_lines(b, other, True),
             "    def __repr__(self):", "        return type(self).__name__ + repr(vars(self))",
             "    def check(self):", "        return self",
             "    def flag(self):", f"        return {b.pick(('True', 'False'))}",
             "    def norm(self):", f"        return self.{fields[0]} - self.{fields[1]}",
             "    def total(self):", f"        return ({other.name + '.total'!r}, self.{fields[-1]})",
             "    def first(self):", f"        return self.{fields[-1]}",
             "    def dot(self, other):", f"        return self.{fields[0]} * other.{fields[0]}"]
    other.own |= {"__init__", "__repr__", "check", "flag", "norm", "total", "first", "dot"}
    if b.chance(50):
        lines += ["    def __sub__(self, other):", f"        return {other.name}(self.{fields[0]}, other.{fields[0]}"
                  + "".join(f", self.{f}" for f in fields[2:]) + ")"]
        other.own.add("__sub__")
    return lines + [""]


def _init_replacement(family: _Family) -> list[str]:
    """``_init_V(self, ...)``: an ``__init__`` storing the attributes swapped, and an instance
    attribute named like a method (it hides the method from then on)."""
    fields = family.fields
    hidden = family.methods[0]
    return [f"def _init_{family.base.name}(self, {', '.join(fields)}):",
            *[f"    self.{f} = {g}" for f, g in zip(fields, reversed(fields))],
            f"    self.{hidden} = lambda *a: ('own {hidden}', a)", ""]


def _poke(family: _Family) -> list[str]:
    """``_poke_V()``: changes an attribute of the last kept object (seen through every alias)."""
    return [f"def _poke_{family.base.name}():", "    if _KEPT:", f"        _KEPT[-1].{family.fields[0]} = 'poked'",
            "    return 1", ""]


# -- changes --------------------------------------------------------------------------------------

def _change(b: "_Builder", family: _Family, visible: bool, mid: bool) -> tuple[str, list[str], list[str]]:
    """(key, statements, their undo) changing a class of the family: a method or dunder
    replaced or deleted, a property for an attribute, an attribute hook or finalizer added,
    ``__init__`` replaced, the class's global name rebound (hidden only: a visible rebinding
    makes the name not a constant, nothing is specialized)."""
    klass = family.base if b.chance(75) else b.pick(family.classes)
    K, owner = klass.name, f"_CLS_{klass.name}"
    undo = lambda member: [f"_restore({owner}, _SAVED_{K}, {member!r})"]  # noqa: E731

    def put(member: str, value: str) -> list[str]:
        return [f"{K}.{member} = {value}" if visible else f"_SA({owner}, {member!r}, {value})"]

    choice = b.between(0, 9)
    # (the draws as usual, so that a known bug avoided changes only what exposes it)
    unseen = mid and "scalar-read-after-change" in b.avoid
    if choice in (0, 1):
        member = b.pick(sorted(klass.own - {"__init__", "__repr__"}) or ["norm"])
        value = b.pick(BINARY_REPLACEMENTS) if member.startswith("__") else b.pick(METHOD_REPLACEMENTS)
        return f"attr.{K}.{member}", put(member, value), undo(member)
    if choice == 2:
        member = b.pick(sorted(klass.own - {"__init__", "__repr__"}) or ["norm"])
        do = f"del {K}.{member}" if visible else f"_DA({owner}, {member!r})"
        return f"attr.{K}.{member}", [do], undo(member)
    if choice == 3:
        # an attribute's name gets a property (a data descriptor: the instance's value is hidden)
        member = b.pick(family.fields)
        value = b.pick(("property(_alt_unary)", "property(lambda self: 'prop')", "3"))
        if unseen:
            value = "3"  # (not a data descriptor: the instance's own value still wins)
        return f"attr.{K}.{member}", put(member, value), undo(member)
    if choice in (4, 5):
        member = b.pick(sorted(HOOKS))
        if (unseen and member == "__getattribute__") or (mid and member == "__del__" and "scalar-finalizer" in b.avoid):
            member = "__getattr__"
        return f"attr.{K}.{member}", put(member, HOOKS[member]), undo(member)
    if choice == 6:
        value = b.pick((f"_init_{family.base.name}", "_alt_init", "_alt_raise"))
        return f"attr.{K}.__init__", put("__init__", value), undo("__init__")
    if choice == 7 and mid:
        # the argument changes class (an int or a slots instance: TypeError)
        target = b.pick(family.classes)
        do = f"w.__class__ = {target.name}" if visible else f"_SA(w, '__class__', _CLS_{target.name})"
        return "class.w", [do], []  # (the wrapper puts the class back)
    if choice in (7, 8):
        other = b.pick([k for k in family.classes if k is not klass])
        return f"global.{K}", [f"_mod.{K} = _CLS_{other.name}"], [f"_mod.{K} = _CLS_{K}"]
    # a method of the subclass changed (its own, or one it inherits: then added)
    sub = family.hooked
    member = b.pick(sorted(family.methods))
    value = b.pick(METHOD_REPLACEMENTS)
    do = f"{sub.name}.{member} = {value}" if visible else f"_SA(_CLS_{sub.name}, {member!r}, {value})"
    return f"attr.{sub.name}.{member}", [do], [f"_restore(_CLS_{sub.name}, _SAVED_{sub.name}, {member!r})"]


def _rebind_member(b: "_Builder", family: _Family, visible: bool):  # type: ignore[no-untyped-def]
    return _change(b, family, visible, mid=False)


def _rebind_instance(b: "_Builder", family: _Family, visible: bool):  # type: ignore[no-untyped-def]
    """A module instance changes class, or gets an attribute named like a method."""
    instance, klass = b.pick(family.instances)
    if b.chance(60):
        target = b.pick([k for k in family.classes if k is not klass])
        do = f"{instance}.__class__ = {target.name}" if visible else f"_SA({instance}, '__class__', _CLS_{target.name})"
        return f"class.{instance}", [do], [f"{instance}.__class__ = _CLS_{klass.name}"]
    member = b.pick(family.methods + ["check", "flag"])
    value = b.pick(("lambda *a: ('shadow', a)", "_alt_raise", "None"))
    do = f"{instance}.{member} = {value}" if visible else f"_SA({instance}, {member!r}, {value})"
    return f"inst.{instance}.{member}", [do], [f"_restore({instance}, {{}}, {member!r})"]


def _rebind_class_name(b: "_Builder", family: _Family):  # type: ignore[no-untyped-def]
    other = b.pick([family.other, family.hooked])
    K = family.base.name
    return f"global.{K}", [f"_mod.{K} = _CLS_{other.name}"], [f"_mod.{K} = _CLS_{K}"]


# -- functions ------------------------------------------------------------------------------------

class _Body:
    """Statements of a function after ``v = C(...)``: what they bound, what escaped."""

    def __init__(self, b: "_Builder", family: _Family, indent: str, w: bool = True) -> None:
        self.b = b
        self.family = family
        self.indent = indent
        #: the function has a parameter ``w`` (an instance, mostly)
        self.w = w
        self.lines: list[str] = []
        #: locals holding fresh objects, and the class each was made of
        self.objects: dict[str, _Kind] = {}
        #: locals holding results
        self.results: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines += [self.indent + line for line in lines]

    def construct(self, klass: _Kind, args: tuple[str, ...]) -> str:
        var = self.b.fresh("v")
        values = [self.b.pick(args) for _ in klass.fields]
        self.add(f"{var} = {klass.name}({', '.join(values)})")
        self.objects[var] = klass
        return var

    def call(self, var: str) -> str:
        """``var.m(args)`` for a method of ``var``'s class (the base's methods, which the
        subclasses inherit, or the ones the unrelated class has)."""
        b = self.b
        klass = self.objects[var]
        methods = self.family.methods + ["check", "flag"] if klass is not self.family.other else \
            ["norm", "total", "first", "dot", "check", "flag"]
        method = b.pick(methods)
        arguments = []
        for type_ in METHODS.get(method, ()):
            if type_ == "inst":
                arguments.append(b.pick([*self.objects, *(["w", "w"] if self.w else []), var]))
            else:
                arguments.append(b.pick(("a", "b", "1")))
        return f"{var}.{method}({', '.join(arguments)})"

    def read(self, var: str) -> str:
        fields = self.family.fields
        if self.b.chance(60):
            return f"{var}.{self.b.pick(fields)}"
        return f"{var}.{self.b.pick(fields)} {self.b.pick(('+', '-', '*'))} {var}.{self.b.pick(fields)}"

    def result(self, value: str) -> None:
        name = self.b.fresh("n")
        self.add(f"{name} = {value}")
        self.results.append(name)

    def statement(self, var: str, escapes: bool) -> None:
        """One statement using ``var``; with ``escapes``, maybe one letting it escape."""
        b = self.b
        choice = b.between(0, 11 if escapes else 7)
        if choice in (0, 1, 2):
            self.result(self.call(var))
        elif choice == 3:
            self.add(self.call(var))  # for its effect (check(): dropped when covered)
        elif choice == 4:
            self.result(self.read(var))
        elif choice == 5:
            self.result(f"{b.pick(('1 + ', '-', ''))}{self.call(var)}")
        elif choice == 6:
            # an exception raised inside the inlined method, caught and recorded here
            name = b.fresh("n")
            self.add("try:", f"    {name} = {self.call(var)}", "except Exception as e:",
                     f"    {name} = ('raised', type(e).__name__, str(e))", "    _record(e)")
            self.results.append(name)
        elif choice == 7 and b.chance(60):
            klass = b.pick([self.family.base, self.family.base, self.family.other, self.family.hooked])
            self.construct(klass, ("a", "b", "1", f"{var}.{self.family.fields[0]}"))
        elif choice == 7:
            # a constructor that keeps it (its __init__ calls a method of it)
            self.result(b.pick((f"H_{self.family.base.name}(a, {var}).n", f"H_{self.family.base.name}({var}.x, {var})")))
        elif choice == 8:
            self.add(b.pick((f"_keep({var})", f"{var}.keep()" if "keep" in self.family.methods else f"_keep({var})")))
            if b.chance(50):
                self.add(f"_poke_{self.family.base.name}()")
        elif choice == 9:
            alias = b.fresh("alias")
            if b.chance(30):
                self.add(f"{alias} = [{var}]")
                alias += "[0]"
            else:
                self.add(b.pick((f"{alias} = {var}", f"{alias} = {var}.check()")))
            if b.chance(50):
                self.result(f"{alias}.{self.family.fields[0]}")
        elif choice == 10:
            self.add(f"{var}.{b.pick(self.family.fields + ('extra',))} = {b.pick(('a', 'b', '7'))}")
        else:
            self.add(f"{var}.{b.pick(('norm', 'check', 'first'))} = lambda *a: ('own', a)")

    def returning(self, var: str) -> None:
        b = self.b
        last = b.between(0, 6)
        if last in (0, 1):
            value = self.call(var)
        elif last == 2:
            value = f"{b.pick(('1 + ', '2 * ', ''))}{self.call(var)}"
        elif last == 3:
            value = self.read(var)
        elif last == 4:
            value = f"({', '.join(self.results + [self.call(var)])})"
        elif last == 5:
            value = f"({', '.join(self.results + [self.read(var)])})"
        else:
            value = b.pick((var, f"({var}, {self.read(var)})"))  # returned: it escapes
        self.add(f"return {value}")


def _trigger(b: "_Builder", family: _Family, body: _Body, var: str) -> None:
    """Code the function runs after the construction that may make the registered change."""
    choice = b.between(0, 3)
    if choice == 0:
        body.add("_fire()")
    elif choice == 1:
        body.add("w.check()")
    elif choice == 2 and "dot" in family.methods:
        body.result(f"{var}.dot(w)")
    else:
        body.add("try:", "    w.check()", "except AttributeError as e:", "    _record(e)")


def _wrapped(b: "_Builder", family: _Family, name: str, params: list[str]) -> list[str]:
    """A change for ``name`` to register before it runs (made by ``_fire()``, directly or from
    the subclass's ``check``), and the function the driver calls: it registers the change,
    calls ``name`` and undoes it."""
    _key, do, undo = _change(b, family, visible=b.chance(25), mid=True)
    change = f"_change_{name}"
    runner = f"run_{name}"
    signature = ", ".join(params)
    return [f"def {change}(w):", *[f"    {line}" for line in do], "",
            f"def {runner}({signature}):",
            "    saved_class = type(w)",
            f"    _HOOKS.append(lambda: {change}(w))",
            "    try:",
            f"        return {name}({signature})",
            "    finally:",
            "        del _HOOKS[:]",
            "        _put_back(w, saved_class)",
            *[f"        {line}" for line in undo], ""]


def _run_statements(b: "_Builder", family: _Family, body: _Body, var: str, count: int, mid: bool,
                    statement) -> None:  # type: ignore[no-untyped-def]
    """``count`` statements (``statement()`` each), the trigger of the registered change at a
    drawn place among them when ``mid``."""
    trigger_at = b.between(0, count) if mid else -1
    for index in range(count + 1):
        if index == trigger_at:
            _trigger(b, family, body, var)
        if index < count:
            statement()


def _registered(b: "_Builder", family: _Family, name: str, params: list, mid: bool) -> list[str]:  # type: ignore[type-arg]
    """The driver's function for ``name``: with ``mid``, the wrapper that registers a change
    first (its lines returned), else ``name`` itself."""
    from tests.fuzz.generator import _Function

    if not mid:
        b.functions.append(_Function(name, params, "body"))
        return []
    b.functions.append(_Function(f"run_{name}", params, "body"))
    return _wrapped(b, family, name, [p.name for p in params])


def _making(b: "_Builder", family: _Family) -> list[str]:
    """``v = V(a, b)`` and what follows it, ending in a return; a change registered half of the
    time, made by code the function runs after the construction."""
    name = b.fresh("make")
    klass = family.base if b.chance(80) else b.pick(family.classes)
    body = _Body(b, family, "    ")
    var = body.construct(klass, ("a", "b", "a", "b", "2", "-1"))
    mid = b.chance(50)
    escapes = b.chance(35)
    _run_statements(b, family, body, var, b.between(0, 4), mid,
                    lambda: body.statement(b.pick(list(body.objects)) if b.chance(25) else var, escapes))
    body.returning(var)
    lines = [f"def {name}(a, b, w):", *body.lines, ""]
    return lines + _registered(b, family, name, [_param("a", "field"), _param("b", "field"), _param("w", "inst")], mid)


def _reading(b: "_Builder", family: _Family) -> list[str]:
    """``v = V(a, b)`` only read for its attributes (scalar replacement with no method inlined
    first: also in a dynamic module, and on 3.12 where the inlining makes constructors of the
    others), a change registered half of the time."""
    name = b.fresh("read")
    body = _Body(b, family, "    ")
    var = body.construct(family.base if b.chance(85) else b.pick(family.classes), ("a", "b", "a", "b", "2"))
    mid = b.chance(50)
    _run_statements(b, family, body, var, b.between(0, 2), mid, lambda: body.result(body.read(var)))
    body.add(f"return {b.pick((body.read(var), f'({var}.{family.fields[-1]}, {var}.{family.fields[0]})'))}")
    lines = [f"def {name}(a, b, w):", *body.lines, ""]
    return lines + _registered(b, family, name, [_param("a", "field"), _param("b", "field"), _param("w", "inst")], mid)


def _in_loop(b: "_Builder", family: _Family) -> list[str]:
    """The object made in an ``if`` block of a loop that returns."""
    from tests.fuzz.generator import _Function

    name = b.fresh("loop")
    body = _Body(b, family, "            ")
    var = body.construct(family.base, ("a", "k", "b"))
    for _ in range(b.between(0, 2)):
        body.statement(var, b.chance(20))
    body.returning(var)
    lines = [f"def {name}(a, b, w):", "    seen = []", f"    for k in range({b.pick(('3', '2'))}):",
             f"        if k == {b.pick(('1', '0', 'b'))}:", *body.lines, "        seen.append(k)",
             "    return seen", ""]
    b.functions.append(_Function(name, [_param("a", "field"), _param("b", "field"), _param("w", "inst")], "body"))
    return lines


def _looping(b: "_Builder", family: _Family) -> list[str]:
    """``v = V(a, k)`` at the top of a loop body, used by what follows in the body (a ``continue``
    or ``break`` now and then), the loop going on: regions whose branch for an invalid flag ends
    with ``continue``; now and then ``v`` read after the loop or in the next iteration (left
    alone); a change registered half of the time, made inside the loop."""
    name = b.fresh("each")
    body = _Body(b, family, "        ")
    carried = b.chance(15)
    if carried:
        # read in the next iteration, before it is made again: left alone
        body.add("if k:", "    out.append(prev.x)")
    var = body.construct(family.base if b.chance(85) else b.pick(family.classes), ("a", "k", "b", "k"))
    mid = b.chance(50)
    _run_statements(b, family, body, var, b.between(1, 3), mid, lambda: body.statement(var, b.chance(15)))
    if b.chance(40):
        body.add(f"if k == {b.pick(('1', 'b', '0'))}:", f"    {b.pick(('continue', 'break'))}")
    body.add(f"out.append(({', '.join(body.results[-2:] + [body.read(var)])}))")
    if carried:
        body.add(f"prev = {var}")
    lines = [f"def {name}(a, b, w):", "    out = []", f"    for k in range({b.pick(('3', '2', '4'))}):", *body.lines]
    lines.append(f"    return (out, {var}.{family.fields[0]})" if b.chance(15) else "    return out")
    lines.append("")
    return lines + _registered(b, family, name, [_param("a", "field"), _param("b", "field"), _param("w", "inst")], mid)


def _operating(b: "_Builder", family: _Family) -> list[str]:
    """``def f(a: V, b: V): c = a - b; return c.norm()``: the operator specialized for two
    annotated operands, its dunder inlined, the object it makes a fresh receiver."""
    from tests.fuzz.generator import _Function

    name = b.fresh("oper")
    annotation = family.base if b.chance(75) else b.pick(family.classes)
    A = annotation.name
    sym = b.pick(family.operators if b.chance(85) else [s for _t, s in OPERATORS])
    params = ["a", "b", "w"] if b.chance(40) else ["a", "b"]
    signature = f"a: {A}, b: {A}" + (", w" if "w" in params else "")
    body = _Body(b, family, "    ", w="w" in params)
    left, right = b.pick((("a", "b"), ("a", "b"), ("b", "a"), ("a", "a")))
    shape = b.between(0, 5)
    if shape == 1 and sym in family.branching and "fresh-rest-copied-twice" in b.avoid:
        shape = 3  # (the loop unrolled: two sites whose dunder makes the object in a branch)
    lines = [f"def {name}({signature}):"]
    if shape == 0 and sym not in family.numbers and b.chance(70):
        # the operation's object passed to a constructor that keeps it (raytrace's Ray(p, l - p))
        made = f"H_{family.base.name}(a, {left} {sym} {right})"
        lines.append(f"    return {b.pick((f'{made}.n', f'repr({made})', f'({made}.p, 1)'))}")
    elif shape == 0:
        lines.append(f"    return {left} {sym} {right}")
    elif shape == 1:
        # in a loop (the site tests a flag of the loop's own)
        lines += ["    out = []", "    for i in range(2):", f"        c = {left} {sym} {right}",
                  f"        out.append({b.pick(('c', 'c.x', 'c.check()'))})", "    return out"]
    else:
        if shape == 2:
            lines.append(f"    {left} {sym} {right}")  # an expression statement
        body.add(f"c = {left} {sym} {right}")
        if sym in family.numbers:
            body.add(f"return {b.pick(('c', 'c + 1', '(c, a.x)'))}")
        else:
            body.objects["c"] = b.pick([family.base, family.base, family.other])
            if "w" in params and b.chance(60):
                _trigger(b, family, body, "c")
            for _ in range(b.between(0, 2)):
                body.statement("c", b.chance(20))
            body.returning("c")
        lines += body.lines
    lines.append("")
    types = [_param("a", "inst"), _param("b", "inst")] + ([_param("w", "inst")] if "w" in params else [])
    if "w" in params and b.chance(60):
        lines += _wrapped(b, family, name, params)
        b.functions.append(_Function(f"run_{name}", types, "body"))
    else:
        b.functions.append(_Function(name, types, "body"))
    return lines
