"""Generic code asks the host registry: no branch on a host's name outside the host's own modules, and every field
of the built-in hosts' registry lines points at something real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Blueprint

from config import tenants
from handlers.hosts import registry
from webhooks.admin.host_pages import HostPages
from webhooks.plain import PlainRoute

ROOT = Path(__file__).resolve().parents[2]
GENERIC = ("handlers", "webhooks", "config")
# One host's modules may name it: a host's folders (handlers/hosts/<host>/, webhooks/hosts/<host>/), the registry's
# built-in lines, and these, named otherwise. Everything else in GENERIC is generic code.
HOST_MODULES = (
    "handlers/hosts/",  # the adapters, the registry's built-in lines
    "webhooks/hosts/",  # each host's webhook, connect flow and admin pages
    "config/org_binding.py",  # Salesforce: one org, one tenant
    "config/sf_mapping.py",  # Salesforce: the mission object's mapping
    "config/tenants.py",  # the hosts' settings models and the Boond marketplace's tenant ids
)
BRANCHES = [
    re.compile(r"\.host\s*(==|!=)\s*[\"']"),  # tenant.host == "boond"
    re.compile(r"[\"'][\w-]+[\"']\s*(==|!=)\s*\w+(\.\w+)*\.host\b"),  # "boond" == tenant.host
    re.compile(r"\.host\s+(not\s+)?in\s+[(\[{]\s*[\"']"),  # tenant.host in ("boond", …)
    re.compile(r"\btenant\.(boond|salesforce)\b"),  # a host's settings read by generic code
    re.compile(r"[{,]\s*[\"'](boond|salesforce)[\"']\s*:"),  # a table keyed by host name
]


def generic_modules():
    """Every production module of handlers/, webhooks/ and config/ that is not one host's."""
    for package in GENERIC:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if not name.startswith(HOST_MODULES) and not path.name.startswith(tuple(registry.HOSTS)):
                yield name, path.read_text(encoding="utf-8")


def test_generic_code_never_branches_on_a_host_s_name():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in generic_modules()
        for number, line in enumerate(text.splitlines(), 1)
        if not line.lstrip().startswith("#") and any(p.search(line) for p in BRANCHES)
    ]
    assert found == [], "ask handlers.hosts.registry instead:\n" + "\n".join(found)


CONNECTOR_IMPORT = re.compile(r"^\s*(from|import)\s+connectors\.(?!errors\b|http\b|ratelimit\b)\w+")
STILL_IMPORTS_A_CONNECTOR = {"handlers/intake/telemetry.py"}  # the Salesforce limit counter, moving with the metrics (item 2)


def test_generic_code_catches_and_imports_only_the_shared_connector_modules():
    found = [
        f"{name}:{number}: {line.strip()}"
        for name, text in generic_modules()
        if name not in STILL_IMPORTS_A_CONNECTOR
        for number, line in enumerate(text.splitlines(), 1)
        if CONNECTOR_IMPORT.search(line)
    ]
    assert found == [], "generic code uses connectors.errors (HostConsentRequired, HostBudgetExhausted…):\n" + "\n".join(found)


def test_the_scan_sees_a_branch_when_there_is_one():
    lines = [
        'if tenant.host == "boond":',
        "x = 'salesforce' != t.host",
        'if tenant.host in ("boond",):',
        "cfg = tenant.boond",
        'TYPES = {"boond": "resource"}',
    ]
    assert all(any(p.search(line) for p in BRANCHES) for line in lines)


BUILTIN = sorted(registry.HOSTS)


@pytest.mark.parametrize("name", BUILTIN)
def test_a_built_in_host_s_settings_are_a_tenant_field_whose_secrets_are_masked(name):
    host = registry.host_of(name)
    assert tenants.Tenant.model_fields[host.settings].annotation == host.settings_model | None
    assert host.secret_fields, "a host connects with some secret"
    values = {field: "s3cr3t-value" for field in host.secret_fields}
    if name == "salesforce":
        values["client_id"] = "client"
    tenant = tenants.Tenant(id="acme", host=name, **{host.settings: host.settings_model(**values)})
    shown = tenant.redacted()[host.settings]
    assert all(shown[field] == "s3c…" for field in host.secret_fields), shown
    assert host.settings_of(tenant) == getattr(tenant, host.settings)


@pytest.mark.parametrize("name", BUILTIN)
def test_a_built_in_host_s_web_parts_and_sandbox_are_where_its_line_says(name):
    host = registry.host_of(name)
    assert host.web.webhooks and all(isinstance(registry.load(ref), (Blueprint, PlainRoute)) for ref in host.web.webhooks)
    assert all(isinstance(registry.load(ref), Blueprint) for ref in host.web.connect)
    assert isinstance(registry.load(host.web.pages), HostPages) and host.web.iframe_origins
    assert callable(registry.load(host.sandbox.app)) and callable(registry.load(host.sandbox.config))


def test_the_hosts_config_knows_without_the_registry_are_the_built_in_ones():
    assert tenants.HOST_NAMES >= set(BUILTIN)
    assert {"boond", "salesforce"} == set(BUILTIN)
