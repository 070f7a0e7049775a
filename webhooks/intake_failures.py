"""Deliveries a tenant's host sent us and we refused (wrong object, wrong org): kept per reason for the admin page.

Only deliveries that carried the tenant's secret URL are recorded (a stranger cannot fill the list); each reason
keeps its count, first and last dates; at most MAX_REASONS reasons per tenant (the oldest are forgotten).
"""
from __future__ import annotations

import hashlib
import json
import logging
import time

import redis
from config import keys

log = logging.getLogger(__name__)
MAX_REASONS = 20
TTL_SECONDS = 30 * 24 * 3600


def _key(tenant_id: str) -> str:
    return keys.intake_failures(tenant_id)


def record(conn: redis.Redis, tenant_id: str, kind: str, *, en: str, fr: str) -> None:
    """Count one refused delivery under its reason (the English text names it), with the time it happened."""
    field = hashlib.sha256(f"{kind}|{en}".encode()).hexdigest()[:16]
    now = time.time()
    key = _key(tenant_id)
    try:
        old = conn.hget(key, field)
        entry = json.loads(old) if old else {"kind": kind, "en": en, "fr": fr, "count": 0, "first": now}
        entry.update(count=int(entry.get("count", 0)) + 1, last=now)
        pipe = conn.pipeline(transaction=False)
        pipe.hset(key, field, json.dumps(entry))
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()
        _trim(conn, key)
    except redis.RedisError as exc:  # the refusal itself must still be answered
        log.warning("intake failure of %s not recorded: %s", tenant_id, exc)


def _trim(conn: redis.Redis, key: str) -> None:
    entries = conn.hgetall(key)
    if len(entries) <= MAX_REASONS:
        return
    oldest = sorted(entries, key=lambda f: json.loads(entries[f]).get("last", 0))
    conn.hdel(key, *oldest[:len(entries) - MAX_REASONS])


def recent(conn: redis.Redis, tenant_id: str, lang: str = "fr") -> list[dict]:
    """The tenant's refused deliveries, latest first: kind, message (in `lang`), count, first and last (UTC)."""
    rows = []
    for raw in conn.hgetall(_key(tenant_id)).values():
        entry = json.loads(raw)
        rows.append({"kind": entry["kind"], "message": entry["en"] if lang == "en" else entry["fr"],
                     "count": entry["count"], "first": _when(entry["first"]), "last": _when(entry["last"]),
                     "at": entry["last"]})
    return sorted(rows, key=lambda r: r["at"], reverse=True)


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp))
