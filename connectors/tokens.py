"""The one token store: a tenant's host tokens, encrypted in Redis apart from the tenant record, refreshed once.

Kept apart from the tenant record so that saving the tenant (an admin editing the playbook) can never write back a
token that a worker has just rotated away. Each host's store (`connectors/<host>/tokens.py`) says what its record
holds, how a refresh is made and what a refusal means; storage, encryption and the refresh lock live here, once.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import redis

from config.infra import crypto

REFRESH_LOCK_TTL = 30


class EncryptedTokens:
    """One tenant's token record for one host: a JSON object, encrypted at rest, written in one `SET`."""

    def __init__(self, conn: redis.Redis, tenant_id: str, *, key: str, lock_key: str):
        self.conn, self.tenant_id = conn, tenant_id
        self.key, self.lock_key = key, lock_key

    def __repr__(self) -> str:  # never print a token
        return f"{type(self).__name__}({self.tenant_id!r})"

    def load(self) -> dict | None:
        """The stored record (decrypted), or None."""
        blob = self.conn.get(self.key)
        return json.loads(crypto.decrypt(blob)) if blob else None

    def save(self, record: dict, *, pipe: redis.client.Pipeline | None = None) -> dict:
        """Replace the record in one write (on `pipe` when given, which the caller executes); `stored_at` added."""
        record = {**record, "stored_at": time.time()}
        (pipe or self.conn).set(self.key, crypto.encrypt(json.dumps(record).encode()))
        return record

    def forget(self) -> dict | None:
        """Delete the record (uninstall, disconnect); returns what was stored."""
        record = self.load()
        self.conn.delete(self.key)
        return record

    def refresh_once(self, stale: str, *, field: str, renew: Callable[[dict], str | None]) -> str | None:
        """A fresh token once across all workers: whoever holds the lock calls `renew(record)`, the others reuse it.

        `stale` is the token the caller saw refused; when the stored `field` differs, another worker has refreshed
        while this one waited, and its token is returned without a call.
        """
        with self.conn.lock(self.lock_key, timeout=REFRESH_LOCK_TTL, blocking_timeout=REFRESH_LOCK_TTL):
            record = self.usable()
            if record[field] != stale:
                return record[field]
            return renew(record)

    def usable(self) -> dict:
        """The record, or the host's error saying why there is none (override)."""
        record = self.load()
        if record is None:
            raise LookupError(f"no tokens stored for tenant {self.tenant_id!r}")
        return record
