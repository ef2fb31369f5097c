"""Imported-constant substitution (fatopt/passes/imported_constants.py): constants of a sibling
module, read as ``DEBUG`` after ``from .config import DEBUG`` or as ``config.DEBUG``, in a
package written to disk. Which reads are replaced, which are not (what the import system would
load is not that ``.py``, the value is not a constant there, ...), and at run time, in a
subprocess with the import hook and its cache: a change of the sibling's value at run time and
a change of the sibling's source on disk both take effect at once."""

from __future__ import annotations

import ast
import copy
import importlib.machinery
import sys
import textwrap

import pytest

from fatopt.config import Config
from fatopt.optimizer import optimize_ast
from fatopt.results import Report
from tests.integration.helpers import python, write
from tests.optimizer._diff import normalized

CONFIG = """\
DEBUG = False
LIMIT = 10
NAME = 'inventory'
EMPTY, WHITE, BLACK = 0, 1, 2
BIG = 2 ** 70
COUNT = 0
ITEMS = [1]
def bump():
    global COUNT
    COUNT += 1
"""


@pytest.fixture
def package(tmp_path):
    """tmp_path/app: a package with config.py, a subpackage, and the importer's place (main.py)."""
    app = tmp_path / "app"
    write(app, "__init__.py", "")
    write(app, "config.py", CONFIG)
    write(app, "sub/__init__.py", "TITLE = 'sub'\n")
    write(tmp_path, "settings.py", "TIMEOUT = 30\n")
    return app


def optimized(path, source: str, name: str = "f", config: Config | None = None) -> tuple[str | None, Report]:
    """The emitted ``def name`` of ``source`` written as ``path`` (None if it was not changed)."""
    source = textwrap.dedent(source)
    path.write_text(source)
    report = Report()
    tree = optimize_ast(ast.parse(source), str(path), config, report=report)
    rows = [r for r in report.functions if r.qualname == name]
    if not rows or rows[0].status not in ("specialized", "optimized"):
        return None, report
    node = copy.copy([n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name][-1])
    node.decorator_list = []
    return ast.unparse(node), report


CHANGES = [
    pytest.param("from .config import DEBUG\ndef f():\n    if DEBUG:\n        return 1\n    return 2\n",
                 "def f():\n    return 2", "GuardGlobals(objects={'DEBUG': False})", id="from-import"),
    pytest.param("from .config import LIMIT as L\ndef f(x=()):\n    return x[:L]\n",
                 "def f(x=()):\n    return x[:10]", "GuardGlobals(objects={'L': 10})", id="from-import-as"),
    pytest.param("from . import config\ndef f():\n    return config.NAME.upper()\n",
                 "def f():\n    return 'INVENTORY'", "GuardModuleConstant('config', 'NAME', 'inventory')",
                 id="module-attribute"),
    pytest.param("from . import config as c\ndef f(x=1):\n    return x == c.WHITE\n",
                 "def f(x=1):\n    return x == 1", "GuardModuleConstant('c', 'WHITE', 1)", id="module-attribute-as"),
    pytest.param("from .config import BLACK\ndef f():\n    return BLACK\n",
                 "def f():\n    return 2", "GuardGlobals(objects={'BLACK': 2})", id="tuple-unpacked-in-the-sibling"),
    pytest.param("from .sub import TITLE\ndef f():\n    return TITLE\n",
                 "def f():\n    return 'sub'", "GuardGlobals(objects={'TITLE': 'sub'})", id="package-init"),
    pytest.param("from ..settings import TIMEOUT\ndef f():\n    return TIMEOUT\n",
                 "def f():\n    return 30", "GuardGlobals(objects={'TIMEOUT': 30})", id="level-2"),
    pytest.param("import config\ndef f():\n    return config.LIMIT * 2\n",
                 "def f():\n    return 20", "GuardModuleConstant('config', 'LIMIT', 10)", id="absolute-import"),
    pytest.param("import app.sub as s\ndef f():\n    return s.TITLE\n", None, None, id="dotted-import-as-not-found-here"),
    pytest.param("from .config import DEBUG\ndef f(x=None):\n    return x is DEBUG\n",
                 "def f(x=None):\n    return x is False", "GuardGlobals(objects={'DEBUG': False})", id="is-singleton"),
]


@pytest.mark.parametrize("source, after, guard", CHANGES)
def test_substitutes(package, source, after, guard):
    text, report = optimized(package / "main.py", source)
    if after is None:
        assert text is None
        return
    assert text == normalized(after)
    assert guard in report.specialized[0].guards


NOOPS = [
    pytest.param("from .missing import DEBUG\ndef f():\n    return DEBUG\n", id="not-found"),
    pytest.param("from .config import ITEMS\ndef f():\n    return ITEMS\n", id="mutable"),
    pytest.param("from .config import COUNT\ndef f():\n    return COUNT\n", id="rebound-in-the-sibling"),
    pytest.param("from .config import DEBUG\nDEBUG = True\ndef f():\n    return DEBUG\n", id="rebound-in-the-importer"),
    pytest.param("from .config import DEBUG\ndef g():\n    global DEBUG\n    DEBUG = 1\ndef f():\n    return DEBUG\n",
                 id="rebound-through-global"),
    pytest.param("from .config import DEBUG\nfrom .config import DEBUG\ndef f():\n    return DEBUG\n", id="imported-twice"),
    pytest.param("from .config import DEBUG\ndef f(DEBUG=1):\n    return DEBUG\n", id="parameter"),
    pytest.param("from .config import BIG\ndef f(x=None):\n    return (x or BIG) is BIG\n", id="is-big-int"),
    pytest.param("from . import config\ndef f():\n    return config.ITEMS\n", id="module-attribute-mutable"),
    pytest.param("def f():\n    return config.LIMIT\nfrom . import config\n", id="module-imported-after-the-function"),
    pytest.param("from . import config\ndef f():\n    return config.DEBUG\nexec('')\n", id="dynamic-importer"),
    pytest.param("from os import sep\nimport string\ndef f():\n    return sep, string.digits\n", id="standard-library"),
    pytest.param("from .config import DEBUG\ndef f():\n    return f'{DEBUG}'\n", id="f-string"),
    pytest.param("from . import config\ndef f():\n    was = config.DEBUG\n    toggle()\n    return was, config.DEBUG\n"
                 "def toggle():\n    config.DEBUG = not config.DEBUG\n", id="module-attribute-written-here"),
]


