"""Redis keys come from config.keys: a tenant's keys all live under its prefix, so removing a tenant removes them;
no production module spells a key itself, and each builder's docstring names its owner and lifetime."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from config import keys, tenants

ROOT = Path(__file__).resolve().parents[2]

GLOBAL = {
    "cdc_streams",
    "org_binding",
    "oauth_state",
    "signed_request_seen",
    "login_address",
    "login_names",
    "login_all",
    "orphan_claim",
    "orphan_dequeued",
}


def tenant_builders():
    """Every key builder that takes a tenant first."""
    for name, fn in inspect.getmembers(keys, inspect.isfunction):
        if name not in GLOBAL and name not in ("tenant_prefix", "tenant_pattern") and fn.__module__ == keys.__name__:
            yield name, fn


def key_of(fn, tenant: str = "acme") -> str:
    """The key a builder makes for `tenant`, every other part "x" (keyword-only parts by name)."""
    params = list(inspect.signature(fn).parameters.values())[1:]
    positional = ["x" for p in params if p.kind is not p.KEYWORD_ONLY]
    return fn(tenant, *positional, **{p.name: "x" for p in params if p.kind is p.KEYWORD_ONLY})


def test_every_tenant_key_is_under_the_tenant_prefix():
    for name, fn in tenant_builders():
        assert key_of(fn).startswith(keys.tenant_prefix("acme")), name


def test_removing_a_tenant_removes_every_key_built_for_it(redis_conn):
    tenants.save(tenants.Tenant(id="acme", host="boond"))
    built = []
    for _name, fn in tenant_builders():
        key = key_of(fn)
        if "*" not in key:
            redis_conn.set(key, "1")
            built.append(key)
    redis_conn.set(keys.tenant_config("other-co"), "kept")

    assert tenants.remove("acme")
    assert [k for k in built if redis_conn.exists(k)] == []
    assert redis_conn.get(keys.tenant_config("other-co")) == b"kept"


PRODUCTION = ("handlers", "webhooks", "config", "connectors", "intermission_cli")


def raw_keys(path: Path, root: Path = ROOT) -> list[str]:
    """The string literals (f-strings included, docstrings not) of a module that spell a Redis key `im:…`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bodies = [n.body for n in ast.walk(tree) if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    skipped = {id(b[0].value) for b in bodies if b and isinstance(b[0], ast.Expr)}  # docstrings
    skipped |= {id(part) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for part in n.values}  # read whole
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            text = str(node.values[0].value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if text.startswith("im:"):
            found.append(f"{path.relative_to(root)}:{node.lineno}: {text[:60]!r}")
    return found


def test_no_redis_key_is_spelled_outside_config_keys():
    modules = [p for package in PRODUCTION for p in sorted((ROOT / package).rglob("*.py")) if p != ROOT / "config" / "keys.py"]
    found = [hit for path in modules for hit in raw_keys(path)]
    assert found == [], "build the key with a config.keys function:\n" + "\n".join(found)


def test_the_scan_sees_a_raw_key(tmp_path):
    module = tmp_path / "raw.py"
    module.write_text('"""A docstring naming im:t:<tenant>:x is fine."""\nA = "im:due"\n\n\ndef f(t):\n    return f"im:t:{t}:x"\n')
    assert [hit.split(": ", 1)[1] for hit in raw_keys(module, tmp_path)] == ["'im:due'", "'im:t:'"]


def test_every_key_builder_says_its_owner_and_lifetime_in_one_line():
    for name, fn in inspect.getmembers(keys, inspect.isfunction):
        doc = (fn.__doc__ or "").strip()
        assert doc and "\n" not in doc, name
        owner = doc.split(":", 1)[0]
        assert owner.startswith(PRODUCTION) or doc.startswith(("The prefix", "A SCAN pattern")), name
