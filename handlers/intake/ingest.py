"""The web side's only job: deduplicate, coalesce and enqueue a hint that a mission changed.

A host whose writes batch (`Host.batches_writes`) gets its changes marked dirty instead (`mark_dirty`), and one
`handlers.sync.batch.sync_tenant` job per tenant takes them all."""
from __future__ import annotations

import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Literal, NamedTuple

import redis
from redis.connection import Encoder
from rq.job import JobStatus
from rq.utils import now, utcformat

from config import keys as redis_keys
from config.infra.redis_conn import ensure_replicated, run_script
from config.settings import get_settings
from handlers.hosts.registry import host_of
from handlers.intake.queues import get_queue, retry_policy
from handlers.intake.telemetry import request_id_for

Outcome = Literal["queued", "duplicate", "coalesced"]

# One EVALSHA: a script runs whole or not at all, so a Redis dying mid-request keeps the dedupe key, the pending
# flag and the job together or none of them. The job is rq's: built by rq in Python (`rq_job`), stored here the
# way `Queue.enqueue_job` stores it (SADD rq:queues, HSET of `Job.to_dict()` with status queued, RPUSH its id).
# The dedupe key is written last: should a command fail half-way, the host's redelivery is not a "duplicate".
# With a `Tally` (KEYS[7], ARGV 7–12) the script also counts the answer its outcome gets, and its latency.
_ADMIT = """
local function counted(outcome)
  if KEYS[7] ~= '' then
    local counter = ARGV[9]
    if outcome == 'queued' then counter = ARGV[7] elseif outcome == 'coalesced' then counter = ARGV[8] end
    redis.call('HINCRBY', KEYS[7], counter, 1)
    redis.call('HINCRBY', KEYS[7], ARGV[10], 1)
    redis.call('HINCRBYFLOAT', KEYS[7], ARGV[11], ARGV[12])
  end
  return outcome
end
if ARGV[6] ~= '' and redis.sha1hex(redis.call('GET', KEYS[6]) or '') ~= ARGV[6] then return 'stale' end
local seen, pending = ARGV[1] == '1', ARGV[2] == '1'
if seen and redis.call('EXISTS', KEYS[1]) == 1 then return counted('duplicate') end
local coalesced = pending and redis.call('EXISTS', KEYS[2]) == 1
if not coalesced then
  redis.call('SADD', KEYS[5], KEYS[4])
  redis.call('HSET', KEYS[3], unpack(ARGV, 13))
  redis.call('RPUSH', KEYS[4], ARGV[5])
  if pending then redis.call('SET', KEYS[2], '1', 'EX', ARGV[4]) end
end
if seen then redis.call('SET', KEYS[1], '1', 'EX', ARGV[3]) end
if coalesced then return counted('coalesced') end
return counted('queued')
"""
# `mark_dirty`'s EVALSHA (like `_ADMIT`): ARGV 6… holds (mission, dirty value, KEYS index of its dedupe key or 0) per
# mission, then the rq job hash's field/value pairs; the dedupe keys are written last. ARGV[5] is the KEYS index of
# the delivery's own idempotency key (a Standard Webhooks `webhook-id`), or 0: checked first and set last in the same
# script, so of N concurrent deliveries sharing it exactly one is admitted. With no mission (n = 0) nothing is marked:
# the tenant's batch is queued when missions are dirty and no batch waits (what a batch job does once it has released
# the tenant's batch lock, handlers/sync/batch.py), else the answer is 'coalesced'.
_MARK_DIRTY = """
local n, message = tonumber(ARGV[4]), tonumber(ARGV[5])
if message > 0 and redis.call('EXISTS', KEYS[message]) == 1 then return 'duplicate' end
local function done(outcome)
  if message > 0 then redis.call('SET', KEYS[message], '1', 'EX', ARGV[1]) end
  return outcome
end
local fresh, dirty = {}, {}
for i = 0, n - 1 do
  local at = 6 + 3 * i
  local seen = tonumber(ARGV[at + 2])
  if seen == 0 or redis.call('EXISTS', KEYS[seen]) == 0 then
    fresh[#fresh + 1] = seen
    dirty[#dirty + 1] = ARGV[at]
    dirty[#dirty + 1] = ARGV[at + 1]
  end
end
if n > 0 and #fresh == 0 then return done('duplicate') end
local waiting = redis.call('EXISTS', KEYS[2]) == 1
if #fresh > 0 then
  redis.call('HSET', KEYS[1], unpack(dirty))
elseif waiting or redis.call('EXISTS', KEYS[1]) == 0 then
  return done('coalesced')
end
if not waiting then
  redis.call('SADD', KEYS[5], KEYS[4])
  redis.call('HSET', KEYS[3], unpack(ARGV, 6 + 3 * n))
  redis.call('RPUSH', KEYS[4], ARGV[3])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
end
for _, seen in ipairs(fresh) do
  if seen > 0 then redis.call('SET', KEYS[seen], '1', 'EX', ARGV[1]) end
end
if waiting then return done('coalesced') end
return done('queued')
"""
_SCRIPTS: dict[str, redis.commands.core.Script] = {}
TenantCheck = tuple[str, str]  # (the tenant's key, the SHA-1 its stored record must have): checked in the script


