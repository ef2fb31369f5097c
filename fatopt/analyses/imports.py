"""Imported names: what a module's top-level imports bind, and what the imported sibling
module's source says about it, read from source (never by importing it).

``from .config import DEBUG`` and ``import config`` + ``config.DEBUG`` are how real programs
spread their constants over modules; a module constant of ``config.py`` is a constant in the
importer too while the importer's binding (and, for attribute access, the sibling module's dict)
stays as it was: the optimizer speculates from the sibling's source and guards at run time.

Only sibling *source files* are read: ``.py`` files found next to the importing file (or up the
package for relative imports of level > 1), packages through their ``__init__.py``. An absolute
``import config`` is looked up next to the importer too and marked ``absolute``: it is that file
only when the importer's directory comes first on ``sys.path`` (a script and its neighbours);
the run-time guard on the module object decides.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.machinery import BYTECODE_SUFFIXES, EXTENSION_SUFFIXES, SOURCE_SUFFIXES
from typing import TYPE_CHECKING, Any

from fatopt.analyses.class_constants import AttributesWritten
from fatopt.analyses.manager import Analysis
from fatopt.analyses.module_facts import FactsOfModule, analyze_module
from fatopt.analyses.scopes import analyze_scopes
from fatopt.folding import NOT_FOLDED

if TYPE_CHECKING:
    from fatopt.config import Config
    from fatopt.module_unit import ModuleUnit

__all__ = ["SiblingModule", "ImportedName", "Imports", "ImportedNames", "ImportBoundNames", "sibling_module"]


@dataclass(frozen=True)
class SiblingModule:
    """What a sibling module's source binds as module constants."""

    path: str
    #: name -> value of its module constants (:mod:`fatopt.analyses.module_facts`)
    constants: dict[str, Any]
    #: every name its statements may bind
    bound: frozenset[str]


@dataclass(frozen=True)
class ImportedName:
    """One name a top-level import statement binds in the importer."""

    #: the importer's global name
    local: str
    #: the module as written (``config``, ``.config``, ``pkg.sub``)
    module: str
    #: the attribute imported from it (``from m import attr``), None for ``import m``
    attr: str | None
    #: the sibling module's source, when found
    sibling: SiblingModule | None
    #: True for absolute imports (see the module docstring)
    absolute: bool
    line: int

    @property
    def constant(self) -> Any:
        """The sibling's module constant this name is bound to (``from .config import DEBUG``),
        or ``NOT_FOLDED``."""
        if self.attr is None or self.sibling is None:
            return NOT_FOLDED
        return self.sibling.constants.get(self.attr, NOT_FOLDED)


@dataclass
class Imports:
    """The module's top-level imports by local name (names imported more than once, or also
    bound otherwise, are left out: their value is not one import's)."""

    names: dict[str, ImportedName] = field(default_factory=dict)
    #: True when the module's namespace is dynamic (``exec``, ``globals()``...): nothing is
    #: speculated, as no module constant is (:mod:`fatopt.analyses.module_facts`)
    dynamic: bool = False
    #: attribute names the module stores or deletes through any object, None for "any"
    #: (:func:`fatopt.analyses.class_constants.attributes_written`)
    attributes_written: frozenset[str] | None = frozenset()

    def constant(self, local: str, attr: str | None = None) -> Any:
        """The constant ``local`` (or ``local.attr`` for a module import) is bound to in its
        sibling's source, or ``NOT_FOLDED``."""
        found = self.names.get(local)
        if found is None:
            return NOT_FOLDED
        if attr is None:
            return found.constant
        if found.attr is not None or found.sibling is None:
            return NOT_FOLDED
        return found.sibling.constants.get(attr, NOT_FOLDED)


    def speculated(self, local: str, attr: str | None, line: int) -> Any:
        """The constant a read of ``local`` (or ``local.attr``) in a function defined at
        ``line`` may be replaced by, guarded, or ``NOT_FOLDED``: as :meth:`constant`, except in a
        dynamic module, for an absolute import of a standard-library name (the file next to the
        importer is not what it imports, except for a script shadowing the library), and for
        ``local.attr`` in a function defined before the import (its guard needs the module
        bound when the function is defined)."""
        found = self.names.get(local)
        if found is None or self.dynamic:
            return NOT_FOLDED
        if found.absolute and _in_stdlib(found.module):
            return NOT_FOLDED
        if attr is not None and (
            line <= found.line or self.attributes_written is None or attr in self.attributes_written
        ):
            return NOT_FOLDED
        return self.constant(local, attr)


def _first_file(base: str) -> str | None:
    """What the path-based finder loads for ``base`` (a path without suffix), as it looks: a
    package directory first (through its ``__init__``), then an extension module, then source,
    then bytecode; the name of the file found (its suffix says which), or None."""
    if os.path.isdir(base):
        init = _first_module_file(os.path.join(base, "__init__"))
        if init is not None:
            return init
    return _first_module_file(base)


