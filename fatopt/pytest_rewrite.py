"""pytest's assertion rewriting, then fatopt's optimizer, for the modules pytest loads itself.

pytest's ``AssertionRewritingHook`` (``_pytest/assertion/rewrite.py``) compiles test modules and
``conftest.py`` files itself, so fatopt's import hook never sees them. Its ``exec_module`` reads
the module's code from its own cache file (``_read_pyc``), or else makes it (``_rewrite_test``:
parse, ``rewrite_asserts``, compile) and caches it (``_write_pyc``), then executes it. Those three
are module globals, looked up at each call; :class:`RewriteOptimizer` wraps them for the modules
its hook executes:

- ``_rewrite_test``: pytest's rewriting, then fatopt's optimizer on the rewritten tree
  (:func:`fatopt.compiler.compile_tree`, as a cache miss of fatopt's hook does it);
- ``_read_pyc`` / ``_write_pyc``: pytest's cache file under its own name plus fatopt's cache tag,
  ``test_x.cpython-313-pytest-9.2.0.opt-fatoptXXXXXXXX.pyc`` beside pytest's
  ``test_x.cpython-313-pytest-9.2.0.pyc``: a plain run never loads optimized code, a fatopt run
  never plain code, and each configuration has its own file (pytest checks it against a hash of
  the source).

The optimized code runs exactly as when fatopt's hook imports a module: it registers its
specialized functions itself (``fatopt._guards.born``) when it executes.

Modules fatopt excludes (``exclude=``, and fatopt itself), and every module executed while a
tracer, profiler or ``sys.monitoring`` tool is active (pytest-cov, a debugger: see
:func:`fatopt.tracing_active`), are left to pytest entirely. If pytest's
internals are not what this module expects (another pytest version), nothing is changed and the
modules run plain (verbose mode says so once).
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import importlib.util
import inspect
import os
import sys
import threading
from pathlib import Path  # pytest names a module's file as a Path

__all__ = ["RewriteOptimizer", "install", "expected_internals"]

REWRITE_MODULE = "_pytest.assertion.rewrite"

#: What this module relies on in pytest's rewrite module: function -> its leading parameters.
EXPECTED_FUNCTIONS = {
    "_rewrite_test": ("fn", "config"),
    "_read_pyc": ("source", "pyc"),
    "_write_pyc": ("state", "co", "source_hash", "pyc"),
    "rewrite_asserts": ("mod", "source", "module_path", "config"),
}


def expected_internals(rewrite) -> str | None:
    """What pytest's rewrite module lacks that this module needs, or None if it has it all."""
    for name, parameters in EXPECTED_FUNCTIONS.items():
        function = getattr(rewrite, name, None)
        if not callable(function):
            return f"{REWRITE_MODULE}.{name} is missing"
        try:
            found = tuple(inspect.signature(function).parameters)[: len(parameters)]
        except (TypeError, ValueError):
            return f"{REWRITE_MODULE}.{name} has no signature"
        if found != parameters:
            return f"{REWRITE_MODULE}.{name}{found} is not {name}{parameters}"
    tail = getattr(rewrite, "PYC_TAIL", None)
    if not isinstance(tail, str) or not tail.endswith((".pyc", ".pyo")):
        return f"{REWRITE_MODULE}.PYC_TAIL is not a .pyc file name ending"
    hook_class = getattr(rewrite, "AssertionRewritingHook", None)
    if not isinstance(hook_class, type) or not callable(getattr(hook_class, "exec_module", None)):
        return f"{REWRITE_MODULE}.AssertionRewritingHook.exec_module is missing"
    return None


def install(hook) -> "tuple[RewriteOptimizer | None, str | None]":
    """Optimize what pytest's rewriting ``hook`` loads from now on. Returns the installed
    wrappers, or None and why not when the modules pytest rewrites stay plain because fatopt
    cannot run here or pytest is not as expected (None and None when pytest does not rewrite:
    with ``--assert=plain`` fatopt's own hook loads the test modules)."""
    from fatopt import importer

    options = importer.installed_options()
    if options is None:
        return None, None
    rewrite = sys.modules.get(REWRITE_MODULE)
    if rewrite is None or hook is None or not isinstance(hook, getattr(rewrite, "AssertionRewritingHook", ())):
        return None, None  # no assertion rewriting in this session
    import fatopt

    reason = fatopt.unavailable_reason() or expected_internals(rewrite)
    if reason is not None:
        return None, reason
    installed = RewriteOptimizer(rewrite, hook, options)
    installed.install()
    return installed, None


class _Loading:
    """One module pytest's hook is executing on this thread."""

    __slots__ = ("source", "pyc", "ours")

    def __init__(self, source: str) -> None:
        self.source = source
        self.pyc = None  # pytest's cache file for it, once _read_pyc was asked for it
        self.ours = None  # fatopt's name for that file, or None: the module stays plain


