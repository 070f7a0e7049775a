"""What Intermission wrote in each host, per (tenant, mission, step key): the reconciler's memory."""
from __future__ import annotations

import hashlib
import json
import time
from datetime import date
from typing import Literal

import redis
from pydantic import BaseModel

from config import keys as redis_keys
from handlers.model import DesiredAction

Status = Literal["intent", "written", "cancelling", "dismissed", "done", "kept", "closed"]
# intent: a create about to be sent; cancelling: a delete about to be sent (a crash leaves either behind, and the next
# run reads the host back instead of guessing)
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
    at: float = 0.0  # when an intent or a cancelling mark was recorded (stored for those only)
    fingerprint: str = ""  # host-visible fields as we last wrote them (see handlers.people_work)
    pending: str = ""  # the fingerprint of an update sent but not yet recorded (a crash may have landed it)

    @classmethod
    def of(cls, action: DesiredAction, status: Status, host_id: str | None = None, *,
           fingerprint: str = "") -> "LedgerEntry":
        """The entry that records `action`."""
        return cls(key=action.key, step_id=action.step_id, status=status, host_id=host_id,
                   nominal_due=action.nominal_due, due=action.due, late=action.late,
                   content=action.digest(), target_type=action.target.type, target_id=action.target.id,
                   title=action.title, at=time.time(), fingerprint=fingerprint)

    def pack(self) -> str:
        """`w|host id|nominal|due if different|late|digest|target type|target id|step id if not the key's|at|fp|pending`."""
        step = "" if self.step_id == self.key.split("#")[0] else self.step_id
        due = "" if self.due == self.nominal_due else self.due.isoformat()
        fields = [_CODES[self.status], self.host_id or "", self.nominal_due.isoformat(), due,
                  "1" if self.late else "", self.content, self.target_type, self.target_id, step]
        at = str(int(self.at)) if self.status in ("intent", "cancelling") else ""
        if at or self.fingerprint or self.pending:
            fields += [at, self.fingerprint]
        if self.pending:
            fields.append(self.pending)
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
        code, host_id, nominal, due, late, digest, target_type, target_id, step, *rest = text.split("|", 11)
        at, fp, pending = (rest + ["", "", ""])[:3]
        return cls(key=key, step_id=step or key.split("#")[0], status=_STATUSES[code], host_id=host_id or None,
                   nominal_due=date.fromisoformat(nominal), due=date.fromisoformat(due or nominal), late=late == "1",
                   content=digest, target_type=target_type, target_id=target_id, at=float(at) if at else 0.0,
                   fingerprint=fp, pending=pending)


_CODES = {"intent": "i", "written": "w", "cancelling": "z", "dismissed": "d", "done": "x", "kept": "k", "closed": "c"}
_STATUSES = {v: k for k, v in _CODES.items()}


def _digest(content) -> str:
    return hashlib.blake2b(repr(tuple(content or ())).encode(), digest_size=8).hexdigest()


class Ledger:
    """The ledger of one tenant's mission, one Redis hash."""

    def __init__(self, conn: redis.Redis, tenant: str, mission: str):
        self.conn = conn
        self.key = redis_keys.ledger(tenant, mission)

    def entries(self) -> dict[str, LedgerEntry]:
        """Every entry by step key."""
        raw = self.conn.hgetall(self.key)
        return {k.decode(): LedgerEntry.unpack(k.decode(), v) for k, v in raw.items()}

    def put(self, entry: LedgerEntry, *, pipe=None) -> None:
        """Record an entry (intent before a host call, written after it); on `pipe` when given."""
        (pipe if pipe is not None else self.conn).hset(self.key, entry.key, entry.pack())

    def drop(self, key: str, *, pipe=None) -> None:
        """Forget an entry once its action is gone from the host; on `pipe` when given."""
        (pipe if pipe is not None else self.conn).hdel(self.key, key)


