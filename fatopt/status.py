"""``fatopt status``: whether fatopt is installed and would be active for this interpreter, with
which settings, cache tag and cache location, and what stands in its way (bytecode writing off,
a malformed setting, a missing C extension): the first thing to run when fatopt seems to do
nothing.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import importlib.util
import os
import site
import sys

from fatopt import __version__
from fatopt.importer import ENV_VAR, XOPTION, OptionsError, from_environment

__all__ = ["collect", "render"]


def _extension(name: str) -> str | None:
    """Where the C extension ``name`` is, or None if it cannot be found."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return None if spec is None else spec.origin


def _pth_files() -> list[str]:
    """The fatopt.pth files in this interpreter's site-packages (what turns fatopt on at start)."""
    dirs = list(site.getsitepackages()) + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])
    return [p for p in (os.path.join(d, "fatopt.pth") for d in dirs) if os.path.isfile(p)]


def _tracing() -> str | None:
    """Which tracer, profiler or sys.monitoring tool is active in this process (modules imported
    meanwhile run unoptimized: docs/semantics.md), or None."""
    import fatopt

    try:
        return fatopt.tracing_active()
    except Exception:  # the C hook is missing: "available" says why
        return None


def collect() -> dict:
    """Everything ``fatopt status`` reports, as a dict (the ``--json`` schema)."""
    import fatopt

    reason = fatopt.unavailable_reason()
    env_value = None if sys.flags.ignore_environment else os.environ.get(ENV_VAR)
    x_value = sys._xoptions.get(XOPTION)
    info: dict = {
        "fatopt": __version__,
        "package": os.path.dirname(os.path.abspath(fatopt.__file__)),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "available": reason is None,
        "unavailable_reason": reason,
        "startup_file": next(iter(_pth_files()), None),
        "extensions": {name: _extension(name) for name in ("_fatopt_importhook", "fatopt._guards")},
        ENV_VAR: env_value,
        "xoption": None if x_value is None else (x_value if isinstance(x_value, str) else True),
        "tracing": _tracing(),
    }
    try:
        options = from_environment()
        error = None
    except OptionsError as exc:
        options, error = None, str(exc)
    info["settings_error"] = error
    # what `python -X fatopt` would use: this environment's settings, turned on
    effective = options if options is not None else None
    if effective is not None and not effective.enabled:
        from fatopt.importer import Options

        on = Options(enabled=True, exclude=effective.exclude, overrides=effective.overrides)
        on.cache_dir = effective.cache_dir
        on.profile, on.profile_digest = effective.profile, effective.profile_digest
        effective = on
    info["active_by_environment"] = bool(options is not None and options.enabled)
    info["settings"] = None if effective is None else dict(sorted(effective.overrides.items()))
    info["exclude"] = None if effective is None else list(effective.exclude)
    info["profile"] = None if effective is None else effective.profile
    info["cache_tag"] = None if effective is None else effective.cache_tag()
    cache_dir = None if effective is None else effective.cache_dir
    info["cache_dir"] = cache_dir
    info["pycache_prefix"] = sys.pycache_prefix
    if cache_dir is not None:
        where = f"{cache_dir} (cache_dir; mirrors each source's directory; written even under -B)"
    elif sys.pycache_prefix:
        where = f"{sys.pycache_prefix} (sys.pycache_prefix; mirrors each source's directory)"
    else:
        where = "__pycache__ beside each source, next to the normal .pyc"
    info["cache_location"] = where
    info["dont_write_bytecode"] = bool(sys.dont_write_bytecode)
    info["caching"] = cache_dir is not None or not sys.dont_write_bytecode
    return info


def render(info: dict) -> str:
    """The readable block."""
    from fatopt.cache import NOT_CACHED

    ext = info["extensions"]
    lines = [f"fatopt {info['fatopt']} on Python {info['python']} ({info['executable']})"]
    if info["available"]:
        lines.append("  available:    yes")
    else:
        lines.append(f"  available:    no: {info['unavailable_reason']}")
    lines.append(f"  installed:    {info['package']}")
    lines.append(f"  start-up:     {info['startup_file'] or 'no fatopt.pth in site-packages: -X fatopt does nothing'}")
    for name, origin in ext.items():
        lines.append(f"  C extension:  {name}: {origin or 'not found'}")
    if info["settings_error"]:
        lines.append(f"  settings:     error: {info['settings_error']} (fatopt stays off)")
    else:
        env = info[ENV_VAR]
        if info["active_by_environment"]:
            source = f"{ENV_VAR}={env}" if env is not None and info["xoption"] is None else "-X fatopt"
            lines.append(f"  active:       yes, by {source} (every python started like this one)")
        else:
            lines.append(f"  active:       only when asked: python -X fatopt ... or {ENV_VAR}=1")
        overrides = ", ".join(f"{k}={v}" for k, v in info["settings"].items()) or "defaults"
        lines.append(f"  settings:     {overrides}" + (f"; exclude={':'.join(info['exclude'])}" if info["exclude"] else ""))
        if info["profile"] is not None:
            lines.append(f"  profile:      {info['profile']} (type profile; its content is part of the cache tag)")
        lines.append(f"  cache tag:    {info['cache_tag']} (files *.opt-{info['cache_tag']}.pyc)")
        lines.append(f"  cache files:  {info['cache_location']}")
    if info["dont_write_bytecode"]:
        if info["caching"]:
            lines.append("  bytecode:     writing off (-B/PYTHONDONTWRITEBYTECODE); fatopt caches in its cache_dir")
        else:
            lines.append(f"  bytecode:     {NOT_CACHED}")
    else:
        lines.append("  bytecode:     written (optimized code is cached; warm starts skip the optimizer)")
    if info["tracing"] is not None:
        lines.append(f"  tracing:      {info['tracing']}: modules imported while it is active run unoptimized")
    return "\n".join(lines) + "\n"
