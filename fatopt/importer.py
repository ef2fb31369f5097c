"""Turning fatopt on: the ``-X fatopt`` / ``PYTHONFATOPT`` options, and the Python side of the
import hook that loads source modules optimized, from fatopt's own cache.

The hook itself is C (``fatopt/_importhook.c``, the top-level module ``_fatopt_importhook``):
``fatopt.pth`` imports it in every ``python -X fatopt`` process, and it runs for every module
imported, so a warm start runs no Python code of fatopt's at all (the start-up budget is 5% of ``python -c pass``, about 0.75 ms;
importing this module alone costs most of that). It comes here only for what is rare: option
values other than a bare ``-X fatopt`` / ``PYTHONFATOPT=1`` (:func:`hook_options`), and the
Python API (:func:`install`, :func:`installed_options`, ...). A cache miss runs
:mod:`fatopt.cache_miss`, the main script :mod:`fatopt._main`; the cache format is
:mod:`fatopt.cache`.

Options, for both sources (``-X`` wins over the environment, item by item)::

    -X fatopt                      on, default configuration
    -X fatopt=0 | off | no | false  off (even if PYTHONFATOPT is set)
    -X fatopt=verbose              on, and log to stderr what happens to each of the user's
                                   own modules (fatopt.user_code): optimized (each function
                                   specialized or not, and why) or loaded from the cache
                                   (this process only: see children_environment_value)
    -X fatopt=verbose=all          the same for every module, the standard library's too
    -X fatopt=stats                on, and print a summary at exit to stderr (this process
                                   only): modules from the cache / optimized / plain,
                                   specializations, invalidations (fatopt.run_stats)
    -X fatopt=exclude=pkg.mod:tests  on, never optimize these modules (and their submodules)
    -X fatopt=unroll_loops=4,module_constants=off   on, with these Config settings
    -X fatopt=cache_dir=~/.cache/fatopt  on, fatopt's cache files under this directory, written
                                   even under -B / PYTHONDONTWRITEBYTECODE (not part of the tag)
    -X fatopt=profile=app.profile  on, with the type profile ``fatopt profile`` recorded
                                   (fatopt.profile); its content is part of the tag
    PYTHONFATOPT=1                 on (what reaches subprocesses that drop -X options;
                                   ignored under -E and -I, like every PYTHON* variable;
                                   its verbose items reach them only as verbose=inherit)
    PYTHONFATOPT=verbose=inherit   verbose here and in the child processes
                                   (verbose=all:inherit: every module, here and there)

Every item is checked here, before fatopt turns on (:mod:`fatopt.settings`): an unknown or
malformed one turns fatopt off for the process with one line on stderr naming it, the valid
choices and the closest match. Equal settings (``=on``, ``=ON``, ``=1``, a default given
explicitly) make the same cache tag.

The hook: a path hook placed before the standard one gives every directory on ``sys.path`` a
``FileFinder`` whose source loaders are recorded by the C hook. Extension modules, ``.pyc``-only
modules, frozen and built-in modules, zip imports and namespace packages keep their usual
loaders. Optimized code is cached beside the normal bytecode, in ``__pycache__`` (or under
``sys.pycache_prefix``), under its own name: ``mod.cpython-313.opt-fatoptXXXXXXXX.pyc``, where
the tag encodes fatopt's version, code and configuration. The header is the standard one (PEP
552): magic number, flags, then source mtime and size, or a source hash.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import os
import sys

import _imp

from _frozen_importlib_external import cache_from_source  # what importlib.util re-exports

from fatopt import __version__

__all__ = [
    "Options", "OptionsError", "from_environment", "hook_options", "children_environment_value",
    "default_tag", "install", "uninstall", "installed_options", "uninstall_options", "cache_path", "profile_digest",
]

# -- options ------------------------------------------------------------------------------------

ENV_VAR = "PYTHONFATOPT"
XOPTION = "fatopt"

_TRUE = {"1", "on", "yes", "true"}
_FALSE = {"0", "off", "no", "false"}
#: The items without a value: the words above and verbose (v).
_BARE_WORDS = ("on", "off", "verbose", "stats")
INHERIT = "inherit"  # verbose=inherit
ALL = "all"  # verbose=all: library modules too
#: what ``verbose=`` takes, besides the on/off words (joined by ``:``, as in ``all:inherit``)
_VERBOSE_WORDS = ("user", ALL, INHERIT)

#: Modules never optimized: fatopt itself (it must not optimize the code that optimizes).
ALWAYS_EXCLUDED = ("fatopt",)


class OptionsError(ValueError):
    """A malformed or unknown -X fatopt / PYTHONFATOPT item, or a setting's bad value."""


