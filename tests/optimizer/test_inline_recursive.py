"""One-level self-inlining of recursive generators and coroutines (fatopt/passes/inline_recursive.py):
the rewrites, what is left alone, and plain vs optimized runs compared on what a program can see
(values and their order, ``send``, ``throw``, ``close``, the value of a ``yield from``/``await``,
PEP 479, receivers of other types, rebinding after import, evaluation order, exceptions).
"""

import ast
import textwrap

import pytest

from tests.optimizer._diff import assert_same_behaviour, check_pass_case, optimized_function

def wrapped(body: str, indent: str, name: str = "f", kind: str = "generator") -> str:
    """``body`` (the inlined statements) inside the try/except the pass wraps it in, at
    ``indent``."""
    handler = f"__fatopt_runtime__.inlined_raised({name!r}, None, '{kind} raised StopIteration')"
    text = f"try:\n{textwrap.indent(textwrap.dedent(body), '    ')}except:\n    {handler}\n    raise\n"
    return textwrap.indent(text, indent)


CHANGES = [
    pytest.param(
        "def f(node):\n    if node:\n        yield from f(node[0])\n        yield node[1]\n        yield from f(node[2])",
        "def f(node):\n    if node:\n        _fatopt1_node = node[0]\n"
        + wrapped("""
            if _fatopt1_node:
                yield from f(_fatopt1_node[0])
                yield _fatopt1_node[1]
                yield from f(_fatopt1_node[2])
        """, "        ")
        + "        yield node[1]\n        _fatopt2_node = node[2]\n"
        + wrapped("""
            if _fatopt2_node:
                yield from f(_fatopt2_node[0])
                yield _fatopt2_node[1]
                yield from f(_fatopt2_node[2])
        """, "        "),
        id="generator-tree-walk",
    ),
    pytest.param(
        "def f(n):\n    if n:\n        x = yield from f(n - 1)\n        yield x\n    return n",
        "def f(n):\n    if n:\n        _fatopt1_n = n - 1\n"
        + wrapped("""
            if _fatopt1_n:
                _fatopt1_x = (yield from f(_fatopt1_n - 1))
                yield _fatopt1_x
            _fatopt0_result = _fatopt1_n
        """, "        ")
        + "        x = _fatopt0_result\n        yield x\n    return n",
        id="yield-from-value",
    ),
    pytest.param(
        "async def f(n):\n    if n <= 1:\n        return n\n    return await f(n - 1) + await f(n - 2)",
        "async def f(n):\n    if n <= 1:\n        return n\n    _fatopt1_n = n - 1\n"
        + wrapped("""
            if _fatopt1_n <= 1:
                _fatopt0_result = _fatopt1_n
            else:
                _fatopt0_result = await f(_fatopt1_n - 1) + await f(_fatopt1_n - 2)
        """, "    ", kind="coroutine")
        + "    _fatopt2_n = n - 2\n"
        + wrapped("""
            if _fatopt2_n <= 1:
                _fatopt1_result = _fatopt2_n
            else:
                _fatopt1_result = await f(_fatopt2_n - 1) + await f(_fatopt2_n - 2)
        """, "    ", kind="coroutine")
        + "    return _fatopt0_result + _fatopt1_result",
        id="coroutine-fibonacci",
    ),
    pytest.param(
        "async def f(n, out):\n    if n:\n        await f(n - 1, out)\n    out.append(n)",
        "async def f(n, out):\n    if n:\n        _fatopt1_n = n - 1\n        _fatopt1_out = out\n"
        + wrapped("""
            if _fatopt1_n:
                await f(_fatopt1_n - 1, _fatopt1_out)
            _fatopt1_out.append(_fatopt1_n)
        """, "        ", kind="coroutine")
        + "    out.append(n)",
        id="coroutine-statement-two-arguments",
    ),
    pytest.param(
        "async def f(n):\n    if n <= 0:\n        return 0\n    return 1 + await f(n - 1)",
        "async def f(n):\n    if n <= 0:\n        return 0\n    _fatopt1_n = n - 1\n"
        + wrapped("""
            if _fatopt1_n <= 0:
                _fatopt0_result = 0
            else:
                _fatopt0_result = 1 + await f(_fatopt1_n - 1)
        """, "    ", kind="coroutine")
        + "    return 1 + _fatopt0_result",
        id="coroutine-constant-operand",
    ),
]

GEN_DRIVER = "result = list(f((((), 1, ()), 2, ((), 3, ()))))"


