"""Turning fatopt on: the ``-X fatopt`` / ``PYTHONFATOPT`` options, and the import hook that
loads source modules optimized, from fatopt's own cache.

This is everything a warm start runs, in one module on purpose: ``fatopt.pth`` imports it in
every ``python -X fatopt`` process, and each module imported at start-up costs about 0.1 ms
besides its content (measured on 3.13; the start-up budget is 5% of ``python -c pass``, about
0.75 ms). What a cache miss needs (the optimizer, writing the cache) is in
:mod:`fatopt.cache_miss`, the main-script hook in :mod:`fatopt._main`, the cache format's
writing side in :mod:`fatopt.cache`.

Options, for both sources (``-X`` wins over the environment, item by item)::

    -X fatopt                      on, default configuration
    -X fatopt=0 | off | no | false  off (even if PYTHONFATOPT is set)
    -X fatopt=verbose              on, and log each specialization and skip to stderr
    -X fatopt=exclude=pkg.mod:tests  on, never optimize these modules (and their submodules)
    -X fatopt=unroll_loops=4,module_constants=off   on, with these Config settings
    PYTHONFATOPT=1                 on (what reaches subprocesses that drop -X options;
                                   ignored under -E and -I, like every PYTHON* variable)

Values stay strings until the optimizer (imported only on a cache miss) builds its ``Config``.

The hook: a path hook placed before the standard one gives every directory on ``sys.path`` a
``FileFinder`` whose source loaders are made by :func:`optimizing_loader`. Extension modules, ``.pyc``-only
modules, frozen and built-in modules, zip imports and namespace packages keep their usual
loaders. Optimized code is cached beside the normal bytecode, in ``__pycache__`` (or under
``sys.pycache_prefix``), under its own name: ``mod.cpython-313.opt-fatoptXXXXXXXX.pyc``, where
the tag encodes fatopt's version, code and configuration. The header is the standard one (PEP
552): magic number, flags, then source mtime and size, or a source hash.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import marshal
import os
import sys

import _imp

# The C and frozen modules the interpreter already has, not threading, functools or
# importlib.machinery, which would import a dozen more modules.
from _frozen_importlib_external import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    MAGIC_NUMBER,
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
    cache_from_source,
)
from _thread import _local

from fatopt import __version__, unavailable_reason

__all__ = [
    "Options", "OptionsError", "from_environment",
    "OptimizingLoader", "optimizing_loader", "activate", "install", "uninstall", "installed_options",
    "cache_path", "read_cache",
]

# -- options ------------------------------------------------------------------------------------

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

    def cache_tag(self) -> str:
        """Names this configuration's cache files: fatopt's version and code, the Config
        overrides and the interpreter's -O level, so no two configurations ever share a .pyc."""
        if self._tag is None:  # asked for by every module imported: computed once
            key = "|".join(
                [__version__, _code_stamp(), str(sys.flags.optimize)]
                + [f"{k}={self.overrides[k]}" for k in sorted(self.overrides)]
            )
            self._tag = f"fatopt{_hash8(key)}"
        return self._tag

    def excludes(self, module: str) -> bool:
        """True for modules fatopt must leave alone (and their submodules)."""
        for name in ALWAYS_EXCLUDED + self.exclude:
            if module == name or module.startswith(name + "."):
                return True
        return False


_stamp: str | None = None

#: Written by the build (setup.py) into installed packages: a hash of fatopt's sources. A
#: development checkout or an editable install has none and stamps its files' sizes and times.
BUILD_STAMP_FILE = "_build_stamp.txt"


def _hash8(text: str) -> str:
    """A stable 8-hex-digit hash: hash() is salted per process and zlib costs an import;
    _imp.source_hash is SipHash in C with a fixed key (what hash-based .pyc files use)."""
    return _imp.source_hash(0xFA7, text.encode()).hex()[:8]


def _code_stamp() -> str:
    """Identifies fatopt's code, so an edited optimizer (a development checkout, an editable
    install, an upgrade that keeps the version) never reuses stale optimized code. Once per
    process, only when a module is imported with fatopt on: one small file read for an installed
    fatopt, else about 40 stat calls over its files."""
    global _stamp
    if _stamp is None:
        package = os.path.dirname(os.path.abspath(__file__))
        try:
            with open(os.path.join(package, BUILD_STAMP_FILE), "rb") as f:
                _stamp = f.read(64).decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            _stamp = None
        if not _stamp:
            _stamp = _scan_stamp(package)
    return _stamp


def _scan_stamp(package: str) -> str:
    parts = []
    stack = [package]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir() and entry.name != "__pycache__":
                    stack.append(entry.path)
                elif entry.name.endswith((".py", ".so", ".pyd", ".c")):
                    st = entry.stat()
                    parts.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    return _hash8(";".join(parts))


