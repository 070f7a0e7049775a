"""What Intermission wrote in each host, per (tenant, mission, step key): the reconciler's memory."""
from __future__ import annotations

import base64
import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import redis
from pydantic import BaseModel

from config import keys as redis_keys
from handlers.state import packing
from handlers.domain.model import DesiredAction

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
    fingerprint: str = ""  # host-visible fields as we last wrote them (see handlers.sync.people_work)
    pending: str = ""  # the fingerprint of an update sent but not yet recorded (a crash may have landed it)

    @classmethod
    def of(cls, action: DesiredAction, status: Status, host_id: str | None = None, *,
           fingerprint: str = "") -> "LedgerEntry":
        """The entry that records `action`."""
        return cls(key=action.key, step_id=action.step_id, status=status, host_id=host_id,
                   nominal_due=action.nominal_due, due=action.due, late=action.late,
                   content=action.digest(), target_type=action.target.type, target_id=action.target.id,
                   title=action.title, at=time.time(), fingerprint=fingerprint)

    def pack(self, *, target: bool = True) -> str:
        """`code|host id|nominal|due|late|digest|target type|target id|step|at|fp|pending`, trailing empties dropped.

        Days count from 1970-01-01, the due day from the nominal one ("" when the same), the digest is base64 and
        the usual target types a letter (`_day`, `_digest_out`, `packing.short_type`); `step` only when not the
        key's, `at` for an intent or a cancelling mark only; no target when `target` is false (the ledger's own, see
        `Ledger`).
        """
        step = "" if self.step_id == self.key.split("#")[0] else self.step_id
        due = "" if self.due == self.nominal_due else str((self.due - self.nominal_due).days)
        at = str(int(self.at)) if self.status in ("intent", "cancelling") else ""
        fields = [_CODES[self.status], self.host_id or "", _day(self.nominal_due), due, "1" if self.late else "",
                  _digest_out(self.content), *(self.packed_target().split("|", 1) if target else ("", "")),
                  step, at, self.fingerprint, self.pending]
        while fields[-1] == "":
            fields.pop()
        return "|".join(fields)

    def packed_target(self) -> str:
        """`type|id` of the target as stored (the usual types a letter)."""
        return f"{packing.short_type(self.target_type)}|{self.target_id}"

    @classmethod
    def unpack(cls, key: str, raw: bytes, target: bytes | None = None) -> "LedgerEntry":
        """Read a stored entry (`pack`); `target`: the ledger's own (`type|id`), for an entry stored without one."""
        text = raw.decode()
        parts = text.split("|", 11)
        code, host_id, nominal, due, late, digest, target_type, target_id, step, at, fp, pending = \
            parts + [""] * (12 - len(parts))
        if not (target_type or target_id) and target:
            target_type, target_id = target.decode().split("|", 1)
        nominal_day = _day_in(nominal)
        return cls(key=key, step_id=step or key.split("#")[0], status=_STATUSES[code], host_id=host_id or None,
                   nominal_due=nominal_day, due=_due_in(due, nominal_day), late=late == "1",
                   content=_digest_in(digest), target_type=packing.long_type(target_type),
                   target_id=target_id, at=float(at) if at else 0.0, fingerprint=fp, pending=pending)


_CODES = {"intent": "i", "written": "w", "cancelling": "z", "dismissed": "d", "done": "x", "kept": "k", "closed": "c"}
_STATUSES = {v: k for k, v in _CODES.items()}
_EPOCH = date(1970, 1, 1).toordinal()
_HEX_DIGEST = re.compile(r"[0-9a-f]{16}")


def _day(day: date) -> str:
    """A day as stored: days since 1970-01-01."""
    return str(day.toordinal() - _EPOCH)


def _day_in(text: str) -> date:
    """A stored day (`_day`)."""
    return date.fromordinal(int(text) + _EPOCH)


def _due_in(text: str, nominal: date) -> date:
    """The due day: the nominal one (""), or that many days after it."""
    return nominal + timedelta(days=int(text)) if text else nominal


def _digest_out(content: str) -> str:
    """A content digest as stored: its 8 bytes in base64 (11 characters), anything else after a `=`."""
    if _HEX_DIGEST.fullmatch(content):
        return base64.urlsafe_b64encode(bytes.fromhex(content)).decode().rstrip("=")
    return "=" + content


def _digest_in(text: str) -> str:
    """A stored digest (`_digest_out`), as hex."""
    if text.startswith("="):
        return text[1:]
    return base64.urlsafe_b64decode(text + "=").hex()


