"""Catch-up sweep: re-read the missions a host says changed recently, so a lost webhook is caught in one interval."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone

import redis

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from connectors.errors import HostAuthError, HostBudgetExhausted, HostError
from handlers.hosts.registry import adapter_for, host_of
from handlers.intake.ingest import enqueue_batch, enqueue_sync
from handlers.state.ledger import ActivityLog
from handlers.intake.queues import get_queue, retry_policy

log = logging.getLogger(__name__)
REFUSED = (403, 404, 405, 501)  # a listing the host does not offer this tenant: retrying will not help

# Sets the tenant's last sweep time to now when it is older than the interval; 1 when the caller should sweep.
_CLAIM = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) - last < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""


def last_sweep_key(tenant_id: str) -> str:
    """When the scheduler last swept this tenant (epoch seconds)."""
    return keys.sweep_last(tenant_id)


def sweep(tenant: tenants.Tenant, since: datetime, *, conn: redis.Redis | None = None) -> dict:
    """Queue a re-sync of every mission the host reports changed since `since`; what was found and queued."""
    conn = conn or get_redis()
    changed = adapter_for(tenant, conn).changed_since(since)
    if host_of(tenant).batches_writes and changed:  # one dirty mark for all: the tenant's next batch re-reads them together
        enqueue_batch(conn, tenant.id, {mission: {"kind": "sweep"} for mission in changed}, {})
        outcomes = ["queued"] * len(changed)
    else:
        outcomes = [enqueue_sync(conn, tenant.id, mission, {"kind": "sweep"}) for mission in changed]
    result = {"tenant": tenant.id, "since": since.astimezone(timezone.utc).isoformat(), "changed": len(changed),
              "queued": outcomes.count("queued"), "coalesced": outcomes.count("coalesced")}
    log.info("sweep %s", result)
    return result


def sweep_job(tenant_id: str, since_iso: str) -> dict:
    """rq job: sweep one tenant; skipped (not failed) when it is gone, disabled, unreachable or out of budget."""
    tenant = tenants.get(tenant_id)
    if not tenants.may_run_jobs(tenant):
        return {"skipped": "tenant unknown or disabled"}
    if not host_of(tenant).budget.recheck(tenant, get_redis()):
        return {"skipped": "API budget spent"}
    try:
        return sweep(tenant, datetime.fromisoformat(since_iso))
    except (HostAuthError, HostBudgetExhausted) as exc:  # re-consent, set-up or budget: the next sweep tries again
        log.warning("sweep of %s skipped: %s", tenant_id, exc)
        return {"skipped": str(exc)}
    except HostError as exc:
        if exc.status not in REFUSED:
            raise
        return _refused(tenant, exc)


def _refused(tenant: tenants.Tenant, exc: HostError) -> dict:
    """The host refuses its change listing (Boond's /deliveries-groupments answered 404 on some tenants, §10):
    skip, say why in the job result, the log and (once a day) the tenant's activity."""
    reason = (f"sweep skipped: the host refused its change listing ({exc}); changes arrive by webhook only until "
              "the tenant's subscription or the app's rights allow it")
    log.warning("sweep of %s: %s", tenant.id, reason)
    conn = get_redis()
    if conn.set(keys.sweep_refused(tenant.id), "1", nx=True, ex=24 * 3600):
        ActivityLog(conn, tenant.id).add({"mission": "", "op": "sweep_skipped", "key": "", "title": reason,
                                          "trigger": {"kind": "sweep"}})
    return {"skipped": reason}


def schedule_due_sweeps(conn: redis.Redis | None = None, *, now: float | None = None) -> list[str]:
    """Queue a sweep of each enabled tenant not swept for an interval, over twice the interval; their ids."""
    conn = conn or get_redis()
    interval = get_settings().sweep_interval_seconds
    now = time.time() if now is None else now
    claim = conn.register_script(_CLAIM)
    since = datetime.fromtimestamp(now, tz=timezone.utc) - timedelta(seconds=2 * interval)
    due = []
    for tenant_id in tenants.list_ids():
        tenant = tenants.get(tenant_id)
        if not tenants.may_run_jobs(tenant) or not int(claim(keys=[last_sweep_key(tenant_id)], args=[now, interval])):
            continue
        get_queue(conn).enqueue("handlers.sync.sweep.sweep_job", tenant_id, since.isoformat(), retry=retry_policy(),
                                job_id=f"sweep-{tenant_id}-{int(now)}", result_ttl=3600, failure_ttl=30 * 24 * 3600,
                                description=f"sweep {tenant_id}")
        due.append(tenant_id)
    return due