def _parse_bool(key: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise OptionsError(f"fatopt option {key}={value!r}: expected on/off")


def from_environment(
    environ: dict[str, str] | None = None, xoptions: dict | None = None, ignore_environment: bool | None = None,
) -> Options:
    """The options in force for this process: PYTHONFATOPT, then -X fatopt on top.

    Like every PYTHON* variable, PYTHONFATOPT is ignored under ``-E`` and ``-I``
    (``sys.flags.ignore_environment``); ``-X fatopt`` still counts. (Test suites start children
    with ``-I`` precisely so that they run unaffected by the parent's environment.)"""
    environ = os.environ if environ is None else environ
    xoptions = sys._xoptions if xoptions is None else xoptions
    if ignore_environment is None:
        ignore_environment = bool(sys.flags.ignore_environment)
    options = Options()
    if ENV_VAR in environ and not ignore_environment:
        options.update(environ[ENV_VAR])
    if XOPTION in xoptions:
        options.update(xoptions[XOPTION])
    return options


# -- reading the cache ------------------------------------------------------------------------

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


def read_cache(path: str, source_path: str, get_source) -> object | None:
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



# -- the loader -------------------------------------------------------------------------------

_state = _local()  # .bypass: the optimizer is being imported on this thread (see cache_miss)
_options: Options | None = None
_hook = None


def installed_options() -> Options | None:
    """The options the hook was installed with, or None when fatopt is not active."""
    return _options


def uninstall_options() -> None:
    """fatopt off for the rest of the process (the hook stays, loading plainly)."""
    global _options
    _options = None


def optimizing_loader(fullname: str, path: str) -> SourceFileLoader:
    """The loader made for each source module: a plain ``SourceFileLoader`` (so its type, repr,
    ``get_source`` and resources are exactly what plain Python gives; code that checks
    ``type(module.__loader__)`` sees no difference) whose ``create_module`` and ``get_code`` are
    those of an :class:`OptimizingLoader` standing behind it."""
    public = SourceFileLoader(fullname, path)
    worker = OptimizingLoader(fullname, path, public)
    public.create_module = _Hook(worker.create_module, ("create_module", fullname, path))
    public.get_code = _Hook(worker.get_code, ("get_code", fullname, path))
    return public


class _Hook:
    """A method of the worker, set on the public loader. Equal for the same module:
    ``FileLoader.__eq__`` compares instance dicts, and two specs found for one module must
    compare equal (``ModuleSpec.__eq__`` compares loaders), as with plain Python."""

    __slots__ = ("method", "key")

    def __init__(self, method, key: tuple) -> None:
        self.method = method
        self.key = key

    def __call__(self, *args):
        return self.method(*args)

    def __eq__(self, other: object) -> bool:
        return type(other) is _Hook and self.key == other.key  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.key)


class OptimizingLoader(SourceFileLoader):
    """Runs the optimizer and caches under fatopt's own .pyc name, for the plain loader
    ``public`` (see :func:`optimizing_loader`).

    The work happens in :meth:`create_module`, which never raises. When the module is not to be
    optimized (excluded, opted out, or its source does not compile), the public loader gets
    importlib's own ``get_code`` back: CPython then raises the very error, with the very
    traceback, a plain import gives (it trims importlib's frames from tracebacks, but would show
    ours).
    """

    _stashed_code = None  # prepared by create_module, handed out by get_code

    def __init__(self, fullname: str, path: str, public: SourceFileLoader) -> None:
        super().__init__(fullname, path)
        self._public = public

    def _active(self, fullname: str) -> bool:
        options = _options
        return (
            options is not None
            and not getattr(_state, "bypass", False)
            and not options.excludes(fullname)
        )

    def create_module(self, spec):
        try:
            code = self._prepare(spec.name)
        except Exception:  # never break an import: load it the plain way
            code = None
        if code is None:
            # importlib's own method again: no frame of ours in a traceback (CPython trims
            # importlib's own frames from import tracebacks, not ours)
            self._public.__dict__.pop("get_code", None)
        elif code is not _REUSE:
            self._stashed_code = code
        else:
            # The optimizer needed this very module and it is loaded (plain) already: reuse it
            # rather than executing it a second time.
            module = sys.modules[spec.name]
            self._public.exec_module = _noop
            return module
        return None

    def _prepare(self, fullname: str):
        """The code to run: cached, freshly optimized, _REUSE, or None for the plain path."""
        if getattr(_state, "bypass", False):
            if _options is not None and not _options.excludes(fullname):
                _state.loaded_plain.append((self, fullname))  # cached once the optimizer is in
            return None
        return self._code(fullname, reuse=True) if self._active(fullname) else None

    def get_code(self, fullname: str):
        """Hands out what create_module prepared; used alone by ``importlib.reload``, runpy
        (``-m``) and the main script."""
        code, self._stashed_code = self._stashed_code, None
        if code is None and self._active(fullname):
            code = self._code(fullname)
        return super().get_code(fullname) if code is None else code

    def _code(self, fullname: str, reuse: bool = False):
        """Cached or freshly optimized code, or None (the plain path; a syntax error is raised
        there, as CPython raises it). With ``reuse``, _REUSE when the optimizer needed this very
        module and it is loaded (plain) already."""
        code = self._cached_code(fullname)
        if code is not None:
            return code
        from fatopt import cache_miss

        if not cache_miss.ensure_optimizer():
            return None
        if reuse and fullname in sys.modules:
            return _REUSE
        try:
            return _runnable(cache_miss.optimized_code(self, fullname))
        except SyntaxError:
            return None

    def _cache_file(self, fullname: str) -> str | None:
        return cache_path(self.get_filename(fullname), _options.cache_tag())

    def _cached_code(self, fullname: str):
        source_path = self.get_filename(fullname)
        path = cache_path(source_path, _options.cache_tag())
        if path is None:
            return None
        return _runnable(read_cache(path, source_path, lambda: self.get_data(source_path)))