@dataclass
class Tally:
    """Counters the admit script adds to, atomically with its writes: the answer's counter (one field per
    outcome, +1), a latency bucket (+1) and a latency sum (+amount), in the hash `key`. `outcome` is set once the
    script has counted (the caller corrects the count should it answer otherwise)."""

    key: str
    counters: dict[str, str]
    hit: str
    total: str
    amount: float
    outcome: str | None = None

    def args(self) -> list:
        return [self.counters["queued"], self.counters["coalesced"], self.counters["duplicate"], self.hit,
                self.total, repr(self.amount)]


class StaleTenant(Exception):
    """The tenant record changed since this process read it: nothing was written; read it again and redo."""


pending_key = redis_keys.pending_sync  # set while a sync of a mission is queued and not yet started


def enqueue_sync(conn: redis.Redis, tenant: str, mission: str, *, trigger: dict, event_id: str | None = None,
                 check: TenantCheck | None = None, tally: Tally | None = None) -> Outcome:
    """Queue one re-read of `mission`, unless this event was seen or a re-read is already waiting."""
    trigger = {**trigger, "request_id": request_id_for(trigger)}
    if _batched(conn, tenant):
        return enqueue_batch(conn, tenant, {mission: trigger}, event_ids={mission: event_id} if event_id else {})
    job = {"func": "handlers.sync.jobs.sync_mission", "args": (tenant, mission, trigger),
           "job_id": f"sync-{tenant}-{mission}-{uuid.uuid4().hex[:12]}", "description": f"sync {tenant}/{mission}"}
    return _admit(conn, _seen_key(tenant, event_id), pending_key(tenant, mission), job, check, tally)


def enqueue_batch(conn: redis.Redis, tenant: str, missions: dict[str, dict], *, event_ids: dict[str, str],
                  message_key: str | None = None) -> Outcome:
    """Per-tenant batch path: drop seen events, mark the rest dirty, queue the tenant's batch if none waits.

    `message_key`: the delivery's own idempotency key (config.keys.seen_webhook_id), checked and set atomically."""
    fresh = {m: {**t, "request_id": request_id_for(t)} for m, t in missions.items()}
    return mark_dirty(conn, tenant, fresh, seen={m: _seen_key(tenant, e) for m, e in event_ids.items() if e},
                      message_key=message_key)


