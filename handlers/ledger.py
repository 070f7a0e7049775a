"""What Intermission wrote in each host, per (tenant, mission, step key): the reconciler's memory."""
from __future__ import annotations

import hashlib
import json
import time
from datetime import date
from typing import Literal

import redis
from pydantic import BaseModel

from handlers.model import DesiredAction

Status = Literal["intent", "written", "dismissed", "done", "kept", "closed"]
# dismissed: deleted in the host by someone; done: closed there by someone; kept: edited there by someone; closed:
# edited by someone, then closed by us with a note when its plan went away. None is ever rewritten, deleted or
# created again (a kept one is only closed with a note once its plan goes away).
SETTLED = frozenset({"dismissed", "done", "kept", "closed"})


class LedgerEntry(BaseModel):
    """One action as last written (or about to be written).

    Stored compactly (one short `|`-separated string per step, so small hashes stay listpacks): `content` is a
    digest of what the host shows (title, text, assignee, target, kind), enough to know whether to update.
    """

    key: str
    step_id: str
    status: Status
    host_id: str | None = None
    nominal_due: date
    due: date
    late: bool = False
    content: str
    target_type: str
    target_id: str
    title: str = ""  # in memory only (activity log), not stored
    at: float = 0.0  # when an intent was recorded (stored for intents only)
    fingerprint: str = ""  # host-visible fields as we last wrote them (see handlers.people_work)

    @classmethod
    def of(cls, action: DesiredAction, status: Status, host_id: str | None = None, *,
           fingerprint: str = "") -> "LedgerEntry":
        """The entry that records `action`."""
        return cls(key=action.key, step_id=action.step_id, status=status, host_id=host_id,
                   nominal_due=action.nominal_due, due=action.due, late=action.late,
                   content=action.digest(), target_type=action.target.type, target_id=action.target.id,
                   title=action.title, at=time.time(), fingerprint=fingerprint)

    def pack(self) -> str:
        """`w|host id|nominal|due if different|late|digest|target type|target id|step id if not the key's|at|fp`."""
        step = "" if self.step_id == self.key.split("#")[0] else self.step_id
        due = "" if self.due == self.nominal_due else self.due.isoformat()
        fields = [_CODES[self.status], self.host_id or "", self.nominal_due.isoformat(), due,
                  "1" if self.late else "", self.content, self.target_type, self.target_id, step]
        at = str(int(self.at)) if self.status == "intent" else ""
        if at or self.fingerprint:
            fields += [at, self.fingerprint]
        return "|".join(fields)

    @classmethod
    def unpack(cls, key: str, raw: bytes) -> "LedgerEntry":
        """Read a stored entry (the packed form, or the JSON of earlier versions)."""
        text = raw.decode()
        if text.startswith("{"):
            data = json.loads(text)
            content = data.get("content")
            data["content"] = content if isinstance(content, str) else _digest(content)
            return cls.model_validate({k: v for k, v in data.items() if k in cls.model_fields})
        code, host_id, nominal, due, late, digest, target_type, target_id, step, *rest = text.split("|", 10)
        at, fp = (rest + ["", ""])[:2]
        return cls(key=key, step_id=step or key.split("#")[0], status=_STATUSES[code], host_id=host_id or None,
                   nominal_due=date.fromisoformat(nominal), due=date.fromisoformat(due or nominal), late=late == "1",
                   content=digest, target_type=target_type, target_id=target_id, at=float(at) if at else 0.0,
                   fingerprint=fp)


_CODES = {"intent": "i", "written": "w", "dismissed": "d", "done": "x", "kept": "k", "closed": "c"}
_STATUSES = {v: k for k, v in _CODES.items()}


def _digest(content) -> str:
    return hashlib.blake2b(repr(tuple(content or ())).encode(), digest_size=8).hexdigest()


class Ledger:
    """The ledger of one tenant's mission, one Redis hash."""

    def __init__(self, conn: redis.Redis, tenant: str, mission: str):
        self.conn = conn
        self.key = f"im:t:{tenant}:ledger:{mission}"

    def entries(self) -> dict[str, LedgerEntry]:
        """Every entry by step key."""
        raw = self.conn.hgetall(self.key)
        return {k.decode(): LedgerEntry.unpack(k.decode(), v) for k, v in raw.items()}

    def put(self, entry: LedgerEntry, *, pipe=None) -> None:
        """Record an entry (intent before a host call, written after it); on `pipe` when given."""
        (pipe if pipe is not None else self.conn).hset(self.key, entry.key, entry.pack())

    def drop(self, key: str) -> None:
        """Forget an entry once its action is gone from the host."""
        self.conn.hdel(self.key, key)


class ActivityLog:
    """The per-tenant log of what was done and why, newest first, capped."""

    def __init__(self, conn: redis.Redis, tenant: str, cap: int = 2000):
        self.conn = conn
        self.key = f"im:t:{tenant}:activity"
        self.cap = cap

    def add(self, record: dict, *, pipe=None) -> None:
        """Append one record (on `pipe` when given: the caller executes it)."""
        own = pipe is None
        pipe = self.conn.pipeline() if own else pipe
        pipe.lpush(self.key, json.dumps({"at": time.time(), **record}, default=str))
        pipe.ltrim(self.key, 0, self.cap - 1)
        if own:
            pipe.execute()

    def recent(self, limit: int = 100, mission: str | None = None) -> list[dict]:
        """The latest records, optionally for one mission."""
        rows = [json.loads(x) for x in self.conn.lrange(self.key, 0, self.cap - 1)]
        return [r for r in rows if mission is None or r.get("mission") == mission][:limit]
