"""Recorded type profiles: the exact argument types a program's functions saw in a plain run.

Ordinary, unannotated code gives the optimizer no argument types; a profile does (issue 17,
"where types come from"). ``fatopt profile -o FILE -- app.py ARGS`` runs the program *plain* in a
child process (no fatopt: ``PYTHONFATOPT`` is taken out of its environment) with a recorder on,
and writes, per Python function that ran, the tuples of exact types (``type(arg)``) of its
parameters at each call, with call counts. From issue 17 onward the optimizer reads a profile
given as ``-X fatopt=profile=FILE`` (or ``PYTHONFATOPT``, ``fatopt compileall --profile FILE``):
each module it optimizes gets it as ``ModuleUnit.profile`` and asks :meth:`Profile.types_for_def`
from the syntax tree's side; the profile's content is part of the cache tag.

What is recorded and how:

- Parameters are ``co_varnames[:co_argcount + co_kwonlyargcount]`` (positional and keyword-only,
  ``self`` included); ``*args`` and ``**kwargs`` are not. Functions with none of those parameters,
  lambdas, comprehensions, class and module bodies are not recorded.
- At attribute-call sites ``obj.m(...)`` inside a def, the exact types of ``obj`` (the
  *receivers*) when ``m`` was a Python method of that type: the callback notes, per call, the
  caller's code and instruction (``f_back.f_lasti``) and the callee's first argument's type; at
  exit only the sites that are ``obj.m(...)`` calls of a def (matched by the call expression's
  end position, the attribute being the callee's name, the callee a function found on that type
  along its MRO: ``obj`` was bound to its first parameter) are kept, under the def's entry
  (:meth:`Profile.receiver_types_for_call`), at most :data:`MAX_TYPE_TUPLES` types per site.
  Calls of C methods (``list.append``) and of static or class methods are not seen, nor methods
  set on a class from outside its body: only defs of a class body note their call site (about
  0.6 µs more per such call, on 3.13 and 3.12; other calls pay nothing more).
- At binary-operator sites ``a OP b`` inside a def (an ``ast.BinOp``: ``p - q``, ``1 + v``), the
  exact types of both operands when a Python dunder of one of them ran the operation: the
  optimizer can then call that dunder directly (``C.__sub__(a, b)``) under ``type(a) is C`` and
  ``type(b) is D`` checks at the site, instead of the operator's dispatch through the type slots
  and the slot wrapper (:mod:`fatopt.analyses.operand_types`). When the callee is a def of a
  class body named as a binary operator's dunder, forward (``__sub__``) or reflected
  (``__rsub__``), with two positional parameters, the callback also notes the types of its
  first two arguments at the call site; at exit only the sites whose instruction is a
  ``BINARY_OP`` with the positions (start and end) of an ``ast.BinOp`` of a def of that operator
  are kept, when the callee is a function found on its first argument's type along its MRO
  (the dunder Python runs for that operator). The pair is stored as (left, right): a forward
  dunder's arguments, a reflected one's swapped (``1 + v`` ran ``type(v).__radd__(v, 1)``:
  ``(int, V)``). Operations of builtin types (no Python dunder runs), augmented assignments
  (``v -= w``: their instruction has the statement's positions, no ``ast.BinOp``'s) and explicit
  calls ``a.__sub__(b)`` are not operator sites. Sites are named by the ``ast.BinOp``'s end and
  its operator, since two operations can end at one place (``p + v * k``); two of the same
  operator ending at one place (``a ** b ** c``) are not recorded. When both the forward and the
  reflected dunder ran for one evaluation (``__add__`` returned NotImplemented), it counts once.
  A C type whose operator calls a Python dunder of another object records that object's type
  (``types.MappingProxyType(m) | d`` runs ``type(m).__or__(m, d)``: ``(M, dict)``): the checks
  at the site then fail, and the operation runs as written. At most :data:`MAX_TYPE_TUPLES`
  pairs per site (:meth:`Profile.operand_types_for_binop`); a dunder call costs about 0.3 µs
  more (3.13 and 3.12), other calls nothing more (a method's, one test).
- At most :data:`MAX_TYPE_TUPLES` distinct tuples per function; calls with a further tuple are
  counted as ``other_calls`` only (a function that polymorphic would not be specialized anyway).
- The mechanism is ``sys.monitoring``'s PY_START event, with ``sys._getframe(1)`` in the callback
  to read the arguments, on a tool id that debuggers, coverage and profilers do not claim by
  convention (4, else 3), freed at exit. ``tools/profile_overhead.py`` times a loop calling
  ``f(i, 1.0, "x")`` and ``len("abc")``, ns per iteration (best of 5, plain / this recorder /
  the same recording from ``sys.setprofile``): 3.13.0 55 / 1051 / 1570, 3.12.1 52 / 1117 /
  1908. ``sys.setprofile`` costs more: it is also called for every C call and return
  and every Python return, and it is per thread, where monitoring covers every thread.
- Recording runs no code of the program: types are keyed by ``id`` (a metaclass's ``__hash__`` or
  ``__eq__`` is never called) and named at exit through ``type``'s own descriptors.
- A function is identified by its file (absolute path), qualname, first line (``co_firstlineno``:
  the first decorator's line) and the SHA-256 of the source text of its ``def`` (decorators
  included; :func:`def_source`, :func:`source_hash`, used by the recorder and the optimizer
  alike). :meth:`Profile.argument_types` (from a code object) and :meth:`Profile.types_for_def`
  (from the syntax tree) answer only when that text is unchanged, so an edited function's entry
  is ignored. Functions whose file cannot be read are not recorded.
- Types are named ``module`` + ``qualname`` (``builtins.int``) and marked *reachable* when they are
  a top-level class of a module, found in that module's namespace as the very same object: the
  only ones the optimized module could name through a guarded global. Others (local classes,
  ``builtins.function``, nested classes) are recorded as unreachable and :meth:`argument_types`
  leaves out the tuples that hold one.

The program's behaviour is its own: its stdin, stdout and stderr are the terminal's, its exit
status is the command's, an unhandled exception is reported as by ``python`` (without the
recorder's frames). A program that ends through ``os._exit`` or a signal leaves no profile.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py
from fatopt import _ORIGINAL_BUILTINS

import ast
import builtins
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from types import CodeType, FunctionType, ModuleType
from fatopt.nodes import walk

__all__ = [
    "FORMAT", "FORMAT_VERSION", "MAX_TYPE_TUPLES", "Profile", "ProfileError", "TypeName", "load", "loads",
    "source_lines", "first_line", "def_source", "source_hash",
]

#: what the ``format`` field of a profile says
FORMAT = "fatopt-profile"
#: bumped whenever the file's layout changes; a file of another version is refused
FORMAT_VERSION = 1
#: distinct exact-type tuples kept per function
MAX_TYPE_TUPLES = 8
#: sys.monitoring tool ids tried, in order: not DEBUGGER_ID (0), COVERAGE_ID (1), PROFILER_ID (2)
#: or OPTIMIZER_ID (5), so that a program running pdb, coverage or cProfile is not refused its id
_TOOL_IDS = (4, 3)
#: the environment variable that carries the output path to the child
_OUTPUT_VARIABLE = "FATOPT_PROFILE_OUTPUT"


class ProfileError(Exception):
    """A profile cannot be read or written: the path and why, in one line."""


@dataclass(frozen=True)
class TypeName:
    """A recorded type: where it lives, and whether the optimizer could reach it by import."""

    module: str
    qualname: str
    reachable: bool

    def __str__(self) -> str:
        return f"{self.module}.{self.qualname}"

    def reference(self) -> tuple[str, str] | None:
        """``(module, qualname)``: the module to import and the name of the type in it, as the
        optimized module would reach it (``("builtins", "int")``, ``("vectors", "Vector")``);
        None for an unreachable type (no guarded global can name it)."""
        return (self.module, self.qualname) if self.reachable else None


@dataclass
class CallSite:
    """An attribute-call site ``obj.m(...)`` in a function: the attribute, and the exact types of
    ``obj`` seen when ``m`` was a Python method of that type, with call counts, most frequent
    first."""

    attribute: str
    receivers: list[tuple[TypeName, int]] = field(default_factory=list)


@dataclass
class OperatorSite:
    """A binary-operator site ``a OP b`` in a function: the operator (the ``ast`` class's name,
    ``"Sub"``), and the exact types of its left and right operands seen when a Python dunder of
    one of them ran it, with counts, most frequent first."""

    operator: str
    operands: list[tuple[tuple[TypeName, TypeName], int]] = field(default_factory=list)


@dataclass
class FunctionProfile:
    """One function's record: which def it is and the type tuples seen, most frequent first;
    its attribute-call sites, by the end (line, column) of the call expression; and its
    binary-operator sites, by the end (line, column) of the ``ast.BinOp`` and its operator (two
    can end at one place: ``a + b * c``)."""

    file: str
    qualname: str
    line: int
    source_hash: str
    parameters: list[str]
    calls: int
    other_calls: int
    type_tuples: list[tuple[tuple[TypeName, ...], int]] = field(default_factory=list)
    call_sites: dict[tuple[int, int], CallSite] = field(default_factory=dict)
    operator_sites: dict[tuple[int, int, str], OperatorSite] = field(default_factory=dict)


@dataclass
class Profile:
    """A loaded profile: its file, the Python that recorded it, and its functions."""

    path: str
    python: str
    functions: dict[tuple[str, str, int], FunctionProfile]
    #: what names this profile's content in a cache tag (:func:`fatopt.importer.profile_digest`
    #: of the file's bytes): an optimized module made with another profile is never reused
    digest: str = ""
    _sources: dict[str, dict[int, tuple[str, str]] | None] = field(default_factory=dict, repr=False)
    _file_set: frozenset[str] | None = field(default=None, repr=False)

    def entry(self, func_or_code) -> FunctionProfile | None:
        """The record of this function or code object, if its ``def`` is unchanged since."""
        code = _code_of(func_or_code)
        if code is None:
            return None
        entry = self.functions.get((os.path.abspath(code.co_filename), code.co_qualname, code.co_firstlineno))
        if entry is None:
            return None
        if entry.file not in self._sources:
            self._sources[entry.file] = _def_hashes(entry.file)
        hashes = self._sources[entry.file]
        if hashes is None or hashes.get(entry.line) != (code.co_name, entry.source_hash):
            return None
        return entry

    def argument_types(self, func_or_code) -> list[tuple[TypeName, ...]]:
        """The exact-type tuples recorded for this function's parameters, most frequent first,
        leaving out those with an unreachable type; empty when the function was not recorded or
        its source changed since."""
        return _reachable(self.entry(func_or_code))

    def entry_for_def(self, filename: str, qualname: str, firstlineno: int, def_source: str) -> FunctionProfile | None:
        """:meth:`entry` from the syntax tree's side: the record of the ``def`` at ``firstlineno``
        (its first decorator's line, as ``co_firstlineno``) of ``filename`` named ``qualname``
        (as CPython names it), if ``def_source`` (its text, decorators included:
        :func:`def_source`) is the text that was recorded."""
        entry = self.functions.get((os.path.abspath(filename), qualname, firstlineno))
        if entry is None or entry.source_hash != source_hash(def_source):
            return None
        return entry

    def types_for_def(self, filename: str, qualname: str, firstlineno: int, def_source: str) -> list[tuple[TypeName, ...]]:
        """:meth:`argument_types` from the syntax tree's side (see :meth:`entry_for_def`): the
        reachable exact-type tuples of the parameters, most frequent first; empty when the
        ``def`` was not recorded or its text changed since."""
        return _reachable(self.entry_for_def(filename, qualname, firstlineno, def_source))

    def receiver_types_for_call(
        self, filename: str, qualname: str, firstlineno: int, def_source: str, end_lineno: int, end_col_offset: int,
    ) -> list[TypeName]:
        """The exact types of ``obj`` recorded at the call ``obj.m(...)`` of the ``def`` named as
        for :meth:`types_for_def` whose call expression ends at ``end_lineno``,
        ``end_col_offset`` (the ``ast.Call`` node's), when ``m`` was a Python method of that type
        (a function found on the type, called bound to ``obj``): reachable ones only, most
        frequent first; empty when not recorded or the def's text changed since."""
        entry = self.entry_for_def(filename, qualname, firstlineno, def_source)
        site = entry.call_sites.get((end_lineno, end_col_offset)) if entry is not None else None
        if site is None:
            return []
        return [t for t, _calls in site.receivers if t.reachable]

    def operand_types_for_binop(
        self, filename: str, qualname: str, firstlineno: int, def_source: str, end_lineno: int, end_col_offset: int,
        operator: str | None = None,
    ) -> list[tuple[TypeName, TypeName]]:
        """The exact types of the left and right operands recorded at the binary operation
        ``a OP b`` of the ``def`` named as for :meth:`types_for_def` whose ``ast.BinOp`` node
        ends at ``end_lineno``, ``end_col_offset``, when a Python dunder of one of them ran it
        (``__sub__`` of the left's type, or ``__rsub__`` of the right's): pairs of reachable
        types only, most frequent first; empty when not recorded or the def's text changed
        since. ``operator`` (the node's ``ast`` class name, ``"Add"``) picks the site where two
        operations end at one place (``a + b * c``); without it, a place where sites of two
        operators were recorded answers nothing, one where a single one was answers with it
        (whichever node the caller meant: pass it)."""
        entry = self.entry_for_def(filename, qualname, firstlineno, def_source)
        if entry is None:
            return []
        if operator is not None:
            site = entry.operator_sites.get((end_lineno, end_col_offset, operator))
        else:
            found = [s for (line, col, _op), s in entry.operator_sites.items() if (line, col) == (end_lineno, end_col_offset)]
            site = found[0] if len(found) == 1 else None
        if site is None:
            return []
        return [pair for pair, _calls in site.operands if pair[0].reachable and pair[1].reachable]

    def covers(self, filename: str) -> bool:
        """Whether any function of the file ``filename`` was recorded (most files of a program
        never are: the optimizer need not look further)."""
        return os.path.abspath(filename) in self._files()

    def relocated(self, recorded: str, shown: str) -> Profile:
        """This profile with the entries of the file ``recorded`` filed under ``shown`` too: for
        code compiled under another file name than its real path (``fatopt compileall -d``),
        whose optimizer asks by the name it compiles under."""
        recorded, shown = os.path.abspath(recorded), os.path.abspath(shown)
        if recorded == shown or recorded not in self._files():
            return self
        functions = dict(self.functions)
        for (file, qualname, line), entry in self.functions.items():
            if file == recorded:
                functions[(shown, qualname, line)] = entry
        return Profile(self.path, self.python, functions, digest=self.digest)

    def _files(self) -> frozenset[str]:
        if self._file_set is None:
            self._file_set = frozenset(file for file, _qualname, _line in self.functions)
        return self._file_set


def _reachable(entry: FunctionProfile | None) -> list[tuple[TypeName, ...]]:
    """The type tuples of ``entry`` whose types are all reachable, most frequent first."""
    if entry is None:
        return []
    return [types for types, _calls in entry.type_tuples if all(t.reachable for t in types)]


def _code_of(func_or_code) -> CodeType | None:
    if isinstance(func_or_code, CodeType):
        return func_or_code
    code = getattr(func_or_code, "__code__", None)
    return code if isinstance(code, CodeType) else None


# -- loading -----------------------------------------------------------------------------------


def load(path: str) -> Profile:
    """Read the profile at ``path``. Raises ProfileError (path and why) for a file that cannot
    be read, is not JSON, is not a fatopt profile, or is of another format version or Python."""
    try:
        with open(path, "rb") as f:
            content = f.read()
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return loads(path, content)


def loads(path: str, content: bytes) -> Profile:
    """:func:`load` for the bytes ``content`` of the file at ``path`` (read already)."""
    from fatopt.importer import profile_digest

    try:
        data = json.loads(content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not a fatopt profile (not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ProfileError(f"{path}: not a fatopt profile (no \"format\": \"{FORMAT}\")")
    if data.get("version") != FORMAT_VERSION:
        raise ProfileError(f"{path}: profile format version {data.get('version')!r}, this fatopt reads {FORMAT_VERSION}")
    python = _python_version()
    if data.get("python") != python:
        raise ProfileError(f"{path}: recorded by Python {data.get('python')!r}, this is Python {python}: record it again")
    try:
        functions = {}
        for item in data["functions"]:
            entry = _function_from_json(item)
            functions[(entry.file, entry.qualname, entry.line)] = entry
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProfileError(f"{path}: malformed profile entry ({type(exc).__name__}: {exc})") from None
    return Profile(path, python, functions, digest=profile_digest(content))


def _function_from_json(item: dict) -> FunctionProfile:
    tuples = [
        (tuple(_type_from_json(t) for t in row["types"]), int(row["calls"]))
        for row in item["types"]
    ]
    sites = {
        (int(site["line"]), int(site["col"])): CallSite(
            str(site["attribute"]), [(_type_from_json(row["type"]), int(row["calls"])) for row in site["receivers"]])
        for site in item.get("call_sites", ())  # (absent from profiles recorded before they were)
    }
    operator_sites = {
        (int(site["line"]), int(site["col"]), str(site["operator"])): OperatorSite(
            str(site["operator"]), [(_pair_from_json(row["types"]), int(row["calls"])) for row in site["operands"]])
        for site in item.get("operator_sites", ())  # (absent from profiles recorded before they were)
    }
    return FunctionProfile(
        file=str(item["file"]), qualname=str(item["qualname"]), line=int(item["line"]),
        source_hash=str(item["source_hash"]), parameters=[str(p) for p in item["parameters"]],
        calls=int(item["calls"]), other_calls=int(item["other_calls"]), type_tuples=tuples, call_sites=sites,
        operator_sites=operator_sites,
    )


def _type_from_json(t: dict) -> TypeName:
    return TypeName(str(t["module"]), str(t["qualname"]), bool(t["reachable"]))


def _pair_from_json(types: list) -> tuple[TypeName, TypeName]:
    """An operator site's (left, right) types; a row of another length is malformed."""
    left, right = types
    return _type_from_json(left), _type_from_json(right)


def _python_version() -> str:
    """Profiles are per minor version: bytecode, and so co_firstlineno and names, may differ."""
    return f"{sys.version_info[0]}.{sys.version_info[1]}"


def _def_hashes(path: str) -> dict[int, tuple[str, str]] | None:
    """First line (the first decorator's, as ``co_firstlineno``) -> the name and the SHA-256 of
    the text of each ``def`` in the file at ``path``; None when it cannot be read or parsed."""
    parsed = _parse_file(path)
    return None if parsed is None else _hashes_of(*parsed)


def _hashes_of(tree: ast.Module, text: str) -> dict[int, tuple[str, str]]:
    """:func:`_def_hashes` of a parsed file."""
    lines = source_lines(text)
    hashes = {}
    for node in walk(tree):  # (not ast.walk: its lazy import reads the builtins the program may have patched)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
            hashes[first_line(node)] = (node.name, source_hash(def_source(lines, node)))
    return hashes


def _parse_file(path: str) -> tuple[ast.Module, str] | None:
    """The syntax tree and decoded text of the file at ``path``; None when it cannot be read or
    parsed."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        from importlib.util import decode_source

        text = decode_source(data)
        return ast.parse(text, path), text
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


@dataclass(frozen=True)
class _SiteOwner:
    """Where a site of a file is: what it is (an attribute call's attribute, a binary operation's
    operator, ``"Sub"``) and its innermost ``def``."""

    label: str
    qualname: str  # the def's, as CPython names it
    line: int  # the def's first line (co_firstlineno)
    name: str


class _DefSites:
    """The sites inside the ``def``s of a parsed file the recorder keeps, found in one walk: the
    calls ``obj.m(...)`` by their end (line, column), and the binary operations ``a OP b`` by
    their whole span (line, column, end line, end column), the positions CPython gives their
    ``BINARY_OP`` instruction. Spans are unique where ends are not (``a + b * c``); an operation
    whose end and operator another's share (``a ** b ** c``) is left out: the profile names
    operation sites by end and operator."""

    def __init__(self, tree: ast.Module) -> None:
        self.calls: dict[tuple[int, int], _SiteOwner] = {}
        self.operations: dict[tuple[int, int, int, int], _SiteOwner] = {}
        self._visit(tree, "", None)
        ends: dict[tuple[int, int, str], int] = {}
        for (_line, _col, end_line, end_col), owner in self.operations.items():
            ends[(end_line, end_col, owner.label)] = ends.get((end_line, end_col, owner.label), 0) + 1
        self.operations = {span: owner for span, owner in self.operations.items()
                           if ends[(span[2], span[3], owner.label)] == 1}

    def _visit(self, node: ast.AST, prefix: str, owner: tuple[str, int, str] | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = prefix + child.name
                for part in (*child.decorator_list, child.args, *([child.returns] if child.returns else [])):
                    self._visit_one(part, prefix, owner)  # evaluated in the enclosing scope
                self._visit_body(child.body, qualname + ".<locals>.", (qualname, first_line(child), child.name))
            elif isinstance(child, ast.ClassDef):
                for part in (*child.decorator_list, *child.bases, *child.keywords):
                    self._visit_one(part, prefix, owner)
                self._visit_body(child.body, prefix + child.name + ".", owner)
            else:
                self._visit_one(child, prefix, owner)

    def _visit_one(self, node: ast.AST, prefix: str, owner: tuple[str, int, str] | None) -> None:
        if owner is not None:
            self._note(node, owner)
        self._visit(node, prefix, owner)

    def _note(self, node: ast.AST, owner: tuple[str, int, str]) -> None:
        """Note ``node``, an expression of the def ``owner``, if it is a site of one kind."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.end_lineno is not None and node.end_col_offset is not None:
                self.calls[(node.end_lineno, node.end_col_offset)] = _SiteOwner(node.func.attr, *owner)
        elif isinstance(node, ast.BinOp):
            if node.end_lineno is not None and node.end_col_offset is not None:
                span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
                self.operations[span] = _SiteOwner(type(node.op).__name__, *owner)

    def _visit_body(self, body: list, prefix: str, owner: tuple[str, int, str] | None) -> None:
        self._visit(ast.Module(body=body, type_ignores=[]), prefix, owner)


#: The instructions a call site's frame is at while the callee starts.
_CALL_OPNAMES = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION_EX"})
#: The instruction a binary operation's frame is at while the operator's dunder runs.
_BINARY_OPNAMES = frozenset({"BINARY_OP"})

#: A binary operator's dunder -> the ``ast`` class of the operator and whether the dunder is the
#: reflected one (``1 + v`` runs ``type(v).__radd__(v, 1)``: its first argument is the right
#: operand)
_OPERATOR_DUNDERS: dict[str, tuple[str, bool]] = {
    f"__{prefix}{stem}__": (operator, prefix == "r")
    for operator, stem in (
        ("Add", "add"), ("Sub", "sub"), ("Mult", "mul"), ("Div", "truediv"), ("FloorDiv", "floordiv"),
        ("Mod", "mod"), ("Pow", "pow"), ("MatMult", "matmul"), ("LShift", "lshift"), ("RShift", "rshift"),
        ("BitAnd", "and"), ("BitOr", "or"), ("BitXor", "xor"),
    )
    for prefix in ("", "r")
}


def source_lines(text: str) -> list[str]:
    """The lines of a module's source text, each with its line break, numbered as the syntax
    tree numbers them (only ``\n``, ``\r\n`` and ``\r`` end a line: ``str.splitlines`` would
    also split at a form feed and shift every line after it)."""
    if "\r" in text:  # (decoded source files have none: importlib's decoding translates them)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """The first line of a ``def`` as its code object's ``co_firstlineno``: its first
    decorator's line, if it has decorators."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def def_source(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The text of the ``def`` ``node``, decorators included, out of its module's
    :func:`source_lines`: what a profile entry's ``source_hash`` is the hash of."""
    return "".join(lines[first_line(node) - 1:node.end_lineno])


def source_hash(def_text: str) -> str:
    """The SHA-256 (hex) of a ``def``'s text (:func:`def_source`), recorded with its entry."""
    return hashlib.sha256(def_text.encode("utf-8")).hexdigest()


# -- recording (in the child process) ----------------------------------------------------------


class _Recorder:
    """The PY_START callback and what it gathers: per code object, type-id tuple -> calls; per
    call site (the caller's code and instruction, and the callee's code), the type of the
    callee's first argument -> calls (an attribute-call site's receiver, when the callee is a
    method of that type: sorted out at exit, away from the program's calls), and when the
    callee is a binary operator's dunder, the types of its first two arguments -> calls (the
    operands of an ``a OP b`` whose instruction ran the dunder: sorted out at exit too)."""

    def __init__(self, max_tuples: int) -> None:
        self.max_tuples = max_tuples
        #: code -> [parameter names, {type-id tuple: calls}, other calls, whether it may be a
        #: method, whether it may be a binary operator's dunder]
        self.records: dict[CodeType, list] = {}
        #: (caller code, caller instruction offset, callee code) -> {first argument's type id:
        #: calls}, an :class:`_OperandCounts` when the callee may be a binary operator's dunder
        self.sites: dict[tuple[CodeType, int, CodeType], dict[int, int]] = {}
        #: id -> type, keeping each recorded type alive so that its id stays its own
        self.types: dict[int, type] = {}
        self.tool_id: int | None = None

    def start(self) -> None:
        monitoring = sys.monitoring
        for tool_id in _TOOL_IDS:
            if monitoring.get_tool(tool_id) is None:
                monitoring.use_tool_id(tool_id, "fatopt profile")
                self.tool_id = tool_id
                break
        else:
            raise ProfileError("no free sys.monitoring tool id (3 and 4 are taken)")
        monitoring.register_callback(self.tool_id, monitoring.events.PY_START, self._make_callback())
        monitoring.set_events(self.tool_id, monitoring.events.PY_START)

    def stop(self) -> None:
        if self.tool_id is not None:
            sys.monitoring.set_events(self.tool_id, 0)
            sys.monitoring.register_callback(self.tool_id, sys.monitoring.events.PY_START, None)
            sys.monitoring.free_tool_id(self.tool_id)
            self.tool_id = None

    def _make_callback(self):
        # Locals bound once: the callback runs at every Python call of the program.
        records, sites, types, max_tuples = self.records, self.sites, self.types, self.max_tuples
        get_frame, disable = sys._getframe, sys.monitoring.DISABLE
        own_file = __file__
        # 3.12's f_locals is a dict snapshot kept on the frame, which frame.clear() leaves
        # alone: a traceback whose frames were cleared would still keep the arguments alive,
        # and a __del__ would run later than in the plain program. 3.13's is a proxy.
        drop_snapshot = sys.version_info < (3, 13)

        def on_start(code: CodeType, offset: int):
            record = records.get(code)
            if record is None:
                count = code.co_argcount + code.co_kwonlyargcount
                if not count or code.co_name.startswith("<") or code.co_filename == own_file:
                    return disable  # no parameters, a lambda, comprehension or module body
                method = _may_be_method(code)
                record = records[code] = [code.co_varnames[:count], {}, 0, method, method and _may_be_operator(code)]
            try:
                frame = get_frame(1)
                frame_locals = frame.f_locals
                arg_types = [type(frame_locals[name]) for name in record[0]]
                if drop_snapshot:
                    frame_locals.clear()  # (a later f_locals fills it again)
            except Exception:  # never seen; if it happens, the program must not see it
                return None
            if record[3] and (caller := frame.f_back) is not None:
                site = (caller.f_code, caller.f_lasti, code)
                seen = sites.get(site)
                if seen is None:
                    seen = sites[site] = _OperandCounts() if record[4] else {}
                receiver = arg_types[0]
                receiver_id = id(receiver)
                if receiver_id in seen:
                    seen[receiver_id] += 1
                elif len(seen) < max_tuples:
                    seen[receiver_id] = 1
                    types[receiver_id] = receiver
                if record[4]:  # (only methods pay this test, only dunders what follows)
                    pairs = seen.pairs  # type: ignore[union-attr]
                    second = arg_types[1]
                    pair = (receiver_id, id(second))
                    if pair in pairs:
                        pairs[pair] += 1
                    elif len(pairs) < max_tuples:
                        pairs[pair] = 1
                        types[receiver_id] = receiver
                        types[pair[1]] = second
            key = tuple([id(t) for t in arg_types])
            counts = record[1]
            if key in counts:
                counts[key] += 1
            elif len(counts) < max_tuples:
                counts[key] = 1
                for t in arg_types:
                    types[id(t)] = t
            else:
                record[2] += 1
            return None

        return on_start

    def to_json(self) -> dict:
        """The profile's data, the builtins as at start-up while it is made (:func:`_start_builtins`)."""
        with _start_builtins():
            return self._to_json()

    def _to_json(self) -> dict:
        names: dict[int, dict] = {}
        sources: dict[str, _SourceFacts] = {}

        def named(i: int) -> dict:
            return names.get(i) or names.setdefault(i, _type_name(self.types[i]))

        # Several code objects can be one def (a module reloaded, or run twice under two names):
        # their counts are merged, within the cap.
        #: (file, qualname, first line) -> [def hash, parameters, {type-id tuple: calls}, other
        #: calls, {(end line, end column): [attribute, {receiver type id: calls}]},
        #: {(end line, end column, operator): {(left type id, right type id): calls}}]
        merged: dict[tuple[str, str, int], list] = {}
        for code, (parameters, counts, other, _method, _operator) in self.records.items():
            path = os.path.abspath(code.co_filename)
            facts = sources.get(path) or sources.setdefault(path, _SourceFacts(path))
            name_and_hash = facts.hashes.get(code.co_firstlineno)
            if name_and_hash is None or name_and_hash[0] != code.co_name:
                continue  # no readable source, or not a def
            key = (path, code.co_qualname, code.co_firstlineno)
            if key not in merged:
                merged[key] = _new_entry(name_and_hash[1], list(parameters))
            into = merged[key]
            for types_key, calls in counts.items():
                if types_key in into[2] or len(into[2]) < self.max_tuples:
                    into[2][types_key] = into[2].get(types_key, 0) + calls
                else:
                    into[3] += calls
            into[3] += other
        self._merge_sites(merged, sources)
        self._merge_operator_sites(merged, sources)
        functions = []
        for (path, qualname, line), (def_hash, parameters, counts, other, sites, operations) in merged.items():
            rows = sorted(counts.items(), key=lambda item: -item[1])
            functions.append({
                "file": path, "qualname": qualname, "line": line,
                "source_hash": def_hash, "parameters": parameters,
                "calls": sum(counts.values()) + other, "other_calls": other,
                "types": [{"types": [named(i) for i in types_key], "calls": calls} for types_key, calls in rows],
                "call_sites": [
                    {"line": site_line, "col": col, "attribute": attribute, "receivers": [
                        {"type": named(i), "calls": calls}
                        for i, calls in sorted(receivers.items(), key=lambda item: -item[1])
                    ]}
                    for (site_line, col), (attribute, receivers) in sorted(sites.items())
                ],
                "operator_sites": [
                    {"line": site_line, "col": col, "operator": operator, "operands": [
                        {"types": [named(left), named(right)], "calls": calls}
                        for (left, right), calls in sorted(pairs.items(), key=lambda item: -item[1])
                    ]}
                    for (site_line, col, operator), pairs in sorted(operations.items())
                ],
            })
        functions.sort(key=lambda f: (f["file"], f["line"], f["qualname"]))
        return {
            "format": FORMAT, "version": FORMAT_VERSION, "python": _python_version(),
            "max_type_tuples": self.max_tuples, "functions": functions,
        }


    def _merge_sites(self, merged: dict[tuple[str, str, int], list], sources: dict[str, _SourceFacts]) -> None:
        """Into ``merged``, the receivers of the attribute-call sites: a site recorded is kept
        when its instruction is a call, the call expression ending where it ends is ``obj.m(...)``
        in a def the caller's code is (or is inside: a generator expression, a lambda), ``m`` is
        the callee's name, and the callee is a function found on the first argument's type along
        its MRO (a method called bound: ``obj`` was that argument). A function with such sites
        gets an entry even if it has no parameters of its own."""
        instructions: dict[CodeType, tuple[list[int], list]] = {}
        for (caller, offset, callee), seen in self.sites.items():
            receivers = {i: calls for i, calls in seen.items() if _has_method_code(self.types[i], callee)}
            if not receivers:
                continue
            position = _site_positions(caller, offset, _CALL_OPNAMES, instructions)
            if position is None:
                continue
            path = os.path.abspath(caller.co_filename)
            facts = sources.get(path) or sources.setdefault(path, _SourceFacts(path))
            end = (position.end_lineno, position.end_col_offset)
            owner = facts.sites.get(end)
            if owner is None or owner.label != callee.co_name:
                continue
            entry = _site_entry(merged, path, facts, owner, caller)
            if entry is None:
                continue
            site = entry[4].setdefault(end, [owner.label, {}])
            for i, calls in receivers.items():
                if i in site[1] or len(site[1]) < self.max_tuples:
                    site[1][i] = site[1].get(i, 0) + calls

    def _merge_operator_sites(self, merged: dict[tuple[str, str, int], list], sources: dict[str, _SourceFacts]) -> None:
        """Into ``merged``, the operand types of the binary-operator sites: a site recorded is
        kept when its instruction is a ``BINARY_OP`` whose positions are those of an ``a OP b``
        (an ``ast.BinOp``) in a def the caller's code is (or is inside), OP is the operator of
        the callee (a dunder), and the callee is a function found on its first argument's type
        along its MRO: the dunder Python ran for OP, the left operand's (``__sub__``: the pair
        is its arguments') or the right's (``__rsub__``: its arguments' swapped). An augmented
        assignment (``v -= w``) is not such a site: its instruction has the whole statement's
        positions, which no ``ast.BinOp`` has."""
        # Per instruction and operator first: both the forward and the reflected dunder can run
        # for one evaluation (``__add__`` returned NotImplemented), which counts once.
        counted: dict[tuple[CodeType, int, str], dict[tuple[int, int], int]] = {}
        for (caller, offset, callee), seen in self.sites.items():
            if type(seen) is not _OperandCounts:
                continue
            operator, reflected = _OPERATOR_DUNDERS[callee.co_name]
            into = counted.setdefault((caller, offset, operator), {})
            for (first, second), calls in seen.pairs.items():
                if _has_method_code(self.types[first], callee):
                    pair = (second, first) if reflected else (first, second)
                    into[pair] = max(into.get(pair, 0), calls)
        instructions: dict[CodeType, tuple[list[int], list]] = {}
        for (caller, offset, operator), pairs in counted.items():
            position = _site_positions(caller, offset, _BINARY_OPNAMES, instructions) if pairs else None
            if position is None or position.lineno is None or position.col_offset is None:
                continue
            path = os.path.abspath(caller.co_filename)
            facts = sources.get(path) or sources.setdefault(path, _SourceFacts(path))
            span = (position.lineno, position.col_offset, position.end_lineno, position.end_col_offset)
            owner = facts.operations.get(span)
            if owner is None or owner.label != operator:
                continue
            entry = _site_entry(merged, path, facts, owner, caller)
            if entry is None:
                continue
            site = entry[5].setdefault((span[2], span[3], operator), {})
            for pair, calls in pairs.items():
                if pair in site or len(site) < self.max_tuples:
                    site[pair] = site.get(pair, 0) + calls


class _OperandCounts(dict):
    """A call site's receivers (``{type id: calls}``) when the callee may be a binary operator's
    dunder, and the pairs of types of its first two arguments, ``{(type id, type id): calls}``:
    in one object, found with one lookup of the site (hashing its key, which hashes two code
    objects, costs about as much again as the rest of the recording)."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: dict[tuple[int, int], int] = {}


def _new_entry(def_hash: str, parameters: list[str]) -> list:
    """A def's entry while the recorder merges its data (see ``merged`` in ``_to_json``)."""
    return [def_hash, parameters, {}, 0, {}, {}]


def _site_positions(caller: CodeType, offset: int, opnames: frozenset[str],
                    instructions: dict[CodeType, tuple[list[int], list]]):
    """The source positions of ``caller``'s instruction at ``offset`` (a frame's ``f_lasti``)
    when it is one of ``opnames`` and its end is known; else None. ``instructions`` caches
    :func:`_instructions` per code."""
    if caller not in instructions:
        instructions[caller] = _instructions(caller)
    instruction = _instruction_at(*instructions[caller], offset)
    if instruction is None or instruction.opname not in opnames:
        return None
    position = instruction.positions
    if position is None or position.end_lineno is None or position.end_col_offset is None:
        return None
    return position


def _site_entry(merged: dict[tuple[str, str, int], list], path: str, facts: _SourceFacts, owner: _SiteOwner,
                caller: CodeType) -> list | None:
    """The entry in ``merged`` of the def ``owner`` of the file ``path``, made if need be, for a
    site seen in ``caller``'s code; None when that code is not the def's nor inside it (a
    generator expression, a lambda), or the def is not the one hashed."""
    if caller.co_qualname != owner.qualname and not caller.co_qualname.startswith(owner.qualname + ".<locals>.<"):
        return None  # the same positions, but not this def's code (a class body's last call...)
    name_and_hash = facts.hashes.get(owner.line)
    if name_and_hash is None or name_and_hash[0] != owner.name:
        return None
    key = (path, owner.qualname, owner.line)
    if key not in merged:
        merged[key] = _new_entry(name_and_hash[1], [])
    return merged[key]


def _may_be_method(code: CodeType) -> bool:
    """Whether ``code`` is a def of a class body with a positional parameter (``self``): the only
    callees whose call sites the recorder notes (finding the caller's frame costs about half as
    much as the rest of the recording: plain functions, most calls, do not pay it)."""
    if not code.co_argcount:
        return False
    parts = code.co_qualname.rsplit(".", 2)
    return len(parts) > 1 and parts[-2] != "<locals>"


def _may_be_operator(code: CodeType) -> bool:
    """Whether ``code``, a def of a class body (:func:`_may_be_method`), is named as a binary
    operator's dunder and takes its two operands positionally: the only callees whose arguments'
    pair the recorder notes as well (the rest pay one test)."""
    return code.co_argcount >= 2 and code.co_name in _OPERATOR_DUNDERS


def _instructions(code: CodeType) -> tuple[list[int], list]:
    """The offsets of ``code``'s instructions (inline caches left out), and the instructions."""
    import dis

    found = list(dis.get_instructions(code))
    return [i.offset for i in found], found


def _instruction_at(offsets: list[int], found: list, offset: int):
    """The instruction a frame's ``f_lasti`` is in: 3.13 gives the instruction's own offset,
    3.12 that of its last inline cache entry during a call."""
    import bisect

    index = bisect.bisect_right(offsets, offset) - 1
    return found[index] if index >= 0 else None


class _SourceFacts:
    """What the recorder needs of a source file at exit, from one parse: the hash of each def
    (:func:`_def_hashes`), its attribute-call sites and its binary operations (:class:`_DefSites`)."""

    def __init__(self, path: str) -> None:
        parsed = _parse_file(path) if os.path.isfile(path) else None
        self.hashes: dict[int, tuple[str, str]] = {}
        self.sites: dict[tuple[int, int], _SiteOwner] = {}
        self.operations: dict[tuple[int, int, int, int], _SiteOwner] = {}
        if parsed is not None:
            tree, text = parsed
            self.hashes = _hashes_of(tree, text)
            found = _DefSites(tree)
            self.sites, self.operations = found.calls, found.operations


_type_mro = type.__dict__["__mro__"]
_type_dict = type.__dict__["__dict__"]
_function_code = FunctionType.__dict__["__code__"]


def _has_method_code(t: type, callee: CodeType) -> bool:
    """Whether a plain function with the code ``callee`` is found under its name in the
    namespace of ``t`` or of a class of its MRO: through type's own descriptors, running no code
    of the program (no metaclass attribute lookup, no descriptor)."""
    name = callee.co_name
    for klass in _type_mro.__get__(t):
        namespace = _type_dict.__get__(klass)
        value = namespace.get(name)
        if type(value) is FunctionType and _function_code.__get__(value) is callee:
            return True
    return False


_type_module = type.__dict__["__module__"]
_type_qualname = type.__dict__["__qualname__"]


def _type_name(t: type) -> dict:
    """``t`` named as the optimizer would name it, without running the program's code (type's
    own descriptors, not a metaclass's; the module's namespace read directly)."""
    module = _type_module.__get__(t)
    qualname = _type_qualname.__get__(t)
    if not isinstance(module, str):
        module = "?"
    owner = sys.modules.get(module)
    reachable = (
        "." not in qualname
        and isinstance(owner, ModuleType)
        and isinstance(getattr(owner, "__dict__", None), dict)
        and owner.__dict__.get(qualname) is t
    )
    return {"module": module, "qualname": qualname, "reachable": reachable}


#: a builtin the program deleted
_ABSENT = object()


class _start_builtins:
    """The builtins as they were at start-up (``fatopt._ORIGINAL_BUILTINS``) while the profile is
    made and written, then the program's again: the program may end with some patched or
    deleted (``builtins.str = ...``), and the standard library code the writer runs (``dis``,
    ``json``, an import's ``_handle_fromlist``) reads them. (A class of this module, which keeps
    the real builtins: not ``contextlib``, whose ``next`` is the program's.)"""

    def __enter__(self) -> None:
        current = builtins.__dict__
        self.saved = {name: current.get(name, _ABSENT) for name, value in _ORIGINAL_BUILTINS.items()
                      if current.get(name, _ABSENT) is not value}
        current.update({name: _ORIGINAL_BUILTINS[name] for name in self.saved})

    def __exit__(self, *exc_info: object) -> None:
        current = builtins.__dict__
        for name, value in self.saved.items():
            if value is _ABSENT:
                current.pop(name, None)
            else:
                current[name] = value


def write(path: str, data: dict) -> None:
    """Write the profile ``data`` to ``path`` atomically (a temporary file, then a rename)."""
    with _start_builtins():
        _write(path, data)


def _write(path: str, data: dict) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        os.replace(temporary, path)
    except OSError as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise ProfileError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _program_traceback(tb):
    """``tb`` without the recorder's and runpy's frames above the program's first one."""
    import runpy

    ours = {__file__, runpy.__file__, "<string>"}
    while tb is not None and tb.tb_frame.f_code.co_filename in ours and tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def child_main() -> None:
    """The child's whole life: ``python -c "..." [-m MODULE | SCRIPT] ARGS`` with the output
    path in the environment: record the program run as ``python`` would run it, write the
    profile at exit (after the program's own exit handlers: registered first, it runs last)."""
    import atexit

    output = os.environ.pop(_OUTPUT_VARIABLE)
    args = sys.argv[1:]
    recorder = _Recorder(MAX_TYPE_TUPLES)

    pid = os.getpid()

    def finish() -> None:
        if os.getpid() != pid:  # a forked child ending through sys.exit: the profile is the parent's
            return
        recorder.stop()
        try:
            with _start_builtins():
                write(output, recorder.to_json())
        except ProfileError as exc:
            sys.stderr.write(f"fatopt profile: error: {exc}\n")
        except Exception as exc:  # a bug of ours: say so, leave the program's exit alone
            sys.stderr.write(f"fatopt profile: error: no profile written: {type(exc).__name__}: {exc}\n")

    atexit.register(finish)
    main = sys.modules["__main__"]
    try:
        if args[0] == "-m":
            import runpy

            sys.argv = [args[1], *args[2:]]
            sys.path[0] = os.getcwd()
            recorder.start()
            runpy._run_module_as_main(args[1], alter_argv=True)  # type: ignore[attr-defined]
        else:
            script = args[0]
            sys.argv = list(args)
            sys.path[0] = os.path.dirname(os.path.abspath(script))
            if os.path.exists(script) and not os.path.isfile(script):  # a directory or zip's __main__
                import runpy

                recorder.start()
                runpy.run_path(script, run_name="__main__")
                return
            try:
                with open(script, "rb") as f:  # what python does with a file: compile, run in __main__
                    source = f.read()
            except OSError as exc:
                sys.stderr.write(f"{sys.executable}: can't open file {os.path.abspath(script)!r}: [Errno {exc.errno}] {exc.strerror}\n")
                raise SystemExit(2) from None
            try:
                code = compile(source, os.path.abspath(script), "exec")  # __file__ is absolute since 3.9
            except SyntaxError as exc:  # as python reports it: no traceback, status 1
                import traceback

                sys.stderr.write("".join(traceback.format_exception_only(exc)))
                raise SystemExit(1) from None
            from importlib.machinery import SourceFileLoader

            # __main__ as python sets it up for a script (Python/pythonrun.c, set_main_loader)
            for name in list(vars(main)):
                if name not in ("__name__", "__builtins__", "__spec__", "__doc__"):
                    delattr(main, name)
            main.__package__ = None
            main.__annotations__ = {}
            main.__file__ = os.path.abspath(script)
            main.__loader__ = SourceFileLoader("__main__", main.__file__)
            main.__cached__ = None  # type: ignore[attr-defined]
            recorder.start()
            exec(code, vars(main))
    except SystemExit:
        raise
    except BaseException as exc:
        from fatopt import _main

        recorder.stop()
        exc.__traceback__ = _program_traceback(exc.__traceback__)
        _main._report_unhandled(exc)
        if isinstance(exc, KeyboardInterrupt):
            atexit.register(_main._exit_like_sigint)  # runs first: write the profile, then SIGINT
            atexit.unregister(finish)
            finish()
        raise SystemExit(1) from None


def record(target: list[str], output: str) -> int:
    """Run ``target`` (``[SCRIPT, ARGS...]`` or ``["-m", MODULE, ARGS...]``) plain in a child
    process recording its profile into ``output``; the program's exit status (128 + N for
    signal N). ``output`` is left alone unless the program ends through Python's exit."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "PYTHONFATOPT"}
    env[_OUTPUT_VARIABLE] = os.path.abspath(output)
    argv = [sys.executable, "-c", "from fatopt.profile import child_main; child_main()", *target]
    sys.stdout.flush()
    sys.stderr.flush()
    process = subprocess.Popen(argv, env=env)
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:  # the program got it too, and decides
            continue
    return 128 - code if code < 0 else code


def summary(path: str) -> str:
    """The one line ``fatopt profile`` ends with."""
    profile = load(path)
    calls = sum(entry.calls for entry in profile.functions.values())
    count = sum(1 for entry in profile.functions.values() if entry.calls)
    sites = sum(len(entry.call_sites) for entry in profile.functions.values())
    operations = sum(len(entry.operator_sites) for entry in profile.functions.values())
    return (f"fatopt profile: {count} function{'s' if count != 1 else ''} recorded, {calls} calls, "
            f"{sites} method-call site{'s' if sites != 1 else ''}, "
            f"{operations} operator site{'s' if operations != 1 else ''}; wrote {path}")