@pytest.mark.parametrize("before, after", CHANGES)
def test_rewrites(before, after):
    if "async" in before:
        driver = (
            "def _run(c):\n    try:\n        while True:\n            c.send(None)\n"
            "    except StopIteration as e:\n        return e.value\n"
            "out = []\nresult = _run(f(6, out)) if f.__code__.co_argcount == 2 else _run(f(9))\nresult = (result, out)"
        )
    elif "node" in before:
        driver = GEN_DRIVER
    else:
        driver = "result = list(f(4))"
    check_pass_case(before, textwrap.dedent(after), "inline_recursive", driver=driver)


NOOPS = [
    pytest.param("def f(n):\n    try:\n        yield from f(n - 1)\n    except ValueError:\n        pass", id="try"),
    pytest.param("def f(n):\n    try:\n        yield from f(n - 1)\n    finally:\n        pass", id="finally"),
    pytest.param("def f(n, m):\n    with m:\n        yield from f(n - 1, m)", id="with"),
    pytest.param("async def f(n):\n    yield n\n    async for x in f(n - 1):\n        yield x", id="async-generator"),
    pytest.param("def f(n):\n    yield from g(n - 1)\ndef g(n):\n    yield n", id="not-a-self-call"),
    pytest.param("def f(n):\n    yield from g(n)\ndef g(n):\n    yield from f(n - 1)", id="two-level"),
    pytest.param("def f(n):\n    yield from f(n=n - 1)", id="keyword-argument"),
    pytest.param("def f(n, m=1):\n    yield from f(n - 1)", id="default-used"),
    pytest.param("def f(*n):\n    yield from f(*n)", id="star-args"),
    pytest.param("def f(n, *, k):\n    yield from f(n - 1, k=k)", id="keyword-only"),
    pytest.param("def f(n):\n    for i in n:\n        return i\n    yield from f(n)", id="return-in-loop"),
    pytest.param("def f(n):\n    g = lambda: n\n    yield from f(n - 1)", id="lambda"),
    pytest.param("def f(n):\n    def g():\n        return n\n    yield from f(n - 1)", id="nested-def"),
    pytest.param("def f(n):\n    global G\n    yield from f(n - 1)", id="global"),
    pytest.param("def f(n):\n    yield [x for x in n]\n    yield from f(n - 1)", id="comprehension"),
    pytest.param("def f(n):\n    yield super()\n    yield from f(n - 1)", id="super"),
    pytest.param("def f(n):\n    yield from f(n - 1)\nf = 1", id="rebound-name"),
    pytest.param("def f(n):\n    f = n\n    yield from f(n - 1)", id="local-name"),
    pytest.param("def f(n):\n    x = yield from f(n - 1) + 1", id="not-a-yield-from-operand"),
    pytest.param("async def f(n):\n    return await f(n - 1) + g()\ndef g():\n    return 1", id="operand-with-effects"),
]


@pytest.mark.parametrize("before", NOOPS)
def test_leaves_alone(before):
    if "async" in before or "await" in before:
        _, report = optimized_function(before)
        assert not any("inline_recursive" in r.passes for r in report.functions)
        return
    check_pass_case(before, None, "inline_recursive", driver="")


def test_decorated_function_is_left_alone():
    source = "import functools\n@functools.lru_cache\ndef f(n):\n    yield from f(n - 1)"
    text, _ = optimized_function(source)
    assert text is None


# -- methods: __iter__ reached by iter() on an exact type -----------------------------------------

TREE = '''
class Tree:
    def __init__(self, left, value, right):
        self.left = left
        self.value = value
        self.right = right

    def __iter__(self):
        if self.left:
            yield from self.left
        yield self.value + 0
        if self.right:
            yield from self.right

def build(lo, hi):
    if lo >= hi:
        return None
    mid = (lo + hi) // 2
    return Tree(build(lo, mid), mid, build(mid + 1, hi))
'''


def test_iter_method_rewrite():
    text, report = optimized_function(TREE, "__iter__")
    expected = "def __iter__(self):\n"
    for side in ("left", "right"):
        receiver = f"_fatopt{1 if side == 'left' else 2}_self"
        if side == "right":
            expected += "    yield self.value + 0\n"
        expected += f"    if self.{side}:\n        {receiver} = self.{side}\n        if type({receiver}) is Tree:\n"
        expected += wrapped(f"""
            if {receiver}.left:
                yield from {receiver}.left
            yield {receiver}.value + 0
            if {receiver}.right:
                yield from {receiver}.right
        """, "            ", name="__iter__")
        expected += f"        else:\n            yield from {receiver}\n"
    assert text == ast.unparse(ast.parse(expected))
    row = next(r for r in report.functions if r.qualname == "Tree.__iter__")
    assert row.guards == ("GuardBuiltins('type')",)


