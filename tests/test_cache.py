"""fatopt's .pyc files: names, headers, validation and tolerance of damaged files."""

import importlib.util
import os
import sys

import pytest

from fatopt import cache


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("X = 1\n")
    return str(path)


def write_cache(source_path, mode=cache.TIMESTAMP):
    data = open(source_path, "rb").read()
    target = cache.cache_path(source_path, "fatopttest")
    code = compile(data, source_path, "exec")
    assert cache.write(target, code, cache.header(source_path, data, mode))
    return target, data


def test_name_is_beside_the_normal_pyc_and_different(source):
    normal = importlib.util.cache_from_source(source)
    ours = cache.cache_path(source, "fatopt1234abcd")
    assert os.path.dirname(ours) == os.path.dirname(normal)
    assert ours != normal and ours.endswith(".opt-fatopt1234abcd.pyc")


def test_pycache_prefix_is_honoured(source, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "pycache_prefix", str(tmp_path / "prefix"))
    assert cache.cache_path(source, "fatopttag").startswith(str(tmp_path / "prefix"))


@pytest.mark.parametrize("mode", [cache.TIMESTAMP, cache.CHECKED_HASH, cache.UNCHECKED_HASH])
def test_round_trip(source, mode):
    target, data = write_cache(source, mode)
    code = cache.read(target, source, lambda: data)
    ns = {}
    exec(code, ns)
    assert ns["X"] == 1


def test_stale_timestamp_is_a_miss(source):
    target, data = write_cache(source)
    with open(source, "w") as f:
        f.write("X = 22\n")  # size changes
    assert cache.read(target, source, lambda: open(source, "rb").read()) is None


def test_checked_hash_follows_content_not_time(source):
    target, data = write_cache(source, cache.CHECKED_HASH)
    os.utime(source, (0, 0))
    assert cache.read(target, source, lambda: data) is not None
    assert cache.read(target, source, lambda: b"X = 2\n") is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b[:10], id="truncated-header"),
        pytest.param(lambda b: b[:20], id="truncated-code"),
        pytest.param(lambda b: b"\0\0\0\0" + b[4:], id="bad-magic"),
        pytest.param(lambda b: b[:4] + b"\xff\0\0\0" + b[8:], id="bad-flags"),
        pytest.param(lambda b: b[:16] + b"\x00garbage" * 8, id="garbage-code"),
    ],
)
def test_damaged_files_are_misses(source, damage):
    target, data = write_cache(source)
    with open(target, "rb") as f:
        good = f.read()
    with open(target, "wb") as f:
        f.write(damage(good))
    assert cache.read(target, source, lambda: data) is None


def test_unwritable_location_is_not_an_error(source, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    assert cache.write(str(blocker / "x.pyc"), compile("1", "x", "exec"), b"\0" * 16) is False
