"""Function shape in production code (issue #24): a public function takes at most three positional arguments (the
rest keyword-only), and no public function returns a bare tuple (a NamedTuple or a frozen dataclass names its parts).

Read from the source (AST), so it holds for every module of the production packages, imported or not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("config", "connectors", "handlers", "webhooks", "intermission_cli")
GENERATED = ("connectors/salesforce/pubsub/pubsub_pb2",)  # gRPC stubs, generated
MAX_POSITIONAL = 3

# A Flask view (a function under a route or error-handler decorator) answers in Flask's own forms, `(body, status)`
# among them: the framework dictates its return, so the tuple rule leaves views alone (not the helpers they call).
FLASK_VIEW_DECORATORS = {"route", "get", "post", "put", "patch", "delete", "errorhandler", "app_errorhandler"}


def _functions(tree: ast.Module):
    """(qualified name, node, is_method) of every module-level function and method of a module-level class."""

    def walk(body, prefix: str, in_class: bool):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{prefix}{node.name}", node, in_class
            elif isinstance(node, ast.ClassDef):
                yield from walk(node.body, f"{prefix}{node.name}.", True)

    yield from walk(tree.body, "", False)


def _public(qualname: str) -> bool:
    return not any(part.startswith("_") for part in qualname.split("."))


def _positional(node: ast.FunctionDef, is_method: bool) -> list[str]:
    names = [a.arg for a in node.args.posonlyargs + node.args.args]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
    return names[1:] if is_method and not static and names else names


def _flask_view(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in FLASK_VIEW_DECORATORS
               for d in node.decorator_list)


def _tuple_annotation(node: ast.FunctionDef) -> bool:
    """`-> tuple[A, B]` (a fixed-length tuple: a record without names); `tuple[A, ...]` is a sequence."""
    ann = node.returns
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        ann = ast.parse(ann.value, mode="eval").body
    if isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name) and ann.value.id in ("tuple", "Tuple"):
        parts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        return not any(isinstance(p, ast.Constant) and p.value is Ellipsis for p in parts)
    return isinstance(ann, ast.Name) and ann.id in ("tuple", "Tuple")


def _returns_tuple_literal(node: ast.FunctionDef) -> bool:
    """A `return a, b` in the function itself (not in a function nested in it)."""

    def walk(n):
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, ast.Return) and isinstance(child.value, ast.Tuple) and len(child.value.elts) > 1:
                return True
            if walk(child):
                return True
        return False

    return walk(node)


def violations(root: Path = ROOT, packages: tuple[str, ...] = PRODUCTION) -> dict[str, list[str]]:
    """Each rule's offenders, as `path:line name`."""
    found: dict[str, list[str]] = {"positional": [], "tuple": []}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(GENERATED):
                continue
            for qualname, node, is_method in _functions(ast.parse(path.read_text(encoding="utf-8"))):
                if not _public(qualname):
                    continue
                where = f"{rel}:{node.lineno} {qualname}"
                if len(_positional(node, is_method)) > MAX_POSITIONAL:
                    found["positional"].append(where)
                if not _flask_view(node) and (_tuple_annotation(node) or _returns_tuple_literal(node)):
                    found["tuple"].append(where)
    return found


def test_public_functions_take_at_most_three_positional_arguments():
    offenders = violations()["positional"]
    assert offenders == [], "make the arguments past the third keyword-only (`*,`):\n" + "\n".join(offenders)


def test_no_public_function_returns_a_bare_tuple():
    offenders = violations()["tuple"]
    assert offenders == [], "return a NamedTuple or a frozen dataclass naming its parts:\n" + "\n".join(offenders)


def test_the_scan_sees_both_shapes(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text(
        "from typing import NamedTuple\n\n\n"
        "class Pair(NamedTuple):\n    a: int\n    b: int\n\n\n"
        "def wide(a, b, c, d):\n    return a\n\n\n"
        "def fine(a, b, c, *, d):\n    return Pair(a, b)\n\n\n"
        "def pair(a) -> tuple[int, int]:\n    return a, a\n\n\n"
        "def literal(a):\n    return a, a\n\n\n"
        "def many(a) -> tuple[int, ...]:\n    return tuple(a) if a else ()\n\n\n"
        "@bp.get('/x')\ndef view():\n    return 'body', 400\n\n\n"
        "def _private(a, b, c, d):\n    return a, b\n\n\n"
        "class C:\n    def method(self, a, b, c):\n        return Pair(a, b)\n\n"
        "    def wide(self, a, b, c, d):\n        return None\n"
    )
    found = violations(tmp_path, ("pkg",))
    assert [w.split(" ")[1] for w in found["positional"]] == ["wide", "C.wide"]
    assert [w.split(" ")[1] for w in found["tuple"]] == ["pair", "literal"]
