"""Backfill and re-plan runs: the missions a tenant already has, planned page by page, resumable, with progress.

A run lists its missions once (the host's missions ending in the next N days and those ended lately, whose
consultants may be on the bench; or, after a playbook change, every open mission we know), keeps that list in
Redis, and brings each mission up to date through the usual entry points (`jobs.sync_mission` for Boond, one
`batch.sync_tenant` per page for Salesforce). Every mission done is recorded with the counters in one MULTI, so a
run killed half-way resumes where it stopped; a mission redone after a crash costs reads, never a duplicate (the
reconciler's ledger). The host's rate limits are the client's own shared bucket.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import date, timedelta
from typing import Callable, Iterable

import redis

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from connectors.errors import HostAuthError, HostError, HostRateLimited, not_offered
from config.infra import clock
from handlers.intake.queues import get_queue, retry_policy
from handlers.hosts.registry import adapter_for, host_of
from handlers.state import attention, day_load
from handlers.state.store import SnapshotStore, known_missions, open_missions

__all__ = ["known_missions", "open_missions", "progress", "start", "start_quietly", "run_job", "carry_on", "bar",
           "forecast", "estimate_left"]

log = logging.getLogger(__name__)
PAGE = 20  # missions per page: a checkpoint, and for Salesforce one batch of reads and writes
JOB_TIMEOUT = 6 * 3600  # a large tenant's backfill; a timed-out run resumes on its retry
STALE_SECONDS = 15 * 60  # a "running" run not heard of for this long is taken over by the next start
COUNTERS = ("total", "read", "planned", "failed", "held")
REPLANS = ("playbook", "mapping")  # runs over the open missions we know (a playbook or a mapping saved), not the host's list


def run_key(tenant_id: str) -> str:
    """The tenant's current (or last) run: kind, status, counters."""
    return keys.backfill(tenant_id)


def _todo_key(tenant_id: str) -> str:
    return keys.backfill(tenant_id, "todo")


def _done_key(tenant_id: str) -> str:
    return keys.backfill(tenant_id, "done")


def _errors_key(tenant_id: str) -> str:
    return keys.backfill(tenant_id, "errors")


def progress(conn: redis.Redis, tenant_id: str) -> dict | None:
    """The current or last run as the admin page and the CLI show it (None: never run)."""
    raw = {k.decode(): v.decode() for k, v in conn.hgetall(run_key(tenant_id)).items()}
    if not raw:
        return None
    out = {**raw, **{c: int(raw.get(c, 0)) for c in COUNTERS}}
    out["errors"] = [json.loads(e) for e in conn.lrange(_errors_key(tenant_id), 0, 19)]
    left = estimate_left(out, time.time())
    if left is not None:
        out["eta_seconds"] = round(left)
    return out


def estimate_left(run: dict, now: float) -> float | None:
    """Seconds until the run's end, at the pace of the stretch this process took up (`pace_since`, `pace_read`) as of
    its last page (`paced_at`): a run is paced by the host's rate limit, so its pace holds. None before a page of this
    stretch is done."""
    try:
        since, read_then = float(run.get("pace_since") or 0), int(run.get("pace_read") or 0)
        checked = float(run.get("paced_at") or 0)
    except (TypeError, ValueError):
        return None
    done, total = int(run.get("read", 0)) - read_then, int(run.get("total", 0))
    if run.get("status") != "running" or not since or done <= 0 or checked <= since:
        return None
    return max(0.0, checked + (total - int(run.get("read", 0))) * (checked - since) / done - now)


def start(conn: redis.Redis, tenant_id: str, kind: str, *, days: int | None = None, enqueue: bool = True) -> dict:
    """Begin a run (or join the one still running) and queue its job; the run as stored."""
    current = progress(conn, tenant_id)
    if current and current["status"] in ("listing", "counting", "running") and not _stale(current):
        if enqueue:
            _enqueue(conn, tenant_id, current["id"])
        return current
    tenant = tenants.require(tenant_id)
    run = {"id": uuid.uuid4().hex[:12], "kind": kind, "status": "listing", "started": int(time.time()),
           "beat": int(time.time()), "finished": "", "message": "",
           "days": days or tenant.backfill_days, **{c: 0 for c in COUNTERS}}
    pipe = conn.pipeline()
    pipe.delete(run_key(tenant_id), _todo_key(tenant_id), _done_key(tenant_id), _errors_key(tenant_id))
    pipe.hset(run_key(tenant_id), mapping=run)
    pipe.execute()
    if enqueue:
        _enqueue(conn, tenant_id, run["id"])
    return progress(conn, tenant_id)


