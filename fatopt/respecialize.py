"""Specialize one function again while the program runs, for argument types known now.

:mod:`fatopt.first_call_types` learns the exact types of a function's parameters at its first
call; this module turns them into code. The function's module is optimized again from its
source (which must be the text optimized at import: ``digest``), with those types as a profile
of one call for that function alone, exactly as ``-X fatopt=profile=FILE`` would have used a
recorded one. From the emitted module it takes the function's specialized ``def`` and the
guards of its ``born(...)`` decorator (and of its class's ``class_born(...)``, for a method),
compiles that ``def`` alone (inside its class statements, so that its qualified name and
``__class__`` cell are the original's), and has the runtime install it in place of the
function's current specialization (``_guards.respecialize``).

Only a specialization that checks a parameter's type at entry is installed (anything else is
what the function already has), and only when every object its guards capture is the one the
module bound when the function was defined (:mod:`fatopt.definition_state`): the code was made
from the source, so its guards must watch what the source made.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import copy
import os
import warnings
from types import CodeType, FunctionType
from typing import TypeGuard

from fatopt.analyses.exact_types import _statements
from fatopt.definition_state import DefinitionState
from fatopt.emit import RUNTIME_NAME
from fatopt.first_call_types import SPECIALIZED, source_digest
from fatopt.profile import Profile, TypeName

__all__ = ["specialize_for_types", "OneCallProfile"]

_type_module = type.__dict__["__module__"]
_type_qualname = type.__dict__["__qualname__"]


class OneCallProfile:
    """A type profile whose entry for the ``def`` named ``qualname`` whose first line is
    ``firstlineno`` is ``types``, and which answers as ``base`` (the profile the program runs
    with, if any) for the rest: the questions :mod:`fatopt.analyses.exact_types` and
    :mod:`fatopt.analyses.receiver_types` ask a :class:`fatopt.profile.Profile`."""

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


def _type_name(t: type, namespace: dict) -> TypeName:
    """``t`` named as a profile names it; reachable when the module's namespace binds its
    qualname to it (the optimized code names it through a guarded global)."""
    module = _type_module.__get__(t)
    qualname = _type_qualname.__get__(t)
    return TypeName(module if isinstance(module, str) else "?", qualname, namespace.get(qualname) is t)


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


def specialize_for_types(
    func: FunctionType, code: CodeType, types: tuple[type, ...], digest: str, state: DefinitionState,
) -> str:
    """Specialize ``func`` (whose code is ``code``) for the exact types ``types`` of its
    parameters (positional, then keyword-only), its module's source named by ``digest``, if the
    guards capture what ``state`` recorded when it was defined; the outcome: ``"specialized"``
    or why not."""
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
        return "not a top-level function or method"
    *path, name = qualname.split(".")
    namespace = func.__globals__
    options = installed_options()
    config = config_for(options) if options is not None else Config.default()
    try:
        base = profile_for(options) if options is not None else None
    except Exception:  # the profile file changed since the program started: without it
        base = None
    profile = OneCallProfile(qualname, code.co_firstlineno, tuple(_type_name(t, namespace) for t in types), base)
    tree = ast.parse(text, filename)
    result = optimize_ast(tree, os.fspath(filename), config, source=text, profile=profile)  # type: ignore[arg-type]
    found = _specialized_def(result, path, name, code.co_firstlineno)
    if found is None:
        return "nothing to specialize"
    node, recipes, valid = found
    if not any(recipe[0] == "instance_class" for recipe in recipes):
        return "nothing to specialize for these types"
    from fatopt import _guards as runtime

    builtins = func.__builtins__  # type: ignore[attr-defined]
    conditions = [c for recipe in recipes for c in runtime.conditions(recipe, func.__globals__, builtins)]
    if not state.matches(conditions, func.__globals__, builtins):
        return "a definition changed since the function's"
    new_code = _compile_def(tree, node, path, filename, qualname)
    if new_code is None:
        return "specialized code not found"

    runtime.respecialize(func, new_code, recipes, valid)
    return SPECIALIZED
