"""fatopt's own .pyc files: where they live, how they are validated, written and read.

Optimized code is cached beside the normal bytecode, in ``__pycache__`` (or under
``sys.pycache_prefix``), under its own name: ``mod.cpython-313.opt-fatoptXXXXXXXX.pyc``, where the
tag encodes fatopt's version and configuration. The normal ``.pyc`` is never overwritten. The header
is the standard one (PEP 552): magic number, flags, then source mtime and size, or a source hash.

Every warm start reads, in C (``fatopt/_importhook.c``, the import hook); :func:`read` is that
same reader. Only cache misses and ``fatopt compileall`` write.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import marshal
import os
import sys

import _imp

from _frozen_importlib_external import MAGIC_NUMBER  # what importlib.util re-exports

from fatopt.importer import cache_path

_FLAG_HASH = 0b01
_FLAG_CHECK_SOURCE = 0b10

__all__ = ["cache_path", "read", "write", "write_marshalled", "header", "enabled", "writable", "TIMESTAMP", "CHECKED_HASH", "UNCHECKED_HASH"]

TIMESTAMP = "timestamp"
CHECKED_HASH = "checked-hash"
UNCHECKED_HASH = "unchecked-hash"


def read(path: str, source_path: str, get_source) -> object | None:
    """The code object cached at ``path`` if it is valid for the source, else None.

    ``get_source()`` returns the source bytes; called only to check a hash-based file. Any
    problem (missing, truncated, corrupted, stale, another Python's magic number) is a miss.
    The import hook's own reader, in C."""
    import _fatopt_importhook

    return _fatopt_importhook.read_cache(path, source_path, lambda _path: get_source())


def _source_hash(source: bytes) -> bytes:
    """As importlib hashes sources for hash-based .pyc files (PEP 552)."""
    return _imp.source_hash(int.from_bytes(MAGIC_NUMBER, "little"), source)


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
    return write_marshalled(path, marshal.dumps(code), head)  # type: ignore[arg-type]  # a code object


def write_marshalled(path: str, marshalled: bytes, head: bytes) -> bool:
    """:func:`write` for code already marshalled (``marshal.dumps``)."""
    data = head + marshalled
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
    """Whether caches may be written beside the sources (``PYTHONDONTWRITEBYTECODE`` / ``-B``
    say no; fatopt's own cache directory, ``cache_dir=PATH``, is written all the same)."""
    return not sys.dont_write_bytecode


def writable(cache_dir: str | None) -> bool:
    """Whether optimized code can be kept: bytecode writing is on, or fatopt has its own cache
    directory (``cache_dir``: ``cache_dir=PATH``), which it writes even under -B."""
    return enabled() or cache_dir is not None


#: What verbose mode and ``fatopt status`` say when bytecode writing is off.
NOT_CACHED = (
    "bytecode writing is off (-B, PYTHONDONTWRITEBYTECODE or sys.dont_write_bytecode): optimized "
    "code is not cached and every start runs the optimizer again; -X fatopt=cache_dir=DIR "
    "(or PYTHONFATOPT=cache_dir=DIR) caches it in DIR anyway"
)
