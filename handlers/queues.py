"""rq plumbing: the queue (JSON serializer), retry policy, dead letters, orphan recovery, workers."""
from __future__ import annotations

import logging
import os
import socket

import redis
from rq import Queue, Retry, Worker
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
    """Requeue jobs left 'started' by a worker process on this machine that no longer exists."""
    queue = queue or get_queue()
    registry = StartedJobRegistry(queue=queue)
    live = {w.name: w for w in Worker.all(connection=queue.connection)}
    recovered = []
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
        if job.get_status() != JobStatus.STARTED or not _owner_is_dead(job, live):
            continue
        registry.remove_executions(job)
        queue.enqueue_job(job, at_front=True)
        recovered.append(job_id)
    if recovered:
        log.warning("requeued %d job(s) abandoned by dead workers: %s", len(recovered), recovered)
    return recovered


def _owner_is_dead(job: Job, live: dict) -> bool:
    worker = live.get(job.worker_name or "")
    if worker is None:
        return True
    if worker.hostname != socket.gethostname() or not worker.pid:
        return False  # another machine: rq's own cleanup handles it when its heartbeat expires
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        worker.register_death()
        return True
    except PermissionError:
        return False
    return False


def make_worker(*, simple: bool = False, conn: redis.Redis | None = None) -> Worker:
    """A worker on our queue; `simple` runs jobs in-process (tests, demo), otherwise one fork per job."""
    from handlers import telemetry

    telemetry.install()
    queue = get_queue(conn)
    cls = telemetry.ObservedSimpleWorker if simple else telemetry.ObservedWorker
    return cls([queue], connection=queue.connection, serializer=JSONSerializer)


def run_burst(*, conn: redis.Redis | None = None) -> bool:
    """Process everything queued (and scheduled retries due now), then return."""
    recover_orphans(get_queue(conn))
    return make_worker(simple=True, conn=conn).work(burst=True, logging_level="WARNING", with_scheduler=True)
