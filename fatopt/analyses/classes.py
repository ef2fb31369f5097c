"""The module's class table: for each class defined at module level (and classes nested in
class bodies), its bases, methods, ``__slots__``, metaclass, decorators and class-level
constants, read from the source.

Type specialization and method inlining ask "what does ``Vector.norm`` resolve to", "do
instances of ``Point`` have a ``__dict__``", "is ``Direction.FORWARD`` a constant". The answers
here are speculation about the class as the source defines it; the guards on the class's global
name and on its attributes (``GuardClass``, ``GuardClassConstant``) make them exact at run time.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule
from fatopt.analyses.scopes import ScopesOfModule
from fatopt.folding import NOT_FOLDED, evaluate

if TYPE_CHECKING:
    from fatopt.config import Config
    from fatopt.module_unit import ModuleUnit

__all__ = ["ClassInfo", "MethodInfo", "ClassTable", "ModuleClassTable"]

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
#: decorators that make a method of a known kind (by their global name)
_METHOD_KINDS = {"staticmethod": "staticmethod", "classmethod": "classmethod", "property": "property"}


@dataclass
class MethodInfo:
    """A function defined in a class body."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    #: "function" (plain), "staticmethod", "classmethod", "property", or "decorated" (other
    #: decorators: what the name holds is unknown)
    kind: str


@dataclass
class ClassInfo:
    """What the source says about one class."""

    name: str
    qualname: str
    node: ast.ClassDef
    #: the base expressions as written (``ast.unparse``), in order
    bases: tuple[str, ...]
    #: qualnames of the bases that are classes of this table (None where a base is not)
    known_bases: tuple[str | None, ...]
    #: the ``metaclass=`` keyword as written, or None
    metaclass: str | None
    #: other class keywords as written
    keywords: tuple[str, ...]
    #: decorators as written
    decorators: tuple[str, ...]
    #: name -> method, for each ``def`` in the class body bound once there
    methods: dict[str, MethodInfo] = field(default_factory=dict)
    #: the names in a literal ``__slots__`` (tuple, list or str), or None if there is none or it
    #: is not a literal
    slots: tuple[str, ...] | None = None
    #: name -> value of class attributes bound once in the body to a constant expression and
    #: never assigned or deleted through the class's name elsewhere in the module
    constants: dict[str, Any] = field(default_factory=dict)
    #: True if the module binds the class's name only by this ``class`` statement (top level)
    bound_once: bool = False

    @property
    def instances_have_dict(self) -> bool | None:
        """False if instances have no ``__dict__`` by this class's own ``__slots__`` (its bases
        must be checked too), True if this class gives them one, None if unknown."""
        if self.slots is None:
            return True if self.metaclass is None else None
        return "__dict__" in self.slots


class ClassTable:
    """The classes of a module, by qualname and by node."""

    def __init__(self, classes: list[ClassInfo], bindings: dict[int, dict[str, int]] | None = None) -> None:
        self.classes = classes
        #: id(class node) -> name -> binding sites in its body (from the scope analysis)
        self._bindings = bindings if bindings is not None else {}
        self.by_qualname = {c.qualname: c for c in classes}
        self.by_node = {c.node: c for c in classes}

    def add(self, info: ClassInfo) -> None:
        """Add a class (the table is built in source order)."""
        self.classes.append(info)
        self.by_qualname[info.qualname] = info
        self.by_node[info.node] = info

    def mro(self, info: ClassInfo) -> list[ClassInfo] | None:
        """The classes of the table ``info``'s MRO goes through, in order, if every base is a
        class of the table or ``object`` and the hierarchy is single inheritance; else None
        (a base the source does not show could define anything)."""
        out = [info]
        current = info
        seen = {id(info)}
        while current.bases:
            if len(current.bases) != 1 or current.known_bases[0] is None:
                return None if current.bases != ("object",) else out
            current = self.by_qualname[current.known_bases[0]]
            if id(current) in seen:
                return None
            seen.add(id(current))
            out.append(current)
        return out

    def lookup(self, info: ClassInfo, name: str) -> tuple[ClassInfo, MethodInfo] | None:
        """The method ``name`` resolves to on ``info`` along :meth:`mro`, or None if a class in
        the way binds ``name`` otherwise, or the MRO is not known."""
        classes = self.mro(info)
        if classes is None:
            return None
        for cls in classes:
            method = cls.methods.get(name)
            if method is not None:
                return cls, method
            if name in self._bindings.get(id(cls.node), ()):
                return None
        return None

    def binds(self, info: ClassInfo, name: str) -> bool:
        """True if ``info``'s class body binds ``name`` (a ``def``, an assignment, ...)."""
        return name in info.methods or name in self._bindings.get(id(info.node), ())

    def object_new(self, info: ClassInfo) -> bool:
        """True if no class of ``info``'s :meth:`mro` binds ``__new__`` (``object.__new__``
        makes its instances, of exactly that class)."""
        classes = self.mro(info)
        return classes is not None and not any("__new__" in self._bindings.get(id(c.node), ()) for c in classes)

    def slots_only(self, info: ClassInfo) -> bool:
        """True if instances of ``info`` have no ``__dict__``: every class of its :meth:`mro`
        binds ``__slots__`` once, to a literal without ``"__dict__"`` (then an attribute that
        resolves to a method on the class cannot be shadowed by an instance attribute)."""
        classes = self.mro(info)
        return classes is not None and all(
            c.instances_have_dict is False and self._bindings.get(id(c.node), {}).get("__slots__") == 1 for c in classes)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.classes)

    def __len__(self) -> int:
        return len(self.classes)


