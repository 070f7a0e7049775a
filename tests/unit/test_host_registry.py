"""A host is one folder plus its registry line: no production module outside a host's folders names a host, generic
code imports only the shared connector modules, and every field of the built-in hosts' registry lines points at
something real.

The name scan reads code, not prose: a host's name in a string literal, an f-string or an identifier (a module, a
function, a field, a key) outside the host's own folders fails it; comments, docstrings and the keys' documentation
(config/keys.py's `_Key` docs) may cite a host as an example ("Boond: the technical user") and are not read. Jinja
templates are read whole (their comments aside).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest
from flask import Blueprint

from config import tenants
from handlers.hosts import registry
from webhooks.admin.host_pages import HostPages
from webhooks.plain import PlainRoute

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("intermission_cli", "config", "connectors", "handlers", "webhooks")  # sandboxes/ is not production
HOST_FOLDERS = ("handlers/hosts/{host}/", "webhooks/hosts/{host}/", "connectors/{host}/")
EXEMPT = {
    # a zstd dictionary trained on stored records (a stored format: changing its bytes changes how records pack)
    "handlers/state/packing_dicts.py",
}
BUILT_IN = sorted(registry.HOSTS)
NAMES = re.compile("|".join(BUILT_IN), re.IGNORECASE)


def own_folders() -> tuple[str, ...]:
    return tuple(folder.format(host=host) for host in BUILT_IN for folder in HOST_FOLDERS)


def generic_files(*suffixes: str):
    """Every production file with one of `suffixes` that is not in one host's folders."""
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*")):
            name = path.relative_to(ROOT).as_posix()
            if path.suffix in suffixes and not name.startswith(own_folders()) and name not in EXEMPT:
                yield name, path.read_text(encoding="utf-8")


def generic_modules():
    return generic_files(".py")


def _docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    """Where each docstring starts (the tokenizer gives strings by position), and each key's documentation (the
    `doc` of config/keys.py's `_Key` declarations: a docstring given as an argument)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "_Key":
            found.update((arg.lineno, arg.col_offset) for arg in node.args[1:] if isinstance(arg, ast.Constant))
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add((first.lineno, first.col_offset))
    return found


def host_names_in_code(text: str) -> list[tuple[int, str]]:
    """(line, token) of each string literal or name that names a built-in host; comments and docstrings aside."""
    docstrings = _docstrings(ast.parse(text))
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type in (tokenize.NAME, tokenize.STRING) and token.start not in docstrings and NAMES.search(token.string)
    ]


def test_no_production_module_outside_a_host_s_folders_names_a_host():
    found = [f"{name}:{line}: {token[:80]}" for name, text in generic_modules() for line, token in host_names_in_code(text)]
    found += [
        f"{name}:{number}: {line.strip()[:80]}"
        for name, text in generic_files(".html")
        for number, line in enumerate(re.sub(r"\{#.*?#\}", "", text, flags=re.S).splitlines(), 1)
        if NAMES.search(line)
    ]
    assert found == [], "move it to the host's folder and ask handlers.hosts.registry:\n" + "\n".join(found)


def test_the_scan_sees_a_host_named_in_code_and_not_in_prose():
    code = '''"""Boond and Salesforce, cited in a docstring."""
from connectors.boond.settings import BoondConfig  # a comment may say Boond
if tenant.host == "salesforce":
    cfg = tenant.boond
TYPES = {"boond": "resource"}
message = f"paste it in Salesforce: {url}"
def boond_tokens(tenant):
    """Salesforce in a function's docstring."""
'''
    lines = sorted({line for line, _ in host_names_in_code(code)})
    assert lines == [2, 3, 4, 5, 6, 7]


def test_the_scan_reads_every_production_package_and_each_host_s_folders_are_skipped():
    scanned = {name.split("/")[0] for name, _ in generic_modules()}
    assert scanned == set(PRODUCTION)
    assert not [name for name, _ in generic_modules() if name.startswith(("handlers/hosts/boond/", "connectors/salesforce/"))]


CONNECTOR_IMPORT = re.compile(r"^\s*(from|import)\s+connectors\.(?!errors\b|http\b|ratelimit\b|tokens\b)\w+")


def test_generic_code_catches_and_imports_only_the_shared_connector_modules():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in generic_modules()
        if not name.startswith("connectors/")
        for number, line in enumerate(text.splitlines(), 1)
        if CONNECTOR_IMPORT.search(line)
    ]
    assert found == [], "generic code uses connectors.errors (HostConsentRequired, HostBudgetExhausted…):\n" + "\n".join(found)


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_host_s_settings_are_its_registered_model_whose_secrets_are_masked(name):
    host = registry.host_of(name)
    assert tenants.HOST_SETTINGS[name] is host.settings_model
    assert host.secret_fields, "a host connects with some secret"
    values = {field: "s3cr3t-value" for field in host.secret_fields}
    if name == "salesforce":
        values["client_id"] = "client"
    tenant = tenants.Tenant(id="acme", host=name, host_settings=host.settings_model(**values))
    shown = tenant.redacted()["host_settings"]
    assert all(shown[field] == "s3c…" for field in host.secret_fields), shown
    assert host.settings_of(tenant) == tenant.host_settings


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_host_s_web_parts_and_sandbox_are_where_its_line_says(name):
    host = registry.host_of(name)
    assert host.web.webhooks and all(isinstance(registry.load(ref), (Blueprint, PlainRoute)) for ref in host.web.webhooks)
    assert all(isinstance(registry.load(ref), Blueprint) for ref in host.web.connect)
    assert isinstance(registry.load(host.web.pages), HostPages) and host.web.iframe_origins
    assert callable(registry.load(host.sandbox.app)) and callable(registry.load(host.sandbox.config))


def test_the_hosts_config_knows_are_the_registered_ones():
    assert set(tenants.HOST_SETTINGS) >= set(BUILT_IN)
    assert {"boond", "salesforce"} == set(BUILT_IN)
