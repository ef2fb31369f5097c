"""The validity checks of inlined code: each inlined call site tests the specialization's flag
(``__fatopt_valid_<line>_<col>__``) and makes the call as written when it is empty, so that a
frame already running when the callee changes calls the new callee, as plain Python does.

The shapes the checks take, where none is added, plain vs optimized runs of a callee rebound
*inside* its running caller (every form of inlined code: an expression, spliced statements, a
loop, a ``while`` test, a comprehension, a staticmethod, a callee rebound and restored, a new
callee that raises), the flag's own state through invalidation, revalidation and a ``__code__``
assignment, and ``mock.patch`` under the import hook.
"""

import ast
import textwrap

import fatopt
import pytest

from integration.helpers import python, write
from tests.optimizer._diff import assert_same_behaviour, only, optimized_function
from tests.runtime.helpers import active

CONFIG = only("inline_functions")

G = "def g(a, b=3):\n    return a * 10 + b\n"
H = "def h(a):\n    b = a * 2\n    return b + 1\n"
VEC = "class Vec:\n    @staticmethod\n    def dot(a, b):\n        return a * b\n"

#: (module, the function as emitted, checks shown)
SHAPES = [
    pytest.param(
        G + "def f(x=1):\n    return g(x, 2)\n",
        "def f(x=1):\n    try:\n        return g(x, 2) if not __fatopt_valid_3_0__ else x * 10 + 2\n"
        "    except:\n        __fatopt_runtime__.inlined_raised('g', (1, 2), None)\n        raise",
        id="expression",
    ),
    pytest.param(
        H + "def f(x=1):\n    y = h(x)\n    return y\n",
        "def f(x=1):\n    if not __fatopt_valid_4_0__:\n        y = h(x)\n    else:\n        try:\n"
        "            _fatopt_b_1 = x * 2\n            y = _fatopt_b_1 + 1\n"
        "        except:\n            __fatopt_runtime__.inlined_raised('h', (1, 3), None)\n            raise\n"
        "    return y",
        id="statements",
    ),
    pytest.param(
        VEC + "def f(x=2):\n    return Vec.dot(x, 3)\n",
        "def f(x=2):\n    try:\n        return Vec.dot(x, 3) if not __fatopt_valid_5_0__ else x * 3\n"
        "    except:\n        __fatopt_runtime__.inlined_raised('Vec.dot', (3, 4), None)\n        raise",
        id="staticmethod",
    ),
    pytest.param(
        "def k(a):\n    return a + 1\n" + "def g(a):\n    return k(a) * 2\n" + "def f(x=1):\n    return g(x)\n",
        "def f(x=1):\n    try:\n        try:\n            return g(x) if not __fatopt_valid_5_0__ else "
        "(k(x) if not __fatopt_valid_5_0__ else x + 1) * 2\n        except:\n"
        "            __fatopt_runtime__.inlined_raised('k', (1, 2), None)\n            raise\n"
        "    except:\n        __fatopt_runtime__.inlined_raised('g', (3, 4), None)\n        raise",
        id="nested-one-flag-per-function",
    ),
    pytest.param(
        G + "def f(xs=(1, 2)):\n    total = 0\n    for x in xs:\n        total += g(x, 1)\n    return total\n",
        "def f(xs=(1, 2)):\n    total = 0\n    _fatopt_valid_flag = __fatopt_valid_3_0__\n    for x in xs:\n"
        "        try:\n            total += g(x, 1) if not _fatopt_valid_flag else x * 10 + 1\n        except:\n"
        "            __fatopt_runtime__.inlined_raised('g', (1, 2), None)\n            raise\n    return total",
        id="in-a-loop-the-flag-is-loaded-before-it",
    ),
    pytest.param(
        G + "def f(xs=(1, 2)):\n    while xs:\n        for x in xs:\n            y = g(x, 1)\n"
        "        break\n    return [g(y, 1) for y in xs]\n",
        "def f(xs=(1, 2)):\n    _fatopt_valid_flag = __fatopt_valid_3_0__\n    while xs:\n        for x in xs:\n"
        "            try:\n                y = g(x, 1) if not _fatopt_valid_flag else x * 10 + 1\n"
        "            except:\n                __fatopt_runtime__.inlined_raised('g', (1, 2), None)\n                raise\n"
        "        break\n    try:\n        _fatopt_valid_flag = __fatopt_valid_3_0__\n"
        "        return [g(y, 1) if not _fatopt_valid_flag else y * 10 + 1 for y in xs]\n"
        "    except:\n        __fatopt_runtime__.inlined_raised('g', (1, 2), None)\n        raise",
        id="before-the-outermost-loop-and-a-comprehension",
    ),
    pytest.param(
        G + "def f(xs=(1, 2)):\n    return g(1, 1) + sum(g(y, 1) for y in xs)\n",
        "def f(xs=(1, 2)):\n    try:\n        return (g(1, 1) if not __fatopt_valid_3_0__ else 1 * 10 + 1) + "
        "sum((g(y, 1) for y in xs))\n    except:\n        __fatopt_runtime__.inlined_raised('g', (1, 2), None)\n"
        "        raise",
        id="outside-loops-the-global",
    ),
]