_LEDGER_PUT = """
-- KEYS: the ledger. ARGV: field, the entry, the entry without its target, its target. The first target written is
-- the ledger's own (field '@'); an entry with it leaves it out.
local own = redis.call('HGET', KEYS[1], '@')
if not own then
  redis.call('HSET', KEYS[1], '@', ARGV[4])
  own = ARGV[4]
end
if own == ARGV[4] then return redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
"""
_LEDGER_DROP = """
-- KEYS: the ledger. ARGV: field. The ledger goes with its last entry.
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], '@') == 1 then redis.call('DEL', KEYS[1]) end
"""
OWN_TARGET = b"@"  # the field of a ledger's own target (no step key has an @)


def entries_of(raw: dict[bytes, bytes]) -> dict[str, LedgerEntry]:
    """A ledger hash as read (HGETALL): every entry by step key."""
    own = raw.get(OWN_TARGET)
    return {key: LedgerEntry.unpack(key, value, own)
            for key, value in ((packing.long_key(k.decode()), v) for k, v in raw.items() if k != OWN_TARGET)}


class Ledger:
    """The ledger of one tenant's mission, one Redis hash: a field per step key (`packing.short_key`), and `@`, the
    target its first entry named, which the entries with that target leave out (most have the consultant's)."""

    def __init__(self, conn: redis.Redis, tenant: str, mission: str):
        self.conn = conn
        self.key = redis_keys.ledger(tenant, mission)

    def entries(self) -> dict[str, LedgerEntry]:
        """Every entry by step key."""
        return entries_of(self.conn.hgetall(self.key))

    @staticmethod
    def entries_of_all(ledgers: list["Ledger"]) -> list[dict[str, LedgerEntry]]:
        """Every entry of each ledger, all read in one round trip."""
        if len(ledgers) < 2:
            return [ledger.entries() for ledger in ledgers]
        pipe = ledgers[0].conn.pipeline(transaction=False)
        for ledger in ledgers:
            pipe.hgetall(ledger.key)
        return [entries_of(raw) for raw in pipe.execute()]

    def put(self, entry: LedgerEntry, *, pipe=None) -> None:
        """Record an entry (intent before a host call, written after it); on `pipe` when given."""
        args = [packing.short_key(entry.key), entry.pack(), entry.pack(target=False), entry.packed_target()]
        (pipe if pipe is not None else self.conn).eval(_LEDGER_PUT, 1, self.key, *args)

    def drop(self, key: str, *, pipe=None) -> None:
        """Forget an entry once its action is gone from the host; on `pipe` when given."""
        (pipe if pipe is not None else self.conn).eval(_LEDGER_DROP, 1, self.key, packing.short_key(key))


_ACTIVITY_ADD = """
-- KEYS: feed, histories hash, missions zset (mission -> last write), sizes hash, total. ARGV: mission, round id, its
-- record count, the round deflated, now, per-mission cap, tenant cap, feed cap, then records for the feed, oldest
-- first. Atomic, so concurrent workers keep the histories and the counts true.
-- A history is its rounds newest first, each `id (4 bytes) | records (2) | length (3) | deflated round`.
local mission, per, cap = ARGV[1], tonumber(ARGV[6]), tonumber(ARGV[7])
for i = 9, #ARGV do redis.call('LPUSH', KEYS[1], ARGV[i]) end
if mission == '' then
  redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[8]) - 1)
  return 0
end
local n, body = tonumber(ARGV[3]), ARGV[4]
local head = ARGV[2] .. string.char(math.floor(n / 256), n % 256)
  .. string.char(math.floor(#body / 65536), math.floor(#body / 256) % 256, #body % 256)
local rounds = {{n, head .. body}}
local blob, pos = redis.call('HGET', KEYS[2], mission) or '', 1
while pos <= #blob do
  local count = string.byte(blob, pos + 4) * 256 + string.byte(blob, pos + 5)
  local len = string.byte(blob, pos + 6) * 65536 + string.byte(blob, pos + 7) * 256 + string.byte(blob, pos + 8)
  if string.sub(blob, pos, pos + 3) ~= ARGV[2] then rounds[#rounds + 1] = {count, string.sub(blob, pos, pos + 8 + len)} end
  pos = pos + 9 + len
end
-- whole rounds while they fit in the cap (the newest always); older rounds go to the feed (newest first), not away
local kept, size, full = {}, 0, false
for i, r in ipairs(rounds) do
  full = full or (i > 1 and size + r[1] > per)
  if not full then kept[#kept + 1], size = r[2], size + r[1] end
end
for i = #rounds, #kept + 1, -1 do redis.call('LPUSH', KEYS[1], '\0' .. mission .. '\0' .. rounds[i][2]) end
redis.call('HSET', KEYS[2], mission, table.concat(kept))
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[8]) - 1)
local before = tonumber(redis.call('HGET', KEYS[4], mission) or '0')
redis.call('HSET', KEYS[4], mission, size)
redis.call('ZADD', KEYS[3], ARGV[5], mission)
local total = redis.call('INCRBY', KEYS[5], size - before)
while total > cap do
  local oldest = redis.call('ZRANGE', KEYS[3], 0, 0)[1]
  if oldest == nil or oldest == mission then break end
  total = redis.call('INCRBY', KEYS[5], -tonumber(redis.call('HGET', KEYS[4], oldest) or '0'))
  redis.call('HDEL', KEYS[2], oldest)
  redis.call('ZREM', KEYS[3], oldest)
  redis.call('HDEL', KEYS[4], oldest)
end
return total
"""
_PER_ACTION = frozenset({"op", "key", "step", "title", "due", "previous_due", "late", "why", "why_code", "owner"})
_ROUND_PAGE = 100  # missions read at a time when the tenant feed is put together