def mark_dirty(conn: redis.Redis, tenant: str, missions: dict[str, dict], *,
               seen: dict[str, str] | None = None, message_key: str | None = None) -> str:
    """Record changed missions (mission → trigger) and queue the tenant's batch unless one is waiting.

    With no missions (`{}`) nothing is recorded: the batch is queued when missions are already dirty and none waits
    ("queued"), else the answer is "coalesced"."""
    # `seen` maps a mission to its event's dedupe key: a mission whose key exists is dropped ("duplicate" when all
    # are). Dedupe keys, dirty entries, the pending flag and the job go in one Lua script, like `_admit`:
    # a Redis dying mid-request keeps all of them or none, so the host's redelivery is never taken for a duplicate.
    seen, settings = seen or {}, get_settings()
    job_id = f"batch-{tenant}-{uuid.uuid4().hex[:12]}"
    keys, mapping = rq_job(conn, "handlers.sync.batch.sync_tenant", (tenant,), job_id=job_id, description=f"batch {tenant}")
    seen_keys = list(dict.fromkeys(seen[m] for m in missions if m in seen))
    at = {key: 6 + i for i, key in enumerate(seen_keys)}  # KEYS index of each dedupe key
    entries = [item for m, t in missions.items()
               for item in (m, json.dumps({**t, "n": uuid.uuid4().hex[:8]}), at.get(seen.get(m), 0))]
    message_at = 6 + len(seen_keys) if message_key else 0
    args = [settings.dedupe_ttl_seconds, settings.pending_ttl_seconds, job_id, len(missions), message_at, *entries,
            *mapping]
    batch_keys = [redis_keys.dirty(tenant), redis_keys.batch_pending(tenant), *keys, *seen_keys,
                  *([message_key] if message_key else [])]
    outcome = script(conn, _MARK_DIRTY)(batch_keys, args, client=conn)
    ensure_replicated(conn)  # with INTERMISSION_REDIS_WAIT_REPLICAS, a 2xx means the replicas have it too
    return outcome.decode() if isinstance(outcome, bytes) else outcome


def wake_left(conn: redis.Redis) -> list[str]:
    """Queue the batch of each tenant whose dirty missions no batch job waits for and no live batch holds: the ids.

    A holder killed on another machine keeps the lock until its time-out, and the jobs deferred meanwhile left; the
    tick calls this, so such missions wait one tick after the lock expires, not for the tenant's next change."""
    from config.tenants import get, list_ids, may_run_jobs

    ids = list_ids()
    pipe = conn.pipeline(transaction=False)
    for tenant_id in ids:
        pipe.exists(redis_keys.dirty(tenant_id))
        pipe.exists(redis_keys.batch_pending(tenant_id), redis_keys.batch_lock(tenant_id))
    found = pipe.execute()
    woken = []
    for n, tenant_id in enumerate(ids):
        dirty, waiting_or_held = found[2 * n], found[2 * n + 1]
        if dirty and not waiting_or_held and may_run_jobs(get(tenant_id)):
            if mark_dirty(conn, tenant_id, {}) == "queued":
                woken.append(tenant_id)
    return woken


_HOSTS: dict[str, str] = {}


def _batched(conn: redis.Redis, tenant: str) -> bool:
    """Whether the tenant's host batches its writes (the registry says; a tenant's host never changes: cached)."""
    if tenant not in _HOSTS:
        from config import tenants

        found = tenants.get(tenant)
        if found is None:
            return False
        _HOSTS[tenant] = found.host
    return host_of(_HOSTS[tenant]).batches_writes


RESOURCE_JOBS = {"resource": "handlers.sync.jobs.sync_resource", "inactivity": "handlers.sync.jobs.sync_inactivity"}


def enqueue_resource_sync(conn: redis.Redis, tenant: str, resource: str, *, trigger: dict, event_id: str | None = None,
                          check: TenantCheck | None = None,
                          tally: Tally | None = None, by: str = "resource") -> Outcome:
    """Queue a re-read of every mission of one consultant (resource events); `by="inactivity"`: `resource` is a
    Boond inactivity, whose consultant the job reads first."""
    trigger = {**trigger, "request_id": request_id_for(trigger)}
    job = {"func": RESOURCE_JOBS[by], "args": (tenant, resource, trigger),
           "job_id": f"{by}-{tenant}-{resource}-{uuid.uuid4().hex[:12]}",
           "description": f"{by} {tenant}/{resource}"}
    return _admit(conn, _seen_key(tenant, event_id), None, job, check, tally)


