"""Why a tenant needs its admin, besides re-consent and held work: one place `intermission status`, `tenant show` and
the admin overview read (and any page that wants it), each reason in the admin's language.

A reason is set where its cause is seen (the install backfill that failed, the delivery search Boond refuses) and
cleared where the cause is seen gone (a later run that listed its missions); the detail says what the host answered.
"""
from __future__ import annotations

import json
import time

import redis

from config import keys

# code -> (French, English); `{detail}` is what the host answered, in words
TEXTS = {
    "backfill_failed": (
        "le rattrapage des missions existantes a échoué ({detail}) : il sera réessayé ; une fois la cause corrigée, "
        "relancez-le avec « intermission backfill »",
        "planning the missions that already exist failed ({detail}): it will be retried; once the cause is fixed, "
        "run it again with `intermission backfill`"),
    "search_refused": (
        "l'outil refuse la recherche des missions ({detail}) : les missions qui existaient avant l'installation ne "
        "peuvent pas être listées ; seules celles qu'Intermission connaît déjà sont relues, les autres le seront à "
        "leur prochaine modification",
        "the host refuses its mission search ({detail}): the missions that existed before the install cannot be "
        "listed; only those Intermission already knows are read again, the others at their next change"),
}


def flag(conn: redis.Redis, tenant_id: str, code: str, *, detail: str = "") -> None:
    """The tenant needs its admin for this reason (set again: the detail and time are refreshed)."""
    if code not in TEXTS:
        raise ValueError(f"unknown attention reason: {code}")
    conn.hset(keys.attention(tenant_id), code, json.dumps({"detail": detail, "at": time.time()}))


def clear(conn: redis.Redis, tenant_id: str, *codes: str) -> None:
    """The cause is gone."""
    if codes:
        conn.hdel(keys.attention(tenant_id), *codes)


def reasons(conn: redis.Redis, tenant_id: str) -> dict[str, dict]:
    """code -> {detail, at}, for scripts."""
    return {k.decode(): json.loads(v) for k, v in conn.hgetall(keys.attention(tenant_id)).items()}


def texts(conn: redis.Redis, tenant_id: str, language: str) -> list[str]:
    """Each reason as a sentence in the admin's language (French, else English)."""
    column = 0 if language == "fr" else 1
    return [TEXTS[code][column].format(detail=why["detail"] or "—")
            for code, why in sorted(reasons(conn, tenant_id).items()) if code in TEXTS]


def detail_of(exc: Exception) -> str:
    """What a host's refusal says, readable in either language: its HTTP status, never a trace or an id."""
    status = getattr(exc, "status", None)
    return f"HTTP {status}" if status else "—"
