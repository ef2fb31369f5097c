"""The fuzz runner writes each case to ``fuzz_case.py`` in the current directory (the profile
recorder and first calls read it back, fatopt/first_call_types.py): every test here runs in a
directory of its own."""

import pytest


@pytest.fixture(autouse=True)
def _own_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
