"""Shared machinery of the micro suite: time one case three ways in one pyperf run.

Each ``bm_*.py`` script beside this file defines ``target`` (ordinary code fatopt should speed
up), ``floor`` (the same computation written by hand the fastest way) and calls :func:`main`.
The script runs as the main script *with fatopt on*, so fatopt optimizes it when it starts; the
three variants are then:

* ``plain``  -- ``target`` from a second copy of the script's source, compiled with the builtin
  ``compile()`` and executed in a fresh namespace that fatopt never saw;
* ``fatopt`` -- ``target`` as fatopt left it (specialized, or rewritten);
* ``floor``  -- ``floor``.

All three functions are born with their code (no ``__code__`` assignment: on 3.13 that makes
every later call slower), and each is called ``CALLS`` times, unrolled, per timed loop iteration
through the same exec'd timing loop, so loop overhead is small and equal.

Before timing, :func:`main` checks that fatopt is active and did what the case expects (for
example ``fatopt.get_specialized(target)`` is non-empty) and stops with an error otherwise, unless
``--allow-unexpected`` is given (then the run goes on and the fact is stored in the metadata:
``run.py`` passes it so one missing optimization does not stop the suite, and shows it in the
table). Without fatopt on, the script re-executes itself with ``PYTHONFATOPT`` set to the case's
options and adds ``--inherit-environ PYTHONFATOPT`` so pyperf's workers get it too.

``--run-variant VARIANT:LOOPS`` skips pyperf: the process runs the timing loop of one variant
``LOOPS`` times, prints one JSON line (the fatopt options, what fatopt did) and exits. ``run.py
--instructions`` runs that under callgrind with two loop counts and takes the difference (see
``benchmarks/callgrind.py``); it needs ``PYTHONFATOPT`` set already, since callgrind does not
follow the re-execution.
"""

from __future__ import annotations

import argparse
import builtins
import json
import os
import sys
import types
from typing import Any, Callable

import pyperf

CALLS = 20
VARIANTS = ("plain", "fatopt", "floor")
#: Environment variables the workers must see; pyperf drops all others.
INHERIT = ("PYTHONFATOPT", "PYTHONPYCACHEPREFIX")

#: What fatopt is expected to do to ``target``.
SPECIALIZED = "specialized"  # guarded specialized code (fatopt.get_specialized non-empty)
REWRITTEN = "rewritten"  # body rewritten without guards (bytecode differs, nothing registered)
UNCHANGED = "unchanged"  # nothing to do: the code must be identical to the plain copy


def _fatopt_ran_main() -> bool:
    """Whether fatopt is on in this process, so its import hook caught the main script.

    The hook starts the main script itself (``fatopt/_importhook.c``) and leaves an ordinary
    ``SourceFileLoader`` as ``__main__.__loader__``: the loader no longer tells; the hook's
    ``options()`` is None unless fatopt is on.
    """
    hook = sys.modules.get("_fatopt_importhook")
    return hook is not None and hook.options() is not None


