"""The ``fatopt`` command: compileall, show, diff, run, report, profile, status, clean.

    fatopt compileall [options] [PATH ...]   precompile optimized .pyc files
    fatopt show FILE                         the optimized source, annotated
    fatopt diff FILE                         unified diff, original -> optimized
    fatopt run SCRIPT [ARGS ...]             python -X fatopt SCRIPT ARGS
    fatopt run -m MODULE [ARGS ...]          python -X fatopt -m MODULE ARGS
    fatopt report PATH ...                   what fatopt does to these files (text, JSON, HTML)
    fatopt report -- SCRIPT [ARGS ...]       ... to a run of a program (and -m MODULE [ARGS])
    fatopt profile -o FILE -- SCRIPT [ARGS]  run a program plain, record its argument types (and -m)
    fatopt status [--json]                   is fatopt active here, with which settings and cache
    fatopt clean [PATH ...]                  remove fatopt's cache files (nothing else)
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import argparse
import os
import sys

from fatopt import __version__
from fatopt.importer import Options, OptionsError, from_environment
from fatopt.source_text import SourceError, read_source

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """Usage errors are one clear line and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _options(config_items: list[str] | None, profile: str | None = None, load_profile: bool = True) -> Options:
    """PYTHONFATOPT, then -X fatopt, then --config items, then ``--profile``: what the run would
    use. A type profile named anywhere is loaded now (unless ``load_profile`` is false: only the
    cache tag is needed): a bad one is a usage error (OptionsError)."""
    options = from_environment()
    for item in config_items or ():
        try:
            options.update(item)
        except OptionsError as exc:
            raise OptionsError(f"--config {item}: {exc}") from None
    if profile is not None:
        try:
            options.use_profile(profile)
        except OptionsError as exc:
            raise OptionsError(f"--profile: {exc}") from None
    options.enabled = True
    if options.profile is not None and load_profile:
        from fatopt.compiler import profile_for
        from fatopt.profile import ProfileError

        try:
            profile_for(options)
        except ProfileError as exc:
            raise OptionsError(f"profile: {exc}") from None
    return options


