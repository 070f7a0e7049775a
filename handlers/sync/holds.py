"""Work held for a tenant (needs re-consent, API budget spent, host rate limit): kept, requeued on resume, never dropped."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import redis
from rq.exceptions import DuplicateJobError

from config import keys
from handlers.intake.ingest import enqueue_sync
from handlers.intake.queues import get_queue


BUDGET_SPENT = "API budget spent"  # the host's budget check said no before any call (`Host.budget`)
SETUP_INCOMPLETE = "set-up incomplete"  # the tenant has not finished its set-up (handlers/sync/setup.py)
LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"  # the host answered that the tenant's budget is spent (HostBudgetExhausted)


def consent_reason(exc: Exception) -> str:
    """What the admin page shows for a mission held until an admin connects again (HostConsentRequired)."""
    return f"needs re-consent: {exc}"


def _key(tenant: str) -> str:
    return keys.held(tenant)


def hold(conn: redis.Redis, tenant: str, mission: str, *, reason: str, resume_at: float | None = None) -> None:
    """Park one mission's sync; with `resume_at`, schedule the tenant's resume then."""
    conn.hset(_key(tenant), mission, json.dumps({"reason": reason, "at": time.time(), "resume_at": resume_at}))
    if resume_at:
        when = datetime.fromtimestamp(resume_at, tz=timezone.utc)
        try:
            # result_ttl=0: a finished resume leaves no job behind, so a later hold for the same second schedules anew
            get_queue(conn).enqueue_at(when, "handlers.sync.holds.resume", tenant, job_id=f"resume-{tenant}-{int(resume_at)}",
                                       unique=True, result_ttl=0)
        except DuplicateJobError:
            pass


def held(conn: redis.Redis, tenant: str) -> dict[str, dict]:
    """Missions held for a tenant, with why."""
    return {k.decode(): json.loads(v) for k, v in conn.hgetall(_key(tenant)).items()}


def resume(tenant: str, conn: redis.Redis | None = None) -> list[str]:
    """Requeue every held mission of a tenant (after re-consent, or once the API budget allows)."""
    from config.infra.redis_conn import get_redis

    conn = conn or get_redis()
    _read_budget(conn, tenant)
    missions = sorted(held(conn, tenant))
    for mission in missions:
        conn.hdel(_key(tenant), mission)
        enqueue_sync(conn, tenant, mission, trigger={"kind": "resume"})
    return missions


def _read_budget(conn: redis.Redis, tenant_id: str) -> None:
    """Refresh a spent budget's reading from the host, so the requeued jobs decide on today's usage, not a day-old one."""
    from config import tenants
    from handlers.hosts.registry import host_of

    tenant = tenants.get(tenant_id)
    if tenant is not None and held(conn, tenant_id):
        host_of(tenant).budget.recheck(tenant, conn)


def rate_limit_reason(exc) -> str:
    """What the admin page shows for a mission held because the host asked to wait (a 429's Retry-After)."""
    return f"host rate limit: asked to wait {exc.retry_after:.0f}s"


def resume_overdue(conn: redis.Redis, *, grace: float = 60.0) -> dict[str, list[str]]:
    """Requeue missions whose `resume_at` passed more than `grace` seconds ago (the tick's safety net)."""
    from config import tenants

    now, out = time.time(), {}
    for tenant in tenants.list_ids():
        key = _key(tenant)
        due = {mission: raw for mission, raw in conn.hgetall(key).items()
               if (json.loads(raw).get("resume_at") or now) + grace < now}
        if due:
            _read_budget(conn, tenant)
        for mission in due:
            if conn.hdel(key, mission):
                enqueue_sync(conn, tenant, mission.decode(), trigger={"kind": "resume"})
                out.setdefault(tenant, []).append(mission.decode())
    return out
