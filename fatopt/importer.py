"""The import hook: source modules found on sys.path load optimized, from fatopt's own cache.

A path hook placed before the standard one gives every directory on ``sys.path`` a ``FileFinder``
whose source loader is :class:`OptimizingLoader`. Extension modules, ``.pyc``-only modules,
frozen and built-in modules, zip imports and namespace packages keep their usual loaders.

The optimizer is imported only on a cache miss. Importing it imports modules of its own (``ast``,
``dataclasses``, ...); if one of them is the very module being loaded, the hook steps aside for the
duration (see :meth:`OptimizingLoader.create_module`), so no module is ever executed twice.
"""

from fatopt._support import PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt._support

import sys

# Start-up cost matters here (this module loads on every `python -X fatopt` run): the C and frozen
# modules the interpreter already has, not threading, functools or importlib.machinery, which
# would import a dozen more modules.
from _frozen_importlib_external import (
    BYTECODE_SUFFIXES,
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    ExtensionFileLoader,
    FileFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)
from _functools import partial
from _thread import _local

from fatopt import cache
from fatopt.options import Options

__all__ = ["OptimizingLoader", "install", "uninstall", "installed_options"]

_state = _local()  # .bypass: the optimizer is being imported on this thread
_options: Options | None = None
_hook = None


def installed_options() -> Options | None:
    """The options the hook was installed with, or None when fatopt is not active."""
    return _options


def _optimizer_loaded() -> bool:
    return "fatopt.optimizer" in sys.modules and "fatopt.compiler" in sys.modules


class OptimizingLoader(SourceFileLoader):
    """``SourceFileLoader`` that runs the optimizer and caches under fatopt's own .pyc name.

    The work happens in :meth:`create_module`, which never raises. When the module is not to be
    optimized (excluded, opted out, or its source does not compile), the instance gets importlib's
    own ``get_code`` instead: CPython then raises the very error, with the very traceback, a plain
    import gives (it trims importlib's frames from tracebacks, but would show ours).
    """

    _stashed_code = None  # prepared by create_module, handed out by get_code

    def _active(self, fullname: str) -> bool:
        options = _options
        return options is not None and not getattr(_state, "bypass", False) and not options.excludes(fullname)

    def create_module(self, spec):
        try:
            code = self._prepare(spec.name)
        except Exception:  # never break an import: load it the plain way
            code = None
        if code is None:
            self.get_code = partial(SourceFileLoader.get_code, self)  # C callable: no frame of ours
        elif code is not _REUSE:
            self._stashed_code = code
        else:
            # The optimizer needed this very module and it is loaded (plain) already: reuse it
            # rather than executing it a second time.
            module = sys.modules[spec.name]
            self.exec_module = _noop
            return module
        return None

    def _prepare(self, fullname: str):
        """The code to run: cached, freshly optimized, _REUSE, or None for the plain path."""
        if getattr(_state, "bypass", False):
            if _options is not None and not _options.excludes(fullname):
                _state.loaded_plain.append((self, fullname))  # cached once the optimizer is in
            return None
        if not self._active(fullname):
            return None
        code = self._cached_code(fullname)
        if code is not None:
            return code
        if not _ensure_optimizer():
            return None
        if fullname in sys.modules:
            return _REUSE  # the optimizer needed this very module: loaded plain already
        try:
            return self._optimized_code(fullname)
        except SyntaxError:
            return None  # the plain path raises it, exactly as CPython does

    def get_code(self, fullname: str):
        """Used by ``create_module``-less loads: ``importlib.reload``, runpy (``-m``), the main
        script."""
        code, self._stashed_code = self._stashed_code, None
        if code is not None:
            return code
        if not self._active(fullname):
            return super().get_code(fullname)
        code = self._cached_code(fullname)
        if code is None:
            if not _ensure_optimizer():
                return super().get_code(fullname)
            code = self._optimized_code(fullname)
        return code

    def _cache_file(self, fullname: str) -> str | None:
        return cache.cache_path(self.get_filename(fullname), _options.cache_tag())

    def _cached_code(self, fullname: str):
        path = self._cache_file(fullname)
        if path is None:
            return None
        source_path = self.get_filename(fullname)
        return cache.read(path, source_path, lambda: self.get_data(source_path))

    def _optimized_code(self, fullname: str):
        from fatopt.compiler import compile_source, config_for

        source_path = self.get_filename(fullname)
        source = self.get_data(source_path)
        mtime = self.path_stats(source_path)["mtime"]
        code = compile_source(source, source_path, config_for(_options), verbose=_options.verbose).code
        path = self._cache_file(fullname)
        if path is not None and cache.enabled():
            cache.write(path, code, cache.header(source_path, source, cache.TIMESTAMP, mtime))
        return code


_REUSE = object()


def _ensure_optimizer() -> bool:
    """Import the optimizer once, with the hook bypassed: the modules it imports load plain (a
    module cannot be optimized by an optimizer still being imported). Each of them is then
    cached optimized, so the next run finds them all in the cache and never imports the
    optimizer. False if the optimizer cannot be imported (fatopt turns itself off)."""
    if _optimizer_loaded():
        return True
    _state.bypass = True
    _state.loaded_plain = []
    try:
        import fatopt.compiler  # noqa: F401
        import fatopt.optimizer  # noqa: F401
    except Exception as exc:
        _disable(f"the optimizer could not be imported ({exc!r}); modules load unoptimized")
        return False
    finally:
        _state.bypass = False
        loaded, _state.loaded_plain = _state.loaded_plain, []
    for loader, fullname in loaded:
        try:
            if loader._cached_code(fullname) is None:
                loader._optimized_code(fullname)
        except Exception:  # a cache for next time is a nicety: never fail for it
            pass
    return True


def _noop(module) -> None:
    pass


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
