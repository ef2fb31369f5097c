"""Specializations made at a first call, kept between runs: later runs install them without the optimizer.

A specialization made at a function's first call (:mod:`fatopt.first_call_types`) costs an
optimization of the function's module (scimark's: ~45 ms), and the optimizer stays resident for
the rest of the run (~8 MB). What it makes depends only on the module's source text (the digest
in the watch statement), the function (qualified name, first line), the call's types as the
optimizer names them, fatopt's version, configuration and type profile (the import hook's cache
tag) and the interpreter (its magic number). Those are the key; the specialized code, its guards'
recipes and its validity flag's name are the value (or why the types gave none, when that too
depends only on the key), in a file beside the module's cached code,
under a name of fatopt's own (``mod.cpython-313.opt-fatoptXXXXXXXXfirstYYYYYYYYYYYYYYYY.pyc``,
which ``fatopt clean`` removes). Written where the module's optimized code is (bytecode writing
on, or ``cache_dir=PATH``), read only under the import hook; a file that is not exactly what
this module writes is a miss.

A specialization read here is installed exactly as a fresh one (``first_call_types.install``):
only when each object its guards capture is the one the module bound when the function was
defined.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import _imp
import marshal
from types import CodeType

from _frozen_importlib_external import MAGIC_NUMBER

TYPE_CHECKING = False  # not `from typing import TYPE_CHECKING`: that alone imports typing
if TYPE_CHECKING:
    from fatopt.importer import Options

__all__ = ["key", "load", "store"]


def key(digest: str, qualname: str, firstlineno: int, type_names: tuple[tuple[str, str, bool], ...]) -> str:
    """The 16 hex digits naming a first call's specialization (see the module docstring; the
    cache tag and the interpreter are in the file's name and header). SipHash in C with a fixed
    key (``_imp.source_hash``, as hash-based .pyc files use): ``hashlib`` would load OpenSSL,
    ~4 MB of a process that never needs it otherwise."""
    text = repr((digest, qualname, firstlineno, type_names))
    return _imp.source_hash(0xF1C, text.encode("utf-8", "surrogatepass")).hex()


def _path(filename: str, name: str, options: Options | None) -> str | None:
    """Where the specialization ``name`` of the module at ``filename`` is kept under the import
    hook's ``options`` (None: the hook is not active), or None."""
    if options is None:
        return None
    from fatopt.importer import cache_path

    return cache_path(filename, f"{options.cache_tag()}first{name}", options.cache_dir)


def load(filename: str, name: str) -> tuple[CodeType, tuple, str | None] | str | None:
    """What is stored under ``name`` for the module at ``filename``: a specialization (its code,
    its guards' recipes, its validity flag's name or None) or why the types gave none (one of
    ``fatopt.respecialize.LASTING``); None if nothing valid is."""
    from fatopt.importer import installed_options

    path = _path(filename, name, installed_options())
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:len(MAGIC_NUMBER)] != MAGIC_NUMBER:
        return None
    try:
        value = marshal.loads(data[len(MAGIC_NUMBER):])
    except (EOFError, ValueError, TypeError):
        return None
    if type(value) is not tuple or len(value) != 2 or value[0] != name:
        return None
    made = value[1]
    if type(made) is str:
        return made
    if (type(made) is not tuple or len(made) != 3 or type(made[0]) is not CodeType or type(made[1]) is not tuple
            or not (made[2] is None or type(made[2]) is str)):
        return None
    return made


def store(filename: str, name: str, made: tuple[CodeType, tuple, str | None] | str) -> bool:
    """Keep what a first call's types made for later runs, where the module's optimized code is
    kept; False if it is not (not under the import hook, bytecode writing off, an unwritable
    directory)."""
    from fatopt import cache
    from fatopt.importer import installed_options

    options = installed_options()
    path = _path(filename, name, options)
    if options is None or path is None or not cache.writable(options.cache_dir):
        return False
    try:
        data = marshal.dumps((name, made))
    except ValueError:  # (a recipe marshal cannot write: keep nothing)
        return False
    return cache.write_marshalled(path, data, MAGIC_NUMBER)