@dataclass
class _Round:
    """The records one log wrote for one mission with one provenance (a reconciliation round): stored together."""

    rid: bytes
    provenance: dict
    mission: str = ""
    records: list[dict] = field(default_factory=list)  # newest first


class ActivityLog:
    """What was done and why, newest first: each mission's history (its provenance) in rounds of at most
    `per_mission` records, at most `tenant_cap` records per tenant (the missions written longest ago go first,
    whole), and a tenant feed of the latest `cap` records, put together from the histories when read.

    Each record is stored once. A round (the records of one reconciliation of one mission: one provenance) is
    deflated as one value (`packed_round`); the tenant feed list holds only what no history holds: records of no
    mission, and rounds a history let go.
    """

    def __init__(self, conn: redis.Redis, tenant: str, cap: int = 2000, *, per_mission: int = 100,
                 tenant_cap: int = 50_000):
        self.conn = conn
        self.key = redis_keys.activity(tenant)  # the tenant feed's list (records no history holds)
        self.history = f"{self.key}:history"  # mission → its history (rounds, newest first)
        self.cap, self.per_mission, self.tenant_cap = cap, per_mission, tenant_cap
        self._rounds: dict[str, _Round] = {}

    def _keys(self, mission: str) -> list[str]:
        return [self.key, self.history, f"{self.key}:missions", f"{self.key}:sizes", f"{self.key}:total"]

    def add(self, record: dict, *, pipe=None) -> None:
        """Append one record (on `pipe` when given: the caller executes it)."""
        self.add_many([record], pipe=pipe)

    def add_many(self, records: list[dict], *, pipe=None) -> None:
        """Append records, oldest first (each keeps its own `at` when it has one): one script call for each run of
        records of one mission's round, its round packed once, not once a record (on `pipe` when given)."""
        now = time.time()
        target = pipe if pipe is not None else self.conn
        current: _Round | None = None
        feed: list[bytes] = []

        def send(mission: str, head: list) -> None:
            keys = self._keys(mission)
            args = [*head, now, self.per_mission, self.tenant_cap, self.cap, *feed]
            # EVAL, not a registered script: on a pipeline redis-py would add a SCRIPT EXISTS round trip per execute
            target.eval(_ACTIVITY_ADD, len(keys), *keys, *args)
            feed.clear()

        def round_done() -> None:
            if current is not None:
                send(current.mission, [current.mission, current.rid, len(current.records), packed_round(current.records)])

        for record in records:
            record = {"at": round(now, 3), **record}
            mission = str(record.get("mission") or "")
            if not mission:
                round_done()
                current = None
                feed.append(packed_record(record))
                send("", ["", b"", 0, b""])
                continue
            this = self._round(mission, record)
            if this is not current:
                round_done()
                current = this
            this.records.insert(0, record)
            feed.extend(packed_record(r) for r in reversed(this.records[self.per_mission:]))  # oldest first
            del this.records[self.per_mission:]
        round_done()

    def _round(self, mission: str, record: dict) -> _Round:
        """This log's round for the mission: the current one while the provenance stays, else a new one."""
        provenance = _provenance(record)
        current = self._rounds.get(mission)
        if current is None or current.provenance != provenance:
            current = self._rounds[mission] = _Round(os.urandom(4), provenance, mission)
        return current

    def recent(self, limit: int = 100, mission: str | None = None) -> list[dict]:
        """The latest records, optionally for one mission (its own history, however busy the tenant)."""
        if mission is None:
            return self._latest(max(0, min(limit, self.cap)))
        blob = self.conn.hget(self.history, mission)
        rows = unpacked_history(mission, blob) if blob else []
        return rows[:min(limit, self.per_mission)]

    def _latest(self, limit: int) -> list[dict]:
        """The tenant's latest records: the feed list's and the histories', the missions written last first."""
        feed = [r for raw in self.conn.lrange(self.key, 0, self.cap - 1) for r in _feed_records(raw)]
        found: list[dict] = []
        start = 0
        while limit:
            page = self.conn.zrevrange(f"{self.key}:missions", start, start + _ROUND_PAGE - 1, withscores=True)
            if not page or (len(found) + len(feed) >= limit and page[0][1] + 0.001 < _nth_newest(found + feed, limit)):
                break  # every mission left last wrote before the records already found
            for (mission, _), blob in zip(page, self.conn.hmget(self.history, [m for m, _ in page])):
                if blob:
                    found += unpacked_history(mission.decode(), blob)
            start += _ROUND_PAGE
        found += feed  # after the histories: a mission's records in the feed are older than those it still holds
        found.sort(key=_when, reverse=True)  # stable: records of the same millisecond keep that order
        return found[:limit]


