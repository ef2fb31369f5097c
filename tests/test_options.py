"""-X fatopt / PYTHONFATOPT parsing and the cache tag derived from it."""

import pytest

from fatopt.compiler import typed_overrides
from fatopt.importer import Options, OptionsError, children_environment_value, from_environment


@pytest.mark.parametrize(
    "env, xopt, enabled, verbose, exclude, overrides",
    [
        pytest.param({}, {}, False, False, (), {}, id="nothing"),
        pytest.param({}, {"fatopt": True}, True, False, (), {}, id="bare-X"),
        pytest.param({"PYTHONFATOPT": "1"}, {}, True, False, (), {}, id="env-1"),
        pytest.param({"PYTHONFATOPT": ""}, {}, False, False, (), {}, id="env-empty"),
        pytest.param({"PYTHONFATOPT": "1"}, {"fatopt": "0"}, False, False, (), {}, id="X-off-wins"),
        pytest.param({"PYTHONFATOPT": "off"}, {"fatopt": True}, True, False, (), {}, id="X-on-wins"),
        pytest.param({}, {"fatopt": "verbose"}, True, True, (), {}, id="verbose"),
        pytest.param({}, {"fatopt": "exclude=a.b:c"}, True, False, ("a.b", "c"), {}, id="exclude"),
        pytest.param({}, {"fatopt": "unroll_loops=4, module_constants=off"}, True, False, (), {"unroll_loops": 4, "module_constants": False}, id="config"),
        pytest.param({"PYTHONFATOPT": "unroll_loops=2"}, {"fatopt": "unroll_loops=4"}, True, False, (), {"unroll_loops": 4}, id="X-overrides-env"),
    ],
)
def test_parse(env, xopt, enabled, verbose, exclude, overrides):
    options = from_environment(env, xopt)
    assert (options.enabled, options.verbose, options.exclude, options.overrides) == (enabled, verbose, exclude, overrides)


@pytest.mark.parametrize("text", ["bogus", "a-b=1", "=3", "unroll_loops", "verbose=maybe"])
def test_malformed(text):
    with pytest.raises(OptionsError):
        from_environment({}, {"fatopt": text})


def test_typed_overrides():
    options = from_environment({}, {"fatopt": "unroll_loops=4,module_constants=off,remove_dead_code=on"})
    assert typed_overrides(options) == {"unroll_loops": 4, "module_constants": False, "remove_dead_code": True}
    with pytest.raises(OptionsError):
        from_environment({}, {"fatopt": "unroll_loops=many"})
    with pytest.raises(OptionsError, match="PYTHONFATOPT=unroll_loops=many"):
        from_environment({"PYTHONFATOPT": "unroll_loops=many"}, {})


def test_cache_tag_depends_on_configuration_only():
    a = from_environment({}, {"fatopt": True}).cache_tag()
    assert a == from_environment({"PYTHONFATOPT": "verbose"}, {}).cache_tag()  # verbosity: same code
    assert a == from_environment({}, {"fatopt": "stats"}).cache_tag()  # a summary at exit: same code
    assert a != from_environment({}, {"fatopt": "unroll_loops=4"}).cache_tag()
    assert a.isalnum() and a.startswith("fatopt")
    assert (
        from_environment({}, {"fatopt": "unroll_loops=2,max_seq_len=3"}).cache_tag()
        == from_environment({}, {"fatopt": "max_seq_len=3,unroll_loops=2"}).cache_tag()
    )


@pytest.mark.parametrize(
    "text",
    ["on", "ON", "1", "yes", "constant_folding=on", "constant_folding=ON", "constant_folding=1",
     "constant_folding=True", "unroll_loops=16", "specialize_nested=off,max_iterations=8",
     "unroll_loops=4,unroll_loops=16"],
)
def test_equal_settings_make_one_cache_tag(text):
    """Settings equal to the default, however written, share the default's cache files."""
    assert from_environment({}, {"fatopt": text}).cache_tag() == from_environment({}, {"fatopt": True}).cache_tag()


