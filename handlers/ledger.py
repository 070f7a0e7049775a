"""What Intermission wrote in each host, per (tenant, mission, step key): the reconciler's memory."""
from __future__ import annotations

import json
import time
from datetime import date
from typing import Literal

import redis
from pydantic import BaseModel

from handlers.model import DesiredAction

Status = Literal["intent", "written", "dismissed"]


class LedgerEntry(BaseModel):
    """One action as last written (or about to be written)."""

    key: str
    step_id: str
    status: Status
    host_id: str | None = None
    nominal_due: date
    due: date
    late: bool = False
    content: list
    target_type: str
    target_id: str
    title: str = ""
    case: str = ""
    updated_at: float = 0.0

    @classmethod
    def of(cls, action: DesiredAction, status: Status, host_id: str | None = None) -> "LedgerEntry":
        """The entry that records `action`."""
        return cls(key=action.key, step_id=action.step_id, status=status, host_id=host_id,
                   nominal_due=action.nominal_due, due=action.due, late=action.late,
                   content=list(action.content()), target_type=action.target.type, target_id=action.target.id,
                   title=action.title, case=action.case, updated_at=time.time())


class Ledger:
    """The ledger of one tenant's mission, one Redis hash."""

    def __init__(self, conn: redis.Redis, tenant: str, mission: str):
        self.conn = conn
        self.key = f"im:t:{tenant}:ledger:{mission}"

    def entries(self) -> dict[str, LedgerEntry]:
        """Every entry by step key."""
        raw = self.conn.hgetall(self.key)
        return {k.decode(): LedgerEntry.model_validate_json(v) for k, v in raw.items()}

    def put(self, entry: LedgerEntry) -> None:
        """Record an entry (intent before a host call, written after it)."""
        self.conn.hset(self.key, entry.key, entry.model_dump_json())

    def drop(self, key: str) -> None:
        """Forget an entry once its action is gone from the host."""
        self.conn.hdel(self.key, key)


class ActivityLog:
    """The per-tenant log of what was done and why, newest first, capped."""

    def __init__(self, conn: redis.Redis, tenant: str, cap: int = 2000):
        self.conn = conn
        self.key = f"im:t:{tenant}:activity"
        self.cap = cap

    def add(self, record: dict) -> None:
        """Append one record."""
        pipe = self.conn.pipeline()
        pipe.lpush(self.key, json.dumps({"at": time.time(), **record}, default=str))
        pipe.ltrim(self.key, 0, self.cap - 1)
        pipe.execute()

    def recent(self, limit: int = 100, mission: str | None = None) -> list[dict]:
        """The latest records, optionally for one mission."""
        rows = [json.loads(x) for x in self.conn.lrange(self.key, 0, self.cap - 1)]
        return [r for r in rows if mission is None or r.get("mission") == mission][:limit]
