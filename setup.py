"""Builds the C guard runtime where it can work (CPython 3.12+), and installs fatopt.pth.

pip refuses interpreters before 3.12 (``requires-python`` in pyproject.toml). Built there anyway,
or on another implementation, the package installs without the extensions: ``import fatopt`` (under
``-X fatopt``) and the ``fatopt`` command then say in one line why nothing is optimized.

``fatopt.pth`` goes to the root of site-packages: its one line turns fatopt on at start-up when
``-X fatopt`` or ``PYTHONFATOPT`` is given, and imports nothing otherwise.
"""
import hashlib
import os
import re
import sys

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

PTH_NAME = "fatopt.pth"
# The C import hook, a top-level module (importing fatopt._importhook would import the fatopt
# package first: a fifth of a millisecond at every start). The line runs at every start of this
# interpreter, twice in a venv (site processes the venv's site-packages as both its own and the
# global one), and compiling it is most of its cost: it is kept as short as it can be. `os` is
# already imported by site. activate() itself honours -E/-I (a PYTHONFATOPT that the
# interpreter ignores is ignored there), so the test here is only "might be on".
PTH_LINE = (
    "import os, sys; ('fatopt' in sys._xoptions or 'PYTHONFATOPT' in os.environ) "
    "and __import__('_fatopt_importhook').activate()\n"
)
# Where the C hook cannot be built (before CPython 3.12, other implementations) the .pth only
# imports the fatopt package when fatopt is asked for: there it says in one line why nothing is
# optimized (fatopt.tell_unavailable, once per process), where a silent start would let the user
# believe the program runs optimized.
PTH_UNSUPPORTED = (
    "import os, sys; ('fatopt' in sys._xoptions or 'PYTHONFATOPT' in os.environ) and __import__('fatopt')\n"
)
SUPPORTED = sys.version_info >= (3, 12) and sys.implementation.name == "cpython"


def pth_text() -> str:
    """What fatopt.pth holds for the interpreter building it."""
    return PTH_LINE if SUPPORTED else PTH_UNSUPPORTED


STAMP_NAME = os.path.join("fatopt", "_build_stamp.txt")  # read by fatopt._importhook (and fatopt.importer._code_stamp)


def source_stamp(root):
    """A hash of fatopt's sources (its .py files and the C extensions' sources): names the cache
    files of this build, so each build's optimized code is its own."""
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(os.path.join(root, "fatopt"))):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".c", ".h")):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()[:8]


class BuildWithPth(build_py):
    """build_py that also places fatopt.pth at the top of the build (so of site-packages), and
    the source stamp in the package (not for editable installs: their code changes in place,
    so fatopt stamps the files' sizes and times at run time)."""

    def run(self):
        super().run()
        target = os.path.join(self.build_lib, PTH_NAME)
        with open(target, "w") as f:
            f.write(pth_text())
        if not getattr(self, "editable_mode", False):
            with open(os.path.join(self.build_lib, STAMP_NAME), "w") as f:
                f.write(source_stamp(os.path.dirname(os.path.abspath(__file__))) + "\n")

    def get_outputs(self, include_bytecode=True):
        extra = [os.path.join(self.build_lib, PTH_NAME)]
        if not getattr(self, "editable_mode", False):
            extra.append(os.path.join(self.build_lib, STAMP_NAME))
        return super().get_outputs(include_bytecode) + extra


try:  # editable installs (pip install -e) build a wheel of their own
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # pragma: no cover - old setuptools
    editable_wheel = None


class _StrategyWithPth:
    """Wraps setuptools' editable strategy: writes what it writes, plus fatopt.pth."""

    def __init__(self, strategy):
        self._strategy = strategy

    def __call__(self, wheel, files, mapping):
        self._strategy(wheel, files, mapping)
        wheel.writestr(PTH_NAME, pth_text())

    def __enter__(self):
        self._strategy.__enter__()
        return self

    def __exit__(self, *exc):
        return self._strategy.__exit__(*exc)


cmdclass = {"build_py": BuildWithPth}
if editable_wheel is not None and hasattr(editable_wheel, "_select_strategy"):

    class EditableWithPth(editable_wheel):
        def _select_strategy(self, *args, **kwargs):
            return _StrategyWithPth(super()._select_strategy(*args, **kwargs))

    cmdclass["editable_wheel"] = EditableWithPth

VERSION = re.search(r'^__version__ = "([^"]+)"', open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fatopt", "__init__.py")).read(), re.M).group(1)
# -Wswitch-enum: a switch over an enum (CondKind, watcher events) must name every value, so a new
# condition kind is flagged wherever it needs a case. -fvisibility=hidden: the runtime's files share
# functions with each other, not with the process (PyMODINIT_FUNC stays exported).
COMPILE_ARGS = [
    "-std=c11", "-Wall", "-Wextra", "-Wswitch-enum", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
    "-fvisibility=hidden",
]
# The guard runtime: fatopt/_guards.c is the module, fatopt/_runtime/ its parts (state.h says which
# file does what).
RUNTIME_PARTS = ["ptrindex", "conditions", "guard_kinds", "watchers", "swap", "registration", "traceback_parts", "genexpr_traceback", "inline_traceback", "materialize"]
RUNTIME_SOURCES = ["fatopt/_guards.c"] + ["fatopt/_runtime/%s.c" % part for part in RUNTIME_PARTS]
RUNTIME_HEADERS = ["fatopt/_runtime/state.h"] + ["fatopt/_runtime/%s.h" % part for part in RUNTIME_PARTS]
ext_modules = []
if SUPPORTED:
    ext_modules.append(
        Extension(
            "fatopt._guards",
            sources=RUNTIME_SOURCES,
            depends=RUNTIME_HEADERS,
            extra_compile_args=COMPILE_ARGS,
        )
    )
    ext_modules.append(
        Extension(
            "_fatopt_importhook",
            sources=["fatopt/_importhook.c"],
            define_macros=[("FATOPT_VERSION", '"%s"' % VERSION)],
            extra_compile_args=COMPILE_ARGS,
        )
    )

setup(ext_modules=ext_modules, cmdclass=cmdclass)