class RewriteOptimizer:
    """fatopt's wrappers around one pytest session's rewriting; :meth:`uninstall` undoes them."""

    def __init__(self, rewrite, hook, options) -> None:
        self.rewrite = rewrite
        self.hook = hook
        self.options = options
        self.tail = rewrite.PYC_TAIL
        self.originals = {name: getattr(rewrite, name) for name in ("_rewrite_test", "_read_pyc", "_write_pyc")}
        self.wrappers = {"_rewrite_test": self._rewrite_test, "_read_pyc": self._read_pyc, "_write_pyc": self._write_pyc}
        self.original_exec = hook.exec_module
        self.local = threading.local()  # .stack: the _Loading of the modules being executed

    def install(self) -> None:
        for name, wrapper in self.wrappers.items():
            setattr(self.rewrite, name, wrapper)
        self.hook.exec_module = self._exec_module  # an instance attribute: only this session's hook

    def uninstall(self) -> None:
        """Put pytest's functions back (those still ours: a nested session may have wrapped them)."""
        for name, wrapper in self.wrappers.items():
            if getattr(self.rewrite, name, None) == wrapper:
                setattr(self.rewrite, name, self.originals[name])
        if self.hook.__dict__.get("exec_module") == self._exec_module:
            del self.hook.exec_module

    def cache_name(self, pyc_name: str) -> str | None:
        """fatopt's name for pytest's cache file, or None if the name is not pytest's usual one."""
        if not pyc_name.endswith(self.tail):
            return None
        extension = os.path.splitext(self.tail)[1]
        hooked = sys.modules["_fatopt_importhook"].options()
        if hooked is None:  # fatopt turned off meanwhile
            return None
        return f"{pyc_name[: -len(extension)]}.opt-{hooked[0]}{extension}"

    # -- the wrappers --------------------------------------------------------------------------

    def _stack(self) -> list:
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        return stack

    def _current(self, source) -> "_Loading | None":
        """The module being executed on this thread, if ``source`` is its file."""
        stack = self._stack()
        if stack and stack[-1].source == os.fspath(source):
            return stack[-1]
        return None

    def _exec_module(self, module) -> None:
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if (not isinstance(origin, str) or self.options.excludes(module.__name__)
                or sys.modules["_fatopt_importhook"].load_plain_for_tracer()):
            # (under a tracer, pytest-cov or a debugger: plain, as fatopt's import hook does it)
            return self.original_exec(module)
        stack = self._stack()
        stack.append(_Loading(os.fspath(Path(origin))))  # spelled as pytest's Path spells it
        try:
            return self.original_exec(module)
        finally:
            stack.pop()

    def _read_pyc(self, source, pyc, *args, **kwargs):
        loading = self._current(source)
        if loading is not None and loading.pyc is None:
            name = self.cache_name(getattr(pyc, "name", ""))
            if name is not None:
                loading.pyc, loading.ours = pyc, pyc.with_name(name)
                code = self.originals["_read_pyc"](source, loading.ours, *args, **kwargs)
                if code is not None and self.options.logs(os.fspath(source)):
                    # what the import hook says of a module it finds in fatopt's cache
                    specialized = "fatopt._guards" in getattr(code, "co_names", ())
                    print(f"fatopt: {os.fspath(source)}: from cache, "
                          f"{'with specialized functions' if specialized else 'no function specialized'}",
                          file=sys.stderr)
                return code
        return self.originals["_read_pyc"](source, pyc, *args, **kwargs)

    def _rewrite_test(self, fn, config):
        loading = self._current(fn)
        if loading is None or loading.ours is None:
            return self.originals["_rewrite_test"](fn, config)
        result = self._rewrite_and_optimize(fn, config)
        if result is None:  # fatopt turned itself off: plain, and cached under pytest's name
            loading.ours = None
            return self.originals["_rewrite_test"](fn, config)
        return result

    def _write_pyc(self, state, co, source_hash, pyc, *args, **kwargs):
        stack = self._stack()
        if stack and stack[-1].pyc is not None and stack[-1].pyc == pyc and stack[-1].ours is not None:
            pyc = stack[-1].ours
        return self.originals["_write_pyc"](state, co, source_hash, pyc, *args, **kwargs)

    def _rewrite_and_optimize(self, fn, config):
        """pytest's ``_rewrite_test`` with fatopt's optimizer between the rewriting and the
        compile: (source hash, code), or None if the optimizer cannot run."""
        from fatopt import cache_miss

        if not cache_miss.ensure_optimizer() or sys.modules["_fatopt_importhook"].options() is None:
            return None
        profile = cache_miss.profile_or_false(self.options)  # (a bad profile: said, fatopt off)
        if profile is False:
            return None
        from fatopt.compiler import compile_tree, config_for

        source = fn.read_bytes()
        source_hash = importlib.util.source_hash(source)
        filename = str(fn)
        tree = ast.parse(source, filename=filename)
        self.rewrite.rewrite_asserts(tree, source, filename, config)
        result = compile_tree(tree, filename, config_for(self.options), source=importlib.util.decode_source(source),
                              verbose=self.options.logs(filename), profile=profile)
        return source_hash, result.code
