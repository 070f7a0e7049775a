"""The tenant store: round trip through a real Redis, secrets encrypted at rest and masked on display."""
from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from config import tenants
from config.tenants import Tenant
from connectors.boond.settings import BoondConfig, boond_settings

APP_KEY, USER_TOKEN, CLIENT_KEY = "app-key-do-not-leak", "user-token-do-not-leak", "client-key-do-not-leak"
SECRETS = (APP_KEY, USER_TOKEN, CLIENT_KEY)


def tenant(tenant_id: str = "acme") -> Tenant:
    return Tenant(id=tenant_id, host="boond", name="Acme Conseil", language="en",
                  host_settings=BoondConfig(base_url="https://boond.test/api/", app_token="app-token-1", app_key=APP_KEY,
                                    client_token="client-token-1", client_key=CLIENT_KEY, user_token=USER_TOKEN),
                  playbook_overrides={"steps": {"natural.review": {"enabled": False}}})


def test_a_saved_tenant_reads_back_identical(redis_conn):
    saved = tenant()
    tenants.save(saved)
    assert tenants.get("acme") == saved
    assert boond_settings(tenants.get("acme")).base_url == "https://boond.test/api"
    assert tenants.list_ids() == ["acme"]


def test_unknown_tenant_reads_as_none_and_require_names_it(redis_conn):
    assert tenants.get("nobody") is None
    with pytest.raises(tenants.TenantError, match="unknown tenant 'nobody'"):
        tenants.require("nobody")


def stored_bytes(conn) -> bytes:
    """Every key and value in Redis, as stored (strings and sets are all the tenant store writes)."""
    out = []
    for key in conn.keys("*"):
        kind = conn.type(key).decode()
        assert kind in ("string", "set"), (key, kind)
        out += [key, conn.get(key)] if kind == "string" else [key, *conn.smembers(key)]
    return b"\n".join(out)


def test_no_secret_is_stored_in_clear(redis_conn):
    saved = tenant()
    tenants.save(saved)
    raw = stored_bytes(redis_conn)
    assert b"app-token-1" not in raw and b"Acme Conseil" not in raw  # the whole record is encrypted
    for secret in (*SECRETS, saved.webhook_secret):
        assert secret.encode() not in raw, secret


def test_redacted_masks_every_secret_but_keeps_the_rest_readable():
    shown = tenant().redacted()
    text = json.dumps(shown, ensure_ascii=False)
    for secret in (*SECRETS, tenant().webhook_secret):
        assert secret not in text
    assert shown["host_settings"]["app_key"] == "app…" and shown["host_settings"]["user_token"] == "use…"
    assert shown["host_settings"]["client_key"] == "cli…" and shown["webhook_secret"].endswith("…")
    assert shown["host_settings"]["app_token"] == "app…" and shown["name"] == "Acme Conseil"  # the app token is a credential


def test_a_short_secret_is_masked_entirely():
    short = Tenant(id="acme", host="boond", webhook_secret="abc123", host_settings=BoondConfig(user_token="u1"))
    shown = short.redacted()
    assert shown["webhook_secret"] == "…" and shown["host_settings"]["user_token"] == "…"


@pytest.mark.parametrize("bad_id", ["a", "Acme", "-acme", "acme_corp", "acme corp", "acme/x", "acme*", "a" * 64, ""])
def test_a_malformed_tenant_id_is_rejected(redis_conn, bad_id):
    with pytest.raises(ValidationError, match="tenant id must be 2-63 lower-case letters, digits or dashes"):
        Tenant(id=bad_id, host="boond")
    assert tenants.get(bad_id) is None


def test_remove_deletes_every_key_of_the_tenant_and_only_its_own(redis_conn):
    for tenant_id in ("acme", "acme-2"):
        tenants.save(tenant(tenant_id))
        redis_conn.hset(f"im:t:{tenant_id}:ledger:100", "natural.review", "{}")
        redis_conn.lpush(f"im:t:{tenant_id}:activity", "{}")
    assert tenants.remove("acme") is True
    assert redis_conn.keys("im:t:acme:*") == []
    assert sorted(k.decode() for k in redis_conn.keys("im:t:acme-2:*")) == [
        "im:t:acme-2:activity", "im:t:acme-2:config", "im:t:acme-2:ledger:100"]
    assert tenants.list_ids() == ["acme-2"] and tenants.get("acme") is None
    assert tenants.remove("acme") is False


def test_remove_never_treats_the_id_as_a_pattern(redis_conn):
    tenants.save(tenants.Tenant(id="acme", host="boond", host_settings=BoondConfig(user_token="u", app_token="t", app_key="k")))
    assert tenants.remove("a*") is False
    assert tenants.get("acme") is not None
