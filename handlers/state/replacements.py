"""The replacement candidates the matching run found for a mission the consultant ends early (issue #29, point 3),
kept for the mission's pipeline, which adds them to its "find a replacement" step."""
from __future__ import annotations

import json

import redis

from config import keys

TTL_SECONDS = 90 * 86400  # long after the step is due; a new run writes them again while the mission is open


def load(conn: redis.Redis, tenant_id: str, mission_id: str) -> list[str]:
    """The candidate lines ("Eve Martin — 3 compétences sur 4, disponible le 21/12, même lieu"), best first."""
    raw = conn.get(keys.match_replacements(tenant_id, mission_id))
    return json.loads(raw) if raw else []


def save(conn: redis.Redis, tenant_id: str, mission_id: str, *, lines: list[str]) -> bool:
    """Keep the lines; True when they changed (the mission is then planned again)."""
    if load(conn, tenant_id, mission_id) == lines:
        return False
    conn.set(keys.match_replacements(tenant_id, mission_id), json.dumps(lines, ensure_ascii=False), ex=TTL_SECONDS)
    return True
