"""Reading a user's ``.py`` file for the ``fatopt`` commands (show, diff, report): its text as the
import system decodes it, or one clear line saying why it cannot be read (a directory, a binary
file, bytes that are not in the file's encoding)."""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import os

__all__ = ["SourceError", "read_source"]


class SourceError(Exception):
    """The file cannot be read as Python source: the one line saying why (``fatopt show``/``diff``
    exit 2 with it, like diff(1) in trouble; ``fatopt report`` lists the file as unreadable)."""


def read_source(path: str) -> str:
    """The text of the Python source file ``path``, decoded as the import system decodes it."""
    from importlib.util import decode_source

    if os.path.isdir(path):
        raise SourceError(f"{path} is a directory, not a Python source file")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}")
    if b"\0" in data:
        raise SourceError(f"{path} is not Python source (it contains null bytes: a binary file?)")
    try:
        return decode_source(data)
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise SourceError(_undecodable(path, data, exc))


def _undecodable(path: str, data: bytes, exc: SyntaxError | UnicodeDecodeError) -> str:
    """Why ``data`` cannot be decoded as Python source, naming the first bad byte if it can."""
    if isinstance(exc, SyntaxError):
        # tokenize.detect_encoding: an unknown encoding is named; "invalid or missing encoding
        # declaration" means the first lines are not UTF-8
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as utf8_error:
            exc = utf8_error
        else:
            return f"{path}: {exc.msg}"
    encoding = "UTF-8" if exc.encoding.replace("-", "").lower() in ("utf8", "utf8sig") else exc.encoding
    line = data[:exc.start].count(b"\n") + 1
    return (f"{path} is not valid {encoding} (byte 0x{data[exc.start]:02x} on line {line}): "
            "declare its encoding with a '# -*- coding: NAME -*-' line if it is Python source")
