"""``fatopt compileall``: precompile fatopt's optimized .pyc files for whole trees.

Mirrors ``python -m compileall`` (same options where they apply) and writes fatopt's own cache
files beside the normal ones, so the first ``python -X fatopt`` run with the same configuration
loads optimized code without running the optimizer.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from fatopt import cache
from fatopt.importer import Options

__all__ = ["CompileallSettings", "FileResult", "Summary", "find_sources", "run"]


@dataclass(frozen=True)
class CompileallSettings:
    options: Options
    force: bool = False
    quiet: int = 0
    workers: int = 1
    maxlevels: int | None = None  # None: unlimited
    exclude: str | None = None  # regex on the full path
    ddir: str | None = None
    stripdir: str | None = None
    prependdir: str | None = None
    invalidation_mode: str | None = None  # None: timestamp, or checked-hash with SOURCE_DATE_EPOCH


@dataclass
class FileResult:
    path: str
    status: str  # compiled | up-to-date | opted-out | optimizer-failed | syntax-error | unreadable
    functions: int = 0
    guards: dict[str, int] = field(default_factory=dict)
    message: str = ""


@dataclass
class Summary:
    files: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    functions: int = 0
    guards: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    problems: list[FileResult] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        self.files += 1
        self.by_status[result.status] = self.by_status.get(result.status, 0) + 1
        self.functions += result.functions
        for kind, n in result.guards.items():
            self.guards[kind] = self.guards.get(kind, 0) + n
        if result.status in ("syntax-error", "unreadable", "optimizer-failed"):
            self.problems.append(result)

    @property
    def failed(self) -> bool:
        return bool(self.by_status.get("syntax-error") or self.by_status.get("unreadable"))

    def text(self) -> str:
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(self.by_status.items()))
        guards = ", ".join(f"{n} {kind}" for kind, n in sorted(self.guards.items())) or "none"
        return (
            f"fatopt compileall: {self.files} files ({statuses or 'nothing to do'}) in {self.seconds:.1f}s; "
            f"{self.functions} functions specialized; {sum(self.guards.values())} guards ({guards})"
        )


def find_sources(paths: Iterable[str], maxlevels: int | None, exclude: re.Pattern | None) -> Iterator[tuple[str, str]]:
    """(file, the argument it was found under) for every .py file, as compileall finds them;
    a file found under two arguments (a package and its own tests folder, a file spelled two
    ways) once, under the first."""
    seen: set[str] = set()
    for path, root in _find_all(paths, maxlevels, exclude):
        # the real directory, but the file's own name: a symlinked file has a cache file of its
        # own (beside its name), which its import reads
        key = os.path.join(os.path.realpath(os.path.dirname(path) or os.curdir), os.path.basename(path))
        if key not in seen:
            seen.add(key)
            yield path, root


def _find_all(paths: Iterable[str], maxlevels: int | None, exclude: re.Pattern | None) -> Iterator[tuple[str, str]]:
    for root in paths:
        if os.path.isfile(root):
            if not (exclude and exclude.search(root)):
                yield root, os.path.dirname(root)
            continue
        yield from _walk(root, root, maxlevels, exclude)


def _walk(directory: str, root: str, maxlevels: int | None, exclude: re.Pattern | None) -> Iterator[tuple[str, str]]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        if name == "__pycache__":
            continue
        full = os.path.join(directory, name)
        if exclude and exclude.search(full):
            continue
        if name.endswith(".py") and os.path.isfile(full):
            yield full, root
        elif (maxlevels is None or maxlevels > 0) and os.path.isdir(full) and not os.path.islink(full):
            yield from _walk(full, root, None if maxlevels is None else maxlevels - 1, exclude)


def _display_path(path: str, root: str, settings: CompileallSettings) -> str:
    """The file name compiled into the code (what tracebacks show): -d, -s and -p."""
    shown = path
    if settings.ddir is not None:
        shown = os.path.join(settings.ddir, os.path.relpath(path, root))
    if settings.stripdir is not None:
        parts = shown.split(os.sep)
        strip = settings.stripdir.rstrip(os.sep).split(os.sep)
        if parts[: len(strip)] == strip:
            shown = os.sep.join(parts[len(strip):]) or shown
    if settings.prependdir is not None:
        shown = os.path.join(settings.prependdir, shown)
    return shown


def _mode(settings: CompileallSettings) -> str:
    if settings.invalidation_mode:
        return settings.invalidation_mode
    return cache.CHECKED_HASH if os.environ.get("SOURCE_DATE_EPOCH") else cache.TIMESTAMP


def compile_file(path: str, root: str, settings: CompileallSettings) -> FileResult:
    """Optimize one file into its fatopt cache file. Runs in worker processes."""
    from fatopt.compiler import compile_source, config_for, profile_for

    target = cache.cache_path(path, settings.options.cache_tag(), settings.options.cache_dir)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as exc:
        return FileResult(path, "unreadable", message=str(exc))
    if target is None:
        return FileResult(path, "unreadable", message="this interpreter keeps no bytecode cache")
    mode = _mode(settings)
    # Like compileall: only a timestamp-based file is trusted as up to date without -f.
    if not settings.force and mode == cache.TIMESTAMP and cache.read(target, path, lambda: source) is not None:
        return FileResult(path, "up-to-date")
    try:
        result = compile_source(source, path, config_for(settings.options), display_path=_display_path(path, root, settings),
                                profile=profile_for(settings.options))
    except SyntaxError as exc:
        return FileResult(path, "syntax-error", message=f"{type(exc).__name__}: {exc}")
    except (ValueError, UnicodeDecodeError) as exc:  # null bytes, bad encoding: what compile() raises
        return FileResult(path, "syntax-error", message=f"{type(exc).__name__}: {exc}")
    if not cache.write(target, result.code, cache.header(path, source, mode)):
        return FileResult(path, "unreadable", message=f"cannot write {target}")
    if result.report is None:
        status = "optimizer-failed" if result.skipped and result.skipped.startswith("optimizer failed") else "opted-out"
        return FileResult(path, status, message=result.skipped or "")
    return FileResult(path, "compiled", len(result.report.specialized), dict(result.report.guard_counts()))


def _compile_star(args: tuple[str, str, CompileallSettings]) -> FileResult:
    return compile_file(*args)


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.done, self.last = total, enabled, 0, 0.0

    def step(self, summary: Summary) -> None:
        self.done += 1
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and self.done != self.total):
            return
        self.last = now
        width = 30
        filled = width * self.done // max(self.total, 1)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} files, "
            f"{summary.functions} functions specialized"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\n")


def run(paths: list[str], settings: CompileallSettings) -> Summary:
    """Compile every source under ``paths``; report problems as they come, return the summary."""
    start = time.perf_counter()
    exclude = re.compile(settings.exclude) if settings.exclude else None
    jobs = [(path, root, settings) for path, root in find_sources(paths, settings.maxlevels, exclude)]
    summary = Summary()
    progress = _Progress(len(jobs), settings.quiet == 0 and sys.stderr.isatty())
    workers = settings.workers or os.cpu_count() or 1
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results: Iterable[FileResult] = pool.map(_compile_star, jobs, chunksize=8)
            _collect(results, summary, progress, settings)
    else:
        _collect(map(_compile_star, jobs), summary, progress, settings)
    progress.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _collect(results: Iterable[FileResult], summary: Summary, progress: _Progress, settings: CompileallSettings) -> None:
    for result in results:
        summary.add(result)
        if result.status in ("syntax-error", "unreadable") and settings.quiet < 2:
            if progress.enabled:
                sys.stderr.write("\n")
            print(f"*** Error compiling {result.path!r}: {result.message}", file=sys.stderr)
        progress.step(summary)
