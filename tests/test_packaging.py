"""The built wheel carries every fatopt module, the C extension and the start-up hook."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    [path] = out.glob("fatopt-*.whl")
    with zipfile.ZipFile(path) as archive:
        return set(archive.namelist())


def test_every_module_is_packaged(wheel):
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "fatopt").rglob("*.py")}
    assert sources and sources <= wheel, sorted(sources - wheel)


def test_extension_typing_marker_and_pth(wheel):
    assert any(name.startswith("fatopt/_guards.") and name.endswith(".so") for name in wheel)
    assert any(name.startswith("_fatopt_importhook.") and name.endswith(".so") for name in wheel)  # top level
    assert "fatopt/py.typed" in wheel
    assert "fatopt.pth" in wheel