@pytest.mark.parametrize("module, after", SHAPES)
def test_each_inlined_site_tests_the_flag(module, after):
    emitted, _report = optimized_function(module, config=CONFIG, checks=True)
    assert emitted == after


def test_the_flag_is_named_in_born():
    source = fatopt.optimize_source(G + "def f(x=1):\n    return g(x, 2)\n", "<case>", CONFIG)
    decorators = [ast.unparse(d) for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)
                  for d in node.decorator_list]
    assert decorators == ["__fatopt_runtime__.born(f, ('callee', 'g'), valid='__fatopt_valid_3_0__')"]


#: specialized, but nothing inlined: no flag
NO_FLAG = [
    pytest.param("def f(x=1):\n    return len('abc') + x\n", only("call_pure_builtins"), id="folded-builtin"),
    pytest.param("DEBUG = False\ndef f(x=1):\n    return x if DEBUG else -x\n", only("module_constants"),
                 id="module-constant"),
]


@pytest.mark.parametrize("module, config", NO_FLAG)
def test_no_flag_without_inlined_code(module, config):
    source = fatopt.optimize_source(module, "<case>", config)
    assert "born(" in source and "__fatopt_valid_" not in source


# -- a callee rebound while its caller runs --------------------------------------------------------

DRIVER = (
    "import traceback\n"
    "def patch():\n"
    "    global g, h\n"
    "    g = lambda a, b=3: ('patched g', a, b)\n"
    "    h = lambda a: ('patched h', a)\n"
    "def restore():\n"
    "    global g, h\n"
    "    g, h = saved\n"
    "saved = (g, h)\n"
    "result = [f(patch)]\n"
    "restore()\n"
    "result.append(f(lambda: None))\n"
)

#: (the caller, taking a hook it runs before, or between, the inlined calls)
REBOUND_INSIDE = [
    pytest.param("def f(hook):\n    hook()\n    return g(1, 2)\n", id="expression"),
    pytest.param("def f(hook):\n    hook()\n    y = h(1)\n    return y\n", id="statements"),
    pytest.param("def f(hook):\n    hook()\n    return h(2)\n", id="statements-return"),
    pytest.param("def f(hook):\n    out = []\n    for i in range(3):\n        out.append(g(i, 1))\n"
                 "        if i == 0:\n            hook()\n    return out\n", id="in-a-loop"),
    pytest.param("def f(hook):\n    i = 0\n    seen = []\n    while g(i, 0) != 20 and len(seen) < 5:\n"
                 "        seen.append(i)\n        i += 1\n        hook()\n    return seen, g(i, 0)\n", id="while-test"),
    pytest.param("def f(hook, xs=(0, 1, 2)):\n    return [g(x, 1) for x in xs if x != 1 or hook() is None]\n",
                 id="comprehension"),
    pytest.param("def f(hook):\n    a = g(1, 1)\n    hook()\n    b = g(2, 2)\n    return a, b\n",
                 id="after-an-inlined-call"),
]


@pytest.mark.parametrize("caller", REBOUND_INSIDE)
def test_a_callee_rebound_inside_its_running_caller_is_called(caller):
    module = G + H + caller
    plain, optimized = assert_same_behaviour(module, DRIVER, specialized=("f",))
    first, second = ast.literal_eval(plain.result)
    assert "patched" in repr(first) and "patched" not in repr(second)


def test_an_argument_that_rebinds_the_callee_still_sees_the_old_one():
    # plain Python loads `g` before evaluating the arguments: the call goes to the old g
    caller = "def f(hook):\n    return g(hook() or 1, 2)\n"
    plain, _ = assert_same_behaviour(G + H + caller, DRIVER, specialized=("f",))
    assert ast.literal_eval(plain.result) == [12, 12]


def test_a_callee_rebound_and_restored_inside_the_caller():
    module = G + H + "def f(patch, restore):\n    a = g(1, 1)\n    patch()\n    b = g(1, 1)\n    restore()\n" \
                 "    return a, b, g(1, 1)\n"
    driver = DRIVER.replace("result = [f(patch)]", "result = [f(patch, restore)]").replace(
        "result.append(f(lambda: None))", "result.append(f(lambda: None, lambda: None))")
    plain, _ = assert_same_behaviour(module, driver, specialized=("f",))
    assert ast.literal_eval(plain.result)[0] == (11, ("patched g", 1, 1), 11)


