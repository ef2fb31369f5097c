"""Long differential fuzz run on demand: generated modules, plain vs optimized.

    python tools/fuzz.py --examples 20000 --seed 1
    python tools/fuzz.py --examples 2000 --profile loops --expose-known

Generates modules (tests/fuzz/generator.py) without Hypothesis's shrinking, so one run counts
every mismatch instead of stopping at the first (the modules are split evenly over the profiles,
issue 16's four and issue 17's ``dunders`` and ``fresh`` included); then minimizes up to ``--minimize`` of them
statement by statement and prints each minimized program with a diff of plain vs optimized
behaviour. Prints cases, cases/second, the share of modules with a specialized function and the
number of mismatches; the exit status is 1 if any case mismatched.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.fuzz.generator import AVOID, DOCUMENTED_DIFFERENCES, KNOWN_BUGS, PROFILES, modules  # noqa: E402
from fatopt.config import Config  # noqa: E402
from tests.fuzz.runner import Comparison, compare, minimize  # noqa: E402


@dataclass
class Tally:
    cases: int = 0
    specialized: int = 0
    timeouts: int = 0
    failures: list[Comparison] = field(default_factory=list)
    #: directory where each mismatching program is written as soon as it is found
    save: str | None = None

    def add(self, result: Comparison) -> None:
        self.cases += 1
        self.specialized += result.specialized > 0
        if result.timed_out:
            self.timeouts += 1
        elif not result.matches or result.optimizer_warnings:
            self.failures.append(result)
            if self.save:
                os.makedirs(self.save, exist_ok=True)
                path = os.path.join(self.save, f"mismatch_{len(self.failures)}.py")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(result.source)


def run_profile(profile: str, examples: int, seed_value: int, avoid: frozenset[str], tally: Tally,
                progress_every: int, config: Config | None = None, type_profile: bool = False) -> None:
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), print_blob=False)
    @seed(seed_value)
    @given(modules(PROFILES[profile], avoid=avoid))
    def case(source: str) -> None:
        tally.add(compare(source, config, type_profile=type_profile))
        if progress_every and tally.cases % progress_every == 0:
            print(f"  {tally.cases} cases, {len(tally.failures)} mismatches", file=sys.stderr, flush=True)

    case()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000, help="modules in all (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", choices=[*PROFILES, "all"], default="all")
    parser.add_argument("--minimize", type=int, default=5, help="mismatches to minimize and print")
    parser.add_argument("--save", metavar="DIR", help="write each mismatching program to DIR at once")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="optimizer setting, e.g. specialize_nested=1 (repeatable)")
    parser.add_argument("--expose-known", action="store_true",
                        help="also generate what exposes the known bugs and the documented differences: "
                        + "; ".join([*KNOWN_BUGS, *DOCUMENTED_DIFFERENCES]))
    parser.add_argument("--type-profile", action="store_true",
                        help="record each module's plain run as `fatopt profile` does and optimize "
                             "with that profile (the passes that use one: specialize_receivers, "
                             "profiled argument types); the run's files go to a temporary directory")
    parser.add_argument("--memory-limit", type=float, default=4.0, metavar="GIB",
                        help="address-space limit of this process (default 4 GiB; 0: none): a "
                             "generated program that runs away raises MemoryError instead of "
                             "making the machine kill processes")
    args = parser.parse_args(argv)
    if args.memory_limit > 0:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = int(args.memory_limit * 2**30)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    config = Config.from_dict({k: _parse(v) for k, _, v in (item.partition("=") for item in args.config)})
    # each module is written to fuzz_case.py, in a directory of the run's own: the recorder
    # (--type-profile) and first calls (fatopt/first_call_types.py) read it back
    os.chdir(tempfile.mkdtemp(prefix="fatopt-fuzz-"))
    profiles = list(PROFILES) if args.profile == "all" else [args.profile]
    avoid = frozenset() if args.expose_known else AVOID
    tally = Tally(save=args.save)
    start = time.perf_counter()
    summary = []
    for index, profile in enumerate(profiles):
        share = args.examples // len(profiles) + (index < args.examples % len(profiles))
        print(f"profile {profile}: {share} modules", file=sys.stderr, flush=True)
        cases, failures, began = tally.cases, len(tally.failures), time.perf_counter()
        run_profile(profile, share, args.seed + index, avoid, tally, progress_every=1000, config=config,
                    type_profile=args.type_profile)
        summary.append(f"  {profile}: {tally.cases - cases} cases, {len(tally.failures) - failures} "
                       f"mismatches, {time.perf_counter() - began:.0f} s")
    elapsed = time.perf_counter() - start

    print(f"python {sys.version.split()[0]}: {tally.cases} cases in {elapsed:.0f} s "
          f"({tally.cases / elapsed:.1f} cases/s); {tally.specialized / max(tally.cases, 1):.1%} "
          f"of modules had a specialized function; {len(tally.failures)} mismatches; "
          f"{tally.timeouts} timeouts")
    print("\n".join(summary))
    seen: set[str] = set()
    for result in tally.failures[: args.minimize]:
        def still_fails(source: str) -> bool:
            again = compare(source, config, timeout=1.0, type_profile=args.type_profile)
            return not again.matches and not again.timed_out

        small = minimize(result.source, still_fails) if not result.matches else result.source
        if small in seen:
            continue
        seen.add(small)
        print("=" * 78)
        print(compare(small, config, type_profile=args.type_profile).describe())
    return 1 if tally.failures else 0


def _parse(value: str) -> int | bool:
    return int(value) if value.lstrip("-").isdigit() else value.lower() in ("true", "yes", "on")


if __name__ == "__main__":
    sys.exit(main())