class Options:
    """What the user asked for: on/off, verbosity, exclusions and Config overrides (checked and
    typed: ``{"unroll_loops": 4}``)."""

    __slots__ = ("enabled", "verbose", "verbose_inherited", "verbose_all", "stats", "exclude", "overrides", "cache_dir",
                 "profile", "profile_digest", "_tag")

    def __init__(
        self,
        enabled: bool = False,
        verbose: bool = False,
        exclude: tuple[str, ...] = (),
        overrides: "dict[str, bool | int] | None" = None,
    ) -> None:
        self.enabled = enabled
        self.verbose = verbose
        #: verbose=inherit: child processes started with this environment log too
        self.verbose_inherited = False
        #: verbose=all: log library modules too (by default only the user's own)
        self.verbose_all = False
        #: stats: a summary at exit (fatopt.run_stats); like verbose, not part of the cache tag
        self.stats = False
        self.exclude = exclude
        self.overrides = dict(overrides or {})
        #: cache_dir=PATH: fatopt's own cache directory (absolute), or None (beside the sources)
        self.cache_dir: str | None = None
        #: profile=FILE: the type profile (absolute path), or None; and the digest of its content
        #: when the option was read (:func:`profile_digest`), which the cache tag includes
        self.profile: str | None = None
        self.profile_digest: str | None = None
        self._tag: str | None = None

    def __repr__(self) -> str:
        return (
            f"Options(enabled={self.enabled}, verbose={self.verbose}, verbose_all={self.verbose_all}, "
            f"exclude={self.exclude}, overrides={self.overrides}, profile={self.profile!r})"
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
                    self.verbose_inherited = self.verbose_all = False
                elif key == "stats":
                    self.stats = True
                else:
                    raise OptionsError(_unknown_item(item, key))
            elif key == "exclude":
                self.exclude += tuple(m for m in value.split(":") if m)
            elif key == "verbose":
                self.verbose, self.verbose_all, self.verbose_inherited = _parse_verbose(key, value)
            elif key == "stats":
                self.stats = _parse_bool(key, value)
            elif key == "cache_dir":
                if not value:
                    raise OptionsError("item 'cache_dir=' needs a directory (cache_dir=PATH)")
                # where the item is written the shell expands no ~; a relative path is taken
                # from the directory the process started in (it must not move with chdir)
                self.cache_dir = os.path.abspath(os.path.expanduser(value))
            elif key == "profile":
                self.use_profile(value)
            else:
                from fatopt.settings import parse_setting  # (only for settings: see its docstring)

                self.overrides[key] = parse_setting(key, value)

    def use_profile(self, path: str) -> None:
        """Optimize with the type profile at ``path`` (``profile=FILE``). The file is read now,
        for the cache tag, so a missing one is an error of the option (OptionsError); what it
        holds is checked when the optimizer first needs it (fatopt.compiler.profile_for: a
        warm start never parses it)."""
        if not path:
            raise OptionsError("item 'profile=' needs a file (profile=FILE, written by 'fatopt profile -o FILE')")
        absolute = os.path.abspath(os.path.expanduser(path))
        try:
            with open(absolute, "rb") as f:
                content = f.read()
        except OSError as exc:
            raise OptionsError(f"cannot read the profile {absolute}: {exc.strerror or exc}") from None
        self.profile, self.profile_digest = absolute, profile_digest(content)
        self._tag = None

    def cache_tag(self) -> str:
        """Names this configuration's cache files: fatopt's version and code, the Config
        overrides, the interpreter's -O level and the type profile's content, so no two
        configurations ever share a .pyc. Only the settings that differ from the default count:
        equal configurations, however written, share their cache files. (The profile counts as
        a whole: any change to it makes every module optimize again under the new tag.)"""
        if self._tag is None:  # asked for by every module imported: computed once
            changed = []
            if self.overrides:
                from fatopt.settings import DEFAULTS

                changed = sorted(k for k, v in self.overrides.items() if v != DEFAULTS[k])
            key = "|".join(
                [__version__, _code_stamp(), str(sys.flags.optimize)]
                + [f"{k}={int(self.overrides[k])}" for k in changed]
                + ([f"profile={self.profile_digest}"] if self.profile_digest is not None else [])
            )
            self._tag = f"fatopt{_hash8(key)}"
        return self._tag

    def logs(self, path: str) -> bool:
        """True if verbose mode logs what happens to the source file ``path``: the user's own
        files, or every file with ``verbose=all``."""
        if not self.verbose:
            return False
        if self.verbose_all:
            return True
        from fatopt.user_code import is_library_file

        return not is_library_file(path)

    def quiet_directories(self) -> "tuple[str, ...]":
        """The directories whose modules verbose mode does not log (for the C hook)."""
        if not self.verbose or self.verbose_all:
            return ()
        from fatopt.user_code import library_directories

        return library_directories()

    def excludes(self, module: str) -> bool:
        """True for modules fatopt must leave alone (and their submodules)."""
        for name in ALWAYS_EXCLUDED + self.exclude:
            if module == name or module.startswith(name + "."):
                return True
        return False


#: (path, content digest) -> the type profile loaded (fatopt.compiler.profile_for): kept in this
#: module, which stays loaded, where the optimizer's modules are dropped after each cache miss, so
#: that a process parses its profile once
loaded_profiles: dict = {}

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


def profile_digest(content: bytes) -> str:
    """What names a type profile's content in the cache tag: a hash of its bytes (SipHash, in C:
    a start with a profile reads the file but imports nothing to hash it)."""
    return _imp.source_hash(0xFA7, content).hex()


def _unknown_item(item: str, key: str) -> str:
    from fatopt.settings import DEFAULTS, choices_text, did_you_mean

    if key in DEFAULTS:
        return f"setting {key!r} needs a value ({key}=...); valid: {choices_text()}"
    return f"unknown item {item!r}{did_you_mean(key, _BARE_WORDS + tuple(DEFAULTS))}; valid: {choices_text()}"


def _parse_bool(key: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    from fatopt.settings import did_you_mean

    raise OptionsError(f"item '{key}={value}' needs on or off{did_you_mean(low, tuple(_TRUE) + tuple(_FALSE))}")


def _parse_verbose(key: str, value: str) -> "tuple[bool, bool, bool]":
    """(verbose, all modules, inherited) for ``verbose=VALUE``: on/off (1/0, yes/no, true/false),
    ``user`` (the same as on), ``all``, ``inherit``, or ``all:inherit``."""
    words = [w.strip() for w in value.lower().split(":")]
    if len(words) == 1 and words[0] in _FALSE:
        return False, False, False
    for word in words:
        if word not in _TRUE and word not in _VERBOSE_WORDS:
            from fatopt.settings import did_you_mean

            hint = did_you_mean(word, ("on", "off") + _VERBOSE_WORDS)
            raise OptionsError(f"item '{key}={value}' needs on, off, all, inherit or all:inherit{hint}")
    return True, ALL in words, INHERIT in words


def from_environment(
    environ: dict[str, str] | None = None, xoptions: dict | None = None, ignore_environment: bool | None = None,
) -> Options:
    """The options in force for this process: PYTHONFATOPT, then -X fatopt on top.

    Like every PYTHON* variable, PYTHONFATOPT is ignored under ``-E`` and ``-I``
    (``sys.flags.ignore_environment``); ``-X fatopt`` still counts. (Test suites start children
    with ``-I`` precisely so that they run unaffected by the parent's environment.)"""
    value = (os.environ if environ is None else environ).get(ENV_VAR)
    if environ is None and _environment_read is not None and value == _environment_read[1]:
        value = _environment_read[0]  # the verbose items this process kept from its children
    xoptions = sys._xoptions if xoptions is None else xoptions
    if ignore_environment is None:
        ignore_environment = bool(sys.flags.ignore_environment)
    options = Options()
    if value is not None and not ignore_environment:
        _update(options, value, f"{ENV_VAR}={value}")
    if XOPTION in xoptions:
        text = xoptions[XOPTION]
        _update(options, text, XOPTION if text is True else f"-X {XOPTION}={text}")
    return options


def _update(options: Options, text, source: str) -> None:
    """``options.update(text)``, its error naming where the text came from."""
    try:
        options.update(text)
    except OptionsError as exc:
        raise OptionsError(f"{source}: {exc}") from None


# -- the hook -----------------------------------------------------------------------------------

_options: Options | None = None  # what the hook was installed with, once asked for


def cache_path(source_path: str, tag: str, cache_dir: str | None = None) -> str | None:
    """Where the optimized code of ``source_path`` is cached, or None if this interpreter keeps
    no bytecode cache (``sys.implementation.cache_tag`` is None).

    Beside the normal bytecode (``__pycache__``, or under ``sys.pycache_prefix``); with a
    ``cache_dir``, under it, mirroring the source's absolute directory as
    ``sys.pycache_prefix`` does (the C hook's ``in_cache_dir`` computes the same)."""
    try:
        usual = cache_from_source(source_path, optimization=tag)
    except NotImplementedError:
        return None
    if cache_dir is None:
        return usual
    head = os.path.dirname(os.path.abspath(source_path))
    head = os.path.splitdrive(head)[1].lstrip("/" + os.sep)
    return os.path.join(cache_dir, head, os.path.basename(usual))


def _hook_module():
    """The C hook if this process loaded it (activation did), else None."""
    return sys.modules.get("_fatopt_importhook")


def default_tag() -> str:
    """The cache tag of the default configuration (the C hook asks when fatopt has no build
    stamp: a development checkout or an editable install)."""
    return Options(enabled=True).cache_tag()


def _is_verbose_item(item: str) -> bool:
    key, sep, _value = item.partition("=")
    key = key.strip().lower()
    return key == "verbose" or (not sep and key == "v")


def _is_stats_item(item: str) -> bool:
    return item.partition("=")[0].strip().lower() == "stats"


def children_environment_value(value: str) -> str | None:
    """The PYTHONFATOPT that the children of a process started with ``value`` should inherit, or
    None to leave it as it is.

    Verbose output (and the ``stats`` summary) is for the process it was asked of: a child (a
    test suite's subprocess, a worker) that logs to stderr breaks whatever reads that stderr. So
    the verbose and stats items go, and the rest stays item for item, so that children run
    optimized with the same cache tag (neither is part of it); ``verbose=inherit`` keeps the
    verbose items. Raises OptionsError for a malformed value."""
    options = Options()
    options.update(value)
    drop_verbose = options.verbose and not options.verbose_inherited
    items = [item for item in value.split(",") if item.strip()]
    kept = [item for item in items if not _is_stats_item(item) and not (drop_verbose and _is_verbose_item(item))]
    if len(kept) == len(items):
        return None
    return ",".join(kept) or "1"


#: (what PYTHONFATOPT said, what this process left in os.environ for its children), once it
#: took the verbose items out: from_environment still reads what the process started with.
_environment_read: tuple[str, str] | None = None


def _keep_verbose_to_this_process() -> None:
    """Take the verbose items out of os.environ's PYTHONFATOPT, for the children (see
    children_environment_value); only when this process reads the environment (not under -E)."""
    global _environment_read
    value = os.environ.get(ENV_VAR)
    if value is None or sys.flags.ignore_environment:
        return
    children = children_environment_value(value)
    if children is not None:
        os.environ[ENV_VAR] = children
        _environment_read = (value, children)


def hook_options() -> tuple[str, tuple[str, ...], bool, tuple[str, ...], str | None] | None:
    """For the C activation when the option values need parsing: (cache tag, excluded modules,
    verbose, directories whose modules verbose mode leaves out, cache directory), or None when
    fatopt stays off (a malformed value is reported on stderr)."""
    global _options
    try:
        options = from_environment()
    except OptionsError as exc:
        # fatopt stays off, exactly as without the option: no hook, no optimizer, no cache
        sys.stderr.write(f"fatopt: {exc}; fatopt is off: running unoptimized\n")
        return None
    _keep_verbose_to_this_process()
    if not options.enabled:
        return None
    _options = options
    if options.stats:  # (only then: a start without it pays nothing)
        from fatopt import run_stats

        run_stats.install()
    return (options.cache_tag(), ALWAYS_EXCLUDED + options.exclude, options.verbose, options.quiet_directories(),
            options.cache_dir)


def installed_options() -> Options | None:
    """The options the hook is installed with, or None when fatopt is not active."""
    global _options
    hook = _hook_module()
    if hook is None or hook.options() is None:
        return None
    if _options is None:  # activated from C, which parsed nothing: the environment's options
        try:
            _options = from_environment()
        except OptionsError:
            _options = Options(enabled=True)
    return _options


def install(options: Options) -> None:
    """Turn the hook on with ``options`` (idempotent; the options are replaced)."""
    global _options
    import _fatopt_importhook

    _fatopt_importhook.install(options.cache_tag(), ALWAYS_EXCLUDED + options.exclude, options.verbose,
                               options.quiet_directories(), options.cache_dir)
    _options = options


def uninstall_options() -> None:
    """fatopt off for the rest of the process (the hook stays, loading plainly)."""
    global _options
    hook = _hook_module()
    if hook is not None:
        hook.disable()
    _options = None


def uninstall() -> None:
    """Remove the hook; already imported modules stay as they are."""
    global _options
    hook = _hook_module()
    if hook is not None:
        hook.uninstall()
    _options = None
