"""Keys at rest can be rotated: add a new key first, re-encrypt, then drop the old one."""
from __future__ import annotations

import os

from cryptography.fernet import Fernet

from config import tenants
from config.infra import crypto
from config.settings import get_settings
from connectors.salesforce.tokens import TenantTokens
from connectors.boond.settings import BoondConfig, boond_settings


def _use_keys(keys: str) -> None:
    os.environ["INTERMISSION_SECRET_KEYS"] = keys
    get_settings.cache_clear()
    crypto.reset_keys()


def test_rotation_reencrypts_tenants_and_tokens_so_the_old_key_can_go(redis_conn):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    saved = os.environ["INTERMISSION_SECRET_KEYS"]
    try:
        _use_keys(old)
        tenants.save(tenants.Tenant(id="acme", host="boond", host_settings=BoondConfig(user_token="u-secret", app_token="t", app_key="k")))
        redis_conn.set("im:t:acme:sf:tokens", crypto.encrypt(b'{"refresh_token": "r-secret"}'))
        _use_keys(f"{new},{old}")
        assert crypto.rotate_all() == 2
        _use_keys(new)  # the old key is gone
        assert boond_settings(tenants.get("acme")).user_token == "u-secret"
        assert TenantTokens(redis_conn, "acme", login_url="", client_id="", client_secret="").load() == {
            "refresh_token": "r-secret"}
    finally:
        _use_keys(saved)


def test_rotation_covers_boond_marketplace_app_tokens(redis_conn):
    from connectors.boond.tokens import AppTokens

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    saved = os.environ["INTERMISSION_SECRET_KEYS"]
    try:
        _use_keys(old)
        AppTokens(redis_conn, "boond-abc").store("app-secret", "refresh-secret", 1234.0)
        _use_keys(f"{new},{old}")
        assert crypto.rotate_all() == 1
        _use_keys(new)
        record = AppTokens(redis_conn, "boond-abc").load()
        assert (record["app_token"], record["refresh_token"], record["expires_at"]) == ("app-secret", "refresh-secret", 1234.0)
    finally:
        _use_keys(saved)
