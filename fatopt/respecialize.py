"""Specialize one function again while the program runs, for argument types known now.

:mod:`fatopt.first_call_types` learns the exact types of a function's parameters at its first
call; this module turns them into code. The function's module is optimized again from its
source (which must be the text optimized at import: ``digest``), with those types as a profile
of one call for that function alone, exactly as ``-X fatopt=profile=FILE`` would have used a
recorded one. From the emitted module it takes the function's specialized ``def`` and the
guards of its ``born(...)`` decorator (and of its class's ``class_born(...)``, for a method),
compiles that ``def`` alone (inside its class statements, so that its qualified name and
``__class__`` cell are the original's), which :func:`fatopt.first_call_types.install` puts in
place of the function's current specialization (``_guards.respecialize``), and
:mod:`fatopt.first_call_cache` keeps for later runs.

Only a specialization that checks a parameter's type at entry is made (anything else is what the
function already has). It is installed only when every object its guards capture is the one the
module bound when the function was defined (:mod:`fatopt.definition_state`): the code was made
from the source, so its guards must watch what the source made.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import copy
import os
import warnings
from types import CodeType
from typing import TypeGuard

from fatopt.analyses.exact_types import _statements
from fatopt.emit import RUNTIME_NAME
from fatopt.first_call_types import source_digest
from fatopt.profile import Profile, TypeName

__all__ = ["make_for_types", "OneCallProfile"]

#: Why a first call's types gave no specialization, when only what the cache key names decides
#: it (fatopt.first_call_cache keeps these answers too)
NOT_TOP_LEVEL = "not a top-level function or method"
NOTHING = "nothing to specialize"
NOTHING_FOR_THESE_TYPES = "nothing to specialize for these types"
NOT_FOUND = "specialized code not found"
LASTING = frozenset({NOT_TOP_LEVEL, NOTHING, NOTHING_FOR_THESE_TYPES, NOT_FOUND})


class OneCallProfile:
    """A type profile whose entry for the ``def`` named ``qualname`` whose first line is
    ``firstlineno`` is ``types``, and which answers as ``base`` (the profile the program runs
    with, if any) for the rest: the questions :mod:`fatopt.analyses.exact_types`,
    :mod:`fatopt.analyses.receiver_types` and :mod:`fatopt.analyses.operand_types` ask a
    :class:`fatopt.profile.Profile`."""

    def __init__(self, qualname: str, firstlineno: int, types: tuple[TypeName, ...], base: Profile | None = None) -> None:
        self.qualname, self.firstlineno, self.types, self.base = qualname, firstlineno, types, base

    def types_for_def(self, filename: str, qualname: str, firstlineno: int, def_source: str) -> list[tuple[TypeName, ...]]:
        if (qualname, firstlineno) == (self.qualname, self.firstlineno):
            return [self.types]
        return self.base.types_for_def(filename, qualname, firstlineno, def_source) if self.base is not None else []

    def receiver_types_for_call(
        self, filename: str, qualname: str, firstlineno: int, def_source: str, end_lineno: int, end_col_offset: int,
    ) -> list[TypeName]:
        if self.base is None:
            return []
        return self.base.receiver_types_for_call(filename, qualname, firstlineno, def_source, end_lineno, end_col_offset)

    def operand_types_for_binop(
        self, filename: str, qualname: str, firstlineno: int, def_source: str, end_lineno: int, end_col_offset: int,
        operator: str | None = None,
    ) -> list[tuple[TypeName, TypeName]]:
        if self.base is None:
            return []
        return self.base.operand_types_for_binop(
            filename, qualname, firstlineno, def_source, end_lineno, end_col_offset, operator=operator)


def _read_source(filename: str, digest: str) -> str | None:
    """The text of ``filename`` if it is still the text that was optimized."""
    from importlib.util import decode_source

    try:
        with open(filename, "rb") as f:
            text = decode_source(f.read())
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    return text if source_digest(text) == digest else None


def _is_born(decorator: ast.expr, name: str) -> TypeGuard[ast.Call]:
    return (type(decorator) is ast.Call and type(decorator.func) is ast.Attribute and decorator.func.attr == name
            and type(decorator.func.value) is ast.Name and decorator.func.value.id == RUNTIME_NAME)


def _specialized_def(tree: ast.Module, path: list[str], name: str, lineno: int):
    """The born ``def`` of the function, its recipes and validity flag, and the recipes its
    class's ``class_born`` adds; or None."""
    body, owner = tree.body, None
    for class_name in path:
        owner = next((s for s in _statements(body) if type(s) is ast.ClassDef and s.name == class_name), None)
        if owner is None:
            return None
        body = owner.body
    for stmt in _statements(body):
        if type(stmt) is not ast.FunctionDef or stmt.name != name or stmt.lineno != lineno:
            continue
        born = next((d for d in stmt.decorator_list if _is_born(d, "born")), None)  # type: ignore[misc]
        if born is None:
            continue
        recipes = [ast.literal_eval(a) for a in born.args[1:]]
        valid = next((ast.literal_eval(k.value) for k in born.keywords if k.arg == "valid"), None)
        if owner is not None:
            for decorator in owner.decorator_list:
                if _is_born(decorator, "class_born") and ast.literal_eval(decorator.args[1]) == name:
                    recipes += [ast.literal_eval(a) for a in decorator.args[2:]]
        return stmt, tuple(recipes), valid
    return None


