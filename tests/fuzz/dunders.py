"""Code shapes of issue 17's type specialization, for the fuzz generator's ``dunders`` family.

What a type-specialized function will inline, and what must make it fall back:

- module-level classes, with and without ``__slots__``: ``__init__`` storing its parameters,
  class attributes, small methods (``self[0]``, ``self + other``, ``self.norm()``, ``len(self)``),
  operator dunders and their reflected forms returning values or ``NotImplemented``, in-place and
  unary operators, comparisons, ``__getitem__``/``__setitem__``/``__delitem__`` (also with tuple
  keys, ``g[x, y]``), ``__len__``, ``__bool__``, ``__contains__``, ``__iter__``, ``__call__``;
- subclasses that override some of them (a reflected dunder: Python calls the subclass's first)
  or none, some with ``__getattr__``/``__getattribute__`` or a property where the base has a
  method, and an unrelated class with the same layout (a target for ``__class__`` assignment);
- functions using them: building ``v = V(...)`` and operating on it; mixing instances of the
  class, of a subclass and builtin ints and floats in one operator site; annotated parameters
  (``p: V``) called with instances of the class, a subclass, the unrelated class and builtins;
  unannotated parameters subscripted in a loop, whose first call's types may specialize the
  function (``fatopt/first_call_types.py``);
  ``isinstance``/``issubclass``/``type(x) is`` tests;
- changes to follow: a dunder or method rebound (to a function, a lambda, a property), added
  or deleted on a class, ``__getattr__``/``__getattribute__`` added to a class, an instance
  attribute shadowing a method (classes with a ``__dict__``), ``obj.__class__ = D``, a class
  attribute changed, the class's global name rebound; between the driver's calls, in ``during``
  functions, and in the middle of a running frame (a helper called from the loop of a function
  or of a method using the instance), where plain Python sees the change at the next operation;
- exceptions raised inside dunders and methods, caught in the function and recorded (the runner
  compares their traceback text) or escaping to the driver.

Safety rules that keep programs finite and deterministic: a dunder reads only its instance's
fields, never calls a method or an operator on ``self`` (no dispatch loop, so no
``RecursionError``, whose depth differs where fatopt inlines); a method calls only methods before
it in ``METHODS``; no field is ever assigned an instance or an operand (no cycle); ``__getitem__``
raises ``IndexError`` past index 1 (the old sequence protocol of ``list(v)`` and ``in`` stops);
``*`` only multiplies by small literal factors. A class's attribute is changed mid-frame only by
a statement the optimizer's analyses can see: a class attribute read as a constant may keep its
value in a running frame (docs/semantics.md, "Guards hold at function entry"), and the class's
global name is rebound only between calls for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from tests.fuzz.generator import _Builder

__all__ = ["PRELUDE", "add_dunders"]

#: Helpers of the family: putting an attribute back, and replacements for dunders and methods.
#: They keep the builtins they use in defaults, like the generator's own helpers.
PRELUDE = (
    "def _restore(owner, saved, name, _setattr=setattr, _delattr=delattr):",
    "    # put back what `owner` had under `name` (`saved`: its attributes then), or nothing",
    "    if name in saved:",
    "        _setattr(owner, name, saved[name])",
    "    else:",
    "        try:",
    "            _delattr(owner, name)",
    "        except AttributeError:",
    "            pass",
    "",
    "_SA, _DA = setattr, delattr  # calls the analyses cannot attribute to a class",
    "",
    "def _put_back(obj, klass, name=None, _type=type, _delattr=delattr):",
    "    # undo a change a function made to an instance it was given: its class, a shadowing attribute",
    "    if _type(obj) is not klass:",
    "        obj.__class__ = klass",
    "    if name is not None:",
    "        try:",
    "            _delattr(obj, name)",
    "        except (AttributeError, TypeError):",
    "            pass",
    "",
    "def _alt_binary(self, other, _type=type):",
    "    return ('alt', _type(self).__name__, other)",
    "",
    "def _alt_unary(self, _type=type):",
    "    return ('alt', _type(self).__name__)",
    "",
    "def _alt_notimpl(self, other):",
    "    return NotImplemented",
    "",
    "def _alt_raise(self, *args):",
    "    raise Err2('alt raised', args)",
    "",
    "def _alt_getitem(self, key):",
    "    return ('alt0', 'alt1')[key]",
    "",
    "def _alt_setitem(self, key, value):",
    "    self.y = key",
    "",
    "def _alt_len(self):",
    "    return 5",
    "",
    "def _alt_bool(self):",
    "    return False",
    "",
    "def _alt_iter(self):",
    "    yield 'alt'",
    "",
    "def _alt_call(self, *args):",
    "    return ('alt call', args)",
    "",
    "def _alt_init(self, x, y=0):",
    "    self.x = y",
    "    self.y = x",
    "",
    "def _alt_method(self, *args, _type=type):",
    "    return ('alt method', _type(self).__name__, args)",
    "",
    "def _alt_getattribute(self, name, _get=object.__getattribute__):",
    "    # intercepts a field and a method; the rest as usual",
    "    if name == 'x':",
    "        return 100",
    "    if name == 'norm':",
    "        return lambda *a: ('intercepted', a)",
    "    return _get(self, name)",
    "",
    "def _alt_getattr(self, name):",
    "    return ('missing', name)",
    "",
)

#: binary operators: dunder stem (`__add__`, reflected `__radd__`) and symbol
OPERATORS = (("add", "+"), ("sub", "-"), ("mul", "*"))
#: what a rebinding may put in place of a dunder or method
REPLACEMENTS = {
    "__getitem__": ("_alt_getitem", "_alt_raise"),
    "__setitem__": ("_alt_setitem", "_alt_raise"),
    "__delitem__": ("_alt_binary", "_alt_raise"),
    "__len__": ("_alt_len", "_alt_raise"),
    "__bool__": ("_alt_bool", "_alt_raise"),
    "__contains__": ("_alt_binary", "_alt_raise"),
    "__iter__": ("_alt_iter", "_alt_raise"),
    "__call__": ("_alt_call", "_alt_raise"),
    "__init__": ("_alt_init", "_alt_raise"),
    "__neg__": ("_alt_unary", "_alt_raise"),
    # added to a class: attribute lookup no longer goes straight to the type's dict
    "__getattribute__": ("_alt_getattribute",),
    "__getattr__": ("_alt_getattr",),
}
BINARY_REPLACEMENTS = ("_alt_binary", "_alt_notimpl", "_alt_raise")
#: dunders taking one operand, replaced by BINARY_REPLACEMENTS
BINARY_DUNDERS = frozenset([f"__{stem}__" for stem, _s in OPERATORS] + [f"__r{stem}__" for stem, _s in OPERATORS]
                           + ["__eq__", "__lt__", "__gt__", "__iadd__"])
METHOD_REPLACEMENTS = ("_alt_method", "_alt_raise", "lambda self, *a: ('lambda', a)", "property(_alt_unary)")
#: dunders a class may define (the binary ones and their reflected forms come from OPERATORS)
PROTOCOL = ("__getitem__", "__setitem__", "__delitem__", "__len__", "__bool__", "__contains__",
            "__iter__", "__call__", "__neg__", "__eq__", "__lt__", "__gt__", "__iadd__")
#: what a class may define, or a rebinding add, between an attribute and its lookup
LOOKUP_HOOKS = ("__getattr__", "__getattribute__")
#: methods in the order they may call each other: (name, parameters and their driver types)
METHODS = (("norm", ()), ("total", ()), ("first", ()), ("mix", (("other", "obj"),)),
           ("shifted", (("k", "int"),)), ("size", ()), ("has", (("item", "int"),)),
           ("listing", ()), ("apply", (("k", "int"),)), ("kind", ()), ("again", ()))
ATTRIBUTE_VALUES = ("0", "1", "2", "3", "-1", "10", "2.5", '"s"')


@dataclass
class _Class:
    name: str
    base: "_Class | None"
    #: the class's own ``__slots__`` (None: it declares none)
    slots: tuple[str, ...] | None
    #: dunders and methods its own body defines
    own: set[str] = field(default_factory=set)

    @property
    def has_dict(self) -> bool:
        """Instances have a ``__dict__`` (some class of the MRO declares no ``__slots__``)."""
        return self.slots is None or (self.base is not None and self.base.has_dict)

    @property
    def layout(self) -> tuple:
        """Equal for classes whose instances may swap ``__class__``."""
        chain, klass = [], self
        while klass is not None:
            chain += list(klass.slots or ())
            klass = klass.base
        return (tuple(chain), self.has_dict)


@dataclass
class _Family:
    classes: list[_Class]
    #: module-level instances: (global name, class)
    instances: list[tuple[str, _Class]]
    #: methods of the base class, in METHODS order
    methods: list[str]

    @property
    def base(self) -> _Class:
        return self.classes[0]


def add_dunders(b: "_Builder") -> list[str]:
    """Definition lines of the family; appends to ``b.functions``, ``b.rebinders``, ``b.objects``."""
    from tests.fuzz.generator import _Function, _Param

    lines = list(PRELUDE)
    family, class_lines = _classes(b)
    churn_helper: list[str] = []
    if b.chance(35):
        # inserted at the end of the base class's body (its lines come first, then a blank)
        method, churn_helper = _churn_method(b, family)
        end = class_lines.index("")
        class_lines[end:end] = method
    lines += class_lines + churn_helper
    for klass in family.classes:
        lines += [f"_CLS_{klass.name} = {klass.name}", f"_SAVED_{klass.name} = dict(vars({klass.name}))"]
    for index in range(b.between(2, 4)):
        # one of each class first, then any
        klass = family.classes[index] if index < len(family.classes) else b.pick(family.classes)
        name = b.fresh("_I")
        lines.append(f"{name} = {klass.name}({b.pick(('1', '2', '-3', '0'))}, {b.pick(('2', '1', '5', '0'))})")
        family.instances.append((name, klass))
        b.objects.append(name)
    b.objects += ["3", "2.5", '"s"']
    lines.append("")
    makers = (_constructing, _mixed_operands, _annotated, _mid_frame, _mid_frame, _polymorphic_site,
              _first_call_typed, _first_call_typed)
    for _ in range(b.between(1, 3)):
        lines += b.pick(makers)(b, family)
    if churn_helper:
        # on an instance of the base class or of a subclass, which inherits it
        instance, _klass = b.pick(family.instances[:2])
        b.functions.append(_Function(f"{instance}.churn", [_Param("b", "int", "1", "pos")], "body",
                                     call=f"(lambda *a, **k: {instance}.churn(*a, **k))"))
    for _ in range(b.between(0, 2)):
        # a method called by the driver on a module instance, looked up at each call (the
        # instance may have changed class or grown a shadowing attribute)
        method = b.pick(family.methods)
        params = dict(METHODS)[method]
        instance, _klass = b.pick(family.instances)
        b.functions.append(_Function(f"{instance}.{method}", [_Param(p, t, None, "pos") for p, t in params], "simple",
                                     call=f"(lambda *a, **k: {instance}.{method}(*a, **k))"))
    for visible in (False, True):
        # twice: the change a type specialization most depends on
        b.rebinders.append((visible, lambda v=visible: _rebind_class_member(b, family, v)))
        b.rebinders.append((visible, lambda v=visible: _rebind_class_member(b, family, v)))
        b.rebinders.append((visible, lambda v=visible: _rebind_instance(b, family, v)))
        b.rebinders.append((visible, lambda v=visible: _rebind_class_attribute(b, family, v)))
        b.rebinders.append((visible, lambda v=visible: _rebind_class_name(b, family, v)))
    return lines


# -- classes --------------------------------------------------------------------------------------

def _classes(b: "_Builder") -> tuple[_Family, list[str]]:
    base_name = b.fresh("V")
    slots = ("x", "y") if b.chance(50) else None
    base = _Class(base_name, None, slots)
    dunders = [f"__{stem}__" for stem, _s in OPERATORS if b.chance(70)]
    dunders += [f"__r{stem}__" for stem, _s in OPERATORS if b.chance(45)]
    dunders += [name for name in PROTOCOL if b.chance(60)]
    methods = [name for name, _p in METHODS if b.chance(40)] or ["norm"]
    lines = _class_lines(b, base, dunders, methods, scale=True)
    classes = [base]
    for _ in range(b.between(1, 2)):
        # a subclass overriding some dunders (reflected ones among them: subclass first) and
        # methods, or nothing
        sub = _Class(b.fresh("W"), base, () if slots is not None and b.chance(75) else None)
        overridden = [] if b.chance(25) else [d for d in dunders if b.chance(35)]
        # the reflected form of an operator the base defines: Python asks the subclass first
        overridden += [f"__r{s}__" for s, _y in OPERATORS if f"__{s}__" in dunders and b.chance(50)]
        overridden = list(dict.fromkeys(overridden))
        redefined = [m for m in methods if b.chance(35)]
        if b.chance(20):
            overridden.append(b.pick(LOOKUP_HOOKS))
        lines += _class_lines(b, sub, overridden, redefined, scale=b.chance(30))
        if b.chance(15):
            # a property where the base has a method: `obj.m()` calls what the property returns
            method = b.pick(methods)
            lines[-1:-1] = [f"    {method} = property(lambda self: ('property', self.y))"]
            sub.own.add(method)
        classes.append(sub)
    if b.chance(60):
        # an unrelated class with the same layout: `obj.__class__ = Twin` is allowed
        twin = _Class(b.fresh("Twin"), None, slots)
        twin_dunders = [d for d in ("__add__", "__radd__", "__getitem__", "__len__", "__iter__") if b.chance(50)]
        lines += _class_lines(b, twin, twin_dunders, [m for m in methods if b.chance(50)], scale=True)
        classes.append(twin)
    return _Family(classes, [], methods), lines


def _class_lines(b: "_Builder", klass: _Class, dunders: list[str], methods: list[str], scale: bool) -> list[str]:
    header = f"class {klass.name}({klass.base.name}):" if klass.base else f"class {klass.name}:"
    lines = [header]
    if klass.slots is not None:
        lines.append(f"    __slots__ = {klass.slots!r}")
    if scale:
        lines.append(f"    SCALE = {b.pick(ATTRIBUTE_VALUES[:6])}")
        lines.append(f"    KIND = {klass.name.lower()!r}")
    if klass.base is None or b.chance(20):
        lines += _init(b, klass)
        klass.own.add("__init__")
    if klass.base is None:
        lines += ["    def __repr__(self):",
                  "        return '%s(%r, %r)' % (type(self).__name__, self.x, self.y)"]
    for dunder in dunders:
        lines += _dunder(b, klass, dunder)
        klass.own.add(dunder)
    for method in methods:
        lines += _method(b, klass, method, methods)
        klass.own.add(method)
    if len(lines) == 1:
        lines.append("    pass")
    return lines + [""]


def _init(b: "_Builder", klass: _Class) -> list[str]:
    signature = b.pick(("self, x, y=0", "self, x, y", "self, x=1, y=2"))
    lines = [f"    def __init__({signature}):"]
    if b.chance(20):
        lines += ["        if x is None:", f"            raise ValueError({klass.name + ' needs x'!r})"]
    lines += ["        self.x = x", "        self.y = y"]
    return lines


def _dunder(b: "_Builder", klass: _Class, name: str) -> list[str]:
    C = klass.name
    stem = name[2:-2]
    for op, sym in OPERATORS:
        if stem == op:
            return _binary(b, C, op, sym)
        if stem == "r" + op:
            return _reflected(b, C, op, sym, subclass=klass.base is not None)
    if name == "__getitem__" and b.chance(60 if klass.base is None else 30):
        return _getitem_through_helper(b, klass)
    body = {
        "__getitem__": lambda: b.pick((
            ["if isinstance(key, tuple):", "    i, j = key", "    return (self.x, i, j)",
             "if key == 0:", "    return self.x", "if key == 1:", "    return self.y", "raise IndexError(key)"],
            ["return (self.x, self.y)[key]"],
            ["if key == 1:", "    raise KeyError('one')", "return (self.y, self.x)[key]"])),
        "__setitem__": lambda: b.pick((
            ["if isinstance(key, tuple):", "    i, j = key", "    self.y = i + j", "elif key == 0:",
             "    self.x = value", "elif key == 1:", "    self.y = value", "else:", "    raise IndexError(key)"],
            ["self.y = value + key"])),
        "__delitem__": lambda: b.pick((["if key == 0:", "    self.x = 0", "else:", "    raise KeyError(key)"],
                                       ["raise TypeError('no deleting ' + repr(key))"])),
        "__len__": lambda: [b.pick(("return 2", "return self.y", "return abs(self.x) % 3"))],
        "__bool__": lambda: [b.pick(("return self.x != 0", "return bool(self.y)", "return self.x"))],
        "__contains__": lambda: [b.pick(("return item == self.x or item == self.y",
                                         "return item in (self.x, self.y)", "return ('in', item)"))],
        "__iter__": lambda: b.pick((["yield self.x", "yield self.y"], ["return iter((self.x, self.y))"],
                                    ["return iter(())"], ["if self.y == 0:", "    raise Err1('empty')", "yield self.y"])),
        "__call__": lambda: b.pick((["return self.x + k"], ["return (type(self).__name__, k)"],
                                    ["if k == 0:", "    raise Err1('call', k)", "return k"])),
        "__neg__": lambda: [b.pick((f"return {C}(-self.x, -self.y)", "return ('neg', self.x)"))],
        "__eq__": lambda: b.pick(([f"if isinstance(other, {C}):", "    return self.x == other.x and self.y == other.y",
                                   "return NotImplemented"], ["return self.x == other"])),
        "__lt__": lambda: b.pick(([f"if isinstance(other, {C}):", "    return self.x < other.x",
                                   "return NotImplemented"], ["return self.x < other"])),
        "__gt__": lambda: b.pick((["return ('gt', other)"], ["return NotImplemented"])),
        "__iadd__": lambda: b.pick((["self.y = self.y + 1", "return self"], ["return NotImplemented"],
                                    [f"return {C}(self.x, other)"])),
        "__getattr__": lambda: [b.pick(("return ('missing', name)", "raise AttributeError(name + ' is missing')"))],
        "__getattribute__": lambda: ["if name == 'norm':", "    return lambda *a: ('intercepted', a)",
                                     "return object.__getattribute__(self, name)"],
    }[name]()
    parameters = {"__getitem__": "key", "__delitem__": "key", "__setitem__": "key, value",
                  "__contains__": "item", "__call__": "k=1", "__eq__": "other", "__lt__": "other",
                  "__gt__": "other", "__iadd__": "other", "__getattr__": "name",
                  "__getattribute__": "name"}.get(name, "")
    return [f"    def {name}(self{', ' if parameters else ''}{parameters}):", *[f"        {line}" for line in body]]


def _getitem_through_helper(b: "_Builder", klass: _Class) -> list[str]:
    """``__getitem__`` that loads fields, then calls the class's own ``_at`` (scimark SOR's
    ``self.data[self._idx(x, y)]``: an ordinary method inlined inside an inlined dunder, its
    flag test dropped where nothing ran between, its result forwarded), and ``_at``, which
    may raise and calls nothing on ``self`` (an index past the fields raises ``IndexError``:
    the old sequence protocol stops)."""
    klass.own.add("_at")
    load = b.pick(("cells = (self.x, self.y, self.x, self.y)", "cells = self.x, self.y, 0, 1", "cells = self.x"))
    index = b.pick(("(i, j)", "(i, 1)", "(j, i)"))
    at_body = b.pick((
        ["if 0 <= i < 2 and 0 <= j < 2:", "    return i * 2 + j", "raise IndexError(i)"],
        ["if i < 0:", "    raise KeyError('negative')", "return i * 2 + j"],
        ["return i + j"]))
    # (small enough to inline: a tuple key only, as scimark's Array2D; an int key raises TypeError)
    unpack = (["i, j = key"] if b.chance(75) else
              ["if isinstance(key, tuple):", "    i, j = key", "else:", "    i, j = key, 0"])
    getitem = [*unpack, load,
               f"return cells[self._at{index}]" if b.chance(70) else f"k = self._at{index}\nreturn cells[k]"]
    lines = ["    def __getitem__(self, key):"]
    for line in getitem:
        lines += [f"        {part}" for part in line.split("\n")]
    lines.append("    def _at(self, i, j):")
    lines += [f"        {line}" for line in at_body]
    return lines


def _binary(b: "_Builder", C: str, op: str, sym: str) -> list[str]:
    # `*` multiplies by literal factors only: a field may be a str and an operand 2 ** 40
    scalar = "other" if sym != "*" else "2"
    if sym == "*":
        dispatch = [f"if isinstance(other, {C}):", f"    return {C}(self.x + other.x, self.y - other.y)",
                    "if type(other) is int and -4 < other < 4:", f"    return {C}(self.x * other, self.y * other)",
                    "return NotImplemented"]
    else:
        dispatch = [f"if isinstance(other, {C}):", f"    return {C}(self.x {sym} other.x, self.y {sym} other.y)",
                    "if isinstance(other, (int, float)):", f"    return {C}(self.x {sym} other, self.y)",
                    "return NotImplemented"]
    body = b.pick((dispatch, dispatch,
                   [f"return type(self)(self.x {sym} {scalar}, self.y)"],
                   ["return NotImplemented"],
                   ["if other == 0:", f"    raise Err1({op!r} + ' zero', self.x)", f"return ({op!r}, self.x, other)"]))
    return [f"    def __{op}__(self, other):", *[f"        {line}" for line in body]]


def _reflected(b: "_Builder", C: str, op: str, sym: str, subclass: bool) -> list[str]:
    if subclass and b.chance(60):
        # a result that tells which dunder answered (Python asks a subclass's reflected dunder
        # first when it overrides its base's)
        body = b.pick(([f"return ({C + '.__r' + op + '__'!r}, other, self.x)"],
                       ["if other == 0:", f"    raise Err1('r{op} zero', self.x)", f"return ('r{op}', other)"]))
        return [f"    def __r{op}__(self, other):", *[f"        {line}" for line in body]]
    body = b.pick(([f"return ('r{op}', type(self).__name__, other, self.x)"],
                   ["if isinstance(other, int):", f"    return {C}(other {'+' if sym == '*' else sym} self.x, self.y)",
                    "return NotImplemented"],
                   # explicit call, not `self + other`: no dispatch loop between two reflected dunders
                   [f"return self.__{op}__(other)"],
                   ["return NotImplemented"],
                   [f"raise Err2('r{op}', other)"]))
    return [f"    def __r{op}__(self, other):", *[f"        {line}" for line in body]]


def _method(b: "_Builder", klass: _Class, name: str, methods: list[str]) -> list[str]:
    C = klass.name
    params = dict(METHODS)[name]
    earlier = [m for m, p in METHODS[:[m for m, _p in METHODS].index(name)] if not p and m in methods]
    if klass.base is not None and b.chance(50):
        arguments = ", ".join(p for p, _t in params)
        body = f"return ({C + '.' + name!r}, super().{name}({arguments}))"
    else:
        body = {
            "norm": "return self.x * self.x + self.y * self.y",
            "total": "return self.x + self.y + self.SCALE",
            "first": f"return self[0] + {b.pick(('type(self).SCALE', 'self.SCALE', '1'))}",
            "mix": "return self + other",
            "shifted": "return type(self)(self.x + k, self.y)",
            "size": "return len(self) + (1 if self else 0)",
            "has": "return item in self",
            "listing": "return [t for t in self]",
            "apply": "return self(k)",
            "kind": f"return (self.KIND, type(self).__name__, isinstance(self, {C}))",
            "again": (f"return (self.{b.pick(earlier)}(), 'again')" if earlier else "return -self"),
        }[name]
    signature = ", ".join(["self", *(p for p, _t in params)])
    return [f"    def {name}({signature}):", f"        {body}"]


# -- functions using the classes ------------------------------------------------------------------

def _operand(b: "_Builder", family: _Family, names, instances: list[str]) -> str:
    """Another operand: an int expression, a float, a str, an instance variable, a new instance."""
    choice = b.between(0, 6)
    if choice in (0, 1):
        return b.expr("int", names, 1)
    if choice == 2:
        return b.pick(("2.5", "0.0", "-1.5", "0"))
    if choice == 3:
        return b.pick(('"s"', "None", "(1, 2)"))
    if choice == 4 and instances:
        return b.pick(instances)
    klass = b.pick(family.classes[1:] if b.chance(50) else family.classes)  # often a subclass
    return f"{klass.name}({b.pick(('1', '2', '-1', '0'))}, {b.pick(('0', '3'))})"


def _use(b: "_Builder", family: _Family, var: str, names, instances: list[str], rebind: bool = True) -> str:
    """A statement using the instance in ``var``; ``rebind``: may be ``var += ...``."""
    others = [i for i in instances if i != var]
    operand = lambda: _operand(b, family, names, others)  # noqa: E731
    klass = b.pick(family.classes)
    ints = sorted(names.of("int")) or ["0"]
    i, j = b.pick(ints), b.pick(ints)
    # mostly an operator the base class defines (forward or reflected), else any
    defined = [sym for stem, sym in OPERATORS if {f"__{stem}__", f"__r{stem}__"} & family.base.own]
    symbol = lambda: b.pick(defined if defined and b.chance(75) else [s for _t, s in OPERATORS])  # noqa: E731
    choice = b.between(0, 18)
    if choice == 18:
        # two tuple-key reads in one statement (scimark SOR's shape: made linear, each site's
        # __getitem__ and the method it calls inlined)
        return f"out.append({var}[{b.pick(('0', i))}, 1] + {var}[1, {b.pick(('0', j))}])"
    if choice in (0, 1):
        return f"out.append({var} {symbol()} {operand()})"
    if choice == 2:
        return f"out.append({operand()} {symbol()} {var})"
    if choice == 3:
        return f"out.append({var} {b.pick(('==', '!=', '<', '>'))} {operand()})"
    if choice == 4:
        return f"out.append({b.pick(('-', 'not '))}{var})"
    if choice == 5:
        key = b.pick(("0", "1", "2", "-1", i, f"{i}, 1", f"0, {j}", "(1, 2)", '"k"'))
        return f"out.append({var}[{key}])"
    if choice == 6:
        key = b.pick(("0", "1", "3", i, f"{i}, {j}", "1, 2"))
        return f"{var}[{key}] = {b.expr('int', names, 1)}"
    if choice == 7:
        return f"del {var}[{b.pick(('0', '1', i))}]"
    if choice == 8:
        return f"out.append({b.pick(('len', 'bool'))}({var}))"
    if choice == 9:
        return f"out.append(1 if {var} else 0)"
    if choice == 10:
        return f"out.append({b.expr('int', names, 0)} {b.pick(('in', 'not in'))} {var})"
    if choice == 11:
        return f"out.append({b.pick(('list({})', '[t for t in {}]', 'tuple({})'))})".format(var)
    if choice == 12:
        return f"out.append({var}({b.pick(('', '0', i, '2'))}))"
    if choice in (13, 14):
        method = b.pick(family.methods + ["norm", "mix"])
        params = dict(METHODS)[method]
        arguments = ", ".join(operand() if t == "obj" else b.expr("int", names, 0) for _p, t in params)
        return f"out.append({var}.{method}({arguments}))"
    if choice == 15:
        read = b.pick(("{}.x", "{}.SCALE", "type({}).SCALE", "{}.KIND", family.base.name + ".SCALE"))
        return f"out.append({read.format(var)})"
    if choice == 16:
        test = b.pick((f"isinstance({var}, {klass.name})", f"type({var}) is {klass.name}",
                       f"issubclass(type({var}), {klass.name})", f"isinstance({var}, ({klass.name}, int))",
                       f"{var}.__class__ is {klass.name}", f"type({var}) == {family.base.name}"))
        return f"out.append({test})"
    if not rebind:
        return f"out.append({var}.{family.methods[0]}())" if not dict(METHODS)[family.methods[0]] else \
            f"out.append({var} + 1)"
    if others:
        return f"{var} += {b.pick(('1', '2.5', b.pick(others)))}"
    return f"{var} += 1"


def _guarded(b: "_Builder", statement: str, indent: str) -> list[str]:
    """``statement``, often under ``try``: the exception and its traceback text are recorded."""
    if b.chance(55):
        return [f"{indent}try:", f"{indent}    {statement}", f"{indent}except Exception as e:",
                f"{indent}    out.append(('raised', type(e).__name__, str(e)))", f"{indent}    _record(e)"]
    return [f"{indent}{statement}"]


def _names():
    from tests.fuzz.generator import _Names

    return _Names({"a": "int", "b": "int"})


def _register(b: "_Builder", name: str, params=None) -> None:
    from tests.fuzz.generator import _Function, _Param

    params = params or [_Param("a", "int", None, "pos"), _Param("b", "int", "1", "pos")]
    b.functions.append(_Function(name, params, "body"))


def _constructing(b: "_Builder", family: _Family) -> list[str]:
    """``v = V(...)`` built in the function, then used: the type is known without a check."""
    name = b.fresh("build")
    names = _names()
    lines = [f"def {name}(a, b=1):", "    out = []"]
    instances = []
    for _ in range(b.between(1, 2)):
        var = b.fresh("v")
        klass = family.base if not instances or b.chance(40) else b.pick(family.classes)
        args = ", ".join(b.expr("int", names, 1) if b.chance(40) else b.pick(("a", "b", "1", "0"))
                         for _ in range(b.between(1, 2)))
        lines.append(f"    {var} = {klass.name}({args})")
        instances.append(var)
    for _ in range(b.between(2, 6)):
        lines += _guarded(b, _use(b, family, b.pick(instances), names, instances), "    ")
    lines += [f"    out.append(({', '.join(instances)},))", "    return out", ""]
    _register(b, name)
    return lines


def _mixed_operands(b: "_Builder", family: _Family) -> list[str]:
    """One operator site seeing the class, a subclass, the unrelated class and builtins on either
    side: ``NotImplemented``, reflected dunders and the subclass-first rule."""
    name = b.fresh("mixed")
    defined = [sym for stem, sym in OPERATORS if f"__{stem}__" in family.base.own]
    sym = b.pick(defined if defined and b.chance(70) else ("+", "-", "*", "==", "<"))
    values = [f"{k.name}(a, {b.pick(('1', '0', 'b'))})" for k in family.classes] + ["1", "2.5", "b"]
    # the base and a subclass first: the subclass's reflected dunder, if it overrides one, answers
    pairs = [f"({values[0]}, {values[1]})"]
    for _ in range(b.between(2, 5)):
        left, right = b.pick(values), b.pick(values)
        pairs.append(f"({left}, {right})")
    lines = [f"def {name}(a, b=1):", "    out = []",
             f"    for left, right in ({', '.join(pairs)},):",
             "        try:",
             f"            out.append(left {sym} right)",
             "        except Exception as e:",
             "            out.append(('raised', type(e).__name__, str(e)))",
             "            _record(e)",
             "    return out", ""]
    _register(b, name)
    return lines


def _annotated(b: "_Builder", family: _Family) -> list[str]:
    """A parameter annotated with the class (speculation only): the driver passes instances of
    the class, of a subclass, of the unrelated class, and builtins."""
    from tests.fuzz.generator import _Names, _Param

    name = b.fresh("typed")
    klass = b.pick(family.classes)
    names = _Names({"n": "int"})
    returns = b.pick(("", f" -> {klass.name}", " -> list"))
    lines = [f"def {name}(p: {klass.name}, n: int = 1){returns}:", "    out = []"]
    if b.chance(50):
        test = b.pick((f"isinstance(p, {klass.name})", f"type(p) is {klass.name}",
                       f"not isinstance(p, {family.base.name})", f"issubclass(type(p), {klass.name})"))
        lines += [f"    if {test}:", *_guarded(b, _use(b, family, "p", names, ["p"]), "        "),
                  "    else:", "        out.append(('other', type(p).__name__))"]
    for _ in range(b.between(1, 4)):
        lines += _guarded(b, _use(b, family, "p", names, ["p"]), "    ")
    lines += ["    return out", ""]
    _register(b, name, [_Param("p", "obj", None, "pos"), _Param("n", "int", "1", "pos")])
    return lines


def _first_call_typed(b: "_Builder", family: _Family) -> list[str]:
    """A parameter subscripted in a loop, without annotation: the types of the function's first
    call may specialize it (fatopt/first_call_types.py). The driver passes instances of the
    classes, of subclasses and builtins, in any order: the first decides what is tried."""
    from tests.fuzz.generator import _Names, _Param

    name = b.fresh("learned")
    names = _Names({"n": "int"})
    # a loop of its own length (the driver's ints may be large); a `while` half of the time, as
    # `for ... in range(...)` makes the function specialized at import: both ways to the first
    # call's specialization (replacing a specialization, or making the first)
    if b.chance(50):
        lines = [f"def {name}(p, n=2):", "    out = []", "    for i in range(3):"]
        step: list[str] = []
    else:
        lines = [f"def {name}(p, n=2):", "    out = []", "    i = 0", "    while i < 3:"]
        step = ["        i += 1"]
    lines += _guarded(b, "out.append(p[i % 2])", "        ")
    if b.chance(40):
        lines += _guarded(b, "p[i % 2] = i", "        ")
    for _ in range(b.between(0, 2)):
        lines += _guarded(b, _use(b, family, "p", names, ["p"]), "        ")
    lines += step + ["    return out", ""]
    _register(b, name, [_Param("p", "obj", None, "pos"), _Param("n", "int", "2", "pos")])
    return lines


def _polymorphic_site(b: "_Builder", family: _Family) -> list[str]:
    """A method call or subscript in a loop over instances of several classes and a builtin."""
    name = b.fresh("poly")
    names = _names()
    items = [f"{k.name}(a, {b.pick(('1', '2'))})" for k in family.classes if b.chance(70)]
    items += [b.pick(("3", "(1, 2)", "'ab'"))] if b.chance(50) else []
    items = items or [f"{family.base.name}(a, b)"]
    lines = [f"def {name}(a, b=1):", "    out = []", f"    for obj in ({', '.join(items)},):"]
    for _ in range(b.between(1, 3)):
        lines += _guarded(b, _use(b, family, "obj", names, ["obj"]), "        ")
    lines += ["    return out", ""]
    _register(b, name)
    return lines


# -- changes --------------------------------------------------------------------------------------

def _member_change(b: "_Builder", family: _Family, visible: bool) -> tuple[str, list[str], list[str]]:
    """(key, statements, undo) rebinding, adding or deleting a dunder or method of a class."""
    klass = b.pick(family.classes)
    where = b.between(0, 9)
    if where < 6 and klass.own - {"__repr__"}:
        candidates = sorted(klass.own - {"__repr__"})  # rebound or deleted
    elif where < 8:
        candidates = [f"__{s}__" for s, _y in OPERATORS] + [f"__r{s}__" for s, _y in OPERATORS] + list(PROTOCOL)
    else:
        candidates = list(LOOKUP_HOOKS)
    member = b.pick(candidates)
    owner = f"_CLS_{klass.name}"
    undo = [f"_restore(_CLS_{klass.name}, _SAVED_{klass.name}, {member!r})"]
    key = f"attr.{klass.name}.{member}"
    if member in klass.own and b.chance(25):
        return key, [f"del {klass.name}.{member}" if visible else f"_DA({owner}, {member!r})"], undo
    if member in BINARY_DUNDERS:
        value = b.pick(BINARY_REPLACEMENTS)
    elif member.startswith("__"):
        value = b.pick(REPLACEMENTS[member])
    else:
        value = b.pick(METHOD_REPLACEMENTS)
    if visible:
        return key, [f"{klass.name}.{member} = {value}"], undo
    return key, [f"_SA({owner}, {member!r}, {value})"], undo


def _rebind_class_member(b: "_Builder", family: _Family, visible: bool):
    return _member_change(b, family, visible)


def _rebind_instance(b: "_Builder", family: _Family, visible: bool):
    """A module instance changes class (to one of the same layout), or (with a ``__dict__``)
    gets an attribute shadowing a method or a dunder (operators ignore the latter)."""
    instance, klass = b.pick(family.instances)
    targets = [k for k in family.classes if k is not klass and k.layout == klass.layout]
    if targets and (not klass.has_dict or b.chance(50)):
        target = b.pick(targets)
        do = f"{instance}.__class__ = {target.name}" if visible else f"_SA({instance}, '__class__', _CLS_{target.name})"
        return f"class.{instance}", [do], [f"{instance}.__class__ = _CLS_{klass.name}"]
    if not klass.has_dict:
        return _member_change(b, family, visible)
    member = b.pick(family.methods + ["__add__", "__len__", "__getitem__", "_at"])
    value = b.pick(("lambda *a: ('shadow', a)", "_alt_raise", "None"))
    do = f"{instance}.{member} = {value}" if visible else f"_SA({instance}, {member!r}, {value})"
    return f"inst.{instance}.{member}", [do], [f"_restore({instance}, {{}}, {member!r})"]


def _rebind_class_attribute(b: "_Builder", family: _Family, visible: bool):
    klass = b.pick(family.classes)
    # (a field the class gains: a property in the way of the instance's own `x`)
    attribute = b.pick(("SCALE", "KIND", "x"))
    value = f"_fresh({b.pick(ATTRIBUTE_VALUES)})" if attribute != "x" else b.pick(("property(_alt_unary)", "3"))
    do = f"{klass.name}.{attribute} = {value}" if visible else f"_SA(_CLS_{klass.name}, {attribute!r}, {value})"
    return (f"attr.{klass.name}.{attribute}", [do],
            [f"_restore(_CLS_{klass.name}, _SAVED_{klass.name}, {attribute!r})"])


def _rebind_class_name(b: "_Builder", family: _Family, visible: bool):
    """The class's global name bound to another class: functions building ``V(...)`` must
    build the other class (between calls only: a running frame may keep what it assumed)."""
    klass = b.pick(family.classes)
    other = b.pick([k for k in family.classes if k is not klass] or [klass])
    if visible:
        return f"global.{klass.name}", [f"{klass.name} = _CLS_{other.name}"], [f"{klass.name} = _CLS_{klass.name}"]
    return f"global.{klass.name}", [f"_mod.{klass.name} = _CLS_{other.name}"], [f"_mod.{klass.name} = _CLS_{klass.name}"]


def _mid_change(b: "_Builder", family: _Family, klass: _Class) -> tuple[list[str], list[str], str | None]:
    """(statements changing ``v``, an instance of ``klass``, or its class; their undo; the name
    of an attribute they may set on ``v``)."""
    choice = b.between(0, 4)
    if choice == 2 and not klass.has_dict and b.chance(80):
        choice = 1  # mostly not the AttributeError of a shadowing attribute on a slots instance
    if choice == 0:
        # a dunder or method of a class rebound, added or deleted (visibly or not)
        _key, do, undo = _member_change(b, family, visible=b.chance(40))
        return do, undo, None
    if choice == 1:
        targets = [k for k in family.classes if k is not klass and k.layout == klass.layout]
        target = b.pick(targets or family.classes)  # an incompatible layout raises TypeError
        return [b.pick((f"v.__class__ = {target.name}", f"_SA(v, '__class__', _CLS_{target.name})"))], [], None
    if choice == 2:
        # an instance attribute shadowing a method (AttributeError on a class without __dict__)
        member = b.pick(family.methods)
        return [b.pick((f"v.{member} = lambda *a: ('shadow', a)", f"_SA(v, {member!r}, _alt_raise)"))], [], member
    if choice == 3:
        # a class attribute, written where the analyses see it (see the module docstring)
        target = b.pick(family.classes)
        attribute = b.pick(("SCALE", "KIND"))
        return ([f"{target.name}.{attribute} = _fresh({b.pick(ATTRIBUTE_VALUES)})"],
                [f"_restore(_CLS_{target.name}, _SAVED_{target.name}, {attribute!r})"], None)
    return [f"v[{b.pick(('0', '1', '0, 1'))}] = {b.pick(('7', '-2', 'step'))}"], [], None


def _mid_loop(b: "_Builder", family: _Family, var: str, helper: str, names, undo: list[str],
              put_back: str | None, indent: str) -> list[str]:
    """A loop using ``var`` and calling ``helper(var, step)`` in the middle; the change undone."""
    inner = indent + "        "
    lines = [f"{indent}out = []", f"{indent}try:", f"{indent}    for step in range(3):"]
    # `var += ...` only after the helper (it may bind `var` to another object), never on self
    lines += [f"{inner}{_use(b, family, var, names, [var], rebind=False)}" for _ in range(b.between(1, 3))]
    lines.append(f"{inner}{helper}({var}, step)")
    lines += [f"{inner}{_use(b, family, var, names, [var], rebind=var != 'self')}" for _ in range(b.between(0, 2))]
    lines += [f"{indent}except Exception as e:",
              f"{indent}    out.append(('raised', type(e).__name__, str(e)))",
              f"{indent}    _record(e)",
              f"{indent}finally:",
              *[f"{indent}    {line}" for line in undo or ["pass"]]]
    if put_back:
        lines.append(f"{indent}    {put_back}")
    return lines + [f"{indent}return out"]


def _helper(name: str, do: list[str], step: str) -> list[str]:
    return [f"def {name}(v, step):", f"    if step == {step}:", *[f"        {line}" for line in do],
            "    return step", ""]


def _mid_frame(b: "_Builder", family: _Family) -> list[str]:
    """A function using an instance in a loop, which calls a helper that changes the instance or
    its class in the middle: plain Python sees the change at the very next operation."""
    from tests.fuzz.generator import _Param

    name = b.fresh("mid")
    helper = f"_change_{name}"
    klass = b.pick(family.classes)
    do, undo, shadowed = _mid_change(b, family, klass)
    lines = _helper(helper, do, b.pick(("0", "1")))
    names = _names()
    names.types["step"] = "int"
    if b.chance(65):
        # built here: its type is known without a check
        lines += [f"def {name}(a, b=1):", f"    v = {klass.name}(a, b)"]
        lines += _mid_loop(b, family, "v", helper, names, undo, None, "    ")
        _register(b, name)
    else:
        # given (annotated): the driver's instance is put back as it was
        del names.types["a"]
        lines += [f"def {name}(v: {klass.name}, b=1):", "    orig, orig_class = v, type(v)"]
        lines += _mid_loop(b, family, "v", helper, names, undo, f"_put_back(orig, orig_class, {shadowed!r})", "    ")
        _register(b, name, [_Param("v", "obj", None, "pos"), _Param("b", "int", "1", "pos")])
    return lines + [""]


def _churn_method(b: "_Builder", family: _Family) -> tuple[list[str], list[str]]:
    """(lines of a method ``churn`` of the base class, lines of its module-level helper): the
    mid-frame change in a method, whose ``self`` a specializer speculates to be of its class."""
    base = family.base
    helper = f"_change_churn_{base.name}"
    do, undo, shadowed = _mid_change(b, family, base)
    names = _names()
    names.types["step"] = "int"
    del names.types["a"]
    method = ["    def churn(self, b=1):", "        orig, orig_class = self, type(self)"]
    method += _mid_loop(b, family, "self", helper, names, undo, f"_put_back(orig, orig_class, {shadowed!r})",
                        "        ")
    return method, _helper(helper, do, b.pick(("0", "1")))
