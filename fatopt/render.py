"""The text of an optimized module, for people (``fatopt show``, ``fatopt diff``,
``optimize_source``): the file as written, with only the changed functions replaced.

Each changed function's lines (first decorator to last line) give way to the text of what the
optimizer emits for it (:mod:`fatopt.emit`): for a specialization, the fallback ``def`` and the
specialized ``def``; for an unguarded rewrite, the ``def`` with its new body. Whatever can be
copied is copied as written: the fallback of a function with no decorators, defaults or
annotations is its own text; the decorators and ``def`` line of the specialized function are
too, with the runtime's decorator added. Only new bodies are printed with ``ast.unparse``. The
runtime import is one line added after the docstring and ``__future__`` imports. Everything else,
comments and blank lines included, stays where it was, so a diff shows only real changes.

The text must compile to what the tree would (the optimizer checks that it compiles, and prints
the whole module with ``ast.unparse`` instead if it ever does not).
"""

from __future__ import annotations

from fatopt import _PRIVATE_BUILTINS as __builtins__  # noqa: F401 - see fatopt/__init__.py

import ast
import io
import tokenize
from typing import Iterable, Iterator

from fatopt.emit import Change, Specialization, class_decorators, rewritten_def, runtime_import_position, runtime_imports, specialized_statements

__all__ = ["render_source"]

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def render_source(source: str, tree: ast.Module, changes: dict[ast.AST, Change], watches: dict[ast.AST, list[ast.stmt]] | None = None) -> str:
    """The text of ``tree`` (parsed from ``source``) with ``changes`` applied and ``watches``
    added after their ``def`` (both keyed by the original function nodes, as
    :func:`fatopt.emit.emit_module` takes them)."""
    watches = watches or {}
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        del lines[-1]  # the text ended with a newline
    replacements: list[tuple[int, int, list[str]]] = []  # (first line, last line, new lines), 1-based
    for node, change in changes.items():
        start = _first_line(node)  # type: ignore[arg-type]  # changes are keyed by defs
        replacements.append((start, node.end_lineno or node.lineno, _change_lines(lines, change)))  # type: ignore[attr-defined]
    for node, watch in watches.items():
        end = node.end_lineno or node.lineno  # type: ignore[attr-defined]
        indent = _leading_space(lines[node.lineno - 1])  # type: ignore[attr-defined]
        replacements.append((end + 1, end, [indent + ast.unparse(stmt) for stmt in watch]))
    imports = runtime_imports(changes, watches)
    if imports:
        after = _runtime_import_after(tree.body)
        replacements.append((after + 1, after, [ast.unparse(stmt) for stmt in imports]))
    for node in ast.walk(tree):
        if type(node) is ast.ClassDef:
            decorators = class_decorators(node, changes)
            if decorators:  # innermost: just above the class line (after the
                # runtime import if that goes there too: the sort below is stable)
                indent = _leading_space(lines[node.lineno - 1])
                added = [indent + "@" + ast.unparse(d) for d in decorators]
                replacements.append((node.lineno, node.lineno - 1, added))
    out: list[str] = []
    copied = 0  # lines of `lines` handled so far
    for start, end, new in sorted(replacements, key=lambda r: (r[0], r[1])):
        out.extend(lines[copied:start - 1])
        out.extend(new)
        copied = max(copied, end)
    out.extend(lines[copied:])
    return "\n".join(out) + "\n"


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])


def _runtime_import_after(body: list[ast.stmt]) -> int:
    """The line after which the runtime import goes: where :func:`fatopt.emit.emit_module` puts
    it among the statements (after the docstring and ``__future__`` imports), on a line of its
    own; before the first statement's line when it goes first (comments, a shebang or an
    encoding line above stay where they are)."""
    position = runtime_import_position(body)
    if position == 0:
        return _first_line(body[0]) - 1 if body else 0
    return body[position - 1].end_lineno or body[position - 1].lineno


