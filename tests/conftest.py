"""Shared pytest configuration: skip runtime tests where the guard runtime cannot exist."""

import pytest

import fatopt


def pytest_collection_modifyitems(config, items):
    if fatopt.AVAILABLE:
        return
    skip = pytest.mark.skip(reason=fatopt.UNAVAILABLE_REASON)
    for item in items:
        if "runtime" in item.nodeid.split("/"):
            item.add_marker(skip)
