"""Which source files are the user's own: what verbose mode logs unless asked for everything.

A program imports hundreds of modules of the standard library and of installed distributions; a
person reading fatopt's verbose output wants to see their own. A file is *library code* when it
lies in the standard library's directories or in a site-packages directory (this environment's,
the base interpreter's, the user's); everything else (the main script, the project's packages,
an editable install's sources) is the user's. Read once per process, only in verbose mode.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import os
import sys

__all__ = ["library_directories", "is_library_file"]

_directories: "tuple[str, ...] | None" = None


def library_directories() -> "tuple[str, ...]":
    """The directories of library code, each ending with a separator (so that a prefix test
    cannot match ``site-packages-old``), as written and with symbolic links resolved."""
    global _directories
    if _directories is None:
        import site
        import sysconfig

        found = set()
        bases: "tuple[dict[str, str], ...]" = ({}, {"base": sys.base_prefix, "platbase": sys.base_exec_prefix})
        for variables in bases:
            for key in ("stdlib", "platstdlib", "purelib", "platlib"):
                try:
                    found.add(sysconfig.get_path(key, vars=variables))
                except (KeyError, ValueError):
                    pass
        try:
            found.update(site.getsitepackages())
        except AttributeError:  # an old virtualenv's site module
            pass
        user_site = getattr(site, "getusersitepackages", None)
        if user_site is not None:
            found.add(user_site())
        spelled = set()
        for directory in found:
            if directory:
                for form in (os.path.abspath(directory), os.path.realpath(directory)):
                    spelled.add(form.rstrip(os.sep) + os.sep)
        _directories = tuple(sorted(spelled))
    return _directories


def is_library_file(path: str) -> bool:
    """True if the source file ``path`` is in the standard library or a site-packages directory."""
    return os.path.abspath(path).startswith(library_directories())