def test_a_staticmethod_replaced_inside_its_running_caller():
    module = VEC + "def f(hook):\n    a = Vec.dot(2, 3)\n    hook()\n    return a, Vec.dot(2, 3)\n"
    driver = "def hook():\n    Vec.dot = staticmethod(lambda a, b: ('patched', a, b))\nresult = f(hook)\n"
    plain, _ = assert_same_behaviour(module, driver, specialized=("f",))
    assert ast.literal_eval(plain.result) == (6, ("patched", 2, 3))


def test_a_new_callee_that_raises_keeps_its_own_traceback():
    module = G + "def f(hook):\n    hook()\n    return g(1, 2)\n"
    driver = (
        "import traceback\n"
        "def hook():\n"
        "    global g\n"
        "    def g(a, b):\n"
        "        return a / 0\n"
        "try:\n"
        "    result = f(hook)\n"
        "except ZeroDivisionError as exc:\n"
        "    result = ''.join(traceback.format_exception(exc))\n"
    )
    plain, _ = assert_same_behaviour(module, driver, specialized=("f",))
    assert "in g" in plain.result and "ZeroDivisionError" in plain.result


# -- the flag itself --------------------------------------------------------------------------------

def test_the_flag_follows_the_specialization():
    source = fatopt.optimize_source(G + "def f(x=1):\n    return g(x, 2)\n", "<case>", CONFIG)
    namespace: dict = {"__name__": "case"}
    exec(compile(source, "<case>", "exec"), namespace)
    flag = namespace["__fatopt_valid_3_0__"]
    f, g = namespace["f"], namespace["g"]
    assert active(f) and flag == [True]
    namespace["g"] = lambda a, b: "other"
    assert not active(f) and flag == [] and f() == "other"
    namespace["g"] = g
    assert active(f) and flag == [True] and f() == 12
    f.__code__ = (lambda x=1: "mine").__code__  # the user's code wins for good
    namespace["g"] = lambda a, b: "other"
    namespace["g"] = g
    assert flag == [] and f() == "mine"


def test_a_method_keeps_its_flag_when_its_class_adds_guards():
    # a staticmethod of its own class: the class statement registers the method again
    module = ("class Vec:\n    @staticmethod\n    def dot(a, b):\n        return a * b\n"
              "    def norm(self, x=2):\n        return Vec.dot(x, x)\n")
    source = fatopt.optimize_source(module, "<case>", CONFIG)
    assert "class_born" in source
    namespace: dict = {"__name__": "case"}
    exec(compile(source, "<case>", "exec"), namespace)
    flag = namespace["__fatopt_valid_5_4__"]
    vec = namespace["Vec"]
    assert active(vec.norm) and flag == [True]
    vec.dot = staticmethod(lambda a, b: "other")
    assert flag == [] and vec().norm() == "other"


def test_mock_patch_inside_the_running_caller(tmp_path):
    """CPython's test_unittest.testmock patches a function of its own module and calls it in the
    same function: the patch is seen, as plain."""
    write(tmp_path, "mod.py", """
        import sys
        from unittest import mock

        def helper(x):
            return x + 1

        def caller():
            with mock.patch.object(sys.modules[__name__], "helper", lambda x: "patched"):
                return helper(1)

        def outer():
            return helper(1)
        """)
    write(tmp_path, "app.py", """
        from unittest import mock
        import fatopt, mod
        print(mod.caller(), mod.caller())
        with mock.patch.object(mod, "helper", lambda x: "patched"):
            print(mod.outer())
        print(mod.outer(), bool(fatopt.get_specialized(mod.caller)))
        """)
    plain = python("app.py", cwd=tmp_path, fatopt=None).stdout.splitlines()
    optimized = python("app.py", cwd=tmp_path).stdout.splitlines()
    assert plain[:3] == ["patched patched", "patched", "2 False"]
    assert optimized == ["patched patched", "patched", "2 True"]


def test_the_tables_view_hides_only_the_checks():
    # the tables of the other inlining tests show the inlined branch only: make sure that view
    # still sees the check (the helper would hide a missing fallback)
    with_checks, _ = optimized_function(G + "def f(x=1):\n    return g(x, 2)\n", config=CONFIG, checks=True)
    without, _ = optimized_function(G + "def f(x=1):\n    return g(x, 2)\n", config=CONFIG)
    assert "__fatopt_valid_" in with_checks and "__fatopt_valid_" not in without
    assert textwrap.dedent(without).count("g(x, 2)") == 0