@pytest.mark.parametrize("source", NOOPS)
def test_leaves_alone(package, source):
    text, _report = optimized(package / "main.py", source)
    assert text is None


def test_switched_off(package):
    text, _report = optimized(package / "main.py", "from .config import DEBUG\ndef f():\n    return DEBUG\n",
                              config=Config().replace(imported_constants=False))
    assert text is None


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda app: (app / f"config{importlib.machinery.EXTENSION_SUFFIXES[0]}").write_bytes(b""),
                     id="an-extension-module-wins"),
        pytest.param(lambda app: ((app / "config").mkdir(), (app / "config" / "__init__.py").write_text("")),
                     id="a-package-wins"),
    ],
)
def test_what_the_import_system_would_load_instead_is_not_speculated(package, make):
    make(package)
    text, _report = optimized(package / "main.py", "from .config import DEBUG\ndef f():\n    return DEBUG\n")
    assert text is None


def test_bytecode_only_and_namespace_packages_are_not_speculated(package):
    (package / "config.py").rename(package / "config.pyc")
    (package / "ns").mkdir()
    (package / "ns" / "mod.py").write_text("X = 1\n")
    text, _report = optimized(package / "main.py", "from .config import DEBUG\nfrom .ns.mod import X\ndef f():\n    return DEBUG, X\n")
    assert text is None


# -- run time: a real package, imported through the import hook (cold, then from the cache) ----

MAIN = """\
from .config import DEBUG
from . import config

def flag():
    return 'debug' if DEBUG else 'quiet'

def limit():
    return config.LIMIT * 2

def state():
    import fatopt
    return (flag(), limit(), bool(fatopt.get_specialized(flag)), bool(fatopt.get_specialized(limit)))
"""

DRIVER = """\
import app.main as m, app.config as config
print(m.state())
config.LIMIT = 7
print(m.state())
config.LIMIT = 10
m.DEBUG = True
print(m.state())
m.DEBUG = False
print(m.state())
"""


def _values(stdout: str) -> list:
    """What the functions returned, per line (plain Python has no specialization to report)."""
    return [ast.literal_eval(line)[:2] for line in stdout.splitlines()]


def test_a_change_at_run_time_takes_effect_at_once(package):
    write(package, "main.py", MAIN)
    write(package.parent, "driver.py", DRIVER)
    plain = python("driver.py", cwd=package.parent, fatopt=None)
    run = python("driver.py", cwd=package.parent)
    assert run.returncode == 0, run.stderr
    assert _values(run.stdout) == _values(plain.stdout)
    assert run.stdout.splitlines() == [
        "('quiet', 20, True, True)",
        "('quiet', 14, True, False)",  # config.LIMIT = 7: the module's dict changed
        "('debug', 20, False, True)",  # the importer's own DEBUG rebound
        "('quiet', 20, True, True)",
    ]


@pytest.mark.parametrize("bytecode", [True, False], ids=["cached", "not-cached"])
def test_a_sibling_changed_on_disk_is_followed(package, bytecode):
    """Only config.py changes: the importer's cached code, specialized for the old values, is
    still valid for its own source and is loaded; its guards find the new values and the
    original code runs (see docs/optimizer.md, "Constants imported from other modules")."""
    write(package, "main.py", MAIN)
    write(package.parent, "driver.py", "import app.main as m\nprint(m.state())\n")
    first = python("driver.py", cwd=package.parent, write_bytecode=bytecode)
    assert first.stdout.strip() == "('quiet', 20, True, True)", first.stderr
    # a comment changes the size: the edit may fall in the same second as the first run, and
    # a plain .pyc is checked by mtime (in seconds) and size, as CPython does
    write(package, "config.py", CONFIG.replace("DEBUG = False", "DEBUG = True").replace("LIMIT = 10", "LIMIT = 100")
          + "# changed\n")
    second = python("driver.py", cwd=package.parent, write_bytecode=bytecode)
    assert second.returncode == 0, second.stderr
    plain = python("driver.py", cwd=package.parent, fatopt=None)
    assert _values(second.stdout) == _values(plain.stdout) == [("debug", 200)]
    # from the cache: code specialized for the old values, whose guards do not hold, so the
    # original code runs; without a cache the importer is optimized again, for the new values
    assert second.stdout.strip().endswith("False, False)" if bytecode else "True, True)")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths")
def test_a_script_next_to_its_config(tmp_path):
    """``import config`` from a script: the file next to it, as sys.path[0] finds it."""
    write(tmp_path, "config.py", "VERBOSE = False\n")
    write(tmp_path, "toggle.py", "import config\ndef on():\n    config.VERBOSE = True\n")
    write(tmp_path, "script.py", "import config, toggle\ndef f():\n    return 'v' if config.VERBOSE else 'q'\n"
                                 "import fatopt\nprint(f(), bool(fatopt.get_specialized(f)))\n"
                                 "toggle.on()\nprint(f())\n")
    run = python("script.py", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["q", "True", "v"]