def enqueue_match(conn: redis.Redis, tenant: str, entity: str, *, trigger: dict, event_id: str | None = None,
                  check: TenantCheck | None = None, tally: Tally | None = None) -> Outcome:
    """Queue the tenant's matching run (opportunity events, issue #29), unless one is already waiting."""
    trigger = {**trigger, "request_id": request_id_for(trigger)}
    job = {"func": "handlers.sync.matching.match_tenant", "args": (tenant, entity, trigger),
           "job_id": f"match-{tenant}-{uuid.uuid4().hex[:12]}", "description": f"match {tenant}"}
    return _admit(conn, _seen_key(tenant, event_id), redis_keys.match_pending(tenant), job, check, tally)


def _seen_key(tenant: str, event_id: str | None) -> str | None:
    return redis_keys.seen_event(tenant, event_id) if event_id else None


class RqJob(NamedTuple):
    """A job ready to be pushed: [job key, queue key, rq's queue set], and the job hash as field/value pairs."""

    keys: list[str]
    fields: list


def rq_job(conn: redis.Redis, func: str, args: tuple, *, job_id: str, description: str | None = None,
           meta: dict | None = None) -> RqJob:
    """([job key, queue key, rq's queue set], the job hash as field/value pairs) of a job ready to be pushed."""
    keys, constant, own = _rq_job_parts(conn, func, args, job_id, description, meta)
    return RqJob(keys, [item for pair in (*constant, *own) for item in pair])


OWN_FIELDS = ("created_at", "enqueued_at", "data", "description", "meta")  # what differs from one job to the next


def _rq_job_parts(conn: redis.Redis, func: str, args: tuple, job_id: str, description: str | None,
                  meta: dict | None) -> tuple[list[str], tuple, list[tuple]]:
    """(keys, the fields every job of its kind shares, the job's own fields) of rq's `Job.to_dict()`."""
    # what `Queue.enqueue_call` would build and store: rq creates the job, `_prepare_for_queue`'s fields are set
    # (status queued, origin, enqueued_at, default timeout), the mapping is rq's own `Job.to_dict()`. rq builds it
    # once per kind of job (`_template`); a job's own fields (times, call, description, meta) are then set the way
    # `to_dict` sets them. tests/unit/test_ingest_admit.py compares the stored hash with rq's own enqueue of the call.
    queue = _queue(conn)
    if description is None:  # rq's call string stands for it: built by rq
        keys, flat = _rq_job(queue, func, args, job_id, description, meta)
        return keys, (), list(zip(flat[::2], flat[1::2]))
    stamp = utcformat(now())
    own = [("created_at", stamp), ("enqueued_at", stamp),
           ("data", zlib.compress(queue.serializer.dumps((func, None, args, {})))), ("description", description)]
    if meta:
        own.append(("meta", queue.serializer.dumps(meta)))
    return [queue.job_class.key_for(job_id), queue.key, queue.redis_queues_keys], _template(queue, func, bool(meta)), own


_TEMPLATES: dict[tuple, tuple] = {}


def _template(queue, func: str, with_meta: bool) -> tuple:
    """The fields rq's `to_dict()` gives every job of `func` on `queue` under the current retry policy, as
    (field, value) pairs (built by rq once per process and kind)."""
    key = (queue.name, queue._default_timeout, func, with_meta, get_settings().retry_intervals)
    found = _TEMPLATES.get(key)
    if found is None:
        _, flat = _rq_job(queue, func, (), "template", "template", {"t": 1} if with_meta else None)
        found = _TEMPLATES[key] = tuple((k, v) for k, v in zip(flat[::2], flat[1::2]) if k not in OWN_FIELDS)
    return found


