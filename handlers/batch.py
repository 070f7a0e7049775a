"""Per-tenant batches (Salesforce): changes arriving together are read, planned and written together.

The web side marks missions dirty (`im:t:<tenant>:dirty`, field = mission, value = its latest trigger) and
queues one `sync_tenant` job per tenant while none is waiting. The job reads every dirty mission in one SOQL
query per 100 ids, plans each, and sends all their creates, updates and deletes as shared sObject Collections
batches (≤ 200 records a call) — a burst of a thousand changes costs a few dozen write calls, not thousands.
A dirty entry is removed only once its mission is done, and only if no newer change replaced it meanwhile, so
a crash or a failure loses nothing (the retried job finds the same missions still dirty).
"""
from __future__ import annotations

import json
import time
import uuid

import redis

from config import tenants
from config.redis_conn import ensure_replicated, get_redis
from config.settings import get_settings
from connectors.salesforce.client import ApiLimitExceeded
from connectors.salesforce.oauth import ConsentRequired
from handlers import clock, holds, locks, pipeline
from handlers.hosts.salesforce import SalesforceAdapter, budget_left
from handlers.model import MissionSnapshot
from handlers.ingest import rq_job, script
from handlers.store import SnapshotStore

# One EVALSHA (see `ingest._ADMIT`): ARGV 5… holds (mission, dirty value, KEYS index of its dedupe key or 0) per
# mission, then the rq job hash's field/value pairs; the dedupe keys are written last.
_MARK_DIRTY = """
local n = tonumber(ARGV[4])
local fresh, dirty = {}, {}
for i = 0, n - 1 do
  local at = 5 + 3 * i
  local seen = tonumber(ARGV[at + 2])
  if seen == 0 or redis.call('EXISTS', KEYS[seen]) == 0 then
    fresh[#fresh + 1] = seen
    dirty[#dirty + 1] = ARGV[at]
    dirty[#dirty + 1] = ARGV[at + 1]
  end
end
if #fresh == 0 then
  if n > 0 then return 'duplicate' end
  return 'coalesced'
end
local waiting = redis.call('EXISTS', KEYS[2]) == 1
redis.call('HSET', KEYS[1], unpack(dirty))
if not waiting then
  redis.call('SADD', KEYS[5], KEYS[4])
  redis.call('HSET', KEYS[3], unpack(ARGV, 5 + 3 * n))
  redis.call('RPUSH', KEYS[4], ARGV[3])
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
end
for _, seen in ipairs(fresh) do
  if seen > 0 then redis.call('SET', KEYS[seen], '1', 'EX', ARGV[1]) end
end
if waiting then return 'coalesced' end
return 'queued'
"""
_DONE_IF_SAME = ("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
                 "return redis.call('HDEL', KEYS[1], ARGV[1]) else return 0 end")


def dirty_key(tenant: str) -> str:
    """Missions of a tenant waiting for the next batch."""
    return f"im:t:{tenant}:dirty"


def batch_pending_key(tenant: str) -> str:
    """Set while a batch job of this tenant is queued and not yet started."""
    return f"im:t:{tenant}:batch-pending"


