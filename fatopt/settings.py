"""The optimizer settings a user writes as text (``-X fatopt=unroll_loops=4``, ``PYTHONFATOPT``,
``fatopt compileall -c``): their names and defaults, and the checking of one ``KEY=VALUE`` item.

Apart from ``fatopt.config.Config`` (a dataclass: importing ``dataclasses`` costs milliseconds),
so that a start with settings can check them all before fatopt turns on (fatopt.importer imports
it only then: a bare ``-X fatopt`` does not pay for it), and a bad one turns
fatopt off with one line naming it, rather than failing later in every module. The table must
list exactly Config's fields (a test checks it).
"""

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

from fatopt.importer import OptionsError

__all__ = ["DEFAULTS", "TRUE_WORDS", "FALSE_WORDS", "parse_setting", "did_you_mean", "choices_text"]

#: Config's fields and defaults, in its order: a bool is a switch, an int a size (>= 0).
DEFAULTS: "dict[str, bool | int]" = {
    "constant_folding": True,
    "constant_propagation": True,
    "module_constants": True,
    "class_constants": True,
    "imported_constants": True,
    "call_pure_builtins": True,
    "call_pure_methods": True,
    "remove_dead_code": True,
    "simplify_iterable": True,
    "eliminate_genexpr": True,
    "inline_recursive": True,
    "inline_functions": True,
    "specialize_types": True,
    "first_call_types": True,
    "specialize_receivers": True,
    "specialize_instance_methods": True,
    "specialize_operators": True,
    "fresh_receivers": True,
    "scalar_replacement": True,
    "drop_covered_checks": True,
    "forward_inlined_results": True,
    "trim_nops": True,
    "merge_type_tests": True,
    "common_subexpressions": True,
    "fold_type_tests": True,
    "unroll_loops": 16,
    "unroll_comprehensions": 16,
    "copy_builtins_to_constants": False,
    "specialize_nested": False,
    "max_int_bits": 256,
    "max_str_len": 128,
    "max_bytes_len": 128,
    "max_seq_len": 32,
    "max_marshal_size": 512,
    "max_inline_size": 30,
    "max_receiver_inline_size": 48,
    "max_iterations": 8,
}

TRUE_WORDS = ("1", "on", "yes", "true")
FALSE_WORDS = ("0", "off", "no", "false")

#: The items that are not settings (fatopt.importer.Options.update reads them).
WORDS = ("on", "off", "verbose", "verbose=all", "verbose=inherit", "stats", "exclude=MODULE:MODULE",
         "cache_dir=PATH", "profile=FILE")


def did_you_mean(word: str, candidates) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or nothing (difflib only on this,
    the error path)."""
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def choices_text() -> str:
    """Every valid item, for an error message: ``on, off, ..., unroll_loops=N, ...``."""
    settings = [f"{key}=on|off" if type(value) is bool else f"{key}=N" for key, value in DEFAULTS.items()]
    return ", ".join(WORDS + tuple(settings))


def parse_setting(key: str, text: str) -> "bool | int":
    """The value of setting ``key`` written as ``text``: a switch takes on/off (1/0, yes/no,
    true/false, any case), a size a whole number >= 0. Raises OptionsError naming the item, what
    it accepts, and the closest match."""
    if key not in DEFAULTS:
        raise OptionsError(
            f"unknown setting {key!r}{did_you_mean(key, DEFAULTS)}; valid: {choices_text()}"
        )
    default = DEFAULTS[key]
    low = text.strip().lower()
    if type(default) is bool:
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        hint = did_you_mean(low, TRUE_WORDS + FALSE_WORDS)
        raise OptionsError(
            f"setting '{key}={text}' needs on or off (also 1/0, yes/no, true/false){hint}; "
            f"the default is {'on' if default else 'off'}"
        )
    if low.isascii() and low.isdigit():
        return int(low)
    if low in FALSE_WORDS:  # "unroll_loops=off" reads naturally as 0
        return 0
    raise OptionsError(f"setting '{key}={text}' needs a whole number >= 0 (0: off); the default is {default}")