def start_quietly(conn: redis.Redis, tenant_id: str, kind: str) -> dict | None:
    """`start` for the install and playbook hooks: never fails the admin's request (logged; the CLI can redo it)."""
    try:
        return start(conn, tenant_id, kind)
    except Exception:  # noqa: BLE001 - the configuration itself succeeded; the run can be started by hand
        log.exception("could not queue the %s run of %s", kind, tenant_id)
        return None


def _stale(run: dict) -> bool:
    return time.time() - int(run.get("beat") or 0) > STALE_SECONDS


def _enqueue(conn: redis.Redis, tenant_id: str, run_id: str) -> None:
    get_queue(conn).enqueue("handlers.sync.backfill.run_job", tenant_id, run_id, job_id=f"backfill-{tenant_id}-{run_id}",
                            job_timeout=JOB_TIMEOUT, retry=retry_policy(), result_ttl=24 * 3600,
                            failure_ttl=30 * 24 * 3600, description=f"backfill {tenant_id}")


def run_job(tenant_id: str, run_id: str) -> dict:
    """rq job: carry a run to its end (or resume it); a run replaced meanwhile is left alone."""
    conn = get_redis()
    run = progress(conn, tenant_id)
    if run is None or run["id"] != run_id:
        return {"skipped": "run replaced"}
    return carry_on(conn, tenant_id)


def carry_on(conn: redis.Redis, tenant_id: str, *, on_progress: Callable[[dict], None] | None = None) -> dict:
    """List the run's missions once, then do those not done yet, page by page; the final counters."""
    run = progress(conn, tenant_id)
    if run is None or run["status"] == "done":
        return run or {}
    tenant = tenants.get(tenant_id)
    if not tenants.may_run_jobs(tenant):
        return _finish(conn, tenant_id, "stopped", "tenant unknown or disabled")
    if not tenant.setup_complete:  # finishing the set-up starts the install run again (handlers/setup.finish)
        return _finish(conn, tenant_id, "stopped", "set-up incomplete")
    if run["status"] in ("listing", "counting"):
        try:
            if run["status"] == "listing":
                _list(conn, tenant, run)
            _count(conn, tenant, run)
        except (HostAuthError, HostRateLimited) as exc:  # set-up or consent pending: said, not retried
            log.warning("backfill of %s stopped: %s", tenant_id, exc)
            attention.flag(conn, tenant_id, "backfill_failed", detail=attention.detail_of(exc))
            return _finish(conn, tenant_id, "stopped", f"{exc}: reconnect, then run `intermission backfill`")
        except HostError as exc:  # the job retries; meanwhile the tenant shows as needing attention, with why
            attention.flag(conn, tenant_id, "backfill_failed", detail=attention.detail_of(exc))
            raise
    done = {m.decode() for m in conn.smembers(_done_key(tenant_id))}
    todo = [m.decode() for m in conn.lrange(_todo_key(tenant_id), 0, -1) if m.decode() not in done]
    # the estimate's pace counts from here: a resumed run's earlier stretch ran at another time, maybe elsewhere
    conn.hset(run_key(tenant_id), mapping={"pace_since": time.time(), "pace_read": len(done)})
    for page in _pages(todo, PAGE):
        _do_page(conn, tenant, run, page)
        if on_progress:
            on_progress(progress(conn, tenant_id))
    return _finish(conn, tenant_id, "done", (progress(conn, tenant_id) or {}).get("message") or "")


def _list(conn: redis.Redis, tenant: tenants.Tenant, run: dict) -> None:
    """Store the run's mission ids once, then mark it running (a crash before this re-lists, harmlessly)."""
    today = clock.today(tenant.timezone)
    if run["kind"] in REPLANS:
        ids = open_missions(conn, tenant, today)
    else:
        try:
            ids = host_missions(conn, tenant, today - timedelta(days=tenant.bench_lookback_days),
                                end_day=today + timedelta(days=int(run["days"])))
            attention.clear(conn, tenant.id, "backfill_failed", "search_refused")
        except HostError as exc:  # the host's search refused (Boond's /deliveries-groupments, §10): the known ones
            if not not_offered(exc):
                raise
            log.warning("backfill of %s: the search was refused (%s); re-reading the known missions", tenant.id, exc)
            ids = open_missions(conn, tenant, today)
            attention.clear(conn, tenant.id, "backfill_failed")
            attention.flag(conn, tenant.id, "search_refused", detail=attention.detail_of(exc))
            conn.hset(run_key(tenant.id), "message", f"the host refused its search ({exc}): only the missions "
                                                     "Intermission knows were re-read")
    pipe = conn.pipeline()
    pipe.delete(_todo_key(tenant.id))
    if ids:
        pipe.rpush(_todo_key(tenant.id), *ids)
    pipe.hset(run_key(tenant.id), mapping={"status": "counting", "total": len(ids), "beat": int(time.time())})
    pipe.execute()