def mark_dirty(conn: redis.Redis, tenant: str, missions: dict[str, dict], *,
               seen: dict[str, str] | None = None) -> str:
    """Record changed missions (mission → trigger) and queue the tenant's batch unless one is waiting."""
    # `seen` maps a mission to its event's dedupe key: a mission whose key exists is dropped ("duplicate" when all
    # are). Dedupe keys, dirty entries, the pending flag and the job go in one Lua script, like `ingest._admit`:
    # a Redis dying mid-request keeps all of them or none, so the host's redelivery is never taken for a duplicate.
    seen, settings = seen or {}, get_settings()
    job_id = f"batch-{tenant}-{uuid.uuid4().hex[:12]}"
    keys, mapping = rq_job(conn, "handlers.batch.sync_tenant", (tenant,), job_id, description=f"batch {tenant}")
    seen_keys = list(dict.fromkeys(seen[m] for m in missions if m in seen))
    at = {key: 6 + i for i, key in enumerate(seen_keys)}  # KEYS index of each dedupe key
    entries = [item for m, t in missions.items()
               for item in (m, json.dumps({**t, "n": uuid.uuid4().hex[:8]}), at.get(seen.get(m), 0))]
    args = [settings.dedupe_ttl_seconds, settings.pending_ttl_seconds, job_id, len(missions), *entries, *mapping]
    outcome = script(conn, _MARK_DIRTY)([dirty_key(tenant), batch_pending_key(tenant), *keys, *seen_keys], args,
                                        client=conn)
    ensure_replicated(conn)  # with INTERMISSION_REDIS_WAIT_REPLICAS, a 2xx means the replicas have it too
    return outcome.decode() if isinstance(outcome, bytes) else outcome


def sync_tenant(tenant_id: str) -> dict:
    """Bring every dirty mission of a tenant up to date in shared batches; hold them when the host says wait."""
    conn = get_redis()
    conn.delete(batch_pending_key(tenant_id))
    dirty = {k.decode(): v.decode() for k, v in conn.hgetall(dirty_key(tenant_id)).items()}
    tenant = tenants.get(tenant_id)
    if not dirty or not tenants.may_run_jobs(tenant):
        return {"skipped": len(dirty)}
    if not budget_left(tenant, conn):
        return _hold_all(conn, tenant_id, dirty, "API budget spent", time.time() + get_settings().sf_limit_pause_seconds)
    try:
        with locks.held(conn, f"im:t:{tenant_id}:lock:batch", ttl=get_settings().job_timeout_seconds):
            return _sync(conn, tenant, dirty)
    except ConsentRequired as exc:
        return _hold_all(conn, tenant_id, dirty, f"needs re-consent: {exc}", None)
    except ApiLimitExceeded as exc:
        return _hold_all(conn, tenant_id, dirty, "REQUEST_LIMIT_EXCEEDED", time.time() + exc.retry_after)


def _sync(conn: redis.Redis, tenant: tenants.Tenant, dirty: dict[str, str]) -> dict:
    from handlers.jobs import siblings

    adapter = SalesforceAdapter(tenant, conn)
    store = SnapshotStore(conn, tenant.id)
    snaps, timelines = adapter.read_missions(sorted(dirty))
    today = clock.today(tenant.timezone)
    plans = [pipeline.prepare(conn, tenant, store.get(m), snaps.get(m), json.loads(dirty[m]), today)
             for m in sorted(dirty)]
    plans = [p for p in plans if p] + siblings(conn, tenant, adapter, timelines, set(dirty), today)
    results = pipeline.reconcile(conn, tenant, adapter, plans) if plans else {}
    for mission_id, value in dirty.items():
        conn.eval(_DONE_IF_SAME, 1, dirty_key(tenant.id), mission_id, value)
    counts = [c for c in results.values()]
    return {"missions": len(counts), **{k: sum(c[k] for c in counts) for k in counts[0] if k != "case"}} \
        if counts else {"missions": 0}


def _hold_all(conn: redis.Redis, tenant_id: str, dirty: dict[str, str], reason: str, resume_at: float | None) -> dict:
    for mission_id, value in dirty.items():
        holds.hold(conn, tenant_id, mission_id, reason, resume_at=resume_at)
        conn.eval(_DONE_IF_SAME, 1, dirty_key(tenant_id), mission_id, value)
    return {"held": len(dirty), "reason": reason}


def is_batched(tenant: tenants.Tenant | None) -> bool:
    """Salesforce tenants go through per-tenant batches; Boond (no batch API) keeps one job per mission."""
    return tenant is not None and tenant.host == "salesforce"


__all__ = ["mark_dirty", "sync_tenant", "is_batched", "MissionSnapshot"]
