"""rq jobs: re-read a mission, classify, plan and reconcile; the periodic tick for time-based steps."""
from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timezone
from functools import lru_cache

from rq.exceptions import DuplicateJobError

from config import tenants
from config.playbook import Playbook, default_playbook, load_playbook
from config.redis_conn import get_redis
from config.settings import get_settings
from handlers import clock, locks, surveys
from handlers.classify import carry, classify, wakeup
from connectors.errors import HostRateLimited
from connectors.salesforce.client import ApiLimitExceeded
from connectors.salesforce.oauth import ConsentRequired
from handlers import holds
from handlers.hosts.boond import BoondAdapter
from handlers.hosts.salesforce import SalesforceAdapter, budget_left
from handlers.reconcile_batch import BatchReconciler
from handlers.ingest import enqueue_sync, pending_key
from handlers.ledger import ActivityLog, Ledger
from handlers.model import Classification, MissionSnapshot
from handlers.plan import plan
from handlers.plan_surveys import SurveyInputs, next_reminder_day
from handlers.queues import get_queue
from handlers.reconcile import Reconciler
from handlers.rules import Rules
from handlers.telemetry import count_actions
from handlers.store import SnapshotStore, due_missions, schedule_wakeup
from handlers.sweep import schedule_due_sweeps

log = logging.getLogger(__name__)
TICK_SECONDS = 900
ADAPTERS = {"boond": BoondAdapter, "salesforce": SalesforceAdapter}


@lru_cache(maxsize=256)
def _playbook(overrides_json: str) -> Playbook:
    overrides = json.loads(overrides_json) or None
    return load_playbook(overrides=overrides) if overrides else default_playbook()  # parsed before any fork


def playbook_for(tenant: tenants.Tenant) -> Playbook:
    """The default playbook with the tenant's overrides applied (validated, cached)."""
    return _playbook(json.dumps(tenant.playbook_overrides, sort_keys=True))


def sync_mission(tenant_id: str, mission_id: str, trigger: dict) -> dict:
    """Re-read one mission from its host and bring its actions up to date; held, not lost, when the host says wait."""
    conn = get_redis()
    conn.delete(pending_key(tenant_id, mission_id))
    tenant = tenants.get(tenant_id)
    if tenant is None or not tenant.enabled:
        return {"skipped": "tenant unknown or disabled"}
    if tenant.host == "salesforce" and not budget_left(tenant, conn):
        holds.hold(conn, tenant_id, mission_id, "API budget spent",
                   resume_at=time.time() + get_settings().sf_limit_pause_seconds)
        return {"held": "API budget spent"}
    try:
        return _sync(conn, tenant, mission_id, trigger)
    except ConsentRequired as exc:
        holds.hold(conn, tenant_id, mission_id, f"needs re-consent: {exc}")
        return {"held": "needs re-consent"}
    except ApiLimitExceeded as exc:
        holds.hold(conn, tenant_id, mission_id, "REQUEST_LIMIT_EXCEEDED", resume_at=time.time() + exc.retry_after)
        return {"held": "API limit exceeded"}
    except HostRateLimited as exc:  # a pause longer than a job should sleep: held, not retried (no retry spent)
        holds.hold(conn, tenant_id, mission_id, holds.rate_limit_reason(exc), resume_at=time.time() + exc.retry_after)
        return {"held": "host rate limit"}


def _sync(conn, tenant: tenants.Tenant, mission_id: str, trigger: dict) -> dict:
    tenant_id = tenant.id
    adapter = ADAPTERS[tenant.host](tenant, conn)
    store = SnapshotStore(conn, tenant_id)
    current, timeline = adapter.read_mission(mission_id)
    prev = store.get(mission_id)
    if current is None:
        if prev is None:
            return {"skipped": "unknown mission"}
        current = prev.model_copy(update={"status": "deleted"})
    person = current.consultant.id if current.consultant else mission_id
    with locks.held(conn, f"im:t:{tenant_id}:lock:consultant:{person}", ttl=get_settings().job_timeout_seconds):
        result = {mission_id: reconcile_mission(tenant, adapter, store, prev, current, trigger)}
        for other_id in sorted(store.missions_of(person) - {mission_id}) if current.consultant else []:
            other = store.get(other_id)
            if other and other.status != "deleted":
                moved = adapter.placed(other, timeline)
                result[other_id] = reconcile_mission(tenant, adapter, store, other, moved, trigger)
    return result


