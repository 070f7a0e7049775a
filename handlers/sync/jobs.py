"""rq jobs: re-read a mission and run it through the pipeline; the periodic tick for time-based steps."""
from __future__ import annotations

import logging
import time
from datetime import date, datetime, timezone
from typing import NamedTuple

from rq.exceptions import DuplicateJobError

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from connectors.errors import HostBudgetExhausted, HostConsentRequired, HostRateLimited
from config.infra import clock
from handlers.sync import holds, locks, pipeline
from handlers.hosts.registry import adapter_for, host_of
from handlers.intake.ingest import enqueue_sync, pending_key, wake_left
from handlers.intake.queues import get_queue
from handlers.state.store import SnapshotStore, due_missions
from handlers.sync.sweep import schedule_due_sweeps

log = logging.getLogger(__name__)
playbook_for = pipeline.playbook_for  # the name the admin pages import


def sync_mission(tenant_id: str, mission_id: str, trigger: dict) -> dict:
    """Re-read one mission from its host and bring its actions up to date; held, not lost, when the host says wait."""
    conn = get_redis()
    tenant = tenants.get(tenant_id, clearing=pending_key(tenant_id, mission_id))  # a change from now on queues anew
    if not tenants.may_run_jobs(tenant):
        return {"skipped": "tenant unknown or disabled"}
    if not tenant.setup_complete:  # issue #27: kept until the set-up is finished (handlers/setup.finish resumes it)
        holds.hold(conn, tenant_id, mission_id, reason=holds.SETUP_INCOMPLETE)
        return {"held": holds.SETUP_INCOMPLETE}
    budget = host_of(tenant).budget
    if not budget.left(tenant, conn):
        holds.hold(conn, tenant_id, mission_id, reason=holds.BUDGET_SPENT, resume_at=time.time() + budget.pause_seconds())
        return {"held": holds.BUDGET_SPENT}
    try:
        return _sync(conn, tenant, mission_id, trigger)
    except HostConsentRequired as exc:
        holds.hold(conn, tenant_id, mission_id, reason=holds.consent_reason(exc))
        return {"held": "needs re-consent"}
    except HostBudgetExhausted as exc:
        holds.hold(conn, tenant_id, mission_id, reason=holds.LIMIT_EXCEEDED, resume_at=time.time() + exc.retry_after)
        return {"held": "API limit exceeded"}
    except HostRateLimited as exc:  # a pause longer than a job should sleep: held, not retried (no retry spent)
        holds.hold(conn, tenant_id, mission_id, reason=holds.rate_limit_reason(exc), resume_at=time.time() + exc.retry_after)
        return {"held": "host rate limit"}


def _sync(conn, tenant: tenants.Tenant, mission_id: str, trigger: dict) -> dict:
    adapter = adapter_for(tenant, conn)
    current, timeline = adapter.read_mission(mission_id)
    today = clock.today(tenant.timezone)
    ttl = get_settings().job_timeout_seconds
    if current is None:  # deleted in the host: the consultant to lock is the one its last snapshot names
        kept = pipeline.stored(conn, tenant.id, [mission_id])[mission_id]
        first = pipeline.prepare(conn, tenant, kept.prev, current=current, trigger=trigger, today=today, kept=kept)
        if first is None:
            return {"skipped": "unknown mission"}
        with locks.held(conn, _lock_of(tenant.id, first.current), ttl=ttl):
            return _reconcile(conn, tenant, adapter, first, timeline=timeline, today=today)
    # the mission as Redis keeps it (and its consultant's other missions) read in the lock's own round trip
    consultant, store = current.consultant, SnapshotStore(conn, tenant.id)

    def reading(pipe):
        decoded = pipeline.stored_on(pipe, tenant.id, [mission_id])
        if consultant:
            store.read_missions_of(pipe, consultant.id)
        return lambda answers: (decoded(answers[:3])[mission_id], store.missions_read(answers[3]) if consultant else set())

    with locks.held(conn, _lock_of(tenant.id, current), ttl=ttl, reading=reading) as (kept, theirs):
        first = pipeline.prepare(conn, tenant, kept.prev, current=current, trigger=trigger, today=today, kept=kept)
        return _reconcile(conn, tenant, adapter, first, timeline=timeline, today=today, theirs=theirs,
                          ledgers={mission_id: kept.ledger})


def _lock_of(tenant_id: str, snap) -> str:
    """The lock a mission's job holds: its consultant's (their missions share a bench), else the mission's own."""
    return keys.consultant_lock(tenant_id, snap.consultant.id if snap.consultant else snap.mission_id)


def _reconcile(conn, tenant: tenants.Tenant, adapter, first, *, timeline: list, today: date,
               theirs: set[str] | None = None, ledgers: dict | None = None) -> dict:
    """The mission's plan and its consultant's other missions whose bench moved, written in one round (under the
    consultant's lock, which the caller holds). `theirs`, `ledgers`: what the caller read under that lock."""
    consultant = first.current.consultant
    others = siblings(conn, tenant, adapter, timelines={consultant.id: timeline}, batch={first.mission_id},
                      today=today, known={consultant.id: theirs} if theirs is not None else None) \
        if consultant else Siblings([], {})
    return pipeline.reconcile(conn, tenant, adapter, plans=[first, *others.plans],
                              ledgers={**(ledgers or {}), **others.ledgers})


