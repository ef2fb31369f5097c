"""Turning fatopt on: parse ``-X fatopt[=...]`` and ``PYTHONFATOPT``.

Runs at interpreter start-up (from the ``.pth`` file) on every ``python -X fatopt`` run, so it
imports nothing heavy: values stay strings until the optimizer (imported only on a cache miss)
builds its ``Config`` from them.

Syntax, for both sources (``-X`` wins over the environment, item by item)::

    -X fatopt                      on, default configuration
    -X fatopt=0 | off | no | false  off (even if PYTHONFATOPT is set)
    -X fatopt=verbose              on, and log each specialization and skip to stderr
    -X fatopt=exclude=pkg.mod:tests  on, never optimize these modules (and their submodules)
    -X fatopt=unroll_loops=4,module_constants=off   on, with these Config settings
    PYTHONFATOPT=1                 on (what reaches subprocesses that drop -X options)
"""

from fatopt._support import PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt._support

import os
import sys

from fatopt._version import __version__

ENV_VAR = "PYTHONFATOPT"
XOPTION = "fatopt"

_TRUE = {"1", "on", "yes", "true"}
_FALSE = {"0", "off", "no", "false"}

#: Modules never optimized: fatopt itself (it must not optimize the code that optimizes).
ALWAYS_EXCLUDED = ("fatopt",)


class OptionsError(ValueError):
    """A malformed -X fatopt / PYTHONFATOPT value."""


class Options:
    """What the user asked for: on/off, verbosity, exclusions and raw Config overrides."""

    __slots__ = ("enabled", "verbose", "exclude", "overrides", "_tag")

    def __init__(
        self,
        enabled: bool = False,
        verbose: bool = False,
        exclude: tuple[str, ...] = (),
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.enabled = enabled
        self.verbose = verbose
        self.exclude = exclude
        self.overrides = dict(overrides or {})
        self._tag: str | None = None

    def __repr__(self) -> str:
        return (
            f"Options(enabled={self.enabled}, verbose={self.verbose}, "
            f"exclude={self.exclude}, overrides={self.overrides})"
        )

    def update(self, text: str | bool) -> None:
        """Apply one option string (``True`` is a bare ``-X fatopt``)."""
        self._tag = None
        if text is True or text == "":
            self.enabled = text is True
            return
        self.enabled = True
        for item in str(text).split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip().lower()
            value = value.strip()
            if not sep:
                if key in _TRUE:
                    self.enabled = True
                elif key in _FALSE:
                    self.enabled = False
                elif key in ("verbose", "v"):
                    self.verbose = True
                else:
                    raise OptionsError(f"unknown fatopt option {item!r}")
            elif key == "exclude":
                self.exclude += tuple(m for m in value.split(":") if m)
            elif key == "verbose":
                self.verbose = _parse_bool(key, value)
            else:
                if not key.isidentifier():
                    raise OptionsError(f"malformed fatopt option {item!r}")
                self.overrides[key] = value

    def config_overrides(self) -> dict[str, bool | int]:
        """Overrides typed for ``Config.from_dict``: on/off words become bools, digits ints."""
        typed: dict[str, bool | int] = {}
        for key, value in self.overrides.items():
            low = value.lower()
            if low in ("on", "yes", "true"):
                typed[key] = True
            elif low in ("off", "no", "false"):
                typed[key] = False
            elif value.isdigit():
                typed[key] = int(value)
            else:
                raise OptionsError(f"fatopt option {key}={value!r}: expected on/off or a number")
        return typed

    def cache_tag(self) -> str:
        """Names this configuration's cache files: fatopt's version and code, the Config
        overrides and the interpreter's -O level, so no two configurations ever share a .pyc."""
        if self._tag is None:  # asked for by every module imported: computed once
            key = "|".join(
                [__version__, _code_stamp(), str(sys.flags.optimize)]
                + [f"{k}={self.overrides[k]}" for k in sorted(self.overrides)]
            )
            self._tag = f"fatopt{_fnv1a(key):08x}"
        return self._tag

    def excludes(self, module: str) -> bool:
        """True for modules fatopt must leave alone (and their submodules)."""
        for name in ALWAYS_EXCLUDED + self.exclude:
            if module == name or module.startswith(name + "."):
                return True
        return False


_stamp: str | None = None


def _fnv1a(text: str) -> int:
    """A stable 32-bit hash (FNV-1a; hash() is salted per process, zlib costs an import)."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def _code_stamp() -> str:
    """Size and mtime of every fatopt source file: an edited optimizer (a development checkout,
    an editable install, an upgrade that keeps the version) never reuses stale optimized code.
    About 40 stat calls, once per process, only when fatopt is on."""
    global _stamp
    if _stamp is None:
        parts = []
        stack = [os.path.dirname(os.path.abspath(__file__))]
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    if entry.is_dir() and entry.name != "__pycache__":
                        stack.append(entry.path)
                    elif entry.name.endswith((".py", ".so", ".pyd")):
                        st = entry.stat()
                        parts.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
        _stamp = f"{_fnv1a(';'.join(parts)):08x}"
    return _stamp


def _parse_bool(key: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise OptionsError(f"fatopt option {key}={value!r}: expected on/off")


def from_environment(environ: dict[str, str] | None = None, xoptions: dict | None = None) -> Options:
    """The options in force for this process: PYTHONFATOPT, then -X fatopt on top."""
    environ = os.environ if environ is None else environ
    xoptions = sys._xoptions if xoptions is None else xoptions
    options = Options()
    if ENV_VAR in environ:
        options.update(environ[ENV_VAR])
    if XOPTION in xoptions:
        options.update(xoptions[XOPTION])
    return options


def requested(environ: dict[str, str] | None = None, xoptions: dict | None = None) -> bool:
    """Whether either source mentions fatopt at all (the .pth file's cheap first test)."""
    environ = os.environ if environ is None else environ
    xoptions = sys._xoptions if xoptions is None else xoptions
    return XOPTION in xoptions or bool(environ.get(ENV_VAR))