def _count(conn: redis.Redis, tenant: tenants.Tenant, run: dict) -> None:
    """The first pass of an install or CLI run: each mission's actions that stay on their own day, into the run's
    load (handlers.state.day_load), so the late steps the second pass spreads never land on a day a later mission's
    own steps already fill. Resumable (a mission with a share is not read again); a re-plan run skips it (most of
    its missions' steps are written already, and their dates kept)."""
    from handlers.sync import pipeline

    if run["kind"] not in REPLANS:
        load = day_load.RunLoad(conn, tenant.id, run["id"])
        adapter, store, today = adapter_for(tenant, conn), SnapshotStore(conn, tenant.id), clock.today(tenant.timezone)
        counted = load.missions()
        for at, mission_id in enumerate(m.decode() for m in conn.lrange(_todo_key(tenant.id), 0, -1)):
            if mission_id in counted:
                continue
            try:
                current, _ = adapter.read_mission(mission_id)
            except (HostAuthError, HostRateLimited):
                raise
            except HostError as exc:  # this mission's own job says so in the second pass
                log.warning("backfill of %s: %s not counted (%s)", tenant.id, mission_id, exc)
                current = None
            found = pipeline.prepare(conn, tenant, store.get(mission_id), current=current, trigger={"kind": "count"},
                                     today=today, write=False) if current is not None else None
            load.record(mission_id, found.fixed() if found else [])
            if at % PAGE == PAGE - 1:
                conn.hset(run_key(tenant.id), "beat", int(time.time()))
    conn.hset(run_key(tenant.id), mapping={"status": "running", "beat": int(time.time())})


def host_missions(conn: redis.Redis, tenant: tenants.Tenant, start_day: date, *, end_day: date) -> list[str]:
    """The host's missions whose end date falls between two days (both included), by id."""
    found = set(adapter_for(tenant, conn).missions_ending(start_day, end_day))
    return sorted(found, key=lambda i: (len(i), i))


FORECAST_READS = 150  # missions the set-up flow's forecast reads (its page says when there are more)


def forecast(conn: redis.Redis, tenant: tenants.Tenant) -> dict:
    """What an install run started now would write, played in memory with the run's two passes and order: the
    actions it creates, the late ones, and the busiest person's day (its name, day and count) over what the host
    will hold from this run. Nothing is written."""
    from handlers.domain.owners import name_or_why
    from handlers.sync import pipeline

    adapter, store, today = adapter_for(tenant, conn), SnapshotStore(conn, tenant.id), clock.today(tenant.timezone)
    ids = host_missions(conn, tenant, today - timedelta(days=tenant.bench_lookback_days),
                        end_day=today + timedelta(days=tenant.backfill_days))
    read = {m: adapter.read_mission(m)[0] for m in ids[:FORECAST_READS]}
    read = {m: snap for m, snap in read.items() if snap is not None}
    load = day_load.MemoryLoad()
    for mission_id, current in read.items():  # the first pass (`_count`)
        found = pipeline.prepare(conn, tenant, store.get(mission_id), current=current, trigger={"kind": "preview"},
                                 today=today, write=False)
        load.record(mission_id, found.fixed() if found else [])
    created = late = 0
    names: dict[str | None, str] = {}
    for mission_id in run_order(tenant, list(read)):  # the second pass, as the run's jobs or batches take them
        found = pipeline.prepare(conn, tenant, store.get(mission_id), current=read[mission_id],
                                 trigger={"kind": "preview"}, today=today, write=False, load=load)
        for row in pipeline.dry_run(conn, found) if found else []:
            created += row["op"] == "create"
            late += row["op"] == "create" and bool(row["late"])
        names.update({a.assignee.id if a.assignee else None: name_or_why(a.assignee, tenant.language)[0] or ""
                      for a in (found.desired if found else [])})
    top = load.busiest()
    return {"missions": len(ids), "read": min(len(ids), FORECAST_READS), "actions": created, "late": late,
            "busiest": names.get(top.person, ""), "busiest_day": top.day, "busiest_count": top.count}


