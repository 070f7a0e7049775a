"""A tenant's Salesforce tokens: encrypted in Redis, refreshed by one worker at a time, rotation kept at once."""
from __future__ import annotations

import redis

from config import keys
from connectors.salesforce import keys as org_keys
from connectors.salesforce import oauth
from connectors.tokens import EncryptedTokens


class NotConnected(oauth.ConsentRequired):
    """The tenant has no usable tokens: an admin must (re)connect Salesforce."""


class TenantTokens(EncryptedTokens):
    """The `TokenProvider` the client uses, for one tenant."""

    def __init__(self, conn: redis.Redis, tenant_id: str, *, login_url: str, client_id: str, client_secret: str,
                 timeout: float = 10.0):
        super().__init__(conn, tenant_id, key=org_keys.tokens(tenant_id), lock_key=org_keys.refresh_lock(tenant_id))
        self.login_url, self.client_id, self.client_secret = login_url, client_id, client_secret
        self.timeout = timeout
        self.reconsent_key = keys.needs_reconsent(tenant_id)

    # --- storage ---------------------------------------------------------------------------
    def store(self, tokens: oauth.TokenSet, *, keep_refresh: str | None = None) -> dict:
        """Persist a token answer in one write; with rotation off, keep the refresh token we had."""
        pipe = self.conn.pipeline()
        record = self.save({"access_token": tokens.access_token, "refresh_token": tokens.refresh_token or keep_refresh,
                            "instance_url": tokens.instance_url, "org_id": tokens.org_id, "user_id": tokens.user_id},
                           pipe=pipe)
        pipe.delete(self.reconsent_key)
        pipe.execute()
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
        return self.usable()["access_token"]

    def instance_url(self) -> str:
        """Where this org's API lives (from the last token answer)."""
        return self.usable()["instance_url"]

    def refresh(self, stale: str) -> str:
        """Refresh after a 401, once across all workers: whoever holds the lock refreshes, the others reuse."""
        return self.refresh_once(stale, field="access_token", renew=self._renew)

    def _renew(self, record: dict) -> str:
        try:
            fresh = oauth.refresh(self.login_url, self.client_id, self.client_secret,
                                  refresh_token=record["refresh_token"], timeout=self.timeout)
        except oauth.ConsentRequired as exc:
            self.mark_reconsent(f"refresh refused: {exc}")
            raise
        return self.store(fresh, keep_refresh=record["refresh_token"])["access_token"]

    def usable(self) -> dict:
        reason = self.needs_reconsent()
        if reason:
            raise NotConnected(f"Salesforce needs to be connected again ({reason})", host="salesforce")
        record = self.load()
        if not record or not record.get("refresh_token"):
            raise NotConnected("Salesforce is not connected yet: open the tenant's connect link", host="salesforce")
        return record
