"""fatopt's pytest plugin, in real pytest runs (subprocesses, pytest's default options): test
modules and conftest.py files, which pytest's assertion rewriting compiles, run optimized, are
optimized once (then read from pytest's cache under fatopt's name), keep pytest's assertion
messages, and never share a cache file with a plain run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _pytest.assertion import rewrite

from fatopt import pytest_rewrite
from tests.integration.helpers import python, write

pytestmark = pytest.mark.skipif(
    pytest_rewrite.expected_internals(rewrite) is not None,
    reason="this pytest's assertion rewriting is not what fatopt's plugin hooks into",
)

CONFTEST = """
    import fatopt
    import pytest

    def two():
        return len("ab")

    @pytest.fixture
    def conftest_specialized():
        return bool(fatopt.get_specialized(two))
"""

TEST_MODULE = """
    import fatopt

    def four():
        return len("abcd")

    def test_four_is_specialized():
        assert fatopt.get_specialized(four)

    def test_conftest_is_specialized(conftest_specialized):
        assert conftest_specialized

    def test_four():
        assert four() == 4

    def test_detailed_message():
        items = [1, 2, 3]
        assert four() == len(items)
"""


@pytest.fixture(scope="module")
def prefix(tmp_path_factory) -> Path:
    """One bytecode cache for the module's runs: the standard library and pytest are optimized
    (and cached) once, by the first run, not by every test."""
    return tmp_path_factory.mktemp("prefix")


@pytest.fixture
def project(tmp_path) -> Path:
    write(tmp_path, "conftest.py", CONFTEST)
    write(tmp_path, "test_fold.py", TEST_MODULE)
    return tmp_path


def run_pytest(project: Path, prefix: Path, fatopt: str | None = "verbose", *args: str):
    """pytest with its default assertion rewriting; ``-s`` so that fatopt's verbose lines of the
    modules imported while collecting are not captured; the outcome of each test from ``-rA``."""
    return python("-m", "pytest", "-s", "-rA", "-p", "no:cacheprovider", *args, cwd=project, fatopt=fatopt,
                  env={"PYTHONPYCACHEPREFIX": str(prefix)}, timeout=300)


def outcome_of(result) -> dict[str, str]:
    return {test: outcome for outcome, test in re.findall(r"^(PASSED|FAILED) test_fold\.py::(\w+)", result.stdout, re.M)}


def optimized_here(result, project: Path) -> list[str]:
    """The project's files fatopt optimized in this run (one verbose line per optimizer call)."""
    pattern = re.compile(rf"^fatopt: {re.escape(str(project))}/(\S+): optimized, ", re.M)
    return sorted(pattern.findall(result.stderr))


def explanation(result, test: str = "test_detailed_message") -> list[str]:
    """pytest's explanation of the failing assert of ``test``: the ``E`` lines of its section."""
    lines, inside = [], False
    for line in result.stdout.splitlines():
        if line.startswith(("___", "===")):
            inside = f" {test} " in line
        elif inside and line.startswith("E "):
            lines.append(line)
    return lines


def cache_files(prefix: Path, project: Path) -> dict[str, bytes]:
    mirrored = prefix / str(project.resolve()).lstrip("/")
    return {p.name: p.read_bytes() for p in mirrored.glob("*.pyc")} if mirrored.exists() else {}


def test_test_modules_and_conftest_run_optimized_and_cached(project, prefix):
    cold = run_pytest(project, prefix)
    assert outcome_of(cold) == {
        "test_four_is_specialized": "PASSED", "test_conftest_is_specialized": "PASSED",
        "test_four": "PASSED", "test_detailed_message": "FAILED",
    }, cold.stdout + cold.stderr
    assert optimized_here(cold, project) == ["conftest.py", "test_fold.py"]  # each optimized once
    files = cache_files(prefix, project)
    ours = sorted(name for name in files if "-pytest-" in name and ".opt-fatopt" in name)
    assert [name.split(".")[0] for name in ours] == ["conftest", "test_fold"]

    warm = run_pytest(project, prefix)
    assert outcome_of(warm) == outcome_of(cold)
    assert optimized_here(warm, project) == []  # nothing optimized again
    assert cache_files(prefix, project) == files  # nor written again
    # verbose says where each came from
    for name in ("conftest.py", "test_fold.py"):
        assert f"fatopt: {project / name}: from cache, with specialized functions" in warm.stderr.splitlines()


