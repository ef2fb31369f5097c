"""The optimizer's settings: one switch per pass and the named size limits folds respect.

Immutable so a configuration can key a cache (issue 4 derives the ``.pyc`` tag from it) and be
shared between modules without one pass changing what the next sees.
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import dataclasses
from typing import Any, Mapping

__all__ = ["Config"]


@dataclasses.dataclass(frozen=True)
class Config:
    """What the optimizer may do. ``Config.default()`` is the recommended setting."""

    # -- passes (the order of the pipeline is fixed in fatopt.optimizer, not here) -------------
    constant_folding: bool = True
    constant_propagation: bool = True
    module_constants: bool = True
    #: Substitute ``ClassName.ATTR`` for a class attribute bound once to a constant.
    class_constants: bool = True
    #: Substitute constants imported from the program's other modules (``from .config import
    #: DEBUG``, ``config.DEBUG``), speculated from their source.
    imported_constants: bool = True
    call_pure_builtins: bool = True
    call_pure_methods: bool = True
    remove_dead_code: bool = True
    simplify_iterable: bool = True
    eliminate_genexpr: bool = True
    #: Inline a recursive generator's or coroutine's own body once at its recursive
    #: ``yield from``/``await`` (guarded; see fatopt/passes/inline_recursive.py).
    inline_recursive: bool = True
    #: Inline calls of small module-level functions into their callers (guarded: the callee
    #: unchanged), see fatopt/passes/inline_functions.py.
    inline_functions: bool = True
    #: Where an object's exact class is known (``self``, an annotation, ``v = C(...)``; checked
    #: once at entry where speculated), its subscripts call the class's dunders, which the
    #: inlining inlines (see fatopt/passes/specialize_types.py).
    specialize_types: bool = True
    #: Where a parameter subscripted in a loop could be an instance of one of the module's
    #: classes with ``__getitem__``/``__setitem__``, the exact types of the function's first
    #: call may specialize it then, as a profile would have (see fatopt/first_call_types.py).
    first_call_types: bool = True
    #: Where a recorded profile saw a method call's receiver of one ``__slots__`` class, the
    #: call runs the class's method under a type check at the call, which the inlining inlines
    #: (see fatopt/passes/specialize_receivers.py).
    specialize_receivers: bool = True
    #: Where the entry check types an object (``specialize_types``), its method calls in loops
    #: run the class's method behind the validity flag, which the inlining inlines; for
    #: instances with a ``__dict__`` (3.13+) the entry check also asks the runtime that none of
    #: them shadows the method (see fatopt/passes/specialize_instance_methods.py).
    specialize_instance_methods: bool = True
    #: Where a profile saw both operands of a binary operator of one class of the module, or
    #: both are names of a known class, the operation runs the class's dunder under a type
    #: check at the site, which the inlining inlines (see fatopt/passes/specialize_operators.py).
    specialize_operators: bool = True
    #: Method calls on an object the function has just made (``v = C(...)``, not yet handed to
    #: other code) run the class's method with no check, which the inlining inlines (see
    #: fatopt/passes/fresh_receivers.py).
    fresh_receivers: bool = True
    #: An object the function makes and then only reads attributes of is not made while the
    #: specialization holds: its attributes are locals (see fatopt/passes/scalar_replacement.py).
    scalar_replacement: bool = True
    #: drop the validity test of inlined code inside inlined code where nothing ran since the
    #: outer test (see fatopt/passes/drop_covered_checks.py).
    drop_covered_checks: bool = True
    #: a linearized site's result, assigned last by its inlined body, goes straight into the
    #: statement that reads it next (see fatopt/passes/forward_inlined_results.py).
    forward_inlined_results: bool = True
    #: The ``try`` around inlined code and a ``pass`` beside other statements in it compile to
    #: no executed ``NOP`` (see fatopt/passes/trim_nops.py).
    trim_nops: bool = True
    #: Consecutive ``type(x) is not C`` tests of one site become one call of the runtime's
    #: ``exact_types`` (see fatopt/passes/merge_type_tests.py).
    merge_type_tests: bool = True
    #: An int expression of locals (``j + 1``) that a later statement of the same block computes
    #: again is computed once, into a temporary (guarded builtins; see
    #: fatopt/passes/common_subexpressions.py).
    common_subexpressions: bool = True
    #: Fold ``isinstance(i, T)`` where the local ``i`` certainly holds an exact int (guarded
    #: builtins; see fatopt/passes/fold_type_tests.py).
    fold_type_tests: bool = True
    #: Unroll ``for`` loops over constant sequences of at most this many items (0: never).
    unroll_loops: int = 16
    #: Unroll list/set/dict comprehensions over constant sequences of at most this many items.
    unroll_comprehensions: int = 16
    #: Load guarded builtins as constants bound at registration. Off: it needs bytecode
    #: patching at definition time and has not been shown to pay (see docs/optimizer.md).
    copy_builtins_to_constants: bool = False
    #: Specialize functions defined inside other functions. Off by default: their
    #: registration would run at every call of the parent, which costs more than it saves
    #: (measured in docs/optimizer.md).
    specialize_nested: bool = False

    # -- limits on folded values: a fold whose result would exceed one leaves the code alone --
    max_int_bits: int = 256
    max_str_len: int = 128
    max_bytes_len: int = 128
    max_seq_len: int = 32
    max_marshal_size: int = 512
    #: Largest function inlined: its expression nodes and statements.
    max_inline_size: int = 30
    #: Largest method inlined at a call whose receiver's class a recorded profile names
    #: (specialize_receivers): a call the profile saw, behind its own type check.
    max_receiver_inline_size: int = 48
    #: Cap on rounds of the pipeline (it normally stops earlier, at a fixed point).
    max_iterations: int = 8

    @classmethod
    def default(cls) -> "Config":
        """The recommended configuration."""
        return _DEFAULT

    @classmethod
    def from_dict(cls, overrides: Mapping[str, Any], base: "Config | None" = None) -> "Config":
        """``base`` (default: ``Config.default()``) with ``overrides`` applied.

        Raises ``ValueError`` naming the key for unknown keys and values of the wrong type, so a
        typo in ``-X fatopt=...`` is reported rather than ignored.
        """
        base = base if base is not None else _DEFAULT
        fields = {f.name: f for f in dataclasses.fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in fields:
                from fatopt.settings import did_you_mean

                known = ", ".join(fields)
                raise ValueError(f"unknown fatopt option {key!r}{did_you_mean(key, fields)} (known: {known})")
            expected = type(getattr(base, key))
            if expected is int and type(value) is bool:
                value = int(value)  # "unroll_loops=False" reads naturally as 0
            elif expected is bool and type(value) is int and value in (0, 1):
                value = bool(value)  # "module_constants=0"
            if type(value) is not expected:
                raise ValueError(
                    f"fatopt option {key!r} needs a {expected.__name__}, got {value!r}"
                )
            if expected is int and value < 0:
                raise ValueError(f"fatopt option {key!r} must be >= 0, got {value!r}")
            changes[key] = value
        return dataclasses.replace(base, **changes)

    def replace(self, **overrides: Any) -> "Config":
        """A copy with ``overrides`` applied, checked as :meth:`from_dict` does."""
        return Config.from_dict(overrides, base=self)

    def as_dict(self) -> dict[str, Any]:
        """All settings, in declaration order (stable: usable in a cache key)."""
        return dataclasses.asdict(self)


_DEFAULT = Config()
