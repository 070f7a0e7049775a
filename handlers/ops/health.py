"""What an operator asks: is Redis there, are the queues moving, are workers and the scheduler alive, who waits."""
from __future__ import annotations

from typing import NamedTuple

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer
from rq.utils import utcparse

from config import keys
from config import tenants
from config.infra.redis_conn import describe, get_redis
from config.settings import get_settings
from handlers.sync import holds
from handlers.intake.queues import QUEUE_NAME, dead_letters, get_queue


def _age(when: datetime | None) -> float | None:
    """Seconds since `when` (naive datetimes are UTC, as rq writes them)."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return round(max(0.0, (datetime.now(timezone.utc) - when).total_seconds()), 1)


def oldest_queued_age(conn: redis.Redis) -> float | None:
    """How long the job at the head of the queue has been waiting (None when the queue is empty)."""
    head = get_queue(conn).get_job_ids(0, 1)
    if not head:
        return None
    try:
        return _age(Job.fetch(head[0], connection=conn, serializer=JSONSerializer).enqueued_at)
    except NoSuchJobError:  # taken (or expired) between the two reads
        return None


def queue_info(conn: redis.Redis) -> dict:
    """Depth, oldest age, running, scheduled and dead-lettered jobs (one per mission) of the work queue."""
    queue = get_queue(conn)
    return {"name": QUEUE_NAME, "depth": queue.count, "oldest_age_seconds": oldest_queued_age(conn),
            "running": StartedJobRegistry(queue=queue).count, "scheduled": ScheduledJobRegistry(queue=queue).count,
            "retrying": retrying(queue),
            "dead_letters": len(dead_letters(queue)) if FailedJobRegistry(queue=queue).count else 0}


def retrying(queue) -> int:
    """Scheduled jobs waiting for a retry after a failure (shown apart from the plain scheduled ones, issue #27)."""
    from rq.job import Job

    ids = [i for i in ScheduledJobRegistry(queue=queue).get_job_ids() if not i.startswith(("tick-", "resume-"))]
    jobs = Job.fetch_many(ids, connection=queue.connection, serializer=queue.serializer) if ids else []
    # our retry policy allows one retry per interval (handlers/intake/queues.retry_policy): fewer left = retrying
    return sum(1 for job in jobs if job is not None and job.retries_left is not None and job.retry_intervals
               and job.retries_left < len(job.retry_intervals))


def workers_info(conn: redis.Redis) -> list[dict]:
    """Every registered rq worker with its state and last heartbeat (rq's worker registry)."""
    found = []
    for worker in sorted(Worker.all(connection=conn), key=lambda w: w.name):
        found.append({"name": worker.name, "state": str(getattr(worker.get_state(), "value", worker.get_state())),
                      "hostname": worker.hostname, "pid": worker.pid,
                      "last_heartbeat": worker.last_heartbeat.isoformat() if worker.last_heartbeat else None,
                      "heartbeat_age_seconds": _age(worker.last_heartbeat),
                      "current_job": worker.get_current_job_id()})
    return found


def scheduler_info(conn: redis.Redis) -> dict:
    """Whether a worker holds rq's scheduler lock (refreshed every second), and when the next tick is due."""
    holder = conn.get(RQScheduler.get_locking_key(QUEUE_NAME))
    info = {"alive": holder is not None, "holder": holder.decode() if holder else None, "heartbeat_age_seconds": None}
    if holder:
        beat = conn.hget(f"rq:scheduler:{holder.decode()}", "last_heartbeat")
        info["heartbeat_age_seconds"] = _age(utcparse(beat.decode())) if beat else None
    registry = ScheduledJobRegistry(queue=get_queue(conn))
    ticks = sorted(registry.get_scheduled_time(j) for j in registry.get_job_ids() if j.startswith("tick-"))
    info["next_tick"] = ticks[0].isoformat() if ticks else None
    return info


def tenants_waiting(conn: redis.Redis) -> list[dict]:
    """Tenants whose admin must connect again (config.keys.needs_reconsent), that have held work, another reason
    (handlers.state.attention, in the tenant's language), whose set-up is incomplete or that are paused, with why."""
    from handlers.state import attention

    found = []
    for tenant_id in tenants.list_ids():
        reason = conn.get(keys.needs_reconsent(tenant_id))
        held = holds.held(conn, tenant_id)
        tenant = tenants.get(tenant_id)
        incomplete = tenant is not None and not tenant.setup_complete and tenant.status != "uninstalled"
        paused = tenant is not None and not tenant.enabled and tenant.status == "active" and not incomplete
        other = attention.texts(conn, tenant_id, tenant.language if tenant else "en")
        if reason or held or other or incomplete or paused:
            found.append({"tenant": tenant_id, "needs_reconsent": reason.decode() if reason else None,
                          "held": len(held), "held_reasons": sorted({h["reason"] for h in held.values()}),
                          "attention": other, "setup_incomplete": incomplete, "paused": paused})
    return found


def streams(conn: redis.Redis) -> list[dict]:
    """Each change-event stream `intermission subscribe` runs, as it last reported: tenant, topic, state, owner,
    `silence_seconds` (since it last heard from the host: an event or a keepalive), error."""
    now, out = time.time(), []
    for raw in conn.hvals(keys.cdc_streams()):
        entry = json.loads(raw)
        entry["silence_seconds"] = round(now - entry.get("heard_at", entry["at"]), 1)
        out.append(entry)
    return sorted(out, key=lambda e: (e["tenant"], e["topic"]))


def stale_streams(conn: redis.Redis) -> list[dict]:
    """Streams silent longer than INTERMISSION_CDC_MAX_SILENCE_SECONDS (waiting for an admin's consent aside)."""
    limit = get_settings().cdc_max_silence_seconds
    return [s for s in streams(conn) if s["silence_seconds"] > limit and s["state"] not in ("needs re-consent", "stopped")]


def status(conn: redis.Redis | None = None) -> dict:
    """Everything `intermission status` prints."""
    conn = conn or get_redis()
    return {"queue": queue_info(conn), "workers": workers_info(conn), "scheduler": scheduler_info(conn),
            "tenants": tenants_waiting(conn), "streams": streams(conn)}


def drain_marker() -> Path:
    """The file `intermission drain` writes (preStop): this container's web processes then report not ready."""
    return get_settings().data_dir / "draining"


def clear_drain_marker() -> None:
    """Forget a drain of an earlier run of this container (the web server's start-up)."""
    drain_marker().unlink(missing_ok=True)


class Readiness(NamedTuple):
    """Whether this process can serve, and what was checked (the reasons when it cannot)."""

    ready: bool
    details: dict


def readiness(conn: redis.Redis | None = None, *, scope: str = "all") -> Readiness:
    """(ready, details): not draining and Redis answers; with scope "all", the queue moves and the scheduler lives."""
    if drain_marker().exists():
        return Readiness(False, {"status": "draining", "reasons": ["shutting down: `intermission drain` ran (preStop)"]})
    try:
        conn = conn or get_redis()
        conn.ping()
    except (redis.RedisError, OSError) as exc:
        return Readiness(False, {"status": "unavailable", "redis": "down",
                       "reasons": [f"Redis at {describe()} does not answer ({type(exc).__name__})"]})
    if scope == "web":
        return Readiness(True, {"status": "ready", "scope": "web"})
    reasons, age = [], oldest_queued_age(conn)
    limit = get_settings().ready_max_queue_age_seconds
    if age is not None and age > limit:
        reasons.append(f"queue stuck: the oldest job has waited {age:.0f}s (limit {limit:.0f}s)")
    scheduler = scheduler_info(conn)
    if not scheduler["alive"]:
        reasons.append("scheduler not running: no worker holds the rq scheduler lock (start `intermission worker`)")
    for stale in stale_streams(conn):
        reasons.append(f"change stream {stale['tenant']} {stale['topic']} silent for {stale['silence_seconds']:.0f}s "
                       f"({stale['state']}): is `intermission subscribe` running?")
    reasons += [str(tenants.KeyMismatch(t)) for t in tenants.key_mismatches()]  # this process cannot read them
    details = {"status": "unavailable" if reasons else "ready", "oldest_queued_age_seconds": age,
               "scheduler": scheduler["holder"], "workers": len(Worker.all(connection=conn)),
               "streams": [{k: s.get(k) for k in ("tenant", "topic", "state", "silence_seconds")} for s in streams(conn)]}
    return Readiness(not reasons, {**details, **({"reasons": reasons} if reasons else {})})