def test_assertion_messages_are_pytests(project, prefix):
    plain = run_pytest(project, prefix, None)
    optimized = run_pytest(project, prefix)
    assert outcome_of(optimized)["test_detailed_message"] == "FAILED"
    assert explanation(optimized) == explanation(plain)
    assert any("where 4 = four()" in line for line in explanation(optimized))


def test_a_plain_run_never_reads_fatopts_cache_file(project, prefix):
    optimized = run_pytest(project, prefix)
    assert outcome_of(optimized)["test_four_is_specialized"] == "PASSED"
    ours = {name: data for name, data in cache_files(prefix, project).items() if ".opt-fatopt" in name}

    plain = run_pytest(project, prefix, None)
    # plain code: nothing specialized, in the test module or in conftest.py
    assert outcome_of(plain)["test_four_is_specialized"] == "FAILED"
    assert outcome_of(plain)["test_conftest_is_specialized"] == "FAILED"
    assert outcome_of(plain)["test_four"] == "PASSED"
    files = cache_files(prefix, project)
    assert {name: files[name] for name in ours} == ours  # fatopt's files untouched
    pytests_own = [name for name in files if "-pytest-" in name and ".opt-fatopt" not in name]
    assert sorted(name.split(".")[0] for name in pytests_own) == ["conftest", "test_fold"]

    again = run_pytest(project, prefix)  # and fatopt never reads pytest's plain file
    assert outcome_of(again)["test_four_is_specialized"] == "PASSED"
    assert optimized_here(again, project) == []


def test_excluded_modules_are_left_to_pytest(project, prefix):
    result = run_pytest(project, prefix, "verbose,exclude=test_fold")
    assert outcome_of(result)["test_four_is_specialized"] == "FAILED"  # excluded: plain
    assert outcome_of(result)["test_conftest_is_specialized"] == "PASSED"
    assert optimized_here(result, project) == ["conftest.py"]
    names = cache_files(prefix, project)
    assert not any(name.startswith("test_fold.") and ".opt-fatopt" in name for name in names)


def test_unexpected_pytest_internals_fall_back_to_plain_with_one_verbose_line(project, prefix):
    # a plugin loaded before fatopt's gives pytest's reader another signature, as a future
    # pytest might
    write(project, "reshaped.py", """
        from _pytest.assertion import rewrite

        original = rewrite._read_pyc

        def _read_pyc(path, cache, trace=lambda message: None):
            return original(path, cache, trace)

        rewrite._read_pyc = _read_pyc
    """)
    result = run_pytest(project, prefix, "verbose", "-p", "reshaped")
    assert outcome_of(result) == {
        "test_four_is_specialized": "FAILED", "test_conftest_is_specialized": "FAILED",
        "test_four": "PASSED", "test_detailed_message": "FAILED",
    }, result.stdout + result.stderr
    said = [line for line in result.stderr.splitlines() if line.startswith("fatopt: pytest: ")]
    assert len(said) == 1 and "_read_pyc" in said[0], result.stderr
    assert optimized_here(result, project) == []
    quiet = run_pytest(project, prefix, "", "-p", "reshaped")
    assert "fatopt: pytest" not in quiet.stderr


def test_plugin_does_nothing_without_fatopt(project, prefix):
    result = run_pytest(project, prefix, None)
    assert outcome_of(result)["test_four"] == "PASSED"
    assert not any(".opt-fatopt" in name for name in cache_files(prefix, project))


ASSERT_SHAPES = """
    LIMIT = 3

    def test_local_constant():
        x = 3
        y = x + 1
        assert y == 5

    def test_loop():
        for n in (1, 2, 3):
            assert n < LIMIT

    def test_global_constant():
        assert LIMIT * 2 == 7

    def test_method():
        parts = "a,b".split(",")
        assert parts == ["a", "b", "c"]

    def test_message():
        value = len("abcd")
        assert value == 5, f"value was {value}"

    def test_comprehension():
        assert [i * 2 for i in range(3)] == [0, 2, 5]

    def test_bool_ops():
        a = 0
        assert a or len("") or min(1, 2) > 3
"""