_ACTIVITY_ADD = """
-- KEYS: feed, mission list, missions zset (mission -> last write), sizes hash, total; ARGV: record, mission, now,
-- per-mission cap, tenant cap, feed cap, mission list prefix. Atomic, so concurrent workers keep the counts true.
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[6]) - 1)
if ARGV[2] == '' then return 0 end
local per, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, per - 1)
local size = redis.call('LLEN', KEYS[2])
local before = tonumber(redis.call('HGET', KEYS[4], ARGV[2]) or '0')
redis.call('HSET', KEYS[4], ARGV[2], size)
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local total = redis.call('INCRBY', KEYS[5], size - before)
while total > cap do
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if oldest == nil or oldest == ARGV[2] then break end
  total = redis.call('INCRBY', KEYS[5], -tonumber(redis.call('HGET', KEYS[4], oldest) or '0'))
  redis.call('DEL', ARGV[7] .. oldest)
  redis.call('ZREM', KEYS[3], oldest)
  redis.call('HDEL', KEYS[4], oldest)
end
return total
"""


class ActivityLog:
    """What was done and why, newest first: the last `per_mission` records of each mission (its provenance), at
    most `tenant_cap` records per tenant (the missions written longest ago go first, whole), and a tenant feed."""

    def __init__(self, conn: redis.Redis, tenant: str, cap: int = 2000, *, per_mission: int = 100,
                 tenant_cap: int = 50_000):
        self.conn = conn
        self.key = redis_keys.activity(tenant)  # the tenant-wide feed (the latest `cap` records, all missions)
        self.cap, self.per_mission, self.tenant_cap = cap, per_mission, tenant_cap
        self._prefix = f"{self.key}:m:"

    def _keys(self, mission: str) -> list[str]:
        return [self.key, self._prefix + mission, f"{self.key}:missions", f"{self.key}:sizes", f"{self.key}:total"]

    def add(self, record: dict, *, pipe=None) -> None:
        """Append one record (on `pipe` when given: the caller executes it)."""
        now = time.time()
        mission = str(record.get("mission") or "")
        keys = self._keys(mission)
        args = [packed_record({"at": round(now, 3), **record}), mission, now, self.per_mission, self.tenant_cap,
                self.cap, self._prefix]
        # EVAL, not a registered script: on a pipeline redis-py would add a SCRIPT EXISTS round trip per execute
        (pipe if pipe is not None else self.conn).eval(_ACTIVITY_ADD, len(keys), *keys, *args)

    def recent(self, limit: int = 100, mission: str | None = None) -> list[dict]:
        """The latest records, optionally for one mission (its own history, however busy the tenant)."""
        if mission is None:
            return [unpacked_record(x) for x in self.conn.lrange(self.key, 0, max(0, min(limit, self.cap) - 1))]
        rows = [unpacked_record(x) for x in self.conn.lrange(self._prefix + mission, 0, self.per_mission - 1)]
        if not rows and not self.conn.exists(f"{self.key}:total"):  # a tenant logged before per-mission histories
            feed = map(unpacked_record, self.conn.lrange(self.key, 0, self.cap - 1))
            rows = [r for r in feed if r.get("mission") == mission]
        return rows[:limit]


# an activity record's fields at these values are not stored (restored on reading); `step` only when not the key's
_RECORD_DEFAULTS = {"previous_due": None, "late": False, "unsure": False}


def packed_record(record: dict) -> str:
    """One activity record as stored: compact JSON, UTF-8 as it is, fields at their defaults left out."""
    kept = {k: v for k, v in record.items() if not (k in _RECORD_DEFAULTS and v == _RECORD_DEFAULTS[k])}
    if kept.get("step") is not None and kept.get("step") == kept.get("key"):
        del kept["step"]
    return json.dumps(kept, default=str, separators=(",", ":"), ensure_ascii=False)


def unpacked_record(raw: bytes | str) -> dict:
    """A stored activity record with the fields `packed_record` left out (records of earlier versions as they are)."""
    record = json.loads(raw)
    if "key" in record:
        record.setdefault("step", record["key"])
    for name, value in _RECORD_DEFAULTS.items():
        record.setdefault(name, value)
    return record
