"""``fatopt clean``: remove fatopt's cache files (and nothing else) under some directories, so
that caches of old versions and configurations do not pile up.

fatopt's files are recognized by their names only: ``NAME.TAG.opt-fatoptXXXXXXXX.pyc``
(fatopt.cache), and the ``.tmp`` files a crashed write may leave. Normal ``.pyc`` files and
sources are never touched. Besides the directories themselves, their mirrors under
``sys.pycache_prefix`` and fatopt's ``cache_dir`` (where those are in force) are cleaned.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import os
import re
import sys

__all__ = ["fatopt_cache_file", "find", "remove"]

#: a module's optimized code, or a first call's specialization (fatopt.first_call_cache)
_NAME = re.compile(r"\.opt-(fatopt[0-9a-f]{8})(?:first[0-9a-f]{16})?\.pyc(?:\.\d+\.tmp)?\Z")


def fatopt_cache_file(name: str, tag: str | None = None) -> bool:
    """Whether a file name is one of fatopt's cache files (of ``tag`` only, if given: the
    cache tag of a configuration on this interpreter, ``cpython-313`` included)."""
    found = _NAME.search(name)
    if found is None:
        return False
    if tag is None:
        return True
    interpreter = "." + (sys.implementation.cache_tag or "")
    return found.group(1) == tag and name[: found.start()].endswith(interpreter)


def _mirror(root: str, prefix: str) -> str:
    """Where ``root``'s caches go under a pycache prefix or cache_dir (as cache_from_source)."""
    head = os.path.splitdrive(os.path.abspath(root))[1].lstrip("/" + os.sep)
    return os.path.join(prefix, head)


def find(paths: list[str], tag: str | None = None, prefixes: tuple[str, ...] = ()) -> list[str]:
    """fatopt's cache files under ``paths`` (recursively, not following symbolic links to
    directories) and under their mirrors in ``prefixes``, sorted, each once."""
    roots = []
    for path in paths:
        roots.append(path)
        roots.extend(_mirror(path, prefix) for prefix in prefixes)
    found: set[str] = set()
    for root in roots:
        for directory, _subdirs, files in os.walk(root):
            found.update(os.path.join(directory, name) for name in files if fatopt_cache_file(name, tag))
    return sorted(found)


def remove(files: list[str]) -> tuple[int, int, list[str]]:
    """Delete ``files``: (how many, their total size in bytes, the errors as lines)."""
    count = size = 0
    errors = []
    for path in files:
        try:
            length = os.stat(path).st_size
            os.unlink(path)
        except FileNotFoundError:
            continue  # gone meanwhile (another clean, a concurrent write's rename)
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror or exc}")
            continue
        count += 1
        size += length
    return count, size, errors
