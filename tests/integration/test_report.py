"""``fatopt report``: on files (every outcome, with guards and reasons; opt-outs honoured), on a
run of a program (its output and exit status untouched, the runtime's invalidation counts, only
the program's own modules unless asked), in text, JSON (the documented schema) and HTML (escaped,
self-contained); usage errors are one line."""

from __future__ import annotations

import json
import shutil
import re
import sys
from pathlib import Path

import pytest

from .helpers import python, write
from .report_fixture import make_project


def fatopt_cmd(*args, **kwargs):
    return python("-m", "fatopt", *args, fatopt=None, **kwargs)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_project(tmp_path_factory.mktemp("report"))


def _functions(report: dict) -> dict[str, dict]:
    return {f"{m['path']}:{f['qualname']}": f for m in report["modules"] for f in m["functions"]}


def _modules(report: dict) -> dict[str, dict]:
    return {m["path"]: m for m in report["modules"]}


def test_json_on_files_has_the_schema_every_outcome_guards_and_reasons(project):
    proc = fatopt_cmd("report", "--format", "json", "app", "main.py", cwd=project)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["schema_version"] == 1
    assert set(report) >= {"schema_version", "fatopt_version", "python_version", "settings", "totals", "run", "modules"}
    assert report["run"] is None
    modules = _modules(report)
    core = modules["app/core.py"]
    assert set(core) >= {"path", "name", "status", "reason", "notes", "counts", "functions"}
    assert core["status"] == "optimized"
    functions = _functions(report)
    area = functions["app/core.py:area"]
    assert set(area) >= {"qualname", "line", "first_line", "end_line", "status", "guards", "passes", "reason", "runtime"}
    assert area["status"] == "specialized" and any("SCALE" in guard for guard in area["guards"])
    assert area["runtime"] is None  # no run
    assert functions["app/core.py:label"]["status"] == "specialized"
    assert functions["app/core.py:local_constant"]["status"] == "optimized"
    assert functions["app/core.py:local_constant"]["guards"] == []
    size = functions["app/core.py:Box.size"]
    assert size["status"] == "unchanged" and size["reason"]
    assert (size["first_line"], size["line"]) == (size["line"] - 1, size["line"])  # its decorator's line
    dynamic = functions["app/dynamic.py:dynamic"]
    assert dynamic["status"] == "skipped" and "exec" in dynamic["reason"]
    legacy = modules["app/legacy.py"]
    assert legacy["status"] == "opted_out" and "__fatopt__" in legacy["reason"] and legacy["functions"] == []
    totals = report["totals"]
    assert totals["modules"] == len(report["modules"]) == 6
    assert totals["functions"] == sum(len(m["functions"]) for m in report["modules"])
    assert totals["specialized"] == 2 and totals["optimized"] == 1 and totals["skipped"] == 1


def test_text_on_files_lists_each_function_with_its_outcome(project):
    proc = fatopt_cmd("report", "app", cwd=project)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("fatopt report: 5 modules, 5 functions: 2 specialized, 1 optimized")
    assert re.search(r"^  specialized +area \(line 5\): guards GuardGlobals\(.*SCALE", out, re.M)
    assert re.search(r"^  skipped +dynamic \(line 2\): .*exec", out, re.M)
    assert re.search(r"^app/legacy.py: opted out: .*__fatopt__", out, re.M)


def test_settings_reach_the_optimizer(project):
    proc = fatopt_cmd("report", "--format", "json", "-c", "module_constants=off", "app/core.py", cwd=project)
    report = json.loads(proc.stdout)
    assert report["settings"] == {"module_constants": False}
    assert _functions(report)["app/core.py:area"]["status"] != "specialized"


