"""Per-tenant batches, for a host whose writes batch (`Host.batches_writes`: Salesforce): changes arriving together
are read, planned and written together.

The web side marks missions dirty (`ingest.mark_dirty`, `config.keys.dirty`: field = mission, value = its latest
trigger) and queues one `sync_tenant` job per tenant while none is waiting. The job reads every dirty mission with
the adapter's `read_missions` (Salesforce: one SOQL query per 100 ids), plans each, and hands all their creates,
updates and deletes to one `write_all` (Salesforce: shared sObject Collections of ≤ 200 records a call) — a burst
of a thousand changes costs a few dozen write calls, not thousands.
A dirty entry is removed only once its mission is done, and only if no newer change replaced it meanwhile, so
a crash or a failure loses nothing (the retried job finds the same missions still dirty).

One batch job of a tenant runs at a time (`config.keys.batch_lock`), and no job waits for it: a job that finds the
lock held (by a live process, or by one on another machine) returns at once (`{"deferred": n}`): it holds nothing,
marks nothing done and leaves the dirty set as it is. The holder, once it has released
the lock, looks at the dirty set again and queues the tenant's batch if missions are dirty and none waits
(`mark_dirty(conn, tenant, {})`). So a mission marked while it ran is synced: either that look sees it, or the job
its mark queued starts after the release and finds the lock free. After a failure the holder queues only for what
was marked after its own read (rq retries the job for the rest), so a failing host does not start a loop of jobs.
A holder whose process dies leaves its lock behind. Its job is not lost: rq 3's `StartedJobRegistry.cleanup`
retries an abandoned job that has retries left, and `queues.recover_orphans` requeues a dead worker's job. A job
on the same machine takes the dead holder's lock over (`locks.held_if_free` checks the process). On another
machine the lock stays until its TTL (the job timeout) runs out. `recover_orphans` requeues the job only after
the dead worker's `worker_ttl` (longer), when the lock is free; a job that finds the lock held before that (rq's
cleanup may retry sooner) is deferred; the tick (`ingest.wake_left`) then queues the tenant's batch once the lock is gone
and none waits, so such missions wait at most one tick after the lock's time-out. A backfill page waits for the
lock instead (`sync_tenant(wait=True)`): the run counts its missions planned only once they are.
"""
from __future__ import annotations

import json
import logging
import time

import redis

from config import keys, tenants
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from connectors.errors import HostBudgetExhausted, HostConsentRequired
from config.infra import clock
from handlers.sync import holds, locks, pipeline
from handlers.hosts.registry import adapter_for, host_of
from handlers.intake.ingest import mark_dirty
from handlers.domain.model import MissionSnapshot

log = logging.getLogger(__name__)

_DONE_IF_SAME = ("if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
                 "return redis.call('HDEL', KEYS[1], ARGV[1]) else return 0 end")


dirty_key = keys.dirty  # missions of a tenant waiting for the next batch (marked by `ingest.mark_dirty`)
batch_pending_key = keys.batch_pending  # set while a batch job of this tenant is queued and not yet started


def sync_tenant(tenant_id: str, *, wait: bool = False) -> dict:
    """Bring every dirty mission of a tenant up to date in shared batches; hold them when the host says wait.

    Returns at once (`{"deferred": n}`) while another batch job of the tenant holds its lock; `wait`: waits for it
    instead (a backfill page, whose missions must be planned before the run counts them)."""
    conn = get_redis()
    tenant = tenants.get(tenant_id, clearing=batch_pending_key(tenant_id))  # a change from now on queues anew
    dirty = _dirty(conn, tenant_id)
    if not dirty or not tenants.may_run_jobs(tenant):
        return {"skipped": len(dirty)}
    if not tenant.setup_complete:  # issue #27: kept until the set-up is finished (handlers/setup.finish resumes it)
        return _hold_all(conn, tenant_id, dirty, holds.SETUP_INCOMPLETE, None)
    budget = host_of(tenant).budget
    if not budget.left(tenant, conn):
        return _hold_all(conn, tenant_id, dirty, holds.BUDGET_SPENT, time.time() + budget.pause_seconds())
    taken = dirty
    try:
        lock, ttl = keys.batch_lock(tenant_id), get_settings().job_timeout_seconds
        with (locks.held(conn, lock, ttl=ttl) if wait else locks.held_if_free(conn, lock, ttl=ttl)) as free:
            if not free:  # busy: leave, the holder looks at the dirty set again once it has released the lock
                return {"deferred": len(dirty)}
            taken = _dirty(conn, tenant_id)  # again: what a batch that held the lock meanwhile did is no longer dirty
            result = _sync_or_hold(conn, tenant, taken)
    except Exception:
        _look_again_after_failure(conn, tenant_id, taken)
        raise
    mark_dirty(conn, tenant_id, {})  # lock released: a mission marked meanwhile gets its batch (unless one waits)
    return result


