"""The day load one backfill run shares between its missions (issue #27): each person's actions due each day.

A run plans its missions one by one (Boond's jobs) or a page at a time (Salesforce's batches), so the per-person
daily cap of late steps (handlers.domain.plan.spread_late_steps) would hold within one mission only, and a manager of
40 missions would still get 40 missions' late steps on the first business day. The run keeps, in Redis, each person's
count of actions due each day over the missions it planned so far, and each mission's own share of it: a mission
planned again (a job retried, a run resumed, a webhook during the run) replaces its share, never adds to it. The
planner reads the others' shares (`taken`) and spreads the mission's late steps around them.

Layout (expiring with the run, `TTL`): `im:t:<tenant>:backfill:load:<run>:<person>` a hash day → actions, and
`im:t:<tenant>:backfill:shares:<run>` a hash mission → its share as JSON `[[person, day, n], …]`. The set-up flow's
forecast plays the same run in memory (`MemoryLoad`).
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Iterable, Mapping, NamedTuple, Protocol

import redis

from config import keys

TTL = 14 * 24 * 3600  # a run is resumable for this long; its load goes with it
NOBODY = "-"  # the technical user (an action with no owner) in a key
Taken = dict[tuple[str | None, date], int]

_RECORD = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then
  for _, row in ipairs(cjson.decode(old)) do redis.call('HINCRBY', ARGV[4] .. row[1], row[2], -row[3]) end
end
for _, row in ipairs(cjson.decode(ARGV[2])) do
  local key = ARGV[4] .. row[1]
  redis.call('HINCRBY', key, row[2], row[3])
  redis.call('EXPIRE', key, ARGV[3])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


def share_of(actions: Iterable) -> Counter:
    """(owner id or None, due day) → how many of these actions (handlers.domain.model.DesiredAction)."""
    return Counter((a.assignee.id if a.assignee else None, a.due) for a in actions)


class DayLoad(Protocol):
    """What the pipeline asks of a run's load."""

    def taken(self, mission_id: str, people: set[str | None]) -> Taken:
        """What the run's other missions hold for these people: (person, day) → actions."""

    def record(self, mission_id: str, actions: Iterable) -> None:
        """This mission's actions are now these: its share replaces the one it had."""


class RunLoad:
    """One run's load in Redis, shared by every job of the run."""

    def __init__(self, conn: redis.Redis, tenant_id: str, run_id: str):
        self.conn = conn
        self.prefix = keys.backfill(tenant_id, f"load:{run_id}:")
        self.shares = keys.backfill(tenant_id, f"shares:{run_id}")

    def taken(self, mission_id: str, people: set[str | None]) -> Taken:
        order = sorted(people, key=lambda p: p or "")
        pipe = self.conn.pipeline(transaction=True)  # MULTI: the totals and the mission's share of one moment
        for person in order:
            pipe.hgetall(self.prefix + (person or NOBODY))
        pipe.hget(self.shares, mission_id)
        *totals, own = pipe.execute()
        mine = _decoded(own)
        out: Taken = {}
        for person, days in zip(order, totals):
            for day, count in days.items():
                at = (person, date.fromisoformat(day.decode()))
                left = int(count) - mine.get(at, 0)
                if left > 0:
                    out[at] = left
        return out

    def record(self, mission_id: str, actions: Iterable) -> None:
        rows = [[person or NOBODY, day.isoformat(), n] for (person, day), n in sorted(
            share_of(actions).items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))]
        self.conn.eval(_RECORD, 1, self.shares, mission_id, json.dumps(rows), TTL, self.prefix)

    def missions(self) -> set[str]:
        """The missions with a share already (the first pass resumes after them)."""
        return {m.decode() for m in self.conn.hkeys(self.shares)}


class MemoryLoad:
    """The same load kept in memory: the set-up flow's forecast of what the install run will write."""

    def __init__(self) -> None:
        self.total: Counter = Counter()
        self.by_mission: dict[str, Counter] = {}

    def taken(self, mission_id: str, people: set[str | None]) -> Taken:
        mine = self.by_mission.get(mission_id, Counter())
        return {k: n - mine[k] for k, n in self.total.items() if k[0] in people and n - mine[k] > 0}

    def record(self, mission_id: str, actions: Iterable) -> None:
        self.total.subtract(self.by_mission.get(mission_id, Counter()))
        self.by_mission[mission_id] = share_of(actions)
        self.total.update(self.by_mission[mission_id])

    def busiest(self) -> "Busiest":
        """The person and day with the most actions, and how many (ties: the earliest day, then the person)."""
        rows = [(k, n) for k, n in self.total.items() if n > 0]
        if not rows:
            return Busiest(None, None, 0)
        (person, day), count = min(rows, key=lambda kv: (-kv[1], kv[0][1], kv[0][0] or ""))
        return Busiest(person, day, count)


class Busiest(NamedTuple):
    """A load's heaviest person-day."""

    person: str | None
    day: date | None
    count: int


def of_run(conn: redis.Redis, tenant_id: str, trigger: Mapping) -> RunLoad | None:
    """The load of the run a job's trigger names (None: a job outside a run)."""
    run = trigger.get("run") if isinstance(trigger, Mapping) else None
    return RunLoad(conn, tenant_id, str(run)) if run else None


def _decoded(raw: bytes | None) -> dict[tuple[str | None, date], int]:
    if not raw:
        return {}
    return {(None if p == NOBODY else p, date.fromisoformat(d)): int(n) for p, d, n in json.loads(raw)}
