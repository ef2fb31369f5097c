"""The HTML report in a real browser: headless Chromium renders the page ``fatopt report
--format html`` writes, its script runs without a console message, the functions are coloured
by outcome in the DOM, and the screenshot shows those colours.

Skipped when no Chromium is installed, unless FATOPT_REQUIRE_CHROMIUM=1 (``.ci/run`` sets it
after installing Debian's ``chromium``): then a missing browser fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from fatopt.report.as_html import STATUS_COLOURS

from .helpers import python
from .report_fixture import make_project

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    message = f"no headless browser found ({', '.join(BROWSERS)} on PATH; Debian: apt-get install chromium)"
    if os.environ.get("FATOPT_REQUIRE_CHROMIUM") == "1":
        pytest.fail(message + "; FATOPT_REQUIRE_CHROMIUM=1 requires one")
    pytest.skip(message)


def _chromium(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with the page's console messages logged to stderr (``CONSOLE`` lines).
    ``--no-sandbox``: CI runs as root, where Chromium's sandbox refuses to start."""
    profile = tmp_path / "profile"
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=1", *args],
        capture_output=True, text=True, timeout=120,
    )


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    project = make_project(tmp_path_factory.mktemp("html"))
    proc = python("-m", "fatopt", "report", "--format", "html", "-o", "report.html", "--", "main.py",
                  cwd=project, fatopt=None)
    assert proc.returncode == 0, proc.stderr
    return project / "report.html"


def test_console_capture_sees_errors(browser, tmp_path):
    """The check below can fail: a page with a script error shows up in the capture."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>noSuchFunction();</script></body></html>")
    proc = _chromium(browser, tmp_path, "--dump-dom", bad.as_uri())
    assert any("noSuchFunction" in line for line in _console_messages(proc.stderr)), proc.stderr[-2000:]


def test_page_renders_with_coloured_functions_and_no_console_message(browser, page, tmp_path):
    proc = _chromium(browser, tmp_path, "--dump-dom", page.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert _console_messages(proc.stderr) == []
    assert re.search(r'<body class="[^"]*\bscript-ran\b', dom), "the page's script did not run"
    for status in ("specialized", "optimized", "unchanged", "skipped"):
        assert re.search(rf'<span class="fn st-{status}" title="{status}: ', dom), status
    # the docstring's markup stayed text once parsed
    assert "<img" not in dom and "&lt;/script&gt;&lt;img" in dom


def test_screenshot_shows_the_colours(browser, page, tmp_path):
    shot = tmp_path / "shot.png"
    proc = _chromium(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri())
    assert shot.exists(), proc.stderr[-2000:]
    assert _console_messages(proc.stderr) == []
    width, height, pixels = _read_png(shot.read_bytes())
    assert (width, height) == (1280, 1600)
    counts = _colour_counts(pixels)
    for status in ("specialized", "optimized", "skipped"):
        rgb = _rgb(STATUS_COLOURS[status])
        # a coloured function: some lines of code across half the page, far more than a legend chip
        assert counts.get(rgb, 0) > 5000, (status, counts.get(rgb, 0))


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _colour_counts(rows: list[bytes]) -> dict[tuple[int, int, int], int]:
    counts: dict[tuple[int, int, int], int] = {}
    for row in rows:
        for i in range(0, len(row), 4):
            key = (row[i], row[i + 1], row[i + 2])
            counts[key] = counts.get(key, 0) + 1
    return counts


def _read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGBA bytes) of an 8-bit RGB or RGBA, non-interlaced PNG (what
    Chromium writes), with the standard library only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat = 8, b""
    width = height = colour_type = 0
    while offset < len(data):
        (length,), kind = struct.unpack(">I", data[offset:offset + 4]), data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour_type in (2, 6) and interlace == 0, (depth, colour_type, interlace)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    channels = 4 if colour_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upper_left)) & 0xFF
        previous = line
        if channels == 3:  # make every row RGBA
            line = bytearray(b"".join(bytes(line[i:i + 3]) + b"\xff" for i in range(0, stride, 3)))
        rows.append(bytes(line))
    return width, height, rows
