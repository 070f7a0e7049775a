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

from config.redis_conn import get_redis
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


def dead_letters(queue: Queue | None = None) -> list[Job]:
    """Jobs whose retries are exhausted, oldest first."""
    queue = queue or get_queue()
    registry = FailedJobRegistry(queue=queue)
    jobs = Job.fetch_many(registry.get_job_ids(), connection=queue.connection, serializer=JSONSerializer)
    return [j for j in jobs if j is not None]


def replay(queue: Queue | None = None) -> list[str]:
    """Put every dead letter back on the queue; returns their ids."""
    queue = queue or get_queue()
    registry = FailedJobRegistry(queue=queue)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.requeue(job_id)
    return ids


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
        if not conn.set(f"im:orphan:{job_id}:{job.worker_name}", 1, nx=True, ex=3600):
            continue  # another worker is requeuing this very orphan
        registry.remove_executions(job)
        queue.enqueue_job(job, at_front=True)
        recovered.append(job_id)
    recovered += _recover_dequeued(queue)
    if recovered:
        log.warning("requeued %d job(s) abandoned by dead workers: %s", len(recovered), recovered)
    return recovered


def _recover_dequeued(queue: Queue, grace: float = 10.0) -> list[str]:
    """Requeue jobs a worker took off the queue and died before starting (seen twice, `grace` seconds apart)."""
    conn, started = queue.connection, set(StartedJobRegistry(queue=queue).get_job_ids())
    recovered = []
    for job_id in queue.intermediate_queue.get_job_ids():
        job = _fetch(job_id, conn)
        if job is None or job_id in started or job.get_status() != JobStatus.QUEUED:
            continue
        seen_key = f"im:orphan:dequeued:{job_id}:{job.enqueued_at and job.enqueued_at.timestamp()}"
        conn.set(seen_key, time.time(), nx=True, ex=3600)
        if time.time() - float(conn.get(seen_key) or time.time()) < grace:
            continue
        if conn.lrem(queue.intermediate_queue.key, 1, job_id):  # whoever removes it requeues it
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
    from handlers import telemetry

    telemetry.install()
    queue = get_queue(conn)
    cls = telemetry.ObservedSimpleWorker if simple else telemetry.ObservedWorker
    return cls([queue], connection=queue.connection, serializer=JSONSerializer, **options)


def run_burst(*, conn: redis.Redis | None = None) -> bool:
    """Process everything queued (and scheduled retries due now), then return."""
    recover_orphans(get_queue(conn))
    return make_worker(simple=True, conn=conn).work(burst=True, logging_level="WARNING", with_scheduler=True)