def _sync_or_hold(conn: redis.Redis, tenant: tenants.Tenant, dirty: dict[str, str]) -> dict:
    """`_sync`, or every mission held when the host asks for consent or has no budget left."""
    if not dirty:
        return {"skipped": 0}
    try:
        return _sync(conn, tenant, dirty)
    except HostConsentRequired as exc:
        return _hold_all(conn, tenant.id, dirty, holds.consent_reason(exc), None)
    except HostBudgetExhausted as exc:
        return _hold_all(conn, tenant.id, dirty, holds.LIMIT_EXCEEDED, time.time() + exc.retry_after)


def _look_again_after_failure(conn: redis.Redis, tenant_id: str, taken: dict[str, str]) -> None:
    """After a failed batch, released: queue the tenant's batch for what was marked after this job read the dirty
    set (rq retries this job for what it took). Never raises: the job's own failure is what rq must see."""
    try:
        if any(taken.get(mission) != value for mission, value in _dirty(conn, tenant_id).items()):
            mark_dirty(conn, tenant_id, {})
    except Exception:  # noqa: BLE001 - logged; the original exception goes on
        log.warning("batch %s: the dirty set could not be looked at again after a failure", tenant_id, exc_info=True)


def _dirty(conn: redis.Redis, tenant_id: str) -> dict[str, str]:
    """The tenant's dirty missions: mission → its latest trigger."""
    return {k.decode(): v.decode() for k, v in conn.hgetall(dirty_key(tenant_id)).items()}


def _sync(conn: redis.Redis, tenant: tenants.Tenant, dirty: dict[str, str]) -> dict:
    from handlers.sync.jobs import siblings

    adapter = adapter_for(tenant, conn)
    snaps, timelines = adapter.read_missions(sorted(dirty))
    today = clock.today(tenant.timezone)
    kept = pipeline.stored(conn, tenant.id, sorted(dirty))
    plans = [pipeline.prepare(conn, tenant, kept[m].prev, current=snaps.get(m), trigger=json.loads(dirty[m]), today=today,
                              kept=kept[m]) for m in sorted(dirty)]
    plans = [p for p in plans if p] + siblings(conn, tenant, adapter, timelines=timelines, batch=set(dirty), today=today).plans
    results = pipeline.reconcile(conn, tenant, adapter, plans=plans) if plans else {}
    done = conn.pipeline(transaction=False)
    for mission_id, value in dirty.items():
        done.eval(_DONE_IF_SAME, 1, dirty_key(tenant.id), mission_id, value)
    done.execute()
    counts = [c for c in results.values()]
    return {"missions": len(counts), **{k: sum(c[k] for c in counts) for k in counts[0] if k != "case"}} \
        if counts else {"missions": 0}


def _hold_all(conn: redis.Redis, tenant_id: str, dirty: dict[str, str], reason: str, resume_at: float | None) -> dict:
    for mission_id, value in dirty.items():
        holds.hold(conn, tenant_id, mission_id, reason=reason, resume_at=resume_at)
        conn.eval(_DONE_IF_SAME, 1, dirty_key(tenant_id), mission_id, value)
    return {"held": len(dirty), "reason": reason}


def is_batched(tenant: tenants.Tenant | None) -> bool:
    """Whether the tenant's host batches its writes (Salesforce); the others (Boond) keep one job per mission."""
    return tenant is not None and host_of(tenant).batches_writes


__all__ = ["mark_dirty", "sync_tenant", "is_batched", "MissionSnapshot"]
