"""CPU time of ``fatopt compileall`` against ``python -m compileall`` over a standard library.

    .venv-3.13/bin/python tools/compile_speed.py [--lib DIR] [--pairs N] [--keep-env]

Issue 13 item 7 asks that ``fatopt compileall -f -j1`` over a copy of the 3.13 standard library
take at most 3x the CPU time of ``python -m compileall -f -j1`` on the same files. This copies the
library's .py files (site-packages excluded, as ``tools/stdlib_optimize.py`` does) to a temporary
directory, then runs the two commands alternately ``--pairs`` times (plain first in each pair) and
prints, per pair, the CPU time (user + sys) of each child, read from ``os.wait4``, and their
ratio; then the median ratio. CPU time rather than wall time: the machine is shared, and CPU time
is what the other loads disturb least.

Both children run this interpreter (``sys.executable``) with ``-q``. ``PYTHONDONTWRITEBYTECODE``
is removed from their environment unless ``--keep-env`` is given: with it set, every fatopt run
would compile fatopt's own modules again at start-up, which no installed fatopt does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

DEFAULT_LIB = "/root/.pyenv/versions/3.13.0/lib/python3.13"


def copy_library(lib: str, into: str) -> int:
    """Copy the library's .py files (site-packages excluded) under ``into``; how many."""
    count = 0
    for directory, dirs, files in os.walk(lib):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        for name in sorted(files):
            if name.endswith(".py"):
                source = os.path.join(directory, name)
                target = os.path.join(into, os.path.relpath(source, lib))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copyfile(source, target)
                count += 1
    return count


def cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    """Run ``command``; the user + sys CPU time of the child (and its own children)."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _pid, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", default=DEFAULT_LIB, help="standard library directory")
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs of each command")
    parser.add_argument("--keep-env", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE in the children's environment")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if not args.keep_env:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    workdir = tempfile.mkdtemp(prefix="fatopt-speed-")
    try:
        files = copy_library(args.lib, workdir)
        plain = [sys.executable, "-m", "compileall", "-f", "-q", "-j1", workdir]
        fatopt = [sys.executable, "-m", "fatopt", "compileall", "-f", "-q", "-j1", workdir]
        print(f"python {sys.version.split()[0]}, {files} files from {args.lib}")
        print(f"plain:  {' '.join(plain[:-1])} DIR")
        print(f"fatopt: {' '.join(fatopt[:-1])} DIR")
        ratios = []
        for pair in range(1, args.pairs + 1):
            plain_cpu = cpu_seconds(plain, env)
            fatopt_cpu = cpu_seconds(fatopt, env)
            ratios.append(fatopt_cpu / plain_cpu)
            print(f"pair {pair}: plain {plain_cpu:6.2f} s  fatopt {fatopt_cpu:6.2f} s  ratio {ratios[-1]:.2f}x",
                  flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"median ratio {statistics.median(ratios):.2f}x over {len(ratios)} pairs (goal: at most 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
