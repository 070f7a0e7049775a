"""A marketplace tenant's Boond app token: encrypted in Redis apart from the tenant record, refreshed once under a lock.

Kept apart so that saving the tenant (an admin editing the playbook) can never write back a token that a
worker has just rotated away.
"""
from __future__ import annotations

import time
from dataclasses import replace

import redis

from config import keys
from connectors.boond.auth import BoondCredentials
from connectors.boond.marketplace import refresh_app_token
from connectors.errors import HostAuthError
from connectors.tokens import EncryptedTokens


class AppTokens(EncryptedTokens):
    """The app token (and refresh data) of one tenant installed from the Boond marketplace."""

    def __init__(self, conn: redis.Redis, tenant_id: str, *, base_url: str = "", app_key: str = "",
                 timeout: float = 10.0):
        super().__init__(conn, tenant_id, key=keys.host_tokens(tenant_id, "boond"),
                         lock_key=keys.host_refresh_lock(tenant_id, "boond"))
        self.base_url, self.app_key, self.timeout = base_url, app_key, timeout

    def store(self, app_token: str, refresh_token: str | None = None, expires_at: float | None = None) -> dict:
        """Replace the tokens in one write."""
        return self.save({"app_token": app_token, "refresh_token": refresh_token, "expires_at": expires_at})

    def current(self, margin: float = 0.0, now: float | None = None) -> str:
        """The app token to sign with, refreshed first when it expires within `margin` seconds."""
        record = self.usable()
        expires_at = record.get("expires_at")
        if expires_at and record.get("refresh_token") and expires_at - margin <= (now or time.time()):
            return self.refresh(record["app_token"]) or record["app_token"]
        return record["app_token"]

    def refresh(self, stale: str) -> str | None:
        """A fresh token once across all workers (the others reuse it); None when there is no refresh token."""
        return self.refresh_once(stale, field="app_token", renew=self._renew)

    def _renew(self, record: dict) -> str | None:
        if not record.get("refresh_token"):
            return None
        try:
            fresh = refresh_app_token(self.base_url, record["app_token"], record["refresh_token"], app_key=self.app_key,
                                      timeout=self.timeout)
        except HostAuthError as exc:
            raise HostAuthError(f"Boond refused to refresh the app token ({exc.args[0]}): an admin must click "
                                "Validate on the app in Boond", host="boond", status=exc.status) from None
        return self.store(*fresh)["app_token"]

    def renewed(self, refused: BoondCredentials) -> BoondCredentials | None:
        """Credentials with a refreshed token after `refused` got an auth error; None when refreshing cannot help."""
        token = self.refresh(refused.token)
        return replace(refused, token=token) if token and token != refused.token else None

    def usable(self) -> dict:
        record = self.load()
        if not record or not record.get("app_token"):
            raise HostAuthError("no Boond app token for this tenant: install (or reinstall) the app from the Boond "
                                "marketplace", host="boond")
        return record
