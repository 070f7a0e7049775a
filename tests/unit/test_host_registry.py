"""A host is one folder plus its registry line: no production module outside a host's folders names a host, generic
code imports only the shared connector modules, and every field of the built-in hosts' registry lines points at
something real.

The name scan reads code, not prose: a host's name in a string literal, an f-string or an identifier (a module, a
function, a field, a key) outside the host's own folders fails it; comments, docstrings and the keys' documentation
(config/keys.py's `_Key` docs) may cite a host as an example ("Boond: the technical user") and are not read. Jinja
templates are read whole (their comments aside), and so are the TOML words catalogs and playbooks (each key and each
text; their comments aside): a host's words live in its folder's catalog, never in the generic one.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import tokenize
import tomllib
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
# the built-in hosts' abbreviations, as an identifier's first word (`sf_usage`, `bm_token`): a host named all the same
ABBREVIATED = re.compile(r"^_*(sf|bm)_", re.IGNORECASE)


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
    """(line, token) of each string literal or name that names a built-in host, or name that abbreviates one;
    comments and docstrings aside."""
    docstrings = _docstrings(ast.parse(text))
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(text).readline)
        if token.type in (tokenize.NAME, tokenize.STRING)
        and token.start not in docstrings
        and (NAMES.search(token.string) or (token.type == tokenize.NAME and ABBREVIATED.search(token.string)))
    ]


def host_names_in_data(text: str) -> list[str]:
    """Each key or text of a TOML file (a words catalog, a playbook) that names a built-in host; comments aside."""
    found = []

    def walk(where: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{where}.{key}" if where else key, inner)
                if NAMES.search(key):
                    found.append(f"{where}.{key}" if where else key)
        elif isinstance(value, list):
            for number, inner in enumerate(value):
                walk(f"{where}[{number}]", inner)
        elif isinstance(value, str) and NAMES.search(value):
            found.append(f"{where} = {value}")

    walk("", tomllib.loads(text))
    return found


def test_no_production_module_outside_a_host_s_folders_names_a_host():
    found = [f"{name}:{line}: {token[:80]}" for name, text in generic_modules() for line, token in host_names_in_code(text)]
    found += [
        f"{name}:{number}: {line.strip()[:80]}"
        for name, text in generic_files(".html")
        for number, line in enumerate(re.sub(r"\{#.*?#\}", "", text, flags=re.S).splitlines(), 1)
        if NAMES.search(line)
    ]
    found += [f"{name}: {where[:80]}" for name, text in generic_files(".toml") for where in host_names_in_data(text)]
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
pause = settings.sf_limit_pause_seconds
key = keys.bm_token(tenant) + "sf:usage"
subframe, rbm_x = 1, 2
'''
    lines = sorted({line for line, _ in host_names_in_code(code)})
    assert lines == [2, 3, 4, 5, 6, 7, 9, 10]


def test_the_scan_sees_a_host_named_in_a_catalog_and_not_in_its_comments():
    catalog = """# the connection test (Boond and Salesforce in a comment)
test_ok = { fr = "La connexion fonctionne : {host} répond.", en = "The connection works: {host} answers." }
paste.fr = "Collez cette adresse dans Boond"
paste.en = "Paste this address in your tool"
[salesforce_page.fr]
title = "Connexion"
"""
    assert host_names_in_data(catalog) == ["paste.fr = Collez cette adresse dans Boond", "salesforce_page"]


def test_the_scan_reads_the_generic_words_catalog_and_skips_the_hosts_own():
    scanned = [name for name, _ in generic_files(".toml")]
    assert "webhooks/admin/words.toml" in scanned and "config/playbooks/default.toml" in scanned
    assert not [name for name in scanned if name.startswith("webhooks/hosts/")]


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


HEAVY = ("grpc", "google.protobuf", "fastavro", "flask", "requests", "redis", "pydantic", "prometheus_client", "joserfc")


def _loaded_after(code: str) -> list[str]:
    """The heavy packages a fresh interpreter holds after running `code` (this process has them all already)."""
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return done.stdout.split()


def test_a_registry_line_imports_nothing_heavy():
    """Listing the hosts (the CLI's --help, `tenant list`) loads no host client, web framework or stream codec."""
    assert _loaded_after("from handlers.hosts import registry; assert registry.HOSTS") == []
    assert _loaded_after("from intermission_cli.main import _parser; _parser().format_help()") == []


@pytest.mark.parametrize("name", BUILT_IN)
def test_a_built_in_host_s_named_parts_are_real_and_its_adapter_serves_the_protocol(name):
    host = registry.host_of(name)
    assert isinstance(host.adapter, type) and registry.adapter_lacks(host.adapter, host.batches_writes) == []
    assert callable(host.survey_tool) and callable(host.inactivity_activities)
    assert all(callable(getattr(host.setup, part)) for part in ("missing", "proposals", "people", "place"))
    assert all(callable(getattr(host.budget, part)) for part in ("left", "pause_seconds", "read"))
    assert isinstance(host.metrics, registry.Metrics) and (host.matching is None or callable(host.matching))


def test_a_part_named_module_attribute_is_imported_on_first_read_only():
    line = registry.Host(name="lazy", label="Lazy", adapter="tests.memo_host:MemoAdapter", survey_tool="os.path:isabs")
    assert registry.named(line, "adapter") == "tests.memo_host:MemoAdapter"
    from tests.memo_host import MemoAdapter

    assert line.adapter is MemoAdapter and registry.named(line, "adapter") is MemoAdapter
    assert line.survey_tool("/a") is True and line.budget.left(None, None) is True


def test_a_process_start_checks_each_host_s_operator_urls_though_the_registry_imported_no_host_module():
    """The start-up check (config/infra/urls.py) finds each host's operator settings with only the registry loaded."""
    probe = (
        "from handlers.hosts import registry\nfrom config.infra.urls import operator_settings_refusal\nprint(operator_settings_refusal())"
    )
    env = {name: value for name, value in os.environ.items() if name != "INTERMISSION_ALLOW_SANDBOX_HOSTS"}
    env["INTERMISSION_BOOND_BASE_URL"] = "http://169.254.169.254/api"  # cloud metadata: refused even in a sandbox
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    assert "INTERMISSION_BOOND_BASE_URL" in done.stdout, done.stdout + done.stderr


def test_a_warm_worker_holds_every_host_part_a_job_reads_so_a_fork_horse_imports_none():
    """`intermission worker` warms the registry before forking: a --fork horse used to spend most of a Boond job
    importing the adapter (docs/PERFORMANCE.md, pipeline). After `warm`, reading a job's parts imports nothing."""
    probe = (
        "import sys\nfrom handlers.hosts import registry\nregistry.warm()\nbefore = set(sys.modules)\n"
        "for host in registry.HOSTS.values():\n"
        "    host.adapter, host.settings_model, host.budget.left, host.budget.read, host.matching, host.metrics\n"
        "    host.survey_tool, host.inactivity_activities\n"
        "print(sorted(set(sys.modules) - before))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
    cold = probe.replace("registry.warm()\n", "")
    done = subprocess.run([sys.executable, "-c", cold], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "handlers.hosts.boond.adapter" in done.stdout  # without it, the first job pays the import