def _when(record: dict) -> float:
    at = record.get("at")
    return at if isinstance(at, (int, float)) else 0.0


def _nth_newest(records: list[dict], n: int) -> float:
    return sorted(map(_when, records), reverse=True)[n - 1]


def _feed_records(raw: bytes) -> list[dict]:
    """The records of one element of the feed list: a JSON record, or a round a mission's history let go."""
    if raw.startswith(b"\0"):
        mission, blob = raw[1:].split(b"\0", 1)
        return unpacked_history(mission.decode(), blob)
    return [unpacked_record(raw)]


# an activity record's fields at these values are not stored (restored on reading); `step` only when not the key's
_RECORD_DEFAULTS = {"previous_due": None, "late": False, "unsure": False}


def _compact(record: dict) -> dict:
    """A record without the fields `_restored` puts back."""
    kept = {k: v for k, v in record.items() if not (k in _RECORD_DEFAULTS and v == _RECORD_DEFAULTS[k])}
    if kept.get("step") is not None and kept.get("step") == kept.get("key"):
        del kept["step"]
    return kept


def _restored(record: dict) -> dict:
    """A stored record with the fields `_compact` left out."""
    if "key" in record:
        record.setdefault("step", record["key"])
    for name, value in _RECORD_DEFAULTS.items():
        record.setdefault(name, value)
    return record


def _provenance(record: dict) -> dict:
    """What a record shares with the others of its round: everything but the action's own fields."""
    return {k: v for k, v in record.items() if k not in _PER_ACTION and k not in ("mission", "at")}


def packed_record(record: dict) -> str:
    """One activity record as stored in the feed list: compact JSON, UTF-8 as it is, fields at their defaults left out."""
    return json.dumps(_compact(record), default=str, separators=(",", ":"), ensure_ascii=False)


def unpacked_record(raw: bytes | str) -> dict:
    """A stored activity record with the fields `packed_record` left out."""
    return _restored(json.loads(raw))


def packed_round(records: list[dict]) -> bytes:
    """A round's records (newest first, one provenance) as stored: `[first at, provenance, rows]` deflated, each row
    the action's own fields and `@`, its milliseconds after the first (`unpacked_round`)."""
    first = records[-1]["at"]
    rows = [{**{k: v for k, v in _compact(r).items() if k in _PER_ACTION}, "@": round((r["at"] - first) * 1000)}
            for r in records]
    data = [first, _provenance(_compact(records[0])), rows]
    return packing.pack(packing.ACTIVITY, json.dumps(data, default=str, separators=(",", ":"), ensure_ascii=False).encode())


def unpacked_round(mission: str, blob: bytes) -> list[dict]:
    """The records of one stored round, newest first, as `add` was given them."""
    first, provenance, rows = json.loads(packing.unpack(blob))
    return [_restored({"at": round(first + row.pop("@") / 1000, 3), "mission": mission, **row, **provenance})
            for row in rows]


def unpacked_history(mission: str, blob: bytes) -> list[dict]:
    """The records of a stored history (rounds newest first, see `_ACTIVITY_ADD`), newest first."""
    out, pos = [], 0
    while pos < len(blob):
        length = int.from_bytes(blob[pos + 6:pos + 9], "big")
        out += unpacked_round(mission, blob[pos + 9:pos + 9 + length])
        pos += 9 + length
    return out
