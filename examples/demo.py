"""fatopt demo: run me with ``python -X fatopt examples/demo.py`` (``make demo``).

Ordinary code with module constants, calls of pure builtins on constants, a debug flag and loops
over constant tuples. Under fatopt each function is born holding specialized code; this script
shows what was specialized and under which guards, shows a guard at work, then times every
function specialized against its original code, over interleaved rounds (median ratio).
"""

import builtins
import contextlib
import statistics
import sys
import timeit

import fatopt

DEBUG = False
SEPARATOR = " | "
UNITS = ("B", "KiB", "MiB", "GiB")
HEADER = "id" + SEPARATOR + "name" + SEPARATOR + "size"


def log(message):
    if DEBUG:
        print("debug:", message)
    return message


def header_width():
    return len(HEADER) + len(SEPARATOR) * 2


def unit_table():
    return [(unit, 1024 ** i) for i, unit in enumerate(UNITS)]


def mask():
    return int("ff", 16) | (1 << 4) | ord("A")


def column_widths():
    widths = 0
    for title in ("id", "name", "size"):
        widths += len(title) + len(SEPARATOR)
    return widths


def is_separator(char):
    return char in [" ", "|", "-"]


FUNCTIONS = [log, header_width, unit_table, mask, column_widths, is_separator]
ARGS = {log: ("hello",), is_separator: ("|",)}


#: The timing: ROUNDS rounds; in each, every function runs specialized and original back to back
#: (which goes first alternates), MEASURE_S seconds each. The speedup shown is the median of the
#: per-round ratios: a burst of machine noise spoils a round or two, not the result.
ROUNDS = 21
MEASURE_S = 0.004


@contextlib.contextmanager
def original_code(func):
    """``func`` runs its original code, what plain Python runs, inside the block
    (``fatopt.unspecialize``), then its specialized code again (``fatopt.specialize``)."""
    code, guards = fatopt.get_specialized(func)[0]
    fatopt.unspecialize(func)
    try:
        yield
    finally:
        fatopt.specialize(func, code, guards)


def call_timer(func, args):
    """A timeit.Timer of one call ``func(*args)``, the function and arguments in locals."""
    setup = "f, a = target; " + "".join(f"a{i} = a[{i}]; " for i in range(len(args)))
    call = "f(" + ", ".join(f"a{i}" for i in range(len(args))) + ")"
    return timeit.Timer(call, setup=setup, globals={"target": (func, args)})


def loops_for(timer, seconds):
    """How many calls take about ``seconds``."""
    loops = 1
    while True:
        took = timer.timeit(loops)
        if took >= seconds / 4:
            return max(1, int(loops * seconds / took))
        loops *= 4


def compare(functions):
    """{func: (fatopt ns per call, original ns per call, speedup)}, medians over the rounds."""
    timers = {func: call_timer(func, ARGS.get(func, ())) for func in functions}
    loops = {}
    for func, timer in timers.items():
        with original_code(func):
            loops[func] = loops_for(timer, MEASURE_S)
    samples = {func: [] for func in functions}
    for round_ in range(ROUNDS + 1):
        for func, timer in timers.items():
            fast_first = round_ % 2 == 0
            if fast_first:
                fast = timer.timeit(loops[func])
            with original_code(func):
                slow = timer.timeit(loops[func])
            if not fast_first:
                fast = timer.timeit(loops[func])
            if round_:  # round 0 warms up, discarded
                samples[func].append((fast / loops[func] * 1e9, slow / loops[func] * 1e9))
    return {
        func: (
            statistics.median(f for f, _ in rounds),
            statistics.median(s for _, s in rounds),
            statistics.median(s / f for f, s in rounds),
        )
        for func, rounds in samples.items()
    }


def main():
    if not fatopt.AVAILABLE or not any(fatopt.get_specialized(f) for f in FUNCTIONS):
        reason = fatopt.UNAVAILABLE_REASON or "fatopt is not on"
        print(f"Nothing specialized ({reason}). Run: python -X fatopt {sys.argv[0]}")
        return 1
    print("What fatopt specialized in this script:\n")
    for func in FUNCTIONS:
        specialized = fatopt.get_specialized(func)
        guards = ", ".join(map(repr, specialized[0][1])) if specialized else "(not specialized)"
        print(f"  {func.__name__:14} {guards}")

    print("\nGuards at work: builtins.len is patched, then restored")
    show = lambda: f"header_width() = {header_width()}, specialized: {bool(fatopt.get_specialized(header_width))}"  # noqa: E731
    print(f"  before:   {show()}")
    real_len = builtins.len
    builtins.len = lambda obj: 1000
    print(f"  patched:  {show()}")
    builtins.len = real_len
    print(f"  restored: {show()}")

    timed = [func for func in FUNCTIONS if fatopt.get_specialized(func)]  # same code otherwise
    for func in timed:
        with original_code(func):
            expected = func(*ARGS.get(func, ()))
        assert func(*ARGS.get(func, ())) == expected  # same answer either way
    print(f"\n{'function':14} {'fatopt':>10} {'original':>10} {'speedup':>8}")
    for func, (fast, slow, speedup) in compare(timed).items():
        print(f"{func.__name__:14} {fast:8.1f}ns {slow:8.1f}ns {speedup:7.2f}x")
    print(f"\n(per call, medians of {ROUNDS} rounds; each round times both back to back, alternating which goes first; "
          "'original': the same function with its original code, see original_code())")
    return 0


if __name__ == "__main__":
    sys.exit(main())
