"""Start-up: what the ``fatopt.pth`` line runs when ``-X fatopt`` or ``PYTHONFATOPT`` is given.

Installs the import hook and arranges for the main script to run optimized. Kept small and
cheap: this runs before every program started with fatopt on.
"""

from fatopt._support import PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt._support

import sys


def activate() -> None:
    """Turn fatopt on for this process if the options say so; never raise."""
    if sys.version_info < (3, 12):  # nothing to do; say why only if asked (fatopt.UNAVAILABLE_REASON)
        return
    from fatopt import _support, options as _options_module

    # Guards compare against the builtins the optimizer assumes: take them now, before
    # sitecustomize or the program can patch one (importing fatopt._support, above, already did).
    _support.original_builtins()

    try:
        options = _options_module.from_environment()
    except _options_module.OptionsError as exc:
        sys.stderr.write(f"fatopt: {exc}; running unoptimized\n")
        return
    if not options.enabled:
        return
    from fatopt._support import UNAVAILABLE_REASON

    if UNAVAILABLE_REASON is not None:
        if options.verbose:
            sys.stderr.write(f"fatopt: {UNAVAILABLE_REASON}\n")
        return
    from fatopt import _main, importer

    importer.install(options)
    _main.install()