class Siblings(NamedTuple):
    """The plans of the consultants' other missions whose bench moved, and the ledgers their planning read."""

    plans: list
    ledgers: dict[str, dict]


def siblings(conn, tenant: tenants.Tenant, adapter, *, timelines: dict, batch: set[str], today: date,
             known: dict[str, set[str]] | None = None) -> Siblings:
    """Known missions of the same consultants, outside the batch, whose next mission moved (bench on or off); a
    mission since given to someone else (a replacement, a swap) is no longer theirs. `known`: consultant → the
    missions the caller read of them already.

    At most three round trips whatever the number of consultants and missions: the consultants' lists not known
    yet, every listed mission's snapshot, then the ledger and surveys of those whose bench moved (`pipeline.stored`)."""
    store, known = SnapshotStore(conn, tenant.id), known or {}
    theirs = {c: known[c] for c in timelines if known.get(c) is not None}
    unlisted = [c for c in timelines if c not in theirs]
    theirs.update(zip(unlisted, map(store.missions_read, _each(conn, unlisted, store.read_missions_of))))
    listed = sorted({m for c in timelines for m in theirs[c] - batch})
    snapshots = dict(zip(listed, (store.decoded(m, raw) for m, raw in zip(listed, _each(conn, listed, store.read)))))
    moved = []  # (snapshot kept, as read now)
    for consultant_id, line in timelines.items():
        for other_id in sorted(theirs[consultant_id] - batch):
            other = snapshots[other_id]
            if other and other.status != "deleted" and other.consultant and other.consultant.id == consultant_id:
                now = adapter.placed(other, line)
                if (now.next_start, now.others) != (other.next_start, other.others):
                    moved.append((other, now))
    kept = pipeline.stored(conn, tenant.id, [other.mission_id for other, _ in moved]) if moved else {}
    return Siblings([pipeline.prepare(conn, tenant, other, current=now, trigger={"kind": "sibling"}, today=today,
                                      kept=kept[other.mission_id]) for other, now in moved],
                    {m: found.ledger for m, found in kept.items()})


def _each(conn, items: list[str], read) -> list:
    """`read(pipe, item)` for every item, in one round trip (none for no item): their answers, in order."""
    if not items:
        return []
    pipe = conn.pipeline(transaction=False)
    for item in items:
        read(pipe, item)
    return pipe.execute()


def sync_resource(tenant_id: str, resource_id: str, trigger: dict) -> dict:
    """Queue a re-read of every mission we know for a consultant."""
    conn = get_redis()
    missions = SnapshotStore(conn, tenant_id).missions_of(resource_id)
    return {m: enqueue_sync(conn, tenant_id, m, trigger=trigger) for m in sorted(missions)}


def sync_inactivity(tenant_id: str, inactivity_id: str, trigger: dict) -> dict:
    """Queue a re-read of every mission of the consultant a host inactivity belongs to (Boond's events name only the
    inactivity; the snapshots keep their inactivities: the bench dashboard's effective use); a deleted inactivity
    names nobody: its days leave the snapshots at their next re-read."""
    tenant = tenants.get(tenant_id)
    if tenant is None or not tenants.may_run_jobs(tenant):
        return {"skipped": "tenant unknown or disabled"}
    reader = getattr(adapter_for(tenant, get_redis()), "inactivity_resource", None)
    resource = reader(inactivity_id) if reader else None
    return sync_resource(tenant_id, resource, trigger) if resource else {"skipped": "inactivity not found"}


def tick() -> dict:
    """Queue a re-read of each mission whose wake-up day has come, then schedule the next tick."""
    conn = get_redis()
    queued = {}
    for tenant_id, mission_id in due_missions(conn, clock.today(get_settings().default_timezone)):
        queued[f"{tenant_id}/{mission_id}"] = enqueue_sync(conn, tenant_id, mission_id, trigger={"kind": "scheduler"})
    for tenant_id in schedule_due_sweeps(conn):
        queued[f"{tenant_id}/sweep"] = "queued"
    for tenant_id, missions in holds.resume_overdue(conn).items():
        queued[f"{tenant_id}/resumed"] = len(missions)
    for tenant_id in wake_left(conn):  # dirty missions whose batch job left while a killed holder kept the lock
        queued[f"{tenant_id}/batch"] = "queued"
    schedule_next_tick()
    return queued


def schedule_next_tick() -> None:
    """Make sure exactly one tick is scheduled for the next slot (safe from any number of workers)."""
    every = get_settings().tick_interval_seconds
    slot = int(datetime.now(timezone.utc).timestamp()) // every + 1
    when = datetime.fromtimestamp(slot * every, tz=timezone.utc)
    try:
        get_queue().enqueue_at(when, "handlers.sync.jobs.tick", job_id=f"tick-{slot}", unique=True, result_ttl=600)
    except DuplicateJobError:
        pass