def _method_kind(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    if not node.decorator_list:
        return "function"
    if len(node.decorator_list) == 1 and type(node.decorator_list[0]) is ast.Name:
        return _METHOD_KINDS.get(node.decorator_list[0].id, "decorated")
    return "decorated"


def _slots(body: list[ast.stmt]) -> tuple[str, ...] | None:
    for stmt in body:
        if type(stmt) is ast.Assign and any(type(t) is ast.Name and t.id == "__slots__" for t in stmt.targets):
            value = stmt.value
            if type(value) is ast.Constant and type(value.value) is str:
                return (value.value,)
            if type(value) in (ast.Tuple, ast.List) and all(
                type(e) is ast.Constant and type(e.value) is str for e in value.elts  # type: ignore[attr-defined]
            ):
                return tuple(e.value for e in value.elts)  # type: ignore[attr-defined]
            return None
    return None


def _constants(
    info: ClassInfo, body: list[ast.stmt], counts: dict[str, int], writes: set[tuple[str, str]], config: Config,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for stmt in body:
        if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
            name, value_node = stmt.targets[0].id, stmt.value
        elif type(stmt) is ast.AnnAssign and stmt.value is not None and type(stmt.target) is ast.Name:
            name, value_node = stmt.target.id, stmt.value
        else:
            continue
        if counts.get(name) != 1 or (info.name, name) in writes or (name.startswith("__") and name.endswith("__")):
            continue
        value = evaluate(value_node, config)
        if value is not NOT_FOLDED:
            out[name] = value
    return out


def _table(module: ModuleUnit) -> ClassTable:
    scopes = module.fact(ScopesOfModule)
    # (name, attribute) stored or deleted anywhere in the module
    writes: set[tuple[str, str]] = set()
    for scope in scopes.all_scopes():
        writes |= scope.attribute_writes
    table = ClassTable([], {})
    _add_classes(table, module, writes, module.tree.body, "", True)
    return table


def _add_classes(
    table: ClassTable, module: ModuleUnit, writes: set[tuple[str, str]], body: list[ast.stmt],
    prefix: str, top: bool,
) -> None:
    """Add the classes ``body`` defines, and those nested in their bodies, in source order."""
    facts = module.fact(FactsOfModule)
    scopes = module.fact(ScopesOfModule)
    local: dict[str, ClassInfo] = {}
    for stmt in body:
        if type(stmt) is not ast.ClassDef:
            continue
        qualname = prefix + stmt.name
        keywords = {k.arg: ast.unparse(k.value) for k in stmt.keywords if k.arg}
        bases = tuple(ast.unparse(b) for b in stmt.bases)
        # a base is known when it names a top-level class defined before, bound once
        known = tuple(
            local[b].qualname if top and b in local and local[b].bound_once else None
            for b in bases
        )
        info = ClassInfo(
            name=stmt.name, qualname=qualname, node=stmt, bases=bases, known_bases=known,
            metaclass=keywords.pop("metaclass", None),
            keywords=tuple(f"{k}={v}" for k, v in keywords.items()),
            decorators=tuple(ast.unparse(d) for d in stmt.decorator_list),
            slots=_slots(stmt.body),
            bound_once=top and facts.binding_count(stmt.name) == 1,
        )
        counts = table._bindings[id(stmt)] = scopes.scope_of(stmt).bindings
        for inner in stmt.body:
            if isinstance(inner, _FUNCTIONS) and counts.get(inner.name) == 1:
                info.methods[inner.name] = MethodInfo(inner, _method_kind(inner))
        info.constants = _constants(info, stmt.body, counts, writes, module.config) if info.bound_once else {}
        table.add(info)
        local[stmt.name] = info
        _add_classes(table, module, writes, stmt.body, qualname + ".", False)


class ModuleClassTable(Analysis[ClassTable]):
    """The :class:`ClassTable` of a :class:`fatopt.module_unit.ModuleUnit` (stable)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> ClassTable:
        return _table(module)
