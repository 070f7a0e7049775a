"""The web side's only job: deduplicate, coalesce and enqueue a hint that a mission changed."""
from __future__ import annotations

import uuid
from typing import Literal

import redis

from config.redis_conn import ensure_replicated
from config.settings import get_settings
from handlers.queues import get_queue, retry_policy
from handlers.telemetry import request_id_for

Outcome = Literal["queued", "duplicate", "coalesced"]


def pending_key(tenant: str, mission: str) -> str:
    """Set while a sync of this mission is queued and not yet started."""
    return f"im:t:{tenant}:pending:{mission}"


def enqueue_sync(conn: redis.Redis, tenant: str, mission: str, trigger: dict, *,
                 event_id: str | None = None) -> Outcome:
    """Queue one re-read of `mission`, unless this event was seen or a re-read is already waiting."""
    trigger = {**trigger, "request_id": request_id_for(trigger)}
    if _batched(conn, tenant):
        return enqueue_batch(conn, tenant, {mission: trigger}, {mission: event_id} if event_id else {})
    job = {"func": "handlers.jobs.sync_mission", "args": (tenant, mission, trigger),
           "job_id": f"sync-{tenant}-{mission}-{uuid.uuid4().hex[:12]}", "description": f"sync {tenant}/{mission}"}
    return _admit(conn, _seen_key(tenant, event_id), pending_key(tenant, mission), job)


def enqueue_batch(conn: redis.Redis, tenant: str, missions: dict[str, dict], event_ids: dict[str, str]) -> Outcome:
    """Per-tenant batch path: drop seen events, mark the rest dirty, queue the tenant's batch if none waits."""
    from handlers.batch import mark_dirty

    fresh = {m: {**t, "request_id": request_id_for(t)} for m, t in missions.items()}
    return mark_dirty(conn, tenant, fresh, seen={m: _seen_key(tenant, e) for m, e in event_ids.items() if e})


_HOSTS: dict[str, str] = {}


def _batched(conn: redis.Redis, tenant: str) -> bool:
    """Salesforce tenants write in per-tenant batches (the host never changes for a tenant id: cached)."""
    if tenant not in _HOSTS:
        from config import tenants

        found = tenants.get(tenant)
        if found is None:
            return False
        _HOSTS[tenant] = found.host
    return _HOSTS[tenant] == "salesforce"


def enqueue_resource_sync(conn: redis.Redis, tenant: str, resource: str, trigger: dict, *,
                          event_id: str | None = None) -> Outcome:
    """Queue a re-read of every mission of one consultant (resource, positioning, inactivity events)."""
    trigger = {**trigger, "request_id": request_id_for(trigger)}
    job = {"func": "handlers.jobs.sync_resource", "args": (tenant, resource, trigger),
           "job_id": f"resource-{tenant}-{resource}-{uuid.uuid4().hex[:12]}"}
    return _admit(conn, _seen_key(tenant, event_id), None, job)


def _seen_key(tenant: str, event_id: str | None) -> str | None:
    return f"im:t:{tenant}:seen:{event_id}" if event_id else None


def _admit(conn: redis.Redis, seen: str | None, pending: str | None, job: dict) -> Outcome:
    """Dedupe key, pending flag and job in one MULTI/EXEC: a Redis dying mid-request keeps all of them or none."""
    # were the dedupe key kept without the job, the host's redelivery of the refused event would be answered
    # "duplicate" and the change lost (tests/reliability/test_cut_requests.py)
    settings, queue = get_settings(), get_queue(conn)
    watched = [key for key in (seen, pending) if key]

    def attempt(pipe) -> Outcome:
        if seen and pipe.exists(seen):
            return "duplicate"
        coalesced = bool(pending and pipe.exists(pending))
        pipe.multi()
        if seen:
            pipe.set(seen, 1, ex=settings.dedupe_ttl_seconds)
        if coalesced:
            return "coalesced"
        if pending:
            pipe.set(pending, 1, ex=settings.pending_ttl_seconds)
        queue.enqueue_call(job["func"], args=job["args"], job_id=job["job_id"], description=job.get("description"),
                           retry=retry_policy(), result_ttl=3600, failure_ttl=30 * 24 * 3600,
                           meta={"request_id": job["args"][2]["request_id"]}, pipeline=pipe)
        return "queued"

    outcome = conn.transaction(attempt, *watched, value_from_callable=True)
    ensure_replicated(conn)  # with INTERMISSION_REDIS_WAIT_REPLICAS, a 2xx means the replicas have it too
    return outcome