def _rq_job(queue, func: str, args: tuple, job_id: str, description: str | None, meta: dict | None):
    job = queue.create_job(func, args=args, job_id=job_id, description=description, retry=retry_policy(),
                           result_ttl=3600, failure_ttl=30 * 24 * 3600, meta=meta, status=JobStatus.QUEUED)
    job.origin, job.enqueued_at = queue.name, now()
    flat = [item for pair in job.to_dict().items() for item in pair]
    return [job.key, queue.key, queue.redis_queues_keys], flat


_ADMIT_SOURCES: dict[tuple, str] = {}
_ENCODER = Encoder("utf-8", "strict", False)


def _admit_source(constant: tuple) -> str:
    """`_ADMIT` with the job fields every job of its kind shares written into it, as Lua literals: a webhook's
    EVALSHA then carries only the job's own fields (26 arguments instead of 70; packing them was a fifth of the
    web side's time)."""
    found = _ADMIT_SOURCES.get(constant)
    if found is None:
        literals = "".join(f"{_lua(k)}, {_lua(v)}, " for k, v in constant)
        found = _ADMIT_SOURCES[constant] = _ADMIT.replace("unpack(ARGV, 13)", literals + "unpack(ARGV, 13)")
    return found


def _lua(value) -> str:
    """A Lua string literal of `value`, encoded as redis-py would send it."""
    raw = _ENCODER.encode(value)
    return '"' + "".join(chr(b) if (b < 128 and chr(b).isalnum()) or b in b" _.:-,[]" else f"\\{b:03d}" for b in raw) + '"'


def _queue(conn: redis.Redis):
    """Our rq queue on this connection, kept on the connection (building one costs ~20 µs a request)."""
    queue = getattr(conn, "_intermission_queue", None)
    if queue is None or queue._default_timeout != get_settings().job_timeout_seconds:
        queue = get_queue(conn)
        setattr(conn, "_intermission_queue", queue)
    return queue


def script(conn: redis.Redis, source: str) -> redis.commands.core.Script:
    """The registered Lua script of `source` (EVALSHA, loaded again by redis-py when the server lacks it)."""
    found = _SCRIPTS.get(source)
    if found is None:
        found = _SCRIPTS[source] = conn.register_script(source)
    return found


def _admit(conn: redis.Redis, seen: str | None, pending: str | None, job: dict,
           check: TenantCheck | None = None, tally: Tally | None = None) -> Outcome:
    """Dedupe key, pending flag and job in one Lua script: a Redis dying mid-request keeps all of them or none.

    With `check`, the script first makes sure the tenant record is the one the secret was checked against
    (StaleTenant, nothing written, when it is not); with `tally`, it counts its outcome there too."""
    # were the dedupe key kept without the job, the host's redelivery of the refused event would be answered
    # "duplicate" and the change lost (tests/reliability/test_cut_requests.py)
    settings = get_settings()
    keys, constant, own = _rq_job_parts(conn, job["func"], job["args"], job["job_id"], job.get("description"),
                                        {"request_id": job["args"][2]["request_id"]})
    args = [int(bool(seen)), int(bool(pending)), settings.dedupe_ttl_seconds, settings.pending_ttl_seconds,
            job["job_id"], check[1] if check else "", *(tally.args() if tally else _NO_TALLY),
            *(item for pair in own for item in pair)]
    outcome = run_script(conn, script(conn, _admit_source(constant)),
                         [seen or "", pending or "", *keys, check[0] if check else "", tally.key if tally else ""], args=args)
    outcome = outcome.decode() if isinstance(outcome, bytes) else outcome
    if outcome == "stale":
        raise StaleTenant(job["args"][0])
    if tally is not None:
        tally.outcome = outcome
    ensure_replicated(conn)  # with INTERMISSION_REDIS_WAIT_REPLICAS, a 2xx means the replicas have it too
    return outcome


_NO_TALLY = ("",) * 6
