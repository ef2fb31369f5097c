"""The import hook: source modules found on sys.path load optimized, from fatopt's own cache.

A path hook placed before the standard one gives every directory on ``sys.path`` a ``FileFinder``
whose source loader is :class:`OptimizingLoader`. Extension modules, ``.pyc``-only modules,
frozen and built-in modules, zip imports and namespace packages keep their usual loaders.

The optimizer is imported only on a cache miss. Importing it imports modules of its own (``ast``,
``dataclasses``, ...); if one of them is the very module being loaded, the hook steps aside for the
duration (see :meth:`OptimizingLoader.create_module`), so no module is ever executed twice.
"""

from __future__ import annotations

import sys
import threading
from importlib.machinery import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)

from fatopt import cache
from fatopt.options import Options

__all__ = ["OptimizingLoader", "install", "uninstall", "installed_options"]

_state = threading.local()  # .bypass: the optimizer is being imported on this thread
_options: Options | None = None
_hook = None


def installed_options() -> Options | None:
    """The options the hook was installed with, or None when fatopt is not active."""
    return _options


def _optimizer_loaded() -> bool:
    return "fatopt.optimizer" in sys.modules and "fatopt.compiler" in sys.modules


class OptimizingLoader(SourceFileLoader):
    """``SourceFileLoader`` that runs the optimizer and caches under fatopt's own .pyc name."""

    _already_loaded = None
    _stashed_code = None  # read from the cache by create_module, used by get_code

    def _active(self, fullname: str) -> bool:
        options = _options
        return options is not None and not getattr(_state, "bypass", False) and not options.excludes(fullname)

    def create_module(self, spec):
        if not self._active(spec.name) or _optimizer_loaded():
            return None
        self._stashed_code = self._cached_code(spec.name)
        if self._stashed_code is None:
            # About to need the optimizer for the first time. Import it now, before this module
            # is in sys.modules, with the hook bypassed so its own imports load plain.
            _state.bypass = True
            try:
                import fatopt.compiler  # noqa: F401
                import fatopt.optimizer  # noqa: F401
            except Exception as exc:  # never break the user's import
                _disable(f"the optimizer could not be imported ({exc!r}); modules load unoptimized")
                return None
            finally:
                _state.bypass = False
            if spec.name in sys.modules:
                # The optimizer needed this very module and it is loaded (plain) already:
                # reuse it rather than executing it a second time.
                self._already_loaded = sys.modules[spec.name]
                return self._already_loaded
        return None

    def exec_module(self, module) -> None:
        if module is self._already_loaded:
            return
        super().exec_module(module)

    def _cache_file(self, fullname: str) -> str | None:
        return cache.cache_path(self.get_filename(fullname), _options.cache_tag())

    def _cached_code(self, fullname: str):
        path = self._cache_file(fullname)
        if path is None:
            return None
        source_path = self.get_filename(fullname)
        return cache.read(path, source_path, lambda: self.get_data(source_path))

    def get_code(self, fullname: str):
        if not self._active(fullname):
            return super().get_code(fullname)
        code, self._stashed_code = self._stashed_code, None
        if code is None:
            code = self._cached_code(fullname)
        if code is not None:
            return code
        from fatopt.compiler import compile_source, config_for

        source_path = self.get_filename(fullname)
        source = self.get_data(source_path)
        mtime = self.path_stats(source_path)["mtime"]
        code = compile_source(source, source_path, config_for(_options), verbose=_options.verbose).code
        path = self._cache_file(fullname)
        if path is not None and cache.enabled():
            cache.write(path, code, cache.header(source_path, source, cache.TIMESTAMP, mtime))
        return code


def _disable(reason: str) -> None:
    global _options
    _options = None
    import warnings

    warnings.warn(f"fatopt: {reason}", RuntimeWarning, stacklevel=3)


def _loader_details():
    return (
        (ExtensionFileLoader, EXTENSION_SUFFIXES),
        (OptimizingLoader, SOURCE_SUFFIXES),
        (SourcelessFileLoader, BYTECODE_SUFFIXES),
    )


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
    # Finders already made for sys.path entries carry the standard loaders: drop them so the
    # next import makes new ones through our hook.
    for key, finder in list(sys.path_importer_cache.items()):
        if isinstance(finder, FileFinder) or finder is None:
            del sys.path_importer_cache[key]


def uninstall() -> None:
    """Remove the hook; already imported modules stay as they are."""
    global _options, _hook
    if _hook is not None:
        if _hook in sys.path_hooks:
            sys.path_hooks.remove(_hook)
        for key, finder in list(sys.path_importer_cache.items()):
            if isinstance(finder, FileFinder):
                del sys.path_importer_cache[key]
    _options = None
    _hook = None