def _profile_of(options: Options):
    """The type profile ``options`` name, loaded already by :func:`_options`, or None."""
    from fatopt.compiler import profile_for

    return profile_for(options)


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", action="append", metavar="KEY=VALUE",
        help="optimizer setting, as in -X fatopt=KEY=VALUE (repeatable), e.g. unroll_loops=4",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fatopt",
        description="Guarded function specialization for CPython 3.12+. "
        "Run programs optimized with 'python -X fatopt app.py' (or PYTHONFATOPT=1).",
        epilog="See 'fatopt COMMAND --help' for each command.",
    )
    parser.add_argument("--version", action="version", version=f"fatopt {__version__} (Python {sys.version.split()[0]})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    p = commands.add_parser(
        "compileall",
        help="precompile optimized .pyc files (like python -m compileall)",
        description="Write fatopt's optimized .pyc files for every .py file under the given paths "
        "(default: the directories on sys.path), beside the normal ones in __pycache__. "
        "Normal .pyc files are never touched.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files and directories (default: sys.path)")
    p.add_argument("-l", dest="maxlevels", action="store_const", const=0, help="don't recurse into subdirectories")
    p.add_argument("-r", dest="recursion", type=int, metavar="N", help="recurse at most N levels of subdirectories")
    p.add_argument("-f", dest="force", action="store_true", help="force rebuild even if caches are up to date")
    p.add_argument("-q", dest="quiet", action="count", default=0, help="-q: errors and the summary only; -qq: the summary only; -qqq: nothing")
    p.add_argument("-x", dest="exclude", metavar="REGEX", help="skip files whose full path matches REGEX")
    p.add_argument("-i", dest="listfile", metavar="FILE", help="add the files and directories listed in FILE ('-': stdin)")
    p.add_argument("-d", dest="ddir", metavar="DESTDIR", help="directory prepended to file names shown in tracebacks")
    p.add_argument("-s", dest="stripdir", metavar="STRIPDIR", help="part of the path stripped from file names shown in tracebacks")
    p.add_argument("-p", dest="prependdir", metavar="PREPENDDIR", help="path prepended to file names shown in tracebacks (after -s)")
    p.add_argument("-j", dest="workers", type=int, default=1, metavar="N", help="worker processes (0: one per core)")
    p.add_argument(
        "--invalidation-mode", choices=["timestamp", "checked-hash", "unchecked-hash"],
        help="how the caches are checked against the source (default: timestamp, "
        "or checked-hash when SOURCE_DATE_EPOCH is set)",
    )
    p.add_argument(
        "--profile", metavar="FILE",
        help="optimize with the type profile FILE ('fatopt profile -o FILE'), as -X fatopt=profile=FILE "
        "does: run the program with that option to use these files",
    )
    _add_config(p)

    for name, text, epilog in (
        ("show", "print the optimized source of FILE (what would run), under a header listing each "
         "function's outcome and guards", "Exit status: 0, or 2 on trouble."),
        ("diff", "print a unified diff from FILE to its optimized source (what would run)",
         "Exit status, as diff(1): 0 if nothing would change, 1 if something would, 2 on trouble."),
    ):
        p = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", epilog=epilog)
        p.add_argument("file", metavar="FILE", help="a Python source file")
        _add_config(p)

    p = commands.add_parser(
        "run",
        help="run a script optimized (same as python -X fatopt SCRIPT)",
        description="Run SCRIPT (or -m MODULE) with fatopt on, passing ARGS to it: everything "
        "after SCRIPT or MODULE is the program's, as with python.",
    )
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a module, like python -m")
    p.add_argument("script", nargs="?", metavar="SCRIPT")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    _add_config(p)

    _add_report_parser(commands)

    p = commands.add_parser(
        "profile",
        help="run a program plain and record the exact argument types of its functions",
        description="Run SCRIPT (or -m MODULE) plain, without fatopt, passing ARGS to it, and write "
        "to FILE, per Python function that ran, the exact types of its parameters at each call "
        "(at most 8 type tuples per function), with call counts, and a hash of the function's "
        "source so that an edited function's entry is ignored. Give the profile to the optimizer "
        "with 'python -X fatopt=profile=FILE' or 'fatopt compileall --profile FILE'. Everything "
        "after SCRIPT or '-m MODULE' is the program's.",
        epilog="The program's input and output pass through; a one-line summary goes to stderr at "
        "the end. Exit status: the program's; 2 on a usage error. The file format: docs/usage.md, "
        "'Type profiles'.",
    )
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="where to write the profile (JSON)")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a module, like python -m")
    p.add_argument("script", nargs="?", metavar="SCRIPT")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")

    p = commands.add_parser(
        "status",
        help="say whether fatopt is installed and active for this interpreter, and how",
        description="Whether fatopt is installed and would be active for this interpreter (and "
        "environment): version, settings, cache tag, where cache files go, whether they can be "
        "written, the C extensions found.",
    )
    p.add_argument("--json", action="store_true", help="as a JSON object")

    p = commands.add_parser(
        "clean",
        help="remove fatopt's cache files (never normal .pyc files or sources)",
        description="Remove fatopt's own cache files (*.opt-fatoptXXXXXXXX.pyc, and the "
        "*.opt-fatoptXXXXXXXXfirstYYYYYYYYYYYYYYYY.pyc of first-call specializations) under each PATH "
        "(default: the current directory), recursively, and under their mirrors in "
        "sys.pycache_prefix and fatopt's cache_dir. Normal .pyc files and sources are never touched.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="directories (default: .)")
    p.add_argument("-n", "--dry-run", action="store_true", help="list what would be removed, remove nothing")
    tags = p.add_mutually_exclusive_group()
    tags.add_argument("--all-tags", dest="current_tag", action="store_false",
                      help="files of every fatopt version, configuration and Python (the default)")
    tags.add_argument("--current-tag", dest="current_tag", action="store_true",
                      help="only the files of the configuration in force here (PYTHONFATOPT, -X fatopt)")
    p.set_defaults(current_tag=False)
    p.add_argument("-q", "--quiet", action="store_true", help="print the count only")
    return parser


def _add_report_parser(commands) -> None:
    from fatopt.report.command import FORMATS

    p = commands.add_parser(
        "report",
        help="what fatopt does to files, or to a run of a program: text, JSON or an HTML page",
        description="Report, for each Python file under PATHs, which functions fatopt specializes "
        "(with their guards), optimizes without guards, or leaves alone (with the reason). With "
        "'-- SCRIPT [ARGS]' or '-m MODULE [ARGS]', run the program under fatopt first (its "
        "input and output pass through) and report the modules it imported, with how often each "
        "specialization was invalidated and revalidated.",
        epilog="The report goes to -o FILE, else to stdout (to stderr for a run: the program's "
        "stdout stays its own). Exit status: a run's is the program's; otherwise 0, or 2 on "
        "trouble. The JSON schema: docs/report.md.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files and directories")
    p.add_argument("-m", dest="module", metavar="MODULE", help="run a module, like python -m, and report on it")
    p.add_argument("--format", choices=FORMATS, default="text", help="text (default), json or html")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE")
    p.add_argument("--all-modules", action="store_true",
                   help="for a run: every module imported, the standard library and site-packages included")
    _add_config(p)


def _split_report(args: list[str]) -> tuple[list[str], list[str] | None]:
    """``fatopt report``'s own arguments, and the program to run: what follows ``--`` (SCRIPT
    ARGS) or ``-m MODULE`` (["-m", MODULE, ARGS]), untouched; None when no program is given."""
    index = 0
    while index < len(args):
        word = args[index]
        if word in ("-c", "--config", "-o", "--output", "--format"):  # takes a value
            index += 2
        elif word == "--":
            return args[:index], args[index + 1:]
        elif word == "-m":
            return args[:index], args[index:]
        elif word.startswith("-m") and not word.startswith("--"):  # -mMODULE
            return args[:index], ["-m", word[2:], *args[index + 1:]]
        else:
            index += 1
    return args, None


def _split_run(args: list[str], valued: tuple[str, ...] = ("-c", "--config")) -> tuple[list[str], list[str]]:
    """``fatopt run``'s own arguments, and the program's: everything after SCRIPT or ``-m MODULE``
    goes to the program untouched, as ``python -m MODULE -n 2`` does, even words spelt like
    fatopt's options (argparse would claim them, or reject them). ``valued``: the options that
    take a value (``fatopt profile``'s differ)."""
    index = 0
    while index < len(args):
        word = args[index]
        if word in valued:  # takes a value
            index += 2
        elif word == "-m" or word == "--":  # the next word is the module, or the script
            return args[:index + 2], args[index + 2:]
        elif word.startswith("-m"):  # -mMODULE
            return args[:index + 1], args[index + 1:]
        elif word.startswith("-"):  # -cVALUE, --config=VALUE, -h, or a usage error for argparse
            index += 1
        else:  # SCRIPT
            return args[:index + 1], args[index + 1:]
    return args, []


def cmd_compileall(ns: argparse.Namespace) -> int:
    from fatopt.compileall import CompileallSettings, run

    paths = list(ns.paths)
    if ns.listfile:
        stream = sys.stdin if ns.listfile == "-" else open(ns.listfile, encoding="utf-8")
        with stream:
            paths.extend(line.strip() for line in stream if line.strip())
    maxlevels = ns.maxlevels if ns.maxlevels is not None else ns.recursion
    if not paths:
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        maxlevels = 0 if maxlevels is None else maxlevels
    for path in paths:
        if not os.path.exists(path):
            sys.stderr.write(f"fatopt compileall: error: no such file or directory: {path}\n")
            return 2
    settings = CompileallSettings(
        options=_options(ns.config, ns.profile), force=ns.force, quiet=ns.quiet, workers=ns.workers, maxlevels=maxlevels,
        exclude=ns.exclude, ddir=ns.ddir, stripdir=ns.stripdir, prependdir=ns.prependdir,
        invalidation_mode=ns.invalidation_mode,
    )
    summary = run(paths, settings)
    if ns.quiet < 3:
        print(summary.text())
    return 1 if summary.failed else 0


def _optimized_source(path: str, config_items: list[str] | None):
    """(original text, optimized text, report) for ``path``: what would really run, so a module
    that opts out (``__fatopt__ = {"enabled": False}``) is its own text. Raises SourceError
    for a file that is not Python source; a SyntaxError is printed as CPython prints it."""
    import ast

    from fatopt.compiler import config_for, module_opt_out
    from fatopt.optimizer import optimize_source
    from fatopt.results import Report

    original = read_source(path)
    options = _options(config_items)
    config = config_for(options)
    report = Report(filename=path)
    try:
        opt_out = module_opt_out(ast.parse(original, path))
        if opt_out is not None:
            report.notes.append(f"not optimized: {opt_out}")
            return original, original, report
        optimized = optimize_source(original, path, config, report=report, profile=_profile_of(options))
    except SyntaxError as exc:
        import traceback

        sys.stderr.write("".join(traceback.format_exception_only(exc)))
        raise SystemExit(2)
    return original, optimized, report


def cmd_show(ns: argparse.Namespace) -> int:
    from fatopt.show import annotate

    _original, optimized, report = _optimized_source(ns.file, ns.config)
    sys.stdout.write(annotate(optimized, ns.file, report))
    return 0


def cmd_diff(ns: argparse.Namespace) -> int:
    """Exit status as diff(1): 0 when the optimized text is the file's, 1 when it differs."""
    import difflib

    original, optimized, _report = _optimized_source(ns.file, ns.config)
    diff = difflib.unified_diff(
        original.splitlines(keepends=True), optimized.splitlines(keepends=True),
        fromfile=ns.file, tofile=f"{ns.file} (fatopt)",
    )
    changed = False
    for line in diff:
        changed = True
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
    return 1 if changed else 0


def cmd_run(ns: argparse.Namespace) -> int:
    if ns.module is None and ns.script is None:
        _Parser(prog="fatopt run").error("give a SCRIPT or -m MODULE")
    xoption = "fatopt" + ("=" + ",".join(ns.config) if ns.config else "")
    target = ["-m", ns.module] if ns.module else [ns.script]
    argv = [sys.executable, "-X", xoption, *target, *ns.args]
    sys.stdout.flush()
    os.execv(sys.executable, argv)
    return 0  # not reached


def cmd_report(ns: argparse.Namespace) -> int:
    from fatopt.report.command import ReportError, report_command

    program = ns.program
    if program is not None and (not program or program[:1] == ["-m"] and len(program) < 2):
        _Parser(prog="fatopt report").error("give the program to run: '-- SCRIPT [ARGS]' or '-m MODULE [ARGS]'")
    if program is not None and ns.paths:
        _Parser(prog="fatopt report").error("give PATHs or a program to run, not both")
    try:
        return report_command(ns.paths, program, _options(ns.config), ns.config, ns.format, ns.output, ns.all_modules)
    except ReportError as exc:
        sys.stderr.write(f"fatopt report: error: {exc}\n")
        return 2


def _file_identity(path: str) -> tuple[int, int] | None:
    """What tells a rewritten file from the one that was there (the profile is replaced, never
    written in place), or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def cmd_profile(ns: argparse.Namespace) -> int:
    from fatopt.profile import ProfileError, record, summary

    if ns.module is None and ns.script is None:
        _Parser(prog="fatopt profile").error("give the program to run: '-- SCRIPT [ARGS]' or '-m MODULE [ARGS]'")
    if ns.module is not None and ns.script is not None:
        ns.args.insert(0, ns.script)
    target = ["-m", ns.module] if ns.module else [ns.script]
    if os.path.isdir(ns.output):
        _Parser(prog="fatopt profile").error(f"-o {ns.output}: is a directory")
    if not os.path.isdir(os.path.dirname(os.path.abspath(ns.output))):
        _Parser(prog="fatopt profile").error(f"-o {ns.output}: no such directory")
    before = _file_identity(ns.output)
    status = record([*target, *ns.args], ns.output)
    if _file_identity(ns.output) in (before, None):
        line = (f"fatopt profile: no profile written to {ns.output}: the program ended before Python's "
                "exit handlers ran (os._exit, a crash, a signal)")
    else:
        try:
            line = summary(ns.output)
        except ProfileError as exc:
            line = f"fatopt profile: error: {exc}"
    sys.stderr.write(line + "\n")
    return status


def cmd_status(ns: argparse.Namespace) -> int:
    from fatopt.status import collect, render

    info = collect()
    if ns.json:
        import json

        sys.stdout.write(json.dumps(info, indent=2) + "\n")
    else:
        sys.stdout.write(render(info))
    return 0


def cmd_clean(ns: argparse.Namespace) -> int:
    from fatopt.clean import find, remove

    paths = ns.paths or ["."]
    for path in paths:
        if not os.path.isdir(path):
            raise SourceError(f"{path}: not a directory")
    options = _options(None, load_profile=False)
    prefixes = tuple(p for p in (sys.pycache_prefix, options.cache_dir) if p)
    files = find(paths, options.cache_tag() if ns.current_tag else None, prefixes)
    verb = "would remove" if ns.dry_run else "removed"
    errors: list[str] = []
    if ns.dry_run:
        count, size = len(files), sum(os.path.getsize(f) for f in files)
    else:
        count, size, errors = remove(files)
    if not ns.quiet:
        for path in files:
            sys.stdout.write(f"{verb} {path}\n")
    for line in errors:
        sys.stderr.write(f"fatopt clean: {line}\n")
    sys.stdout.write(f"fatopt clean: {verb} {count} file{'s' if count != 1 else ''} ({size / 1024:.1f} KiB)\n")
    return 1 if errors else 0


def _unavailable(ns: argparse.Namespace) -> int:
    """On an interpreter fatopt cannot serve (before CPython 3.12, or without its C build): one
    line saying why; ``run`` then runs the program plain, the other commands stop (status 2)."""
    import fatopt

    if ns.command == "status":
        return cmd_status(ns)
    if ns.command != "run":
        fatopt.tell_unavailable(f"'fatopt {ns.command}' cannot run here")
        return 2
    fatopt.tell_unavailable("running unoptimized")
    if ns.module is None and ns.script is None:
        _Parser(prog="fatopt run").error("give a SCRIPT or -m MODULE")
    target = ["-m", ns.module] if ns.module else [ns.script]
    if ns.module and ns.script is not None:
        ns.args.insert(0, ns.script)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *target, *ns.args])
    return 0  # not reached


COMMANDS = {
    "compileall": cmd_compileall, "show": cmd_show, "diff": cmd_diff, "run": cmd_run, "report": cmd_report,
    "status": cmd_status, "clean": cmd_clean, "profile": cmd_profile,
}


#: The exit status when stdout's reader goes away first (`fatopt diff FILE | head`): 128 + SIGPIPE,
#: what a shell reports for a tool that SIGPIPE ended, such as `yes | head`.
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = sys.argv[1:] if argv is None else list(argv)
    program_args: list[str] = []
    report_program: list[str] | None = None
    if args[:1] == ["run"]:
        own, program_args = _split_run(args[1:])
        args = ["run", *own]
    elif args[:1] == ["profile"]:
        own, program_args = _split_run(args[1:], ("-o", "--output"))
        args = ["profile", *own]
    elif args[:1] == ["report"]:
        own, report_program = _split_report(args[1:])
        args = ["report", *own]
    ns = parser.parse_args(args)
    if ns.command in ("run", "profile"):
        ns.args = [*ns.args, *program_args]
    elif ns.command == "report":
        ns.program = report_program
    import fatopt

    if fatopt.unavailable_reason() is not None:
        return _unavailable(ns)
    try:
        status = COMMANDS[ns.command](ns)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        return status
    except BrokenPipeError:
        # Python ignores SIGPIPE, so a reader that stops early (head) raises this in the middle of
        # the output: end quietly, as Unix tools do. What is still buffered has nowhere to go:
        # stdout becomes /dev/null so that the interpreter's last flush finds nothing to complain of.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except OptionsError as exc:
        sys.stderr.write(f"fatopt {ns.command}: error: {exc}\n")
        return 2
    except SourceError as exc:
        sys.stderr.write(f"fatopt {ns.command}: error: {exc}\n")
        return 2
    except ValueError as exc:  # Config.from_dict: unknown or badly typed option
        if "fatopt option" in str(exc):
            sys.stderr.write(f"fatopt {ns.command}: error: {exc}\n")
            return 2
        raise


def console_main() -> None:
    """Entry point of the ``fatopt`` console script."""
    raise SystemExit(main())