def _reexec_with_fatopt(fatopt_options: str) -> None:
    env = dict(os.environ)
    env["PYTHONFATOPT"] = fatopt_options
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def _plain_copy(path: str, name: str) -> types.FunctionType:
    """``name`` from the script's source compiled plainly, in a namespace fatopt never saw."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    namespace: dict[str, Any] = {"__name__": "_plain_copy", "__file__": path, "__builtins__": builtins}
    exec(builtins.compile(source, path, "exec", dont_inherit=True), namespace)
    # Functions made at run time (a generator expression's, each call) take their __module__
    # from the globals' __name__, and so hold a reference to it: on 3.12 the main module's
    # "__main__" is mortal and "_plain_copy" (a literal, interned) immortal, so every such
    # function's creation and death cost plain 14 instructions fewer than fatopt's copy, which
    # lives in __main__. The same object for both (set after the exec, so the script's
    # `if __name__ == "__main__"` did not run again).
    namespace["__name__"] = sys.modules["__main__"].__dict__["__name__"]
    return namespace[name]


def _describe(target: types.FunctionType, plain: types.FunctionType) -> tuple[str, str]:
    """(what fatopt did to ``target``, details)."""
    import fatopt

    specialized = fatopt.get_specialized(target)
    if specialized:
        guards = sorted({repr(g) for _, gs in specialized for g in gs})
        return SPECIALIZED, "guards " + ", ".join(guards)
    if target.__code__.co_code != plain.__code__.co_code or target.__code__.co_consts != plain.__code__.co_consts:
        return REWRITTEN, "no guards"
    return UNCHANGED, ""


def _why_not(path: str, name: str, fatopt_options: str) -> str:
    """The optimizer's own account of ``name`` in ``path``, for error messages."""
    try:
        from fatopt.compiler import config_for
        from fatopt.optimizer import optimize_source
        from fatopt.importer import Options
        from fatopt.results import Report

        options = Options()
        options.update(fatopt_options)
        report = Report()
        with open(path, encoding="utf-8") as f:
            optimize_source(f.read(), path, config_for(options), report=report)
        return "; ".join(r.describe() for r in report.functions if r.qualname == name) or "no report"
    except Exception as exc:  # only used to explain a failure: never hide it behind another
        return f"(could not ask the optimizer: {exc!r})"


def _timer(func: Callable[..., Any], args: tuple) -> Callable[[int], float]:
    """A pyperf time function calling ``func(*args)`` CALLS times per loop iteration."""
    params = ", ".join(f"a{i}" for i in range(len(args)))
    call = f"    f({params})"
    body = "\n".join([call] * CALLS)
    src = (
        f"def timed(loops, f, perf_counter{', ' + params if params else ''}):\n"
        f"  t0 = perf_counter()\n  for _ in range(loops):\n{body}\n  return perf_counter() - t0\n"
    )
    namespace: dict[str, Any] = {}
    exec(builtins.compile(src, "<timed>", "exec", dont_inherit=True), namespace)
    timed = namespace["timed"]
    return lambda loops: timed(loops, func, pyperf.perf_counter, *args)


def _run_variant_request(argv: list[str]) -> tuple[str, int] | None:
    """``--run-variant VARIANT:LOOPS`` (or ``=``) from the command line, or None."""
    for i, arg in enumerate(argv):
        if arg == "--run-variant" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--run-variant="):
            value = arg.split("=", 1)[1]
        else:
            continue
        variant, _, loops = value.partition(":")
        if variant not in VARIANTS or not loops.isdigit():
            sys.exit(f"--run-variant wants VARIANT:LOOPS with VARIANT in {VARIANTS}, got {value!r}")
        return variant, int(loops)
    return None