def test_failing_asserts_explained_alike_in_optimized_functions(tmp_path, prefix):
    # the failing tests themselves are optimized (folded, unrolled, specialized): pytest's
    # explanation of each assert must not change
    write(tmp_path, "test_shapes.py", ASSERT_SHAPES)
    plain = python("-m", "pytest", "-p", "no:cacheprovider", cwd=tmp_path, fatopt=None,
                   env={"PYTHONPYCACHEPREFIX": str(prefix)}, timeout=300)
    optimized = python("-m", "pytest", "-s", "-p", "no:cacheprovider", cwd=tmp_path, fatopt="verbose",
                       env={"PYTHONPYCACHEPREFIX": str(prefix)}, timeout=300)
    assert re.search(rf"^fatopt: {re.escape(str(tmp_path))}/test_shapes.py: specialize test_loop ", optimized.stderr, re.M)

    def failures(result) -> str:  # the FAILURES section, without the timing at its end
        text = result.stdout
        return text[text.index("= FAILURES ="):text.rindex(" failed in ")]

    assert failures(optimized) == failures(plain)
    explained = re.findall(r"^test_shapes\.py:\d+: AssertionError$", failures(plain), re.M)
    assert len(explained) == ASSERT_SHAPES.count("def test_")  # every test failed on its assert


def test_under_assert_plain_fatopts_own_hook_loads_the_test_modules(project, prefix):
    result = run_pytest(project, prefix, "verbose", "--assert=plain")
    assert outcome_of(result)["test_four_is_specialized"] == "PASSED"
    assert outcome_of(result)["test_conftest_is_specialized"] == "PASSED"
    assert not any("-pytest-" in name for name in cache_files(prefix, project))


def _reshaped_rewrite(**changes):
    """A stand-in for pytest's rewrite module, with ``changes`` applied."""
    import types

    names = ("_rewrite_test", "_read_pyc", "_write_pyc", "rewrite_asserts", "PYC_TAIL", "AssertionRewritingHook")
    module = types.SimpleNamespace(**{name: getattr(rewrite, name) for name in names})
    for name, value in changes.items():
        if value is None:
            delattr(module, name)
        else:
            setattr(module, name, value)
    return module


@pytest.mark.parametrize("changes, named", [
    ({}, None),
    ({"_rewrite_test": None}, "_rewrite_test is missing"),
    ({"_write_pyc": lambda state, co, pyc: None}, "_write_pyc"),
    ({"rewrite_asserts": lambda tree, source: None}, "rewrite_asserts"),
    ({"PYC_TAIL": None}, "PYC_TAIL"),
    ({"AssertionRewritingHook": object}, "exec_module"),
], ids=["as-expected", "missing", "signature", "rewrite-signature", "no-tail", "no-exec-module"])
def test_expected_internals_names_what_differs(changes, named):
    reason = pytest_rewrite.expected_internals(_reshaped_rewrite(**changes))
    if named is None:
        assert reason is None
    else:
        assert reason is not None and named in reason


NOTHING_TO_OPTIMIZE = """
    def test_compare(tmp_path):
        left = [str(tmp_path)]
        assert left == ["elsewhere"]
"""


def test_asserts_are_rewritten_in_a_module_the_optimizer_leaves_unchanged(tmp_path, prefix):
    # the optimizer changes nothing here: the module must still run pytest's rewritten tree
    # (compiling the file's own text instead would lose the assertion rewriting)
    write(tmp_path, "test_unchanged.py", NOTHING_TO_OPTIMIZE)
    result = python("-m", "pytest", "-s", "-p", "no:cacheprovider", cwd=tmp_path, fatopt="verbose",
                    env={"PYTHONPYCACHEPREFIX": str(prefix)}, timeout=300)
    assert re.search(rf"^fatopt: {re.escape(str(tmp_path))}/test_unchanged.py: optimized, 0 function", result.stderr, re.M)
    assert re.search(r"^E\s+AssertionError: assert \[.*\] == \['elsewhere'\]$", result.stdout, re.M), result.stdout
