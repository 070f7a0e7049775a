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
from connectors.errors import HostAuthError, HostBudgetExhausted, HostError, not_offered
from handlers.hosts.registry import adapter_for, host_of
from handlers.intake.ingest import enqueue_batch, enqueue_sync
from handlers.state.ledger import ActivityLog
from handlers.intake.queues import get_queue, retry_policy

log = logging.getLogger(__name__)
KNOWN_PAGE = 50  # known missions re-read by id per sweep when the host refuses its change listing

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
    try:
        changed, refused = adapter_for(tenant, conn).changed_since(since), None
    except HostError as exc:
        if not not_offered(exc):
            raise
        changed, refused = known_page(conn, tenant), exc
    if host_of(tenant).batches_writes and changed:  # one dirty mark for all: the tenant's next batch re-reads them together
        enqueue_batch(conn, tenant.id, {mission: {"kind": "sweep"} for mission in changed}, event_ids={})
        outcomes = ["queued"] * len(changed)
    else:
        outcomes = [enqueue_sync(conn, tenant.id, mission, trigger={"kind": "sweep"}) for mission in changed]
    result = {"tenant": tenant.id, "since": since.astimezone(timezone.utc).isoformat(), "changed": len(changed),
              "queued": outcomes.count("queued"), "coalesced": outcomes.count("coalesced")}
    if refused is not None:
        result["refused"] = _refused(tenant, refused, conn)
    log.info("sweep %s", result)
    return result


def known_page(conn: redis.Redis, tenant: tenants.Tenant, size: int = KNOWN_PAGE) -> list[str]:
    """The next `size` open missions Intermission knows (its snapshots), from where the last sweep stopped, wrapping
    round: with the change listing refused, every known mission is re-read by id within a few sweeps."""
    from config.infra import clock
    from handlers.state.store import open_missions

    known = open_missions(conn, tenant, clock.today(tenant.timezone))
    if not known:
        return []
    start = int(conn.get(keys.sweep_cursor(tenant.id)) or 0) % len(known)
    page = (known[start:] + known[:start])[:size]
    conn.set(keys.sweep_cursor(tenant.id), (start + len(page)) % len(known))
    return page


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


def _refused(tenant: tenants.Tenant, exc: HostError, conn: redis.Redis) -> str:
    """The host refuses its change listing (Boond's /deliveries-groupments answered 404 on some tenants, §10): the
    known missions were re-read by id instead; said in the job result, the log and (once a day) the activity."""
    reason = (f"the host refused its change listing ({exc}): the missions Intermission knows are re-read by id, "
              f"{KNOWN_PAGE} a sweep; new ones arrive by webhook until the tenant's subscription or the app's rights "
              "allow the listing")
    log.warning("sweep of %s: %s", tenant.id, reason)
    if conn.set(keys.sweep_refused(tenant.id), "1", nx=True, ex=24 * 3600):
        ActivityLog(conn, tenant.id).add({"mission": "", "op": "sweep_skipped", "key": "", "title": reason,
                                          "trigger": {"kind": "sweep"}})
    return reason


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