def _compile_def(tree: ast.Module, node: ast.FunctionDef, path: list[str], filename: str, qualname: str) -> CodeType | None:
    """The code of ``node`` (its decorators left out) compiled where it was: under the module's
    ``__future__`` imports, inside its class statements."""
    spec = copy.copy(node)
    spec.decorator_list = []
    body: list[ast.stmt] = [spec]
    for class_name in reversed(path):
        body = [ast.copy_location(ast.ClassDef(name=class_name, bases=[], keywords=[], body=body, decorator_list=[],
                                               type_params=[]), node)]
    futures = [s for s in tree.body if type(s) is ast.ImportFrom and s.module == "__future__" and not s.level]
    module = ast.fix_missing_locations(ast.Module(body=[*futures, *body], type_ignores=[]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the import's compile showed them already
        code = compile(module, filename, "exec", dont_inherit=True)
    stack = [code]
    while stack:
        current = stack.pop()
        if current.co_qualname == qualname and current.co_firstlineno == node.lineno:
            return current
        stack.extend(c for c in current.co_consts if type(c) is CodeType)
    return None


def make_for_types(
    code: CodeType, type_names: tuple[tuple[str, str, bool], ...], digest: str,
) -> tuple[CodeType, tuple, str | None] | str:
    """The specialization of the function whose original code is ``code`` for the exact types
    of its parameters (positional, then keyword-only) named ``type_names`` (module, qualified
    name, reachable through the module's globals), from its module's source named by
    ``digest``: its code, its guards' recipes and its validity flag's name; or why there is
    none."""
    from fatopt.compiler import config_for, profile_for
    from fatopt.config import Config
    from fatopt.importer import installed_options
    from fatopt.optimizer import optimize_ast

    filename = code.co_filename
    text = _read_source(filename, digest)
    if text is None:
        return "source changed"
    qualname = code.co_qualname
    if "<" in qualname:
        return NOT_TOP_LEVEL
    *path, name = qualname.split(".")
    options = installed_options()
    config = config_for(options) if options is not None else Config.default()
    try:
        base = profile_for(options) if options is not None else None
    except Exception:  # the profile file changed since the program started: without it
        base = None
    profile = OneCallProfile(qualname, code.co_firstlineno, tuple(TypeName(*n) for n in type_names), base)
    tree = ast.parse(text, filename)
    result = optimize_ast(tree, os.fspath(filename), config, source=text, profile=profile)  # type: ignore[arg-type]
    found = _specialized_def(result, path, name, code.co_firstlineno)
    if found is None:
        return NOTHING
    node, recipes, valid = found
    if not any(recipe[0] == "instance_class" for recipe in recipes):
        return NOTHING_FOR_THESE_TYPES
    new_code = _compile_def(tree, node, path, filename, qualname)
    if new_code is None:
        return NOT_FOUND
    return new_code, recipes, valid