def reconcile_mission(tenant: tenants.Tenant, adapter, store: SnapshotStore, prev: MissionSnapshot | None,
                      current: MissionSnapshot, trigger: dict) -> dict:
    """Classify, plan and reconcile one mission; save its snapshot and its next wake-up."""
    today = clock.today(tenant.timezone)
    current = _carry_notice(prev, current, today)
    rules = Rules.of(tenant)
    found = classify(prev, current, today, rules=rules)
    conn = store.conn
    base = plan(current, found, playbook_for(tenant), today, language=tenant.language, rules=rules)
    asked = survey_inputs(conn, tenant, current, base, today)
    desired = plan(current, found, playbook_for(tenant), today, language=tenant.language, rules=rules,
                   surveys=asked)
    provenance = {"trigger": trigger, "case": found.case, "reason": found.reason, "unsure": found.unsure,
                  "change": f"{prev.end_date if prev else None} → {current.end_date}"}
    reconciler = BatchReconciler if hasattr(adapter, "write_all") else Reconciler
    run = reconciler(Ledger(conn, tenant.id, current.mission_id), adapter,
                     ActivityLog(conn, tenant.id), current.mission_id, provenance, host=tenant.host)
    try:
        counts = run.run(desired)
    finally:
        count_actions(tenant.host, run.counts)  # what reached the host, even when the rest failed
    store.save(current)
    wakeups = [_wakeup(current, found, today), next_reminder_day(base, asked, today, tenant.country,
                                                                 tenant.subdivision)]
    schedule_wakeup(conn, tenant.id, current.mission_id, min((d for d in wakeups if d), default=None))
    return {"case": found.case, **counts}


def survey_inputs(conn, tenant: tenants.Tenant, current: MissionSnapshot, base: list, today: date, *,
                  create: bool = True) -> SurveyInputs:
    """The mission's surveys for the planner: made for the plan's survey steps when missing (read-only: previews)."""
    survey_steps = [a for a in base if a.kind == "survey"]
    found = (surveys.ensure(conn, tenant, current, survey_steps, today) if create
             else surveys.states(conn, tenant.id, current.mission_id))
    return SurveyInputs.of(tenant, found, get_settings().public_base_url)


def _carry_notice(prev: MissionSnapshot | None, cur: MissionSnapshot, today: date) -> MissionSnapshot:
    """Keep the day an early end was first seen, the first-seen day and the end's last move (handlers.classify.carry)."""
    return carry(prev, cur, today)


def _wakeup(cur: MissionSnapshot, found: Classification, today: date) -> date | None:
    """When time alone will change this mission's plan (handlers.classify.wakeup)."""
    return wakeup(cur, found, today)


def sync_resource(tenant_id: str, resource_id: str, trigger: dict) -> dict:
    """Queue a re-read of every mission we know for a consultant."""
    conn = get_redis()
    missions = SnapshotStore(conn, tenant_id).missions_of(resource_id)
    return {m: enqueue_sync(conn, tenant_id, m, trigger) for m in sorted(missions)}


def tick() -> dict:
    """Queue a re-read of each mission whose wake-up day has come, then schedule the next tick."""
    conn = get_redis()
    queued = {}
    for tenant_id, mission_id in due_missions(conn, clock.today(get_settings().default_timezone)):
        queued[f"{tenant_id}/{mission_id}"] = enqueue_sync(conn, tenant_id, mission_id, {"kind": "scheduler"})
    for tenant_id in schedule_due_sweeps(conn):
        queued[f"{tenant_id}/sweep"] = "queued"
    for tenant_id, missions in holds.resume_overdue(conn).items():
        queued[f"{tenant_id}/resumed"] = len(missions)
    schedule_next_tick()
    return queued


def schedule_next_tick() -> None:
    """Make sure exactly one tick is scheduled for the next slot (safe from any number of workers)."""
    slot = int(datetime.now(timezone.utc).timestamp()) // TICK_SECONDS + 1
    when = datetime.fromtimestamp(slot * TICK_SECONDS, tz=timezone.utc)
    try:
        get_queue().enqueue_at(when, "handlers.jobs.tick", job_id=f"tick-{slot}", unique=True, result_ttl=600)
    except DuplicateJobError:
        pass
