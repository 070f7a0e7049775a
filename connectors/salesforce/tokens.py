"""A tenant's Salesforce tokens: encrypted in Redis, refreshed by one worker at a time, rotation kept at once."""
from __future__ import annotations

import json
import time

import redis

from config import keys
from config.infra import crypto
from connectors.salesforce import oauth

REFRESH_LOCK_TTL = 30


class NotConnected(oauth.ConsentRequired):
    """The tenant has no usable tokens: an admin must (re)connect Salesforce."""


class TenantTokens:
    """The `TokenProvider` the client uses, for one tenant."""

    def __init__(self, conn: redis.Redis, tenant_id: str, *, login_url: str, client_id: str, client_secret: str,
                 timeout: float = 10.0):
        self.conn, self.tenant_id = conn, tenant_id
        self.login_url, self.client_id, self.client_secret = login_url, client_id, client_secret
        self.timeout = timeout
        self.key = keys.sf_tokens(tenant_id)
        self.reconsent_key = keys.needs_reconsent(tenant_id)

    def __repr__(self) -> str:
        return f"TenantTokens({self.tenant_id!r})"

    # --- storage ---------------------------------------------------------------------------
    def load(self) -> dict | None:
        """The stored token record (decrypted), or None."""
        blob = self.conn.get(self.key)
        return json.loads(crypto.decrypt(blob)) if blob else None

    def store(self, tokens: oauth.TokenSet, *, keep_refresh: str | None = None) -> dict:
        """Persist a token answer in one write; with rotation off, keep the refresh token we had."""
        record = {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token or keep_refresh,
                  "instance_url": tokens.instance_url, "org_id": tokens.org_id, "user_id": tokens.user_id,
                  "stored_at": time.time()}
        pipe = self.conn.pipeline()
        pipe.set(self.key, crypto.encrypt(json.dumps(record).encode()))
        pipe.delete(self.reconsent_key)
        pipe.execute()
        return record

    def forget(self) -> dict | None:
        """Delete the tokens (disconnect); returns what was stored."""
        record = self.load()
        self.conn.delete(self.key)
        return record

    def needs_reconsent(self) -> str | None:
        """Why the tenant must connect again, if it must."""
        reason = self.conn.get(self.reconsent_key)
        return reason.decode() if reason else None

    def mark_reconsent(self, reason: str) -> None:
        """Hold the tenant's work until an admin connects again."""
        self.conn.set(self.reconsent_key, reason[:300])

    # --- TokenProvider ---------------------------------------------------------------------
    def access_token(self) -> str:
        """The current access token (no call to Salesforce)."""
        record = self._usable()
        return record["access_token"]

    def instance_url(self) -> str:
        """Where this org's API lives (from the last token answer)."""
        return self._usable()["instance_url"]

    def refresh(self, stale: str) -> str:
        """Refresh after a 401, once across all workers: whoever holds the lock refreshes, the others reuse."""
        lock_key = keys.sf_refresh_lock(self.tenant_id)
        with self.conn.lock(lock_key, timeout=REFRESH_LOCK_TTL, blocking_timeout=REFRESH_LOCK_TTL):
            record = self._usable()
            if record["access_token"] != stale:
                return record["access_token"]  # another worker refreshed while we waited
            try:
                fresh = oauth.refresh(self.login_url, self.client_id, self.client_secret,
                                      refresh_token=record["refresh_token"], timeout=self.timeout)
            except oauth.ConsentRequired as exc:
                self.mark_reconsent(f"refresh refused: {exc}")
                raise
            return self.store(fresh, keep_refresh=record["refresh_token"])["access_token"]

    def _usable(self) -> dict:
        reason = self.needs_reconsent()
        if reason:
            raise NotConnected(f"Salesforce needs to be connected again ({reason})", host="salesforce")
        record = self.load()
        if not record or not record.get("refresh_token"):
            raise NotConnected("Salesforce is not connected yet: open the tenant's connect link", host="salesforce")
        return record
