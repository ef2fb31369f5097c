"""fatopt demo: run me with ``python -X fatopt examples/demo.py`` (``make demo``).

Ordinary code with module constants, calls of pure builtins on constants, a debug flag and loops
over constant tuples. Under fatopt each function is born holding specialized code; this script
shows what was specialized and under which guards, shows a guard at work, then times every function specialized and (after
``fatopt.unspecialize``) with its original code.
"""

import builtins
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


def per_call_ns(func, args):
    timer = timeit.Timer(lambda: func(*args))
    loops, _ = timer.autorange()
    return min(timer.repeat(5, loops)) / loops * 1e9


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
    print(f"\n{'function':14} {'fatopt':>10} {'original':>10} {'speedup':>8}")
    for func in timed:  # warm-up round, discarded: the first timings of a process run slow
        per_call_ns(func, ARGS.get(func, ()))
    results = {func: [per_call_ns(func, ARGS.get(func, ())), None, func(*ARGS.get(func, ()))] for func in timed}
    for func in timed:
        fatopt.unspecialize(func)  # back to the code plain Python would run
    for func in timed:
        fast, _, result = results[func]
        slow = per_call_ns(func, ARGS.get(func, ()))
        assert func(*ARGS.get(func, ())) == result  # same answer either way
        print(f"{func.__name__:14} {fast:8.1f}ns {slow:8.1f}ns {slow / fast:7.2f}x")
    print("\n(per call, best of 5 timeit repeats; 'original' is the same function after fatopt.unspecialize)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
