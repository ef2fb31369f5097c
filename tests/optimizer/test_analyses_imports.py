"""Imported names: constants of sibling modules, read from their source, never imported."""

import ast
import sys
import textwrap

import pytest

from fatopt.analyses.imports import ImportedNames
from fatopt.config import Config
from fatopt.folding import NOT_FOLDED
from fatopt.module_unit import ModuleUnit


@pytest.fixture
def package(tmp_path):
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "config.py").write_text("DEBUG = False\nLEVEL = 2 * 3\nmutable = []\nCOUNT = 0\ndef bump():\n    global COUNT\n    COUNT += 1\n")
    (pkg / "sub").mkdir()
    (pkg / "sub" / "__init__.py").write_text("NAME = 'sub'\n")
    (pkg / "broken.py").write_text("def (:\n")
    (tmp_path / "settings.py").write_text("TIMEOUT = 30\nsys_modules_untouched = 1\n")
    return tmp_path


def _imports(path, source):
    tree = ast.parse(textwrap.dedent(source))
    return ModuleUnit(tree, str(path), Config.default()).fact(ImportedNames)


CASES = [
    pytest.param("from .config import DEBUG\n", "DEBUG", None, False, id="relative-from"),
    pytest.param("from .config import LEVEL as L\n", "L", None, 6, id="relative-from-as"),
    pytest.param("from . import config\n", "config", "DEBUG", False, id="relative-module"),
    pytest.param("from .sub import NAME\n", "NAME", None, "sub", id="package-init"),
    pytest.param("from .config import mutable\n", "mutable", None, NOT_FOLDED, id="not-a-constant"),
    pytest.param("from .config import COUNT\n", "COUNT", None, NOT_FOLDED, id="rebound-by-global"),
    pytest.param("from .broken import X\n", "X", None, NOT_FOLDED, id="syntax-error-sibling"),
    pytest.param("from .missing import X\n", "X", None, NOT_FOLDED, id="missing-sibling"),
    pytest.param("from ..settings import TIMEOUT\n", "TIMEOUT", None, 30, id="level-2"),
    pytest.param("from .config import DEBUG\nDEBUG = True\n", "DEBUG", None, NOT_FOLDED, id="rebound-here"),
    pytest.param("from .config import DEBUG\nfrom .config import DEBUG\n", "DEBUG", None, NOT_FOLDED, id="imported-twice"),
]


@pytest.mark.parametrize("source, local, attr, expected", CASES)
def test_sibling_constants(package, source, local, attr, expected):
    imports = _imports(package / "app" / "main.py", source)
    value = imports.constant(local, attr)
    assert value is expected or (value == expected and type(value) is type(expected))


def test_absolute_import_is_looked_up_next_to_the_file_and_marked(package):
    imports = _imports(package / "app" / "main.py", "import config\nfrom config import DEBUG\n")
    assert imports.names["config"].absolute and imports.constant("config", "LEVEL") == 6
    assert imports.names["DEBUG"].absolute


def test_nothing_is_imported(package):
    before = set(sys.modules)
    _imports(package / "app" / "main.py", "from .config import DEBUG\nimport config\n")
    assert not {m for m in set(sys.modules) - before if "config" in m or "app" in m}


def test_a_sibling_edited_is_read_again(package):
    main = package / "app" / "main.py"
    assert _imports(main, "from .config import DEBUG\n").constant("DEBUG") is False
    config = package / "app" / "config.py"
    config.write_text("DEBUG = True\n# longer, so the size differs too\n")
    assert _imports(main, "from .config import DEBUG\n").constant("DEBUG") is True


def test_no_file_name():
    assert _imports("<string>", "from .config import DEBUG\n").constant("DEBUG") is NOT_FOLDED