def test_equal_non_default_settings_make_one_cache_tag():
    tags = {
        from_environment({}, {"fatopt": text}).cache_tag()
        for text in ("module_constants=off", "module_constants=OFF", "module_constants=0", "module_constants=no")
    }
    assert len(tags) == 1 and tags != {from_environment({}, {"fatopt": True}).cache_tag()}


def test_settings_table_is_config():
    """fatopt.settings checks the items without importing Config: it must list exactly its fields."""
    from fatopt.config import Config
    from fatopt.settings import DEFAULTS

    assert DEFAULTS == Config.default().as_dict()
    assert [type(v) for v in DEFAULTS.values()] == [type(v) for v in Config.default().as_dict().values()]


@pytest.mark.parametrize(
    "text, item, hint",
    [
        ("unroll_loop=4", "'unroll_loop'", "did you mean 'unroll_loops'?"),
        ("nosuchkey=1", "'nosuchkey'", None),
        ("unroll_loops=abc", "'unroll_loops=abc'", None),
        ("unroll_loops=-1", "'unroll_loops=-1'", None),
        ("constant_folding=2", "'constant_folding=2'", None),
        ("constant_folding=of", "'constant_folding=of'", "did you mean 'off'?"),
        ("verbos", "'verbos'", "did you mean 'verbose'?"),
    ],
)
def test_error_names_item_source_and_choices(text, item, hint):
    with pytest.raises(OptionsError) as info:
        from_environment({"PYTHONFATOPT": "1"}, {"fatopt": text})
    message = str(info.value)
    assert message.startswith(f"-X fatopt={text}: ") and item in message and "\n" not in message
    assert "on or off" in message or "whole number" in message or "unroll_loops=N" in message
    if hint is not None:
        assert hint in message


def test_excludes_fatopt_itself_and_submodules():
    options = Options(enabled=True, exclude=("pkg",))
    assert options.excludes("fatopt") and options.excludes("fatopt.runtime")
    assert options.excludes("pkg.sub") and not options.excludes("pkgx")


def test_environment_ignored_under_dash_E():
    assert not from_environment({"PYTHONFATOPT": "1"}, {}, ignore_environment=True).enabled
    assert from_environment({"PYTHONFATOPT": "0"}, {"fatopt": True}, ignore_environment=True).enabled


@pytest.mark.parametrize(
    "value, children",
    [
        pytest.param("verbose", "1", id="verbose-alone-stays-on"),
        pytest.param("1,verbose", "1", id="on-and-verbose"),
        pytest.param("verbose,exclude=tests,unroll_loops=4", "exclude=tests,unroll_loops=4", id="the-rest-kept"),
        pytest.param("exclude=a, v ,verbose=on", "exclude=a", id="every-verbose-item"),
        pytest.param("verbose=inherit", None, id="opt-in"),
        pytest.param("exclude=a,VERBOSE=Inherit", None, id="opt-in-any-case"),
        pytest.param("1", None, id="not-verbose"),
        pytest.param("verbose,verbose=off", None, id="verbose-turned-off"),
        pytest.param("stats", "1", id="stats-alone-stays-on"),
        pytest.param("stats,unroll_loops=4", "unroll_loops=4", id="stats-dropped"),
    ],
)
def test_children_environment_value_drops_verbose_unless_inherited(value, children):
    assert children_environment_value(value) == children
    if children is not None:  # the children run with the same settings and cache tag, silent
        parent, child = from_environment({"PYTHONFATOPT": value}, {}), from_environment({"PYTHONFATOPT": children}, {})
        assert (child.enabled, child.verbose) == (parent.enabled, False)
        assert (child.exclude, child.overrides, child.cache_tag()) == (parent.exclude, parent.overrides, parent.cache_tag())