@pytest.mark.parametrize("variant", [
    pytest.param("class Meta(type):\n    pass\nclass Tree(metaclass=Meta):", id="metaclass"),
    pytest.param("import collections\nclass Tree(collections.UserList):", id="unknown-base"),
    pytest.param("def deco(c):\n    return c\n@deco\nclass Tree:", id="decorated-class"),
    pytest.param("class Tree:\n    def __getattr__(self, name):\n        return None", id="getattr"),
    pytest.param("class Tree:\n    def __getattribute__(self, name):\n        return object.__getattribute__(self, name)",
                 id="getattribute"),
    pytest.param("class Tree:\n    __iter__ = None", id="iter-bound-twice"),
])
def test_iter_method_left_alone(variant):
    source = "class Base:\n    pass\n" + TREE.replace("class Tree:", variant)
    text, report = optimized_function(source, "__iter__")
    assert text is None or "_fatopt" not in text


# -- plain vs optimized ---------------------------------------------------------------------------

RUN = '''
import traceback

def run(c, sends=()):
    """Drive a coroutine or generator with send(), recording what comes out."""
    got = []
    sends = list(sends)
    try:
        value = c.send(None)
        while True:
            got.append(value)
            value = c.send(sends.pop(0) if sends else None)
    except StopIteration as e:
        got.append(("return", e.value))
    except Exception as e:
        got.append((type(e).__name__, str(e), type(e.__cause__).__name__))
        got.append("".join(traceback.format_exception(e)))
    return got
'''

GENERATOR = TREE + RUN + '''
class Sub(Tree):
    pass

class Other:
    def __init__(self, values):
        self.values = values
    def __iter__(self):
        return iter(self.values)

def walk(node):
    if node.left:
        yield from walk(node.left)
    yield node.value
    if node.right:
        yield from walk(node.right)

def echo(n):
    """Values sent arrive at the yield plain Python's innermost generator is suspended at."""
    if n:
        got = yield from echo(n - 1)
        x = yield ("echo", n, got)
        return (n, x)
    x = yield ("leaf", n)
    return ("leaf", x)

def stop(n):
    if n == 0:
        raise StopIteration("from the body")
    yield n
    yield from stop(n - 1)

def failing(n):
    if n == 0:
        raise ValueError("deep")
    yield n
    yield from failing(n - 1)

def bad(t):
    """Sums the values: a value of None raises in the inlined code or below it."""
    for v in t:
        yield v + 1
'''


def _gen_driver(body: str) -> str:
    return textwrap.dedent(body)


GENERATOR_DRIVERS = [
    pytest.param("result = list(build(0, 40))", id="values-in-order"),
    pytest.param("t = build(0, 9)\nt.left = Sub(None, 'sub', None)\nresult = list(t)", id="subclass-receiver"),
    pytest.param("t = build(0, 9)\nt.right = Other([7, 8])\nresult = list(t)", id="other-receiver"),
    pytest.param("t = build(0, 9)\nt.left = 5\nresult = list(t)", id="not-iterable-receiver"),
    pytest.param("result = list(walk(build(0, 33)))", id="module-function"),
    pytest.param("result = run(echo(4), sends=['a', 'b', 'c', 'd', 'e', 'f'])", id="send"),
    pytest.param(
        "g = echo(3)\nout = [next(g), g.send('x')]\n"
        "try:\n    g.throw(KeyError('thrown'))\nexcept KeyError as e:\n    out.append(repr(e))\n"
        "out.append(next(g, 'exhausted'))\nresult = out",
        id="throw",
    ),
    pytest.param(
        "g = walk(build(0, 30))\nout = [next(g), next(g), next(g)]\ng.close()\nout.append(next(g, 'closed'))\nresult = out",
        id="close",
    ),
    pytest.param("result = run(stop(3))", id="pep479-stopiteration"),
    pytest.param("result = run(failing(3))", id="exception-deep"),
    pytest.param("result = run(failing(1))", id="exception-in-inlined-body"),
    pytest.param("result = run(stop(1))", id="pep479-in-inlined-body"),
    pytest.param("t = build(0, 9)\nt.left.left.value = None\nresult = run(bad(t))", id="exception-in-inlined-method"),
    pytest.param("t = build(0, 9)\nt.left.left.left.value = None\nresult = run(bad(t))", id="exception-below-inlined-method"),
    pytest.param(
        "g = echo(1)\nout = [next(g)]\ntry:\n    g.throw(KeyError('thrown'))\nexcept KeyError as e:\n"
        "    out.append(''.join(traceback.format_exception(e)))\nresult = out",
        id="throw-at-inlined-yield",
    ),
    pytest.param(
        "orig = walk\ndef walk(node):\n    yield 'rebound'\nresult = list(orig(build(0, 5)))",
        id="rebind-function",
    ),
    pytest.param(
        "def other(self):\n    yield 'patched'\nTree.__iter__ = other\nresult = list(build(0, 5))",
        id="rebind-method",
    ),
    pytest.param(
        "def other(self):\n    yield 'patched'\nclass Holder:\n    pass\n"
        "t = build(0, 7)\nTree.__iter__ = other\nresult = [list(t), list(Sub(None, 1, None))]",
        id="rebind-method-subclass",
    ),
]