def _leading_space(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t\f"))]


def _header_end(lines: list[str], node: FunctionNode) -> int | None:
    """The line of the colon that ends ``node``'s ``def`` header, or None if the body starts on
    that line (``def f(): return 1``) or the header cannot be read."""
    rows = iter(lines[node.lineno - 1:])
    depth = 0
    try:
        for token in tokenize.generate_tokens(lambda: next(rows, "") + "\n"):
            if token.type != tokenize.OP:
                continue
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
            elif token.string == ":" and depth == 0:
                colon = node.lineno + token.start[0] - 1
                first = node.body[0]
                return colon if _first_line(first) > colon else None
    except (tokenize.TokenError, SyntaxError):
        return None
    return None


def _indented(text: str, indent: str) -> list[str]:
    """``text`` (printed by ``ast.unparse`` at column 0) indented by ``indent``; the lines inside
    a multi-line string literal are left alone (indenting them would change its value)."""
    inside = set(_string_continuation_lines(text))
    return [line if number in inside or not line else indent + line
            for number, line in enumerate(text.split("\n"), 1)]


def _string_continuation_lines(text: str) -> Iterator[int]:
    string_parts = {tokenize.STRING}
    string_parts.update(getattr(tokenize, name) for name in ("FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, name))
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in string_parts and token.end[0] > token.start[0]:
            yield from range(token.start[0] + 1, token.end[0] + 1)


def _body_lines(body: Iterable[ast.stmt], indent: str) -> list[str]:
    return _indented(ast.unparse(ast.Module(body=list(body), type_ignores=[])), indent)


def _change_lines(lines: list[str], change: Change) -> list[str]:
    """The lines replacing the function ``change.original``."""
    node = change.original
    indent = _leading_space(lines[_first_line(node) - 1])
    colon = _header_end(lines, node)
    if isinstance(change, Specialization):
        fallback, specialized = specialized_statements(change)
        if colon is None:  # the body is on the header's line: print the specialized def whole
            return _fallback_lines(lines, node, fallback, colon, indent) + _indented(ast.unparse(specialized), indent)
        return _fallback_lines(lines, node, fallback, colon, indent) + _specialized_lines(lines, node, specialized, colon, indent)
    if colon is None:
        return _indented(ast.unparse(rewritten_def(change)), indent)
    return lines[_first_line(node) - 1:colon] + _body_lines(change.body, _body_indent(lines, node))


def _body_indent(lines: list[str], node: FunctionNode) -> str:
    return _leading_space(lines[_first_line(node.body[0]) - 1])


def _fallback_lines(lines: list[str], node: FunctionNode, fallback: FunctionNode, colon: int | None, indent: str) -> list[str]:
    """The fallback ``def``: the function as written when its header is the fallback's (no
    decorators, defaults or annotations), else the fallback's header and the body as written."""
    args = node.args
    same_header = not node.decorator_list and node.returns is None and not args.defaults and not any(
        args.kw_defaults) and all(
        a.annotation is None for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a is not None)
    if same_header and getattr(node, "type_comment", None) is None:
        return lines[node.lineno - 1:node.end_lineno]
    if colon is None:
        return _indented(ast.unparse(fallback), indent)
    header = ast.unparse(_with_body(fallback, [ast.Pass()])).split("\n")[:-1]  # without "pass"
    return _indented("\n".join(header), indent) + lines[colon:node.end_lineno]


def _specialized_lines(lines: list[str], node: FunctionNode, specialized: FunctionNode, colon: int, indent: str) -> list[str]:
    """The specialized ``def``: the decorators and header as written, the runtime's decorator
    last (innermost, as emitted), the new body."""
    born = specialized.decorator_list[-1]
    return (
        lines[_first_line(node) - 1:node.lineno - 1]
        + [f"{indent}@{ast.unparse(born)}"]
        + lines[node.lineno - 1:colon]
        + _body_lines(specialized.body, _body_indent(lines, node))
    )


def _with_body(node: FunctionNode, body: list[ast.stmt]) -> FunctionNode:
    import copy

    new = copy.copy(node)
    new.body = body
    return new
