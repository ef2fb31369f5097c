"""Config: immutable, defaults, overrides with clear errors."""

import dataclasses

import pytest

from fatopt.config import Config


def test_default_is_shared_and_frozen():
    config = Config.default()
    assert config is Config.default()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.unroll_loops = 3  # type: ignore[misc]


def test_overrides():
    config = Config.from_dict({"unroll_loops": 4, "module_constants": False})
    assert (config.unroll_loops, config.module_constants) == (4, False)
    assert Config.from_dict({"module_constants": 0}).module_constants is False
    assert Config.default().replace(max_str_len=10).max_str_len == 10


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"unrol_loops": 4}, "unknown fatopt option 'unrol_loops'"),
        ({"unroll_loops": "4"}, "needs a int"),
        ({"module_constants": 2}, "needs a bool"),
        ({"max_int_bits": -1}, "must be >= 0"),
    ],
)
def test_bad_overrides(overrides, message):
    with pytest.raises(ValueError, match=message):
        Config.from_dict(overrides)


def test_as_dict_is_stable():
    assert list(Config.default().as_dict())[:2] == ["constant_folding", "constant_propagation"]
