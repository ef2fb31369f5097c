"""fatopt's own .pyc files: where they live, how they are validated, written and read.

Optimized code is cached beside the normal bytecode, in ``__pycache__`` (or under
``sys.pycache_prefix``), under its own name: ``mod.cpython-313.opt-fatoptXXXXXXXX.pyc``, where the
tag encodes fatopt's version and configuration. The normal ``.pyc`` is never touched. The header
is the standard one (PEP 552): magic number, flags, then source mtime and size, or a source hash.
"""

from fatopt._support import PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt._support

import marshal
import os
import sys

import _imp
from _frozen_importlib_external import MAGIC_NUMBER, cache_from_source  # what importlib.util re-exports

__all__ = ["cache_path", "read", "write", "TIMESTAMP", "CHECKED_HASH", "UNCHECKED_HASH"]

TIMESTAMP = "timestamp"
CHECKED_HASH = "checked-hash"
UNCHECKED_HASH = "unchecked-hash"

_FLAG_HASH = 0b01
_FLAG_CHECK_SOURCE = 0b10


def cache_path(source_path: str, tag: str) -> str | None:
    """Where the optimized code of ``source_path`` is cached, or None if this interpreter keeps
    no bytecode cache (``sys.implementation.cache_tag`` is None)."""
    try:
        return cache_from_source(source_path, optimization=tag)
    except NotImplementedError:
        return None


def _source_hash(source: bytes) -> bytes:
    return _imp.source_hash(int.from_bytes(MAGIC_NUMBER[:2], "little"), source)


def read(path: str, source_path: str, get_source) -> object | None:
    """The code object cached at ``path`` if it is valid for the source, else None.

    ``get_source()`` returns the source bytes; called only to check a hash-based file. Any
    problem (missing, truncated, corrupted, stale, another Python's magic number) is a miss.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < 16 or data[:4] != MAGIC_NUMBER:
        return None
    flags = int.from_bytes(data[4:8], "little")
    if flags & ~(_FLAG_HASH | _FLAG_CHECK_SOURCE):
        return None
    if flags & _FLAG_HASH:
        check = _imp.check_hash_based_pycs
        if check == "always" or (check != "never" and flags & _FLAG_CHECK_SOURCE):
            try:
                if data[8:16] != _source_hash(get_source()):
                    return None
            except OSError:
                return None
    else:
        try:
            st = os.stat(source_path)
        except OSError:
            return None
        if int.from_bytes(data[8:12], "little") != (int(st.st_mtime) & 0xFFFFFFFF):
            return None
        if int.from_bytes(data[12:16], "little") != (st.st_size & 0xFFFFFFFF):
            return None
    try:
        return marshal.loads(memoryview(data)[16:])
    except (EOFError, ValueError, TypeError):
        return None


def header(source_path: str, source: bytes, mode: str = TIMESTAMP, mtime: float | None = None) -> bytes:
    """The 16-byte header for ``mode``; ``mtime`` and size come from the source file."""
    if mode == TIMESTAMP:
        if mtime is None:
            mtime = os.stat(source_path).st_mtime
        fields = (int(mtime) & 0xFFFFFFFF).to_bytes(4, "little") + (len(source) & 0xFFFFFFFF).to_bytes(4, "little")
        flags = 0
    elif mode in (CHECKED_HASH, UNCHECKED_HASH):
        fields = _source_hash(source)
        flags = _FLAG_HASH | (_FLAG_CHECK_SOURCE if mode == CHECKED_HASH else 0)
    else:
        raise ValueError(f"unknown invalidation mode {mode!r}")
    return MAGIC_NUMBER + flags.to_bytes(4, "little") + fields


def write(path: str, code: object, head: bytes) -> bool:
    """Write atomically (a half-written file is never seen); False if it could not be written
    (read-only directory, ...), which is not an error: the code still runs."""
    data = head + marshal.dumps(code)
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        return False
    return True


def enabled() -> bool:
    """Whether caches may be written (``PYTHONDONTWRITEBYTECODE`` / ``-B`` say no)."""
    return not sys.dont_write_bytecode
