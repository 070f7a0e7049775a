"""Mission snapshots, the consultant → missions index and the due index, in Redis."""
from __future__ import annotations

import json
from datetime import date, timedelta

import redis

from config import keys
from handlers.state import packing
from handlers.domain.model import MissionSnapshot

DUE_KEY = keys.DUE
# a consultant's missions: a hash (mission → "", a small listpack), since a set of ids that are not all integers is a
# hash table on Redis 7.0


def encode(snap: MissionSnapshot, tenant: str) -> bytes:
    """A snapshot as stored in `tenant`: its JSON without the defaults, the id and the tenant (the key says them),
    deflated."""
    data = snap.model_dump(mode="json", exclude_defaults=True, exclude={"mission_id"})
    if data.get("tenant") == tenant:
        del data["tenant"]
    return packing.pack(packing.SNAPSHOT, json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def decode(raw: bytes, tenant: str, mission_id: str) -> MissionSnapshot:
    """A stored snapshot of `tenant`'s mission `mission_id`."""
    return MissionSnapshot.model_validate({"tenant": tenant, **json.loads(packing.unpack(raw)), "mission_id": mission_id})


class SnapshotStore:
    """The last snapshot of each mission of one tenant."""

    def __init__(self, conn: redis.Redis, tenant: str):
        self.conn = conn
        self.tenant = tenant

    def _key(self, mission_id: str) -> str:
        return keys.mission(self.tenant, mission_id)

    def get(self, mission_id: str) -> MissionSnapshot | None:
        """The previous snapshot, if any."""
        return self.decoded(mission_id, self.conn.get(self._key(mission_id)))

    def read(self, pipe, mission_id: str) -> None:
        """Queue the snapshot's read on `pipe` (its answer goes to `decoded`)."""
        pipe.get(self._key(mission_id))

    def decoded(self, mission_id: str, raw: bytes | None) -> MissionSnapshot | None:
        """The snapshot from what a read answered (None: none kept)."""
        return decode(raw, self.tenant, mission_id) if raw else None

    def save(self, snap: MissionSnapshot, *, pipe=None) -> None:
        """Keep the snapshot and index it under its consultant: on the caller's transaction `pipe` (sent by the
        caller), else in one of its own."""
        own = pipe is None
        pipe = self.conn.pipeline() if own else pipe
        pipe.set(self._key(snap.mission_id), encode(snap, self.tenant))
        if snap.consultant:
            pipe.hset(self._index(snap.consultant.id), snap.mission_id, "")
        if own:
            pipe.execute()

    def _index(self, consultant_id: str) -> str:
        return keys.consultant_missions(self.tenant, consultant_id)

    def missions_of(self, consultant_id: str) -> set[str]:
        """Every mission seen for one consultant."""
        return self.missions_read(self.conn.hkeys(self._index(consultant_id)))

    def read_missions_of(self, pipe, consultant_id: str) -> None:
        """Queue `missions_of`'s read on `pipe` (its answer goes to `missions_read`)."""
        pipe.hkeys(self._index(consultant_id))

    @staticmethod
    def missions_read(raw: list[bytes]) -> set[str]:
        """A consultant's missions from what a read answered."""
        return {m.decode() for m in raw}


def schedule_wakeup(conn: redis.Redis, tenant: str, mission_id: str, *, day: date | None) -> None:
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


def open_missions(conn: redis.Redis, tenant, today: date) -> list[str]:
    """Every mission we know that is still open: not deleted or cancelled, not ended before the bench window."""
    store, since, out = SnapshotStore(conn, tenant.id), today - timedelta(days=tenant.bench_lookback_days), []
    for mission_id in known_missions(conn, tenant.id):
        snap = store.get(mission_id)
        if snap and snap.status not in ("deleted", "cancelled") and (snap.end_date is None or snap.end_date >= since):
            out.append(mission_id)
    return out


def known_missions(conn: redis.Redis, tenant_id: str) -> list[str]:
    """Ids of every mission snapshot kept for a tenant."""
    prefix = keys.mission_prefix(tenant_id)
    ids = {k.decode()[len(prefix):] for k in conn.scan_iter(match=prefix + "*", count=500)}
    return sorted(ids, key=lambda i: (len(i), i))
