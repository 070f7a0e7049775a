"""Mission snapshots, the consultant → missions index and the due index, in Redis."""
from __future__ import annotations

from datetime import date

import redis

from config import keys
from handlers.model import MissionSnapshot

DUE_KEY = keys.DUE


class SnapshotStore:
    """The last snapshot of each mission of one tenant."""

    def __init__(self, conn: redis.Redis, tenant: str):
        self.conn = conn
        self.tenant = tenant

    def _key(self, mission_id: str) -> str:
        return keys.mission(self.tenant, mission_id)

    def get(self, mission_id: str) -> MissionSnapshot | None:
        """The previous snapshot, if any."""
        raw = self.conn.get(self._key(mission_id))
        return MissionSnapshot.model_validate_json(raw) if raw else None

    def save(self, snap: MissionSnapshot) -> None:
        """Keep the snapshot and index it under its consultant."""
        pipe = self.conn.pipeline()
        pipe.set(self._key(snap.mission_id), snap.model_dump_json(exclude_defaults=True))
        if snap.consultant:
            pipe.sadd(keys.consultant_missions(self.tenant, snap.consultant.id), snap.mission_id)
        pipe.execute()

    def missions_of(self, consultant_id: str) -> set[str]:
        """Every mission seen for one consultant."""
        return {m.decode() for m in self.conn.smembers(keys.consultant_missions(self.tenant, consultant_id))}


def schedule_wakeup(conn: redis.Redis, tenant: str, mission_id: str, day: date | None) -> None:
    """Ask the scheduler to re-evaluate a mission on `day` (None: no time-based step pending)."""
    member = f"{tenant}|{mission_id}"
    if day is None:
        conn.zrem(DUE_KEY, member)
    else:
        conn.zadd(DUE_KEY, {member: day.toordinal()})


def due_missions(conn: redis.Redis, day: date, limit: int = 1000) -> list[tuple[str, str]]:
    """(tenant, mission) pairs whose wake-up day has come."""
    rows = conn.zrangebyscore(DUE_KEY, "-inf", day.toordinal(), start=0, num=limit)
    return [tuple(r.decode().split("|", 1)) for r in rows]