@pytest.mark.parametrize("driver", GENERATOR_DRIVERS)
def test_generators_behave_as_plain(driver):
    assert_same_behaviour(GENERATOR, driver, specialized=("Tree.__iter__", "walk", "echo"))


COROUTINE = RUN + '''
log = []

class Num:
    """An operand that records the order of additions."""
    def __init__(self, v):
        self.v = v
    def __add__(self, other):
        log.append(("add", self.v, other.v))
        return Num(self.v + other.v)
    def __le__(self, k):
        log.append(("le", self.v))
        return self.v <= k
    def __sub__(self, k):
        log.append(("sub", self.v, k))
        return Num(self.v - k)
    def __repr__(self):
        return "Num(%r)" % self.v

class Suspend:
    def __await__(self):
        got = yield "suspended"
        return got

async def fibonacci(n):
    if n <= 1:
        return n
    return await fibonacci(n - 1) + await fibonacci(n - 2)

async def pausing(n):
    if n <= 0:
        got = await Suspend()
        return ("leaf", got)
    got = await pausing(n - 1)
    return (n, got)

async def failing(n):
    if n == 0:
        raise ValueError("deep")
    return await failing(n - 1)

async def stop(n):
    if n == 0:
        raise StopIteration("from the body")
    return await stop(n - 1)
'''

COROUTINE_DRIVERS = [
    pytest.param("result = run(fibonacci(15))", id="value"),
    pytest.param("result = (run(fibonacci(Num(6))), log)", id="evaluation-order"),
    pytest.param("result = run(pausing(3), sends=['sent'])", id="send-through"),
    pytest.param(
        "c = pausing(3)\nout = [c.send(None)]\ntry:\n    c.throw(KeyError('thrown'))\nexcept KeyError as e:\n"
        "    out.append(repr(e))\nresult = out",
        id="throw",
    ),
    pytest.param("c = pausing(3)\nout = [c.send(None)]\nc.close()\nresult = out", id="close"),
    pytest.param("result = run(failing(3))", id="exception"),
    pytest.param("result = run(stop(3))", id="pep479-stopiteration"),
    pytest.param("result = run(failing(1))", id="exception-in-inlined-body"),
    pytest.param("result = run(stop(1))", id="pep479-in-inlined-body"),
    pytest.param("result = run(fibonacci(Num(3)))", id="evaluation-order-with-log"),
    pytest.param("result = run(fibonacci(None))", id="exception-in-first-operand"),
    pytest.param(
        "orig = fibonacci\nasync def fibonacci(n):\n    return 100\nresult = run(orig(5))",
        id="rebind-function",
    ),
]


@pytest.mark.parametrize("driver", COROUTINE_DRIVERS)
def test_coroutines_behave_as_plain(driver):
    assert_same_behaviour(COROUTINE, driver, specialized=("fibonacci", "pausing"))


# -- what differs (docs/semantics.md, "A self-inlined generator level has no generator of its own")

