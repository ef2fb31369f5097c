"""``-X fatopt=stats``: what fatopt did in this process, said once at exit.

One short summary on stderr: the modules the import hook served from its cache, optimized on a
cache miss, or left plain; the specializations registered and active; how often guards broke
(invalidations) and came back (revalidations). :mod:`fatopt.importer` installs it only when the
item is given, so a start without it never loads this module.

``fatopt report -- PROGRAM`` asks for the same with :data:`DATA_FILE_VARIABLE` naming a file:
the process then writes the full record there as JSON (every specialization and every module it
imported) instead of printing, so that the program's own stdout and stderr stay untouched. The
variable is removed from ``os.environ`` when read: the program's child processes, which inherit
the environment, must not write over the record.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import os
import sys

__all__ = ["DATA_FILE_VARIABLE", "install", "collect", "summary"]

#: Names the file ``fatopt report`` reads the record of a run from (fatopt.report.run).
DATA_FILE_VARIABLE = "FATOPT_REPORT_DATA"

#: The record's version; fatopt.report.run checks it (both ends are the same fatopt, but a stale
#: child interpreter must not be misread).
RECORD_VERSION = 1


def install() -> None:
    """At exit: the summary on stderr, or the record into the file the environment names. The
    handler is registered at start-up, before the program's own, so it runs after them."""
    import atexit

    data_file = os.environ.pop(DATA_FILE_VARIABLE, None)
    start_directory = os.getcwd()  # the program may chdir; its relative paths mean this one
    atexit.register(_at_exit, data_file, start_directory, os.getpid())


def _at_exit(data_file: "str | None", start_directory: str, pid: int) -> None:
    if os.getpid() != pid:  # a forked child inherits the handler: the summary is its parent's
        return
    try:
        record = collect(start_directory, with_modules=data_file is not None)
        if data_file is None:
            sys.stderr.write(summary(record) + "\n")
            sys.stderr.flush()
        else:
            import json

            with open(data_file, "w", encoding="utf-8") as f:
                json.dump(record, f)
    except Exception as exc:  # the program's exit status must not change for a summary
        try:
            sys.stderr.write(f"fatopt: stats: could not be collected ({exc!r})\n")
        except Exception:
            pass


def collect(start_directory: "str | None" = None, with_modules: bool = False) -> dict:
    """This process's counts: ``imports`` (cached / optimized / plain), ``specializations``
    (one row per live specialization: file, qualname, line, active, invalidations,
    revalidations) and, ``with_modules``, ``modules``: name -> source file of every module
    loaded from a ``.py`` file."""
    hook = sys.modules.get("_fatopt_importhook")
    counts = hook.import_counts() if hook is not None else {"cached": 0, "optimized": 0, "plain": 0}
    base = start_directory or os.getcwd()
    rows = []
    guards = sys.modules.get("fatopt._guards")  # loaded by the first specialized function: none, no rows
    if guards is not None:
        for func, _specialized, original, guard_recipes, active, invalidations, revalidations in guards.specializations():
            rows.append({
                "file": os.path.normpath(os.path.join(base, original.co_filename)),
                "module": getattr(func, "__module__", None),
                "qualname": func.__qualname__,
                "line": original.co_firstlineno,
                "guards": len(guard_recipes),
                "active": bool(active),
                "invalidations": invalidations,
                "revalidations": revalidations,
            })
    watches = sys.modules.get("fatopt.first_call_types")
    first_calls = [
        {"file": os.path.normpath(os.path.join(base, file)), "qualname": qualname, "line": line, "outcome": found}
        for file, qualname, line, found in (watches.outcomes() if watches is not None else ())
    ]
    record = {"version": RECORD_VERSION, "imports": counts, "specializations": rows, "first_calls": first_calls}
    if with_modules:
        modules = {}
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and path.endswith(".py"):
                modules[name] = os.path.normpath(os.path.join(base, path))
        record["modules"] = modules
    return record


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(record: dict) -> str:
    """One line, e.g. ``fatopt: stats: modules: 12 from the cache, 1 optimized now, 0 left
    plain; 5 functions specialized, 4 active now; 2 invalidations, 1 revalidation``, and where
    functions were watched until their first call ``; 2 first calls watched, 1 specialized``."""
    imports = record["imports"]
    rows = record["specializations"]
    active = sum(row["active"] for row in rows)
    watched = record.get("first_calls", [])
    first_calls = ""
    if watched:
        specialized = sum(row["outcome"] == "specialized" for row in watched)
        first_calls = f"; {_plural(len(watched), 'first call')} watched, {specialized} specialized"
    return (
        f"fatopt: stats: modules: {imports['cached']} from the cache, {imports['optimized']} optimized now, "
        f"{imports['plain']} left plain; {_plural(len(rows), 'function')} specialized, {active} active now; "
        f"{_plural(sum(row['invalidations'] for row in rows), 'invalidation')}, "
        f"{_plural(sum(row['revalidations'] for row in rows), 'revalidation')}"
        f"{first_calls}"
    )