def test_a_run_passes_output_and_exit_status_through_and_counts_invalidations(project):
    plain = python("main.py", "3", cwd=project, fatopt=None)
    proc = fatopt_cmd("report", "--format", "json", "-o", "report.json", "--", "main.py", "3", cwd=project)
    assert proc.returncode == plain.returncode == 3
    assert proc.stdout == plain.stdout  # the program's output, untouched
    assert proc.stderr == plain.stderr == ""
    report = json.loads((project / "report.json").read_text())
    run = report["run"]
    assert run["target"] == ["main.py", "3"] and run["exit_status"] == 3
    assert set(run["imports"]) == {"cached", "optimized", "plain"}
    assert run["invalidations"] >= 1 and run["revalidations"] >= 1
    modules = _modules(report)
    # the program's own modules, the script included; not the standard library
    assert set(modules) == {"main.py", "app/__init__.py", "app/core.py", "app/dynamic.py", "app/legacy.py"}
    assert modules["main.py"]["name"] == "__main__" and modules["app/core.py"]["name"] == "app.core"
    functions = _functions(report)
    area = functions["app/core.py:area"]["runtime"]
    assert area["registered"] and area["active"] and area["invalidations"] >= 1 and area["revalidations"] >= 1
    label = functions["app/core.py:label"]["runtime"]
    assert label["registered"] and label["invalidations"] == 0
    assert functions["app/core.py:local_constant"]["runtime"] is None  # no guard, nothing to count


def test_a_run_report_goes_to_stderr_without_o(project):
    proc = fatopt_cmd("report", "--", "main.py", cwd=project)
    plain = python("main.py", cwd=project, fatopt=None)
    assert proc.returncode == 0 and proc.stdout == plain.stdout
    assert "run of main.py: exit status 0" in proc.stderr
    assert re.search(r"run: active at exit; invalidated [1-9]\d*x, revalidated [1-9]\d*x", proc.stderr)


def test_a_run_of_a_module_and_all_modules(project):
    write(project, "app/__main__.py", "from app import core\nprint(core.area(1, 1))\n")
    try:
        proc = fatopt_cmd("report", "--format", "json", "--all-modules", "-m", "app", cwd=project)
    finally:
        (project / "app" / "__main__.py").unlink()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "10\n"
    report = json.loads(proc.stderr)
    names = {m["name"] for m in report["modules"]}
    assert {"__main__", "app.core"} <= names
    assert "runpy" in names or "textwrap" in names or "os" in names  # the standard library, asked for