DIFFERENCES = TREE + '''
import sys

def walk(node):
    if node.left:
        yield from walk(node.left)
    yield node.value
    if node.right:
        yield from walk(node.right)

def chain(n):
    node = None
    for i in range(n):
        node = Tree(node, i, None)
    return node

def inner_node():
    """The node of the generator the walk's outer generator delegates to, at the first value."""
    t = build(0, 15)
    g = walk(t)
    next(g)
    inner = g.gi_yieldfrom
    depth = 1 if inner.gi_frame.f_locals["node"] is t.left else 2
    return depth, sorted(n for n in g.gi_frame.f_locals if n.startswith("_fatopt"))

def profiled_calls():
    calls = []
    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "walk":
            calls.append(1)
    sys.setprofile(profile)
    try:
        list(walk(build(0, 15)))
    finally:
        sys.setprofile(None)
    return len(calls)

def deep_enough(n):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        return sum(walk(chain(n)))
    except RecursionError:
        return "RecursionError"
    finally:
        sys.setrecursionlimit(old)
'''


def test_documented_differences():
    from tests.optimizer._diff import run_optimized, run_plain

    driver = "result = (inner_node(), profiled_calls(), deep_enough(600))"
    plain = run_plain(DIFFERENCES, driver)
    optimized = run_optimized(DIFFERENCES, driver)
    assert plain.error is None and optimized.error is None
    (plain_depth, plain_names), plain_calls, plain_deep = eval(plain.result)
    (opt_depth, opt_names), opt_calls, opt_deep = eval(optimized.result)
    # the generator one level down was never made: the outer one delegates two levels down
    assert (plain_depth, opt_depth) == (1, 2)
    # the inlined level's locals live in the outer frame under fresh names
    assert plain_names == [] and opt_names == ["_fatopt1_node"]
    # profilers see a call (and a call per resumption) only for the generators actually made
    assert 0 < opt_calls < plain_calls
    # half the frames: a recursion too deep for plain fits
    assert plain_deep == "RecursionError" and opt_deep == sum(range(600))


# -- the runtime: guards on the name being defined, class_born ------------------------------------

def _load(source: str) -> dict:
    from tests.optimizer._diff import source_file
    from fatopt.optimizer import optimize_ast

    source, path = source_file(source)
    namespace: dict = {"__name__": "fatopt_case"}
    exec(compile(optimize_ast(ast.parse(source, path), path), path, "exec"), namespace)
    return namespace


def _active(func) -> bool:
    import fatopt

    found = fatopt.get_specialized(func)
    return bool(found) and func.__code__ is found[0][0]


WALK = "def walk(n):\n    yield n\n    if n:\n        yield from walk(n - 1)\n"


def test_recursive_function_is_born_active_and_follows_its_name():
    import fatopt._guards

    ns = _load(WALK)
    walk = ns["walk"]
    assert _active(walk)
    assert fatopt._guards.get(walk)[4] == 0  # never invalidated: its code was never swapped
    ns["walk"] = lambda n: iter(["other"])
    assert not _active(walk) and list(walk(2)) == [2, "other"]  # as plain
    ns["walk"] = walk
    assert _active(walk) and list(walk(3)) == [3, 2, 1, 0]


def test_decorator_applied_after_born_makes_the_guard_fail():
    # born() binds the name to the function it registers; a decorator applied after it binds
    # the name to something else, and the guard on the name fails (original code runs)
    source = (
        "import fatopt._guards as __fatopt_runtime__\n"
        "def wrap(f):\n    def wrapper(n):\n        return f(n)\n    wrapper.inner = f\n    return wrapper\n"
        + WALK
        + "@wrap\n@__fatopt_runtime__.born(walk, ('callee', 'walk'))\n"
        + "def walk(n):\n    yield 'specialized'\n"
    )
    ns: dict = {"__name__": "fatopt_case"}
    exec(compile(source, "<case>", "exec"), ns)
    inner = ns["walk"].inner
    assert not _active(inner)
    assert list(ns["walk"](2)) == [2, 1, 0]


def test_class_born_adds_the_class_guards():
    ns = _load(TREE)
    tree_class = ns["Tree"]
    method = tree_class.__dict__["__iter__"]
    assert _active(method)
    recipes = __import__("fatopt")._guards.get(method)[2]
    assert ("class_attrs", "Tree", "__iter__") in recipes
    tree_class.__getattr__ = lambda self, name: None
    assert not _active(method)
    del tree_class.__getattr__
    assert _active(method)
    tree_class.__iter__ = lambda self: iter(["patched"])
    assert not _active(method)
    assert list(method(ns["build"](0, 3))) == ["patched", 1, "patched"]  # as plain


def test_class_born_on_a_class_without_the_method_changes_nothing():
    import fatopt._guards

    class C:
        pass

    assert fatopt._guards.class_born("C", "__iter__", ("class_attrs", "C", "__iter__"))(C) is C
