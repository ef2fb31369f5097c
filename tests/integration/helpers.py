"""Run Python in a subprocess with or without fatopt, in a controlled environment."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def python(
    *args: str,
    cwd: Path,
    fatopt: str | None = "",
    write_bytecode: bool = True,
    env: dict | None = None,
    timeout: float = 120,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """``python [-X fatopt[=fatopt]] args`` in ``cwd`` (``input`` on stdin). fatopt=None runs plain
    Python.

    The environment is fixed so results do not depend on the caller's PYTHONDONTWRITEBYTECODE,
    PYTHONFATOPT or PYTHONUNBUFFERED, and caches of modules outside ``cwd`` (the standard
    library) go under ``cwd/.prefix`` (PYTHONPYCACHEPREFIX) rather than into the installation."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONFATOPT", "PYTHONUNBUFFERED", "PYTHONPYCACHEPREFIX")}
    if not write_bytecode:
        full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    full_env["PYTHONPYCACHEPREFIX"] = str(Path(cwd) / ".prefix")
    full_env.update(env or {})
    flags = [] if fatopt is None else ["-X", "fatopt" + (f"={fatopt}" if fatopt else "")]
    return subprocess.run(
        [sys.executable, *flags, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
        input=input,
    )


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def fatopt_caches(directory: Path) -> list[str]:
    """fatopt cache files of the sources in ``directory`` (under its .prefix cache tree)."""
    return sorted(p.name for p in _caches(directory) if ".opt-fatopt" in p.name)


def normal_caches(directory: Path) -> list[str]:
    return sorted(p.name for p in _caches(directory) if ".opt-fatopt" not in p.name)


def _caches(directory: Path):
    prefix = directory / ".prefix"
    mirrored = prefix / str(directory.resolve()).lstrip("/")
    yield from (p for p in directory.rglob("*.pyc") if prefix not in p.parents)
    if mirrored.exists():
        yield from mirrored.rglob("*.pyc")
