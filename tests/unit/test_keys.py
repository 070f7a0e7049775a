"""Redis keys come from config.keys: a tenant's keys all live under its prefix, so removing a tenant removes them."""

from __future__ import annotations

import inspect

from config import keys, tenants

GLOBAL = {"org_binding", "oauth_state", "boond_signed_request_seen", "login_unknown", "orphan_claim", "orphan_dequeued"}


def tenant_builders():
    """Every key builder that takes a tenant first."""
    for name, fn in inspect.getmembers(keys, inspect.isfunction):
        if name not in GLOBAL and name not in ("tenant_prefix", "tenant_pattern") and fn.__module__ == keys.__name__:
            yield name, fn


def test_every_tenant_key_is_under_the_tenant_prefix():
    for name, fn in tenant_builders():
        extra = ["x"] * (len(inspect.signature(fn).parameters) - 1)
        assert fn("acme", *extra).startswith(keys.tenant_prefix("acme")), name


def test_removing_a_tenant_removes_every_key_built_for_it(redis_conn):
    tenants.save(tenants.Tenant(id="acme"))
    built = []
    for _name, fn in tenant_builders():
        key = fn("acme", *["x"] * (len(inspect.signature(fn).parameters) - 1))
        if "*" not in key:
            redis_conn.set(key, "1")
            built.append(key)
    redis_conn.set(keys.tenant_config("other-co"), "kept")

    assert tenants.remove("acme")
    assert [k for k in built if redis_conn.exists(k)] == []
    assert redis_conn.get(keys.tenant_config("other-co")) == b"kept"