def run_order(tenant: tenants.Tenant, ids: list[str]) -> list[str]:
    """The order a run plans its missions in: the list's for one job a mission, each page sorted for a host whose
    writes batch (handlers.sync.batch plans the dirty missions sorted)."""
    if not host_of(tenant).batches_writes:
        return ids
    return [m for page in _pages(ids, PAGE) for m in sorted(page)]


def _pages(items: list[str], size: int) -> Iterable[list[str]]:
    for at in range(0, len(items), size):
        yield items[at:at + size]


def _do_page(conn: redis.Redis, tenant: tenants.Tenant, run: dict, page: list[str]) -> None:
    """Bring one page of missions up to date and record each outcome with the counters."""
    trigger = {"kind": run["kind"] if run["kind"] in REPLANS else "backfill", "run": run["id"]}
    if host_of(tenant).batches_writes:
        outcomes = _batched_page(conn, tenant, page, trigger)
    else:
        outcomes = {m: _one(tenant, m, trigger) for m in page}
    pipe = conn.pipeline()  # MULTI: the done marks and the counters move together
    for mission_id, (outcome, error) in outcomes.items():
        pipe.sadd(_done_key(tenant.id), mission_id)
        pipe.hincrby(run_key(tenant.id), "read", 1)
        pipe.hincrby(run_key(tenant.id), outcome, 1)
        if error:
            pipe.lpush(_errors_key(tenant.id), json.dumps({"mission": mission_id, "error": error[:300]}))
    pipe.ltrim(_errors_key(tenant.id), 0, 99)
    pipe.hset(run_key(tenant.id), mapping={"beat": int(time.time()), "paced_at": time.time()})
    pipe.execute()


def _one(tenant: tenants.Tenant, mission_id: str, trigger: dict) -> tuple[str, str]:
    """One mission through the job everyone uses: (planned | held | failed, error)."""
    from handlers.sync.jobs import sync_mission

    try:
        result = sync_mission(tenant.id, mission_id, trigger)
    except Exception as exc:  # noqa: BLE001 - one mission's failure is counted and shown, the run goes on
        log.warning("backfill of %s/%s failed: %s", tenant.id, mission_id, exc)
        return "failed", f"{type(exc).__name__}: {exc}"
    if "held" in result:
        return "held", str(result["held"])
    return "planned", ""


def _batched_page(conn: redis.Redis, tenant: tenants.Tenant, page: list[str], trigger: dict) -> dict:
    """One page of a host whose writes batch (Salesforce): marked dirty, then the tenant's batch run here."""
    from handlers.sync.batch import mark_dirty, sync_tenant

    mark_dirty(conn, tenant.id, {m: trigger for m in page})
    try:
        result = sync_tenant(tenant.id, wait=True)  # planned before the run counts the page
    except Exception as exc:  # noqa: BLE001 - the page's missions stay dirty: the queued batch retries them
        log.warning("backfill page of %s failed: %s", tenant.id, exc)
        return {m: ("failed", f"{type(exc).__name__}: {exc}") for m in page}
    if "held" in result:
        return {m: ("held", str(result.get("reason", ""))) for m in page}
    return {m: ("planned", "") for m in page}


def _finish(conn: redis.Redis, tenant_id: str, status: str, message: str) -> dict:
    conn.hset(run_key(tenant_id), mapping={"status": status, "message": message, "finished": int(time.time())})
    return progress(conn, tenant_id) or {}


def bar(run: dict, width: int = 30) -> str:
    """A one-line progress bar: `[#####-----] 12/40 read, 11 planned, 1 failed, 0 held, about 3 min left`."""
    total, read = max(int(run.get("total", 0)), 0), int(run.get("read", 0))
    filled = width if total == 0 else min(width, width * read // total)
    left = run.get("eta_seconds")
    eta = "" if left is None else f", about {left // 60} min {left % 60:02d} s left"
    return (f"[{'#' * filled}{'-' * (width - filled)}] {read}/{total} read, {run.get('planned', 0)} planned, "
            f"{run.get('failed', 0)} failed, {run.get('held', 0)} held{eta}")
