"""rq plumbing: the queue (JSON serializer), retry policy, dead letters, orphan recovery, workers."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time

import redis
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from config import keys
from config.infra.redis_conn import get_redis
from config.settings import get_settings

QUEUE_NAME = "intermission"
log = logging.getLogger(__name__)


def get_queue(conn: redis.Redis | None = None) -> Queue:
    """The work queue; jobs carry small JSON, never pickles."""
    return Queue(QUEUE_NAME, connection=conn or get_redis(), serializer=JSONSerializer,
                 default_timeout=get_settings().job_timeout_seconds)


def retry_policy() -> Retry:
    """Bounded retries with growing intervals; exhausted jobs become dead letters."""
    intervals = get_settings().retry_schedule() or [0]
    return Retry(max=len(intervals), interval=intervals)


def dead_letters(queue: Queue | None = None, *, tenant: str | None = None) -> list[Job]:
    """Jobs whose retries are exhausted, oldest first, one per mission (its latest failure); optionally one tenant's."""
    latest = {}
    for job in _failed_jobs(queue or get_queue()):
        if tenant is None or tenant_of(job) == tenant:
            latest.pop(_work_of(job), None)
            latest[_work_of(job)] = job  # re-inserted: the order is that of each mission's latest failure
    return list(latest.values())


def _failed_jobs(queue: Queue) -> list[Job]:
    registry = FailedJobRegistry(queue=queue)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=queue.connection, serializer=JSONSerializer)
    return [j for j in jobs if j is not None]


def tenant_of(job: Job) -> str | None:
    """The tenant a job works for (its first argument), None for the tick."""
    args = job.args or ()
    return args[0] if args and isinstance(args[0], str) else None


def _work_of(job: Job) -> tuple:
    """What a job does: a mission's re-read is the same work whichever trigger (webhook, sweep, tick) queued it."""
    if job.func_name == "handlers.sync.jobs.sync_mission" and len(job.args or ()) >= 2:
        return ("sync", job.args[0], job.args[1])
    return ("job", job.id)


def replay(queue: Queue | None = None, *, job_ids: list[str] | None = None, tenant: str | None = None) -> list[str]:
    """Requeue dead letters (all, those ids, or one tenant's), once per mission; returns the requeued ids."""
    queue = queue or get_queue()
    registry = FailedJobRegistry(queue=queue)
    chosen = dead_letters(queue, tenant=tenant)
    if job_ids is not None:
        unknown = set(job_ids) - {j.id for j in _failed_jobs(queue)}
        if unknown:
            raise ValueError(f"not a dead letter: {', '.join(sorted(unknown))} (see `intermission replay --list`)")
        wanted = {_work_of(j) for j in _failed_jobs(queue) if j.id in job_ids}
        chosen = [j for j in chosen if _work_of(j) in wanted]
    works = {_work_of(j) for j in chosen}
    for job in _failed_jobs(queue):  # older failures of the same mission: the requeued one does their work
        if _work_of(job) in works and job.id not in {c.id for c in chosen}:
            registry.remove(job, delete_job=True)
    for job in chosen:
        registry.requeue(job.id)
    return [j.id for j in chosen]


def recover_orphans(queue: Queue | None = None) -> list[str]:
    """Requeue jobs left 'started' (or dequeued and never started) by a worker process that no longer exists."""
    queue = queue or get_queue()
    conn = queue.connection
    registry = StartedJobRegistry(queue=queue)
    live = {w.name: w for w in Worker.all(connection=conn)}
    recovered = []
    for job_id in registry.get_job_ids():
        job = _fetch(job_id, conn)
        if job is None or job.get_status() != JobStatus.STARTED or not _owner_is_dead(job, live, conn):
            continue
        if not conn.set(keys.orphan_claim(job_id, job.worker_name), 1, nx=True, ex=3600):
            continue  # another worker is requeuing this very orphan
        registry.remove_executions(job)
        queue.enqueue_job(job, at_front=True)
        recovered.append(job_id)
    recovered += _recover_dequeued(queue)
    if recovered:
        log.warning("requeued %d job(s) abandoned by dead workers: %s", len(recovered), recovered)
    return recovered


def _recover_dequeued(queue: Queue, grace: float = 10.0) -> list[str]:
    """Requeue jobs a worker took off the queue and died before starting (seen twice, `grace` seconds apart).

    rq starts a job in two transactions: the first puts an execution of it in the started registry, the second marks
    it started and takes it out of the intermediate queue. A worker killed between the two leaves a job that is in
    both and still queued: `recover_orphans` passes it by (not started) and rq's own clean-up too (registered), so it
    is requeued here like any job taken and never started, its execution dropped from the started registry."""
    conn, registry = queue.connection, StartedJobRegistry(queue=queue)
    recovered = []
    for job_id in queue.intermediate_queue.get_job_ids():
        job = _fetch(job_id, conn)
        if job is None or job.get_status() != JobStatus.QUEUED:
            continue
        seen_key = keys.orphan_dequeued(job_id, job.enqueued_at and job.enqueued_at.timestamp())
        conn.set(seen_key, time.time(), nx=True, ex=3600)
        if time.time() - float(conn.get(seen_key) or time.time()) < grace:
            continue
        if conn.lrem(queue.intermediate_queue.key, 1, job_id):  # whoever removes it requeues it
            registry.remove_executions(job)
            queue.enqueue_job(job, at_front=True)
            recovered.append(job_id)
    return recovered


def watch_orphans(queue: Queue | None = None, *, every: float | None = None) -> threading.Event:
    """Recover orphans every `every` seconds from a daemon thread of this worker; set the returned event to stop."""
    every = every or get_settings().orphan_check_seconds
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                recover_orphans(queue)
            except Exception:  # noqa: BLE001 - a failed round is retried at the next one
                log.warning("orphan recovery failed", exc_info=True)

    threading.Thread(target=loop, name="orphan-watch", daemon=True).start()
    return stop


def _fetch(job_id: str, conn: redis.Redis) -> Job | None:
    try:
        return Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
    except NoSuchJobError:
        return None


def _owner_is_dead(job: Job, live: dict, conn: redis.Redis) -> bool:
    name = job.worker_name or ""
    worker = live.get(name) or Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=conn)
    if worker is None:
        return True
    if worker.hostname != socket.gethostname() or not worker.pid:
        return False  # another machine: recovered once its registration expires (worker_ttl)
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        worker.register_death()
        return True
    except PermissionError:
        return False
    return False


def make_worker(*, simple: bool = False, conn: redis.Redis | None = None, **options) -> Worker:
    """A worker on our queue; `simple` runs jobs in-process (tests, demo), otherwise one fork per job."""
    from handlers.intake import telemetry

    telemetry.install()
    queue = get_queue(conn)
    cls = telemetry.ObservedSimpleWorker if simple else telemetry.ObservedWorker
    return cls([queue], connection=queue.connection, serializer=JSONSerializer, **options)


def run_burst(*, conn: redis.Redis | None = None) -> bool:
    """Process everything queued (and scheduled retries due now), then return."""
    recover_orphans(get_queue(conn))
    return make_worker(simple=True, conn=conn).work(burst=True, logging_level="WARNING", with_scheduler=True)
