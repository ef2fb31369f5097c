"""``fatopt report -- PROGRAM``: run the program under fatopt and read back what its process
saw at exit: the modules it imported, the import hook's counts, and every specialization with
how often its guards broke and came back.

The program runs as ``python -X fatopt=stats PROGRAM`` in a child process with the terminal's
stdin, stdout and stderr, so its output passes through untouched; the record comes back through
a temporary file named in the environment (:data:`fatopt.run_stats.DATA_FILE_VARIABLE`), which
the child takes out of its environment so that its own children never write there. Interrupting
(Ctrl-C) reaches the program, as in a shell; the report waits for it to end.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field

from fatopt.run_stats import DATA_FILE_VARIABLE, RECORD_VERSION

__all__ = ["RunRecord", "RunError", "run_program", "user_modules"]


class RunError(Exception):
    """The run gave no record: the one line saying why."""


@dataclass
class RunRecord:
    """What a run of the program left: its command, exit status, and its process's record."""

    #: what ran: ``[SCRIPT, ARGS...]`` or ``["-m", MODULE, ARGS...]``
    target: list[str]
    #: the child's whole command line
    argv: list[str]
    #: the program's exit status (128 + N when signal N ended it, as a shell reports it)
    exit_status: int
    #: the import hook's counts: modules served from the cache, optimized now, loaded plain
    imports: dict[str, int] = field(default_factory=dict)
    #: fatopt.run_stats.collect's rows, one per specialization alive at exit
    specializations: list[dict] = field(default_factory=list)
    #: module name -> source file, every module loaded from a .py file
    modules: dict[str, str] = field(default_factory=dict)


def run_program(target: list[str], config_items: list[str] | None = None) -> RunRecord:
    """Run ``target`` (``[SCRIPT, ARGS...]`` or ``["-m", MODULE, ARGS...]``) under fatopt with
    ``config_items`` (``KEY=VALUE``), wait for it, and read its record. Raises RunError when the
    program left none (it ended with ``os._exit``, a crash or a signal before Python's exit)."""
    xoption = ",".join(["stats", *(config_items or ())])
    argv = [sys.executable, "-X", f"fatopt={xoption}", *target]
    fd, data_file = tempfile.mkstemp(prefix="fatopt-report-", suffix=".json")
    os.close(fd)
    try:
        env = dict(os.environ, **{DATA_FILE_VARIABLE: data_file})
        sys.stdout.flush()
        sys.stderr.flush()
        status = _wait(subprocess.Popen(argv, env=env))
        try:
            with open(data_file, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            text = ""
    finally:
        try:
            os.unlink(data_file)
        except OSError:
            pass
    if not text:
        raise RunError(
            f"the program left no record of its run (exit status {status}): it ended before "
            "Python's exit handlers ran (os._exit, a crash, a signal), or fatopt was off in it"
        )
    record = json.loads(text)
    if record.get("version") != RECORD_VERSION:
        raise RunError(f"the program's record has version {record.get('version')!r}, not {RECORD_VERSION}")
    return RunRecord(list(target), argv, status, record["imports"], record["specializations"], record.get("modules", {}))


def _wait(process: subprocess.Popen) -> int:
    """The child's exit status, waiting through Ctrl-C (the child got it too and decides)."""
    while True:
        try:
            code = process.wait()
            break
        except KeyboardInterrupt:
            continue
    if code < 0:
        return 128 - code
    return code


def _library_directories() -> list[str]:
    """Where the standard library and installed packages live (for this interpreter, which is
    the program's: the child runs ``sys.executable``)."""
    import site

    paths = sysconfig.get_paths()
    dirs = [paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths]
    try:
        dirs += site.getsitepackages()
    except AttributeError:  # pragma: no cover - virtualenv's old site.py
        pass
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
    if isinstance(user_site, str):
        dirs.append(user_site)
    dirs.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # fatopt itself
    return [os.path.realpath(d) for d in dirs]


def user_modules(modules: dict[str, str], include_all: bool = False) -> list[tuple[str, str]]:
    """``(name, path)`` of the program's own modules, sorted by name: those outside the standard
    library, site-packages and fatopt (``include_all``: every module). A file imported under two
    names (a script that imports itself) is listed once."""
    libraries = () if include_all else tuple(d + os.sep for d in _library_directories())
    seen: dict[str, tuple[str, str]] = {}
    for name, path in sorted(modules.items()):
        real = os.path.realpath(path)
        if real.startswith(libraries) or not os.path.isfile(real):
            continue
        if real not in seen or seen[real][0] == "__main__":
            seen[real] = (name, path)
    return sorted((name, _shown(path)) for name, path in seen.values())


def _shown(path: str) -> str:
    """``path`` relative to the current directory when it is under it (as the user names it)."""
    relative = os.path.relpath(path)
    return path if relative.startswith(os.pardir) else relative

