"""Why a function was not specialized: every unspecialized function gets a reason that names its
blocker, in the user's terms (names and lines), and a machine-readable ``Blocker``.

Two tables, as for the passes: source -> the reason and blocker expected (before this analysis,
each of these said "nothing to optimize"), and sources whose reason must not name something
that is no blocker. Each module is written into a package beside a ``config.py`` and a
``models.py``, so that imports from siblings resolve as in a real project."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from fatopt.analyses import blockers as blockers_module
from fatopt.compiler import compile_source
from fatopt.config import Config
from fatopt.optimizer import optimize_source
from fatopt.results import BLOCKER_KINDS, Report

CONFIG = "DEBUG = False\nLIMIT = 10\nNAME = 'x'\nCONFIGURED = None\ndef configure():\n    global CONFIGURED\n    CONFIGURED = True\n"
MODELS = "class Item:\n    pass\n"


def explain(tmp_path, source: str, config: Config | None = None) -> Report:
    package = tmp_path / "pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "config.py").write_text(CONFIG)
    (package / "models.py").write_text(MODELS)
    path = package / "mod.py"
    text = textwrap.dedent(source)
    path.write_text(text)
    report = Report()
    optimize_source(text, str(path), config, report=report)
    return report


def row_of(report: Report, name: str):
    [row] = [r for r in report.functions if r.qualname == name]
    return row


LONG = "(" + ", ".join(str(i) for i in range(20)) + ")"

#: (source, function, reason expected, (kind, name, line) of the first blocker)
REASONS = [
    pytest.param(
        "from .config import CONFIGURED\ndef f():\n    if CONFIGURED:\n        return 1\n", "f",
        "`CONFIGURED` is imported from `.config` (line 1)", ("imported", "CONFIGURED", 1),
        id="from-import-of-a-name-the-sibling-does-not-bind-once"),
    pytest.param(
        "from .config import CONFIGURED as C\ndef f():\n    return C\n", "f",
        "`C` (`CONFIGURED`) is imported from `.config` (line 1)", ("imported", "C", 1), id="from-import-as"),
    pytest.param(
        "from .missing import DEBUG, LIMIT\ndef f(x):\n    if DEBUG:\n        print(x)\n    return x[:LIMIT]\n", "f",
        "`DEBUG` is imported from `.missing` (line 1); `LIMIT` is imported from `.missing` (line 1)",
        ("imported", "DEBUG", 1), id="two-imported"),
    pytest.param(
        "import os\n\nfrom . import config\ndef f():\n    return config.CONFIGURED\n", "f",
        "`config.CONFIGURED` is read from the module `.config` (imported at line 3)",
        ("imported", "config.CONFIGURED", 3), id="module-attribute"),
    pytest.param(
        "def f():\n    return config.NAME\nimport config\n", "f",
        "`config.NAME` is read from the module `config` (imported at line 3)", ("imported", "config.NAME", 3),
        id="module-attribute-imported-after-the-function"),
    pytest.param(
        "from elsewhere import MAX_SIZE\ndef f(x):\n    return x > MAX_SIZE\n", "f",
        "`MAX_SIZE` is imported from `elsewhere` (line 1)", ("imported", "MAX_SIZE", 1),
        id="import-of-a-module-not-found-named-as-a-constant"),
    pytest.param(
        "LIMIT = 10\ndef f(x):\n    return x[:LIMIT]\nLIMIT = 20\n", "f",
        "`LIMIT` is rebound at line 4 (assignment)", ("rebound", "LIMIT", 4), id="rebound-at-module-level"),
    pytest.param(
        "COUNT = 0\ndef f():\n    return COUNT\ndef bump():\n    global COUNT\n    COUNT += 1\n", "f",
        "`COUNT` is rebound at line 6 (augmented assignment in `bump()` through `global`)",
        ("rebound", "COUNT", 6), id="augmented-through-global"),
    pytest.param(
        "LIMIT = 1\nclass K:\n    def reset(self):\n        global LIMIT\n        LIMIT = 2\ndef f():\n    return LIMIT\n", "f",
        "`LIMIT` is rebound at line 5 (assignment in `K.reset()` through `global`)",
        ("rebound", "LIMIT", 5), id="assigned-through-global-in-a-method"),
    pytest.param(
        "MODE = 1\nfor MODE in (1, 2):\n    pass\ndef f():\n    return MODE\n", "f",
        "`MODE` is rebound at line 2 (for target)", ("rebound", "MODE", 2), id="for-target"),
    pytest.param(
        "LIMIT = 1\nLIMIT = 2\nLIMIT += 3\ndef f():\n    return LIMIT\n", "f",
        "`LIMIT` is rebound at lines 2, 3 (assignment, augmented assignment)", ("rebound", "LIMIT", 2),
        id="rebound-twice"),
    pytest.param(
        "TMP = 1\ndef f():\n    return TMP\ndel TMP\n", "f",
        "`TMP` is deleted at line 4", ("rebound", "TMP", 4), id="deleted"),
    pytest.param(
        "SCALE: float\nSCALE = 2.0\ndef f(x):\n    return x * SCALE\n", "f",
        "`SCALE` is annotated apart from its assignment at line 1, which counts as a second binding "
        "(write `SCALE: T = value`)", ("rebound", "SCALE", 1), id="annotated-apart"),
    pytest.param(
        "import re\nPATTERN = re.compile('x')\ndef f(s):\n    return PATTERN.match(s)\n", "f",
        "`PATTERN` is assigned a value known only at run time (line 2)", ("not_constant", "PATTERN", 2),
        id="computed-value"),
    pytest.param(
        "def setup():\n    global READY\n    READY = True\ndef f():\n    return READY\n", "f",
        "`READY` is bound only in `setup()` through `global` (line 3)", ("not_constant", "READY", 3),
        id="bound-only-in-a-function"),
    pytest.param(
        "LIMIT = 10\ndef f(x):\n    return x[:LIMIT]\nexec('')\n", "f",
        "the module uses `exec()` (line 4), so no global is assumed constant (`LIMIT`)",
        ("dynamic_module", "exec", 4), id="exec-in-the-module"),
    pytest.param(
        "LIMIT = 10\nnamespace = globals()\ndef f(x):\n    return x[:LIMIT]\n", "f",
        "the module uses `globals()` (line 2), so no global is assumed constant (`LIMIT`)",
        ("dynamic_module", "globals", 2), id="globals-in-the-module"),
    pytest.param(
        "from os.path import *\nLIMIT = 1\ndef f():\n    return LIMIT\n", "f",
        "the module uses `import *` (line 1), so no global is assumed constant (`LIMIT`)",
        ("dynamic_module", "import *", 1), id="star-import"),
    pytest.param(
        "LIMIT = 1\ndef f():\n    return LIMIT\ndef g():\n    return vars()\n", "f",
        "the module uses `vars()` (line 5), so no global is assumed constant (`LIMIT`)",
        ("dynamic_module", "vars", 5), id="vars-without-argument"),
    pytest.param(
        "def f():\n    exec('x = 1')\n", "f", "uses exec (line 2)", ("unsafe", "exec", 2), id="exec-in-the-function"),
    pytest.param(
        "import sys\ndef f():\n    return sys._getframe()\n", "f", "uses ._getframe (line 3)",
        ("unsafe", "._getframe", 3), id="frame-access"),
    pytest.param(
        "def f():\n    g = lambda: eval('1')\n    return g\n", "f", "uses eval (line 2)", ("unsafe", "eval", 2),
        id="unsafe-in-a-nested-scope"),
    pytest.param(
        "len = lambda x: 0\ndef f():\n    return len('abc')\n", "f",
        "`len` is not the builtin here: the module binds it at line 1", ("shadowed_builtin", "len", 1),
        id="shadowed-builtin"),
    pytest.param(
        f"def f():\n    for x in {LONG}:\n        print(x)\n", "f",
        "the loop at line 2 runs over 20 items (unroll_loops=16)", ("over_limit", "unroll_loops", 2),
        id="loop-over-the-unroll-limit"),
    pytest.param(
        f"def f():\n    return [x * 2 for x in {LONG}]\n", "f",
        "the comprehension at line 2 runs over 20 items (unroll_comprehensions=16)",
        ("over_limit", "unroll_comprehensions", 2), id="comprehension-over-the-unroll-limit"),
    pytest.param(
        "def f():\n    return 2 * 3\n", "f",
        "its constant expressions (`2 * 3`, line 2) are ones CPython's compiler folds itself: nothing more to do",
        ("compiler_folds", "", 2), id="only-what-the-compiler-folds"),
    pytest.param(
        "def f(a, b):\n    return a + b\n", "f", "nothing to fold: it reads only its arguments and locals",
        ("nothing", "", 0), id="nothing"),
    pytest.param(
        "def helper(x):\n    while x:\n        x = 0\n    return x\ndef f(x):\n    return helper(x.value)\n", "f",
        "nothing to fold: it reads only its arguments and locals (and their attributes) and the global `helper`",
        ("nothing", "", 0), id="nothing-says-what-it-reads"),
    pytest.param(
        "def f():  # fatopt: off\n    return len('a')\n", "f", "'# fatopt: off' on its def line",
        ("opted_out", "", 1), id="opted-out"),
]


@pytest.mark.parametrize("source, function, reason, first", REASONS)
def test_reason_names_the_blocker(tmp_path, source, function, reason, first):
    row = row_of(explain(tmp_path, source), function)
    assert row.status != "specialized"
    assert row.reason == reason
    assert (row.blockers[0].kind, row.blockers[0].name, row.blockers[0].line) == first
    assert all(b.kind in BLOCKER_KINDS and b.detail for b in row.blockers)
    assert row.describe().endswith(f": {reason}")


def test_a_setting_switched_off_is_named(tmp_path):
    source = "DEBUG = False\ndef f():\n    return DEBUG\n"
    row = row_of(explain(tmp_path, source, Config.default().replace(module_constants=False)), "f")
    assert row.reason == "`DEBUG` is a module constant, but module_constants is off"
    assert row.blockers[0].kind == "switched_off"


def test_every_pass_switched_off(tmp_path):
    # every pass switch off, the boolean ones and the limits (a pass added later is included)
    off = Config.from_dict({field.name: 0 if field.type in (int, "int") else False
                            for field in dataclasses.fields(Config)
                            if field.type in (bool, "bool", int, "int") and not field.name.startswith("max_")})
    row = row_of(explain(tmp_path, "def f():\n    return len('a')\n", off), "f")
    assert row.reason == "every pass is switched off"


def test_an_optimized_function_says_why_it_has_no_guard(tmp_path):
    # rewritten without guards (a local propagated and folded), and not specialized on DEBUG
    source = "from elsewhere import DEBUG\ndef f():\n    x = 5\n    if DEBUG:\n        return x * 2\n    return x\n"
    row = row_of(explain(tmp_path, source), "f")
    assert row.status == "optimized"
    assert row.describe().endswith("(not specialized: `DEBUG` is imported from `elsewhere` (line 1))")


#: constants of a sibling module, which the imported_constants pass replaces
SIBLING_CONSTANTS = [
    pytest.param("from .config import DEBUG\ndef f():\n    if DEBUG:\n        return 1\n", "DEBUG", id="from-import"),
    pytest.param("from .config import DEBUG as D\ndef f():\n    return D\n", "D", id="from-import-as"),
    pytest.param("import os\n\nfrom . import config\ndef f():\n    return config.LIMIT\n", "config.LIMIT",
                 id="module-attribute"),
    pytest.param("import config\ndef f():\n    return config.NAME\n", "config.NAME", id="absolute-module-attribute"),
]


@pytest.mark.parametrize("source, shown", SIBLING_CONSTANTS)
def test_constants_of_a_sibling_are_no_blocker(tmp_path, source, shown):
    row = row_of(explain(tmp_path, source), "f")
    assert row.status == "specialized" and row.blockers == ()
    row = row_of(explain(tmp_path, source, Config.default().replace(imported_constants=False)), "f")
    assert row.status != "specialized"
    assert row.blockers[0].kind == "switched_off" and row.blockers[0].name == "imported_constants"
    assert row.reason.startswith(f"`{shown}`") and row.reason.endswith("but imported_constants is off")


def test_more_blockers_than_the_line_names(tmp_path):
    source = "from elsewhere import DEBUG, LIMIT, NAME\nfrom other import SIZE\ndef f():\n    return DEBUG, LIMIT, NAME, SIZE\n"
    row = row_of(explain(tmp_path, source), "f")
    assert [b.name for b in row.blockers] == ["DEBUG", "LIMIT", "NAME", "SIZE"]
    assert row.reason.endswith("; and 1 more")


#: (source, function, text the reason must not contain)
NOT_BLOCKERS = [
    pytest.param("from .models import Item\ndef f(x):\n    return Item(x)\n", "f", "imported",
                 id="an-imported-class-is-no-blocker"),
    pytest.param("import os\ndef f(p):\n    return os.path.join(p, 'x')\n", "f", "imported",
                 id="a-module-used-for-its-functions-is-no-blocker"),
    pytest.param("from logging import DEBUG\nimport os\ndef f():\n    return DEBUG, os.SEEK_SET\n", "f", "imported",
                 id="constants-of-the-standard-library"),
    pytest.param("from .config import DEBUG\ndef f(DEBUG):\n    return DEBUG\n", "f", "DEBUG",
                 id="a-parameter-shadowing-an-imported-name"),
    pytest.param("from .config import DEBUG\ndef f():\n    DEBUG = 1\n    return DEBUG\n", "f", "DEBUG",
                 id="a-local-shadowing-an-imported-name"),
    pytest.param("x = 5\nx = 6\ndef f(items):\n    return [x for x in items]\n", "f", "`x`",
                 id="a-comprehension-target-named-as-a-global"),
    pytest.param("cache = {}\ndef f(k):\n    return cache.get(k)\n", "f", "known only at run time",
                 id="a-variable-not-named-as-a-constant"),
    pytest.param("def helper():\n    pass\ndef f():\n    return helper()\ndef helper():\n    pass\n", "f", "rebound",
                 id="a-function-defined-twice"),
    pytest.param("from .config import LIMIT\ndef f():\n    def g():\n        return LIMIT\n    return g\n", "f", "LIMIT",
                 id="a-read-in-a-nested-function-is-not-this-function's"),
]


@pytest.mark.parametrize("source, function, absent", NOT_BLOCKERS)
def test_reason_does_not_name_what_blocks_nothing(tmp_path, source, function, absent):
    row = row_of(explain(tmp_path, source), function)
    assert absent not in row.reason, row.reason
    assert row.reason and row.blockers


@pytest.mark.parametrize("source", [
    pytest.param("DEBUG = False\ndef f():\n    if DEBUG:\n        return 1\n", id="module-constant"),
    pytest.param("LIMIT = 1\ndef f():\n    return LIMIT, vars(object())\n", id="vars-of-an-object-blocks-nothing"),
])
def test_specialized_functions_have_no_blockers(tmp_path, source):
    row = row_of(explain(tmp_path, source), "f")
    assert row.status == "specialized"
    assert row.blockers == () and row.reason == ""


def test_reasons_are_computed_only_when_a_report_asks(tmp_path, monkeypatch):
    calls = []
    real = blockers_module.function_blockers

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(blockers_module, "function_blockers", counting)
    source = "from elsewhere import DEBUG\ndef f():\n    if DEBUG:\n        return 1\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    # the import hook's compile: a report for the counts, no explanation
    result = compile_source(source, str(path))
    assert result.report is not None and not result.report.explain
    assert calls == [] and result.report.functions[0].reason == "nothing to optimize"
    optimize_source(source, str(path))  # no report at all
    assert calls == []
    # verbose (or explain=) asks for them
    result = compile_source(source, str(path), explain=True)
    assert len(calls) == 1 and "DEBUG" in result.report.functions[0].reason