def test_verbose_inherit_is_verbose():
    options = from_environment({"PYTHONFATOPT": "verbose=inherit"}, {})
    assert options.enabled and options.verbose and options.verbose_inherited
    assert not from_environment({"PYTHONFATOPT": "verbose=inherit,verbose=off"}, {}).verbose


@pytest.mark.parametrize("text, stats", [("stats", True), ("stats=on", True), ("STATS=off", False), ("1", False)])
def test_stats_item(text, stats):
    options = from_environment({}, {"fatopt": text})
    assert options.enabled and options.stats is stats and not options.verbose


def test_children_lose_stats_but_keep_inherited_verbose():
    assert children_environment_value("verbose=inherit,stats") == "verbose=inherit"
@pytest.mark.parametrize(
    "text, verbose, everything, inherited",
    [
        pytest.param("verbose", True, False, False, id="bare-verbose-is-the-user's-modules"),
        pytest.param("verbose=on", True, False, False, id="on"),
        pytest.param("verbose=user", True, False, False, id="user"),
        pytest.param("verbose=all", True, True, False, id="all"),
        pytest.param("verbose=ALL", True, True, False, id="all-any-case"),
        pytest.param("verbose=inherit", True, False, True, id="inherit"),
        pytest.param("verbose=all:inherit", True, True, True, id="all-and-inherit"),
        pytest.param("verbose=inherit:all", True, True, True, id="inherit-and-all"),
        pytest.param("verbose=all,verbose", True, False, False, id="the-last-verbose-item-wins"),
        pytest.param("verbose=all,verbose=off", False, False, False, id="off"),
    ],
)
def test_verbose_values(text, verbose, everything, inherited):
    options = from_environment({}, {"fatopt": text})
    assert (options.verbose, options.verbose_all, options.verbose_inherited) == (verbose, everything, inherited)
    assert options.cache_tag() == from_environment({}, {"fatopt": True}).cache_tag()


@pytest.mark.parametrize(
    "text, hint",
    [("verbose=al", "did you mean 'all'?"), ("verbose=all:inherti", "did you mean 'inherit'?"),
     ("verbose=off:all", None), ("verbose=", None)],
)
def test_bad_verbose_value_says_what_it_takes(text, hint):
    with pytest.raises(OptionsError) as info:
        from_environment({}, {"fatopt": text})
    message = str(info.value)
    assert message.startswith(f"-X fatopt={text}: item '{text}' needs on, off, all, inherit or all:inherit")
    if hint is not None:
        assert message.endswith(f"({hint})")


def test_verbose_logs_the_users_files_unless_all():
    import os
    import sysconfig

    stdlib_file = os.path.join(sysconfig.get_path("stdlib"), "argparse.py")
    site_file = os.path.join(sysconfig.get_path("purelib"), "somepkg", "mod.py")
    user_file = os.path.join(os.getcwd(), "app", "mod.py")
    verbose = from_environment({}, {"fatopt": "verbose"})
    assert [verbose.logs(p) for p in (stdlib_file, site_file, user_file)] == [False, False, True]
    everything = from_environment({}, {"fatopt": "verbose=all"})
    assert [everything.logs(p) for p in (stdlib_file, site_file, user_file)] == [True, True, True]
    assert everything.quiet_directories() == ()
    assert not any(from_environment({}, {"fatopt": "1"}).logs(p) for p in (stdlib_file, user_file))
    # what the C hook is given: directories ending with a separator
    assert verbose.quiet_directories() and all(d.endswith(os.sep) for d in verbose.quiet_directories())
    assert stdlib_file.startswith(verbose.quiet_directories()) and not user_file.startswith(verbose.quiet_directories())


def test_verbose_all_stays_in_this_process_unless_inherited():
    assert children_environment_value("verbose=all,unroll_loops=4") == "unroll_loops=4"
    assert children_environment_value("verbose=all:inherit") is None