def main(
    case: str,
    description: str,
    *,
    expect: str = SPECIALIZED,
    args: tuple = (),
    fatopt_options: str = "1",
    target: str = "target",
    floor: str = "floor",
    checked: str | None = None,
) -> None:
    """Time ``target`` plain, ``target`` under fatopt and ``floor``, in one pyperf Runner.
    ``checked`` names the function ``expect`` is about when it is not ``target`` itself (a
    recursive generator the timed function drives)."""
    main_module = sys.modules["__main__"]
    path = os.path.abspath(main_module.__file__)
    if "--worker" not in sys.argv and not os.environ.get("PYTHONFATOPT"):
        _reexec_with_fatopt(fatopt_options)
    run_variant = _run_variant_request(sys.argv[1:])
    if run_variant is not None:
        _run_one_variant(path, main_module, target, floor, args, expect, *run_variant, checked=checked)
        return

    def add_worker_args(cmd: list[str], ns: argparse.Namespace) -> None:
        cmd.append(f"--rotate={ns.rotate}")
        if ns.allow_unexpected:
            cmd.append("--allow-unexpected")

    runner = pyperf.Runner(add_cmdline_args=add_worker_args)
    runner.argparser.description = f"{case}: {description}"
    runner.argparser.add_argument(
        "--rotate", type=int, default=0, metavar="N",
        help="run the variants in the order plain, fatopt, floor rotated by N (run.py varies it "
        "between rounds so no variant always goes first)",
    )
    runner.argparser.add_argument(
        "--allow-unexpected", action="store_true",
        help="time the case even if fatopt did not do what it expects (recorded in metadata)",
    )
    argv = sys.argv[1:]
    if "--worker" not in argv:
        have = [a for a in argv if a.startswith("--inherit-environ")]
        if not have:
            argv.append("--inherit-environ=" + ",".join(INHERIT))
    ns = runner.parse_args(argv)

    if not _fatopt_ran_main():
        sys.exit(
            f"{path}: fatopt is not active in this process (PYTHONFATOPT={os.environ.get('PYTHONFATOPT')!r}); "
            "run the script with PYTHONFATOPT set and --inherit-environ PYTHONFATOPT, or plainly "
            "(it then sets them itself)"
        )
    funcs = {
        "plain": _plain_copy(path, target),
        "fatopt": getattr(main_module, target),
        "floor": getattr(main_module, floor),
    }
    did, details = _describe_checked(path, main_module, checked, funcs["fatopt"], funcs["plain"])
    if did != expect:
        message = (
            f"{path}: expected fatopt to leave {target} {expect}, but it is {did} "
            f"(PYTHONFATOPT={os.environ.get('PYTHONFATOPT')!r}); optimizer says: "
            f"{_why_not(path, checked or target, os.environ['PYTHONFATOPT'])}"
        )
        if not ns.allow_unexpected:
            sys.exit(message)
        if not ns.worker:
            print(f"WARNING: {message}", file=sys.stderr)
    results = {name: f(*args) for name, f in funcs.items()}
    if len({repr(r) for r in results.values()}) != 1:
        sys.exit(f"{path}: the variants disagree: {results}")

    runner.metadata["fatopt_case"] = case
    runner.metadata["fatopt_expected"] = expect
    runner.metadata["fatopt_did"] = f"{did} ({details})" if details else did
    runner.metadata["fatopt_options"] = os.environ["PYTHONFATOPT"]
    order = list(VARIANTS[ns.rotate % 3:] + VARIANTS[:ns.rotate % 3])
    for variant in order:
        runner.bench_time_func(f"{case}: {variant}", _timer(funcs[variant], args), inner_loops=CALLS)


def _describe_checked(path: str, main_module: types.ModuleType, checked: str | None,
                      target: types.FunctionType, plain: types.FunctionType) -> tuple[str, str]:
    """:func:`_describe` of ``checked`` if given, else of ``target``."""
    if checked is None:
        return _describe(target, plain)
    return _describe(getattr(main_module, checked), _plain_copy(path, checked))


def _run_one_variant(path: str, main_module: types.ModuleType, target: str, floor: str, args: tuple,
                     expect: str, variant: str, loops: int, checked: str | None = None) -> None:
    """``--run-variant``: one variant's timing loop, ``loops`` times, without pyperf; then one
    JSON line on stdout saying what fatopt did."""
    if not _fatopt_ran_main():
        sys.exit(f"{path}: fatopt is not active in this process (PYTHONFATOPT={os.environ.get('PYTHONFATOPT')!r})")
    plain = _plain_copy(path, target)
    funcs = {"plain": plain, "fatopt": getattr(main_module, target), "floor": getattr(main_module, floor)}
    did, details = _describe_checked(path, main_module, checked, funcs["fatopt"], plain)
    _timer(funcs[variant], args)(loops)
    print(json.dumps({"fatopt_options": os.environ["PYTHONFATOPT"], "expected": expect, "calls": CALLS,
                      "did": f"{did} ({details})" if details else did}))