_REUSE = object()


def _runnable(code):
    """``code``, unless it needs the guard runtime and the runtime cannot load here (a broken
    build): then None, and fatopt turns itself off, saying why in verbose mode. Checked when
    the first module with specialized functions loads, not at start-up; modules without any
    never load the C extension."""
    if code is None or "fatopt.runtime" not in code.co_names:
        return code
    reason = unavailable_reason()
    if reason is None:
        return code
    if _options is not None and _options.verbose:
        sys.stderr.write(f"fatopt: {reason}\n")
    uninstall_options()
    return None


def _noop(module) -> None:
    pass


def _loader_details():
    return (
        (ExtensionFileLoader, EXTENSION_SUFFIXES),
        (optimizing_loader, SOURCE_SUFFIXES),
        (SourcelessFileLoader, BYTECODE_SUFFIXES),
    )


def activate() -> None:
    """Start-up: what the ``fatopt.pth`` line runs when ``-X fatopt`` or ``PYTHONFATOPT`` is
    given. Installs this hook and arranges for the main script to run optimized; never raises.

    This runs before every program started with fatopt on, so it loads nothing but this module
    (and the fatopt package). The C extension is loaded by the first module with specialized
    functions, the optimizer by the first cache miss, the main-script hook only when there is a
    main script. The builtins fatopt assumes were taken when the fatopt package was imported,
    just before this, so before sitecustomize or the program could patch one.
    """
    if sys.version_info < (3, 12):  # nothing to do; say why only if asked (fatopt.UNAVAILABLE_REASON)
        return
    try:
        options = from_environment()
    except OptionsError as exc:
        sys.stderr.write(f"fatopt: {exc}; running unoptimized\n")
        return
    if not options.enabled:
        return
    install(options)
    if sys.argv and sys.argv[0] not in ("", "-c", "-m") and not sys.flags.inspect:
        from fatopt import _main  # only a main script needs it (-m goes through the import hook)

        _main.install()


def install(options: Options) -> None:
    """Put the hook in front of the standard file-system hook (idempotent)."""
    global _options, _hook
    _options = options
    if _hook is not None:
        return
    _hook = FileFinder.path_hook(*_loader_details())
    hooks = sys.path_hooks
    # Before the standard FileFinder hook, after zipimport (zip files keep their importer).
    position = next((i for i, h in enumerate(hooks) if "FileFinder" in getattr(h, "__qualname__", "")), len(hooks))
    hooks.insert(position, _hook)
    _swap_loaders(SourceFileLoader, optimizing_loader)


def _swap_loaders(old, new) -> None:
    """Finders already made for sys.path entries carry the old source loader: give them the new
    one. In place, when the finder is a plain FileFinder: dropping them instead would make the
    next import list every directory on sys.path again (a quarter of a millisecond at start-up,
    where this runs). None entries (no finder for that path) are dropped so our hook is asked."""
    cache = sys.path_importer_cache
    for key, finder in list(cache.items()):
        if finder is None:
            del cache[key]
        elif isinstance(finder, FileFinder):
            loaders = getattr(finder, "_loaders", None)
            if type(finder) is FileFinder and isinstance(loaders, list):
                finder._loaders = [(suffix, new if loader is old else loader) for suffix, loader in loaders]
            else:
                del cache[key]


def uninstall() -> None:
    """Remove the hook; already imported modules stay as they are."""
    global _options, _hook
    if _hook is not None:
        if _hook in sys.path_hooks:
            sys.path_hooks.remove(_hook)
        _swap_loaders(optimizing_loader, SourceFileLoader)
    _options = None
    _hook = None
