"""What the import hook does when fatopt's cache holds nothing valid for a module: import the
optimizer (once, with the hook stepped aside), optimize the module, write the cache.

Kept out of :mod:`fatopt.importer`, which every ``python -X fatopt`` process loads at start-up:
a warm start never needs this.
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import sys

from fatopt import cache, importer

__all__ = ["ensure_optimizer", "optimized_code"]


def _optimizer_loaded() -> bool:
    return "fatopt.optimizer" in sys.modules and "fatopt.compiler" in sys.modules


def ensure_optimizer() -> bool:
    """Import the optimizer once, with the hook bypassed: the modules it imports load plain (a
    module cannot be optimized by an optimizer still being imported; if one of them is the very
    module being loaded, the loader reuses it rather than executing it twice). Each of them is
    then cached optimized, so the next run finds them all in the cache and never imports the
    optimizer. False if the optimizer cannot be imported (fatopt turns itself off)."""
    if _optimizer_loaded():
        return True
    state = importer._state
    state.bypass = True
    state.loaded_plain = []
    try:
        import fatopt.compiler  # noqa: F401
        import fatopt.optimizer  # noqa: F401
    except Exception as exc:
        _disable(f"the optimizer could not be imported ({exc!r}); modules load unoptimized")
        return False
    finally:
        state.bypass = False
        loaded, state.loaded_plain = state.loaded_plain, []
    for loader, fullname in loaded:
        try:
            if loader._cached_code(fullname) is None:
                optimized_code(loader, fullname)
        except Exception:  # a cache for next time is a nicety: never fail for it
            pass
    return True


def optimized_code(loader, fullname: str):
    """Optimize the module ``loader`` loads and cache the result (unless bytecode is not to be
    written); raises SyntaxError as ``compile`` does."""
    from fatopt.compiler import compile_source, config_for

    options = importer.installed_options()
    source_path = loader.get_filename(fullname)
    source = loader.get_data(source_path)
    mtime = loader.path_stats(source_path)["mtime"]
    code = compile_source(source, source_path, config_for(options), verbose=options.verbose).code
    path = loader._cache_file(fullname)
    if path is not None and cache.enabled():
        # The main script's cache is checked against a hash of its source: plain Python never
        # caches a main script, so a script rewritten within the same second with the same size
        # (the resolution of a timestamp .pyc) must not find its old code.
        mode = cache.CHECKED_HASH if fullname == "__main__" else cache.TIMESTAMP
        cache.write(path, code, cache.header(source_path, source, mode, mtime))
    if fullname != "__main__":  # plain Python caches no main script
        _write_plain_bytecode(loader, fullname)
    return code


def _write_plain_bytecode(loader, fullname: str) -> None:
    """Leave behind the normal .pyc plain Python would have: importlib's own code reads it, or
    compiles the source and writes it (honouring -B, pycache_prefix, the source's permissions).
    Code that imports a module and then expects its .pyc (compileall checks, sourceless
    deployment, test suites) finds it. Only on a miss: a warm start does not look."""
    from _frozen_importlib_external import SourceFileLoader

    try:
        SourceFileLoader.get_code(loader, fullname)
    except Exception:  # the optimized code is what runs; this is a courtesy
        pass


def _disable(reason: str) -> None:
    importer.uninstall_options()
    import warnings

    warnings.warn(f"fatopt: {reason}", RuntimeWarning, stacklevel=4)
