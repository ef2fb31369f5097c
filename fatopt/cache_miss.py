"""What the import hook does when fatopt's cache holds nothing valid for a module: import the
optimizer (with the hook stepped aside), optimize the module, write the cache; and which of
fatopt's modules to drop once the imports that needed the optimizer are done.

The C hook (``fatopt/_importhook.c``) calls :func:`code_for` on a miss, with tracing and
monitoring suspended: a debugger stepping into an import never stops in the optimizer. A warm
start never loads this module.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import marshal
import os
import sys
import warnings

import _fatopt_importhook as _importhook

from fatopt import cache, importer

__all__ = ["code_for", "ensure_optimizer", "optimized_code", "optimizer_modules", "profile_or_false"]

#: sys.modules' names before the optimizer was last imported (None: it never was).
_loaded_before: frozenset[str] | None = None

#: fatopt modules (and packages, with their submodules) that stay once loaded: what optimized
#: modules use (the guard runtime holds process state), what the public API hands out (guards
#: from get_specialized, a Config, a Report: a second copy of their module after a reload would
#: make them instances of other classes), and this module's own (small) imports. Every other
#: fatopt module the optimizer's import brought in is the optimizer.
_KEPT = (
    "fatopt._guards", "fatopt.runtime", "fatopt.guards", "fatopt.config", "fatopt.results",
    "fatopt.importer", "fatopt.settings", "fatopt.cache", "fatopt.cache_miss",
    "fatopt.profile",  # (its Profile, held by fatopt.importer.loaded_profiles)
    "fatopt.first_call_types",  # (the watches and their outcomes; the runtime calls its _called)
)


def code_for(loader, fullname: str, creating: bool):
    """The code the module runs: freshly optimized (and cached), or None for the plain path
    (importlib's own ``get_code`` then raises a syntax error exactly as plain Python does).
    ``creating`` (asked from ``create_module``, before the module exists): the module itself
    when importing the optimizer loaded it, plain, just now; the import then uses that module
    rather than executing the code a second time."""
    loaded_before = fullname in sys.modules
    if not ensure_optimizer():
        return None
    if creating and not loaded_before and fullname in sys.modules:
        loader.exec_module = _noop  # already executed
        return sys.modules[fullname]
    try:
        return optimized_code(loader, fullname)  # the C hook checks that the runtime can load
    except SyntaxError:
        return None


def _noop(module) -> None:
    pass


def _optimizer_loaded() -> bool:
    return "fatopt.optimizer" in sys.modules and "fatopt.compiler" in sys.modules


def ensure_optimizer() -> bool:
    """Import the optimizer (again, if the hook dropped it since), with the hook bypassed on this
    thread: the modules it imports load plain (a module cannot be optimized by an optimizer still
    being imported). Each of them is then cached optimized (where caches can be written), so the
    next run finds them all in the cache and never imports the optimizer. False if the optimizer
    cannot be imported (fatopt turns itself off)."""
    global _loaded_before
    if _optimizer_loaded():
        return True
    before = frozenset(sys.modules)
    _importhook.set_bypass(True)
    try:
        import fatopt.compiler  # noqa: F401
        import fatopt.optimizer  # noqa: F401

        options = importer.installed_options()
        if options is not None and options.profile is not None:
            # here, with the optimizer: an import outside one lets the hook drop the optimizer
            import fatopt.profile  # noqa: F401
    except Exception as exc:
        _disable(f"the optimizer could not be imported ({exc!r}); modules load unoptimized")
        return False
    finally:
        _importhook.set_bypass(False)
        loaded = _importhook.take_loaded_plain()
    _loaded_before = before
    if not _can_write():
        loaded = []  # (their optimized code would be for next time: nowhere to keep it)
    for loader, fullname in loaded:
        try:
            if _importhook.cached_code(loader, fullname) is None:
                optimized_code(loader, fullname)
        except Exception:  # a cache for next time is a nicety: never fail for it
            pass
    return True


def optimizer_modules() -> list[str]:
    """The names of the optimizer's modules in sys.modules, which the C hook drops when no
    import or optimization is in progress, so that a process that had a cache miss runs on
    without them (objects for the garbage collector to traverse, memory). Only fatopt's own
    modules: a standard-library module the optimizer imported may be the program's too by now
    (a second copy of it would break identity)."""
    before = _loaded_before
    if before is None:
        return []
    return [
        name for name in list(sys.modules)
        if name.startswith("fatopt.") and name not in before and not _kept(name)
    ]


def _kept(name: str) -> bool:
    return any(name == kept or name.startswith(kept + ".") for kept in _KEPT)


def optimized_code(loader, fullname: str):
    """Optimize the module ``loader`` loads and cache the result (unless bytecode is not to be
    written), or None when fatopt was turned off meanwhile; raises SyntaxError as ``compile``
    does.

    A module whose normal ``.pyc`` is valid for the source by its header but is not what the
    source compiles to (written by a tool, or by hand) runs that bytecode, unoptimized and not
    cached, as plain Python runs it."""
    from fatopt.compiler import compile_source, config_for

    options = importer.installed_options()
    hooked = _importhook.options()
    if options is None or hooked is None:  # fatopt turned off meanwhile
        return None
    profile = profile_or_false(options)
    if profile is False:
        return None
    source_path = loader.get_filename(fullname)
    source = loader.get_data(source_path)
    mtime = loader.path_stats(source_path)["mtime"]
    if fullname != "__main__":  # plain Python caches no main script, nor reads one
        had_pyc = _has_plain_pyc(source_path)
        plain = _plain_code(loader, fullname)
        # only a .pyc importlib read can differ from the source's compilation
        if had_pyc and plain is not None and plain != _quiet_compile(source, source_path):
            return plain
        del plain  # (the module's plain code: not alive while the optimizer's peak is reached)
    # The compiled code is not what the module runs: a copy read back from its marshalled bytes
    # is, as on a warm start. The compiled objects were allocated among the module's syntax
    # tree, now freed, and hold what marshalling caches in them (each code object's co_code and
    # name tuples): kept for the life of the module, they cost about 3 MB of peak memory over
    # a pytest start (fragmentation and the caches), where the copy is compact and cacheless.
    path = _importhook.cache_file(source_path)  # where the hook reads (tag, cache directory)
    if not _can_write():
        _say_not_cached(options.verbose)
        path = None
    # Plain Python's compile-time warnings have been shown by importlib's own get_code above, or
    # by the interpreter compiling the main script, or not at all (a valid .pyc): the optimizer's
    # compiles show none (a SyntaxWarning printed 5 times where plain prints it twice)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        compiled = compile_source(source, source_path, config_for(options), verbose=options.logs(source_path),
                                  profile=profile)
    marshalled = marshal.dumps(compiled.code)
    del compiled
    if path is not None:
        # The main script's cache is checked against a hash of its source: plain Python never
        # caches a main script, so a script rewritten within the same second with the same size
        # (the resolution of a timestamp .pyc) must not find its old code.
        mode = cache.CHECKED_HASH if fullname == "__main__" else cache.TIMESTAMP
        cache.write_marshalled(path, marshalled, cache.header(source_path, source, mode, mtime))
    return marshal.loads(marshalled)


def profile_or_false(options):
    """The type profile ``options`` name (or None), loaded on the first cache miss; False when it
    is not a usable profile: said on stderr, and fatopt turns off as for a bad option (only its
    path was checked at start-up, so that a warm start never parses it; with a bad profile no
    module can be in the cache under this tag, so the first import comes here)."""
    if options.profile is None:
        return None  # (importing nothing: see ensure_optimizer)
    from fatopt.compiler import profile_for
    from fatopt.profile import ProfileError

    try:
        return profile_for(options)
    except ProfileError as exc:
        importer.uninstall_options()
        sys.stderr.write(f"fatopt: profile: {exc}; fatopt is off: running unoptimized\n")
        return False


def _quiet_compile(source: bytes, source_path: str):
    """The source's plain compilation, its warnings not shown (plain Python read the .pyc)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return compile(source, source_path, "exec", dont_inherit=True)


_said_not_cached = False


def _can_write() -> bool:
    """Whether optimized code can be kept (:func:`fatopt.cache.writable`)."""
    return cache.writable(_importhook.cache_dir())


def _say_not_cached(verbose: bool) -> None:
    """Once per process, in verbose mode: why every start of this program optimizes again."""
    global _said_not_cached
    if verbose and not _said_not_cached:
        _said_not_cached = True
        sys.stderr.write(f"fatopt: {cache.NOT_CACHED}\n")


def _has_plain_pyc(source_path: str) -> bool:
    from _frozen_importlib_external import cache_from_source

    try:
        return os.path.exists(cache_from_source(source_path))
    except NotImplementedError:  # no bytecode cache on this interpreter
        return False


def _plain_code(loader, fullname: str):
    """What plain Python would run: importlib's own code reads the normal .pyc, or compiles the
    source and writes it (honouring -B, pycache_prefix, the source's permissions), so the .pyc
    plain Python leaves behind is there too. None if that fails (the optimized code runs)."""
    from _frozen_importlib_external import SourceLoader

    try:
        return SourceLoader.get_code(loader, fullname)
    except Exception:
        return None


def _disable(reason: str) -> None:
    importer.uninstall_options()
    import warnings

    warnings.warn(f"fatopt: {reason}", RuntimeWarning, stacklevel=4)