def _first_module_file(base: str) -> str | None:
    for suffix in _LOADER_SUFFIXES:
        if os.path.isfile(base + suffix):
            return base + suffix
    return None


#: The suffixes the path-based finder tries, in its order (extension modules win over source).
_LOADER_SUFFIXES = (*EXTENSION_SUFFIXES, *SOURCE_SUFFIXES, *BYTECODE_SUFFIXES)


def _find(filename: str, module: str | None, level: int) -> str | None:
    """The source file of ``module`` imported from ``filename`` at ``level``, or None when what
    the import system would load there is not a ``.py`` file (an extension module, bytecode only,
    a namespace package) or nothing is found. Each dotted part must be a package on the way."""
    if not module or not os.path.isabs(filename) and not os.path.exists(filename):
        return None
    directory = os.path.dirname(os.path.abspath(filename))
    for _ in range(max(level - 1, 0)):
        directory = os.path.dirname(directory)
    *packages, last = module.split(".")
    for part in packages:
        directory = os.path.join(directory, part)
        init = _first_file(directory)
        if init is None or not init.startswith(os.path.join(directory, "__init__")):
            return None  # not a regular package
    found = _first_file(os.path.join(directory, last))
    return found if found is not None and found.endswith(tuple(SOURCE_SUFFIXES)) else None


def sibling_module(path: str, config: Config) -> SiblingModule | None:
    """The module constants of the source file ``path`` (None if it cannot be read or parsed).
    Cached per file version (path, size, modification time) and configuration."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _sibling(path, stat.st_size, stat.st_mtime_ns, config)


@lru_cache(maxsize=64)
def _sibling(path: str, size: int, mtime: int, config: Config) -> SiblingModule | None:
    try:
        with open(path, "rb") as f:
            source = f.read()
        tree = compile(source, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (OSError, SyntaxError, ValueError):
        return None
    facts = analyze_module(tree, analyze_scopes(tree), config)
    return SiblingModule(path, dict(facts.constants), facts.module_bound)


def _sibling_of(module: ModuleUnit, dotted: str, level: int) -> SiblingModule | None:
    if level == 0 and _in_stdlib(dotted):
        return None  # never speculated (Imports.speculated): not worth reading
    path = _find(module.filename, dotted, level)
    return sibling_module(path, module.config) if path else None


def _imports(module: ModuleUnit) -> Imports:
    facts = module.fact(FactsOfModule)
    found: dict[str, list[ImportedName]] = {}
    for stmt in module.tree.body:
        if type(stmt) is ast.ImportFrom and stmt.module != "__future__":
            level = stmt.level or 0
            # `from .config import DEBUG` imports names of one sibling, read once per statement;
            # `from . import config` imports each name as a module of its own
            source = _sibling_of(module, stmt.module, level) if stmt.module else None
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                local = alias.asname or alias.name
                if stmt.module is None:
                    entry = ImportedName(local, "." * level + alias.name, None,
                                         _sibling_of(module, alias.name, level), False, stmt.lineno)
                else:
                    entry = ImportedName(local, "." * level + stmt.module, alias.name, source,
                                         level == 0, stmt.lineno)
                found.setdefault(local, []).append(entry)
        elif type(stmt) is ast.Import:
            for alias in stmt.names:
                if alias.asname is None and "." in alias.name:
                    continue  # `import a.b` binds `a`, not the module read
                local = alias.asname or alias.name
                found.setdefault(local, []).append(
                    ImportedName(local, alias.name, None, _sibling_of(module, alias.name, 0), True, stmt.lineno))
    return Imports({
        local: entries[0] for local, entries in found.items()
        if len(entries) == 1 and facts.binding_count(local) == 1
    }, dynamic=bool(facts.dynamic), attributes_written=_frozen(module.fact(AttributesWritten)))


def _frozen(names: set[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


class ImportBoundNames(Analysis["frozenset[str]"]):
    """The names the module's top-level imports bind, those of absolute imports of the standard
    library aside (never speculated), without reading any other file: what a pass asks first,
    for every function (does it read such a name at all)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> frozenset[str]:
        names = set()
        for stmt in module.tree.body:
            kind = type(stmt)
            if kind is ast.ImportFrom and not stmt.level and _in_stdlib(stmt.module or ""):  # type: ignore[attr-defined]
                continue
            if kind in (ast.Import, ast.ImportFrom):
                for alias in stmt.names:  # type: ignore[attr-defined]
                    if kind is ast.Import and _in_stdlib(alias.name):
                        continue
                    names.add(alias.asname or alias.name.partition(".")[0])
        return frozenset(names)


def _in_stdlib(dotted: str) -> bool:
    return dotted.partition(".")[0] in sys.stdlib_module_names


class ImportedNames(Analysis[Imports]):
    """The :class:`Imports` of a :class:`fatopt.module_unit.ModuleUnit` (stable)."""

    stable = True

    @classmethod
    def compute(cls, module: ModuleUnit) -> Imports:
        return _imports(module)