def test_a_program_that_leaves_no_record_is_one_line_and_exit_2(tmp_path):
    write(tmp_path, "quick.py", "import os\nprint('bye', flush=True)\nos._exit(0)\n")
    proc = fatopt_cmd("report", "--", "quick.py", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "bye\n"
    assert len(proc.stderr.strip().splitlines()) == 1 and "no record" in proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        pytest.param([], "give files or directories", id="nothing"),
        pytest.param(["nosuch.py"], "no such file", id="missing-path"),
        pytest.param(["--format", "html", "--", "main.py"], "needs -o", id="html-run-to-terminal"),
        pytest.param(["--format", "pdf", "app"], "invalid choice", id="bad-format"),
        pytest.param(["--"], "give the program", id="empty-program"),
        pytest.param(["-c", "nosuch=1", "app"], "nosuch", id="bad-setting"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(project, args, message):
    proc = fatopt_cmd("report", *args, cwd=project)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr


def test_html_is_escaped_and_self_contained(project):
    proc = fatopt_cmd("report", "--format", "html", "-o", "report.html", "app", cwd=project)
    assert proc.returncode == 0, proc.stderr
    page = (project / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # the docstring's </script><img ...> is text on the page, not markup
    assert page.count("</script>") == 1 and page.count("<script>") == 1
    assert "<img" not in page and "<b>" not in page
    assert "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;b&gt;" in page
    # self-contained: nothing to fetch
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(link|img|iframe)\b|<[^>]*\b(src|href)=\S*:", page)  # no external resource
    # each function's lines coloured by outcome, its guards on hover
    assert re.search(r'<span class="fn st-specialized" title="specialized: area \(line 5\)\nguards GuardGlobals', page)
    for status in ("specialized", "optimized", "unchanged", "skipped"):
        assert f'class="fn st-{status}"' in page
    # the optimized text beside the source: the runtime's import appears only there
    assert "import fatopt._guards as __fatopt_runtime__" in page


def test_html_of_a_run_shows_the_counts(project):
    proc = fatopt_cmd("report", "--format", "html", "-o", "run.html", "--", "main.py", cwd=project)
    assert proc.returncode == 0, proc.stderr
    page = (project / "run.html").read_text(encoding="utf-8")
    assert re.search(r"invalidated [1-9]\d*x, revalidated [1-9]\d*x", page)
    assert "<th>invalidations</th>" in page


def test_report_runs_the_interpreter_it_runs_on(project):
    """The child is this interpreter (its stdlib is what is left out)."""
    proc = fatopt_cmd("report", "--format", "json", "-o", "r.json", "--", "main.py", cwd=project)
    assert proc.returncode == 0
    report = json.loads((project / "r.json").read_text())
    assert report["run"]["argv"][0] == sys.executable


def test_help_names_the_forms_and_formats(tmp_path):
    proc = fatopt_cmd("report", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert "usage: fatopt report" in proc.stdout and "--format" in proc.stdout and "--all-modules" in proc.stdout


def test_program_arguments_that_look_like_options_reach_the_program(tmp_path):
    write(tmp_path, "echo.py", "import sys\nprint(sys.argv[1:])\n")
    proc = fatopt_cmd("report", "-o", "r.txt", "--", "echo.py", "--format", "json", "-o", "x", "-m", "y", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['--format', 'json', '-o', 'x', '-m', 'y']\n"
    assert (tmp_path / "r.txt").read_text().startswith("fatopt report: 1 module")
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/__main__.py", "import sys\nprint(sys.argv[1:])\n")
    proc = fatopt_cmd("report", "-o", "r.txt", "-m", "pkg", "--", "-c", "z", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['--', '-c', 'z']\n"


def test_a_run_honours_exclude(project):
    proc = fatopt_cmd("report", "--format", "json", "-o", "ex.json", "-c", "exclude=app.dynamic", "--", "main.py",
                      cwd=project)
    assert proc.returncode == 0, proc.stderr
    modules = _modules(json.loads((project / "ex.json").read_text()))
    assert modules["app/dynamic.py"]["status"] == "excluded" and modules["app/dynamic.py"]["functions"] == []
    assert modules["app/core.py"]["status"] == "optimized"


REALISTIC_APP = Path(__file__).resolve().parent.parent / "fixtures" / "realistic_app"


@pytest.fixture(scope="module")
def realistic_app(tmp_path_factory):
    """A copy of tests/fixtures/realistic_app (a run writes caches beside its modules)."""
    target = tmp_path_factory.mktemp("realistic") / "app"
    shutil.copytree(REALISTIC_APP, target)
    return target


def _expected_first_blockers(app: Path) -> dict[tuple[str, int], str]:
    from tests.optimizer.test_realistic_app import expected_outcomes

    return {
        (f"inventory/{path.name}", line): kind
        for path in sorted((app / "inventory").glob("*.py"))
        for line, kind in expected_outcomes(path.read_text()).items()
    }


@pytest.mark.parametrize("how", ["files", "run"])
def test_the_realistic_app_report_names_the_blocker_of_each_unspecialized_function(realistic_app, how):
    """The issue's acceptance: for a package whose modules import their settings from
    ``config.py``, the report (on the files, and on a run of the program) gives every function
    that is not specialized the blocker its def line's comment names, in the JSON's ``blockers``
    and in the text's reason."""
    if how == "files":
        proc = fatopt_cmd("report", "--format", "json", "inventory", cwd=realistic_app)
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
    else:
        proc = fatopt_cmd("report", "--format", "json", "-o", "report.json", "--", "-m", "inventory", "items.csv",
                          cwd=realistic_app)
        assert proc.returncode == 0, proc.stderr
        report = json.loads((realistic_app / "report.json").read_text())
    expected = _expected_first_blockers(realistic_app)
    seen = {}
    for module in report["modules"]:
        path = module["path"].replace("\\", "/")
        if not path.startswith("inventory/"):
            path = "inventory/" + path.rsplit("/inventory/", 1)[-1]
        for function in module["functions"]:
            if function["status"] in ("specialized", "optimized"):
                seen[path, function["line"]] = function["status"]
                continue
            assert function["blockers"], function
            first = function["blockers"][0]
            assert first["detail"] in function["reason"]
            if first["kind"] in ("imported", "rebound"):
                assert f"`{first['name']}" in function["reason"] and f"line {first['line']}" in function["reason"]
            seen[path, function["line"]] = first["kind"]
    assert seen == expected
    text = fatopt_cmd("report", "inventory/report.py", cwd=realistic_app).stdout
    assert re.search(r"^  unchanged +money \(line \d+\): `config\.CURRENCY` is read from the module `\.config`", text, re.M), text
