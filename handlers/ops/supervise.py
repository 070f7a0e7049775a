"""A worker that comes back by itself after a Redis restart: its rq scheduler revived, fresh heartbeats, short waits.

rq checks its scheduler process only at its maintenance pass (every 10 minutes) and an idle worker heartbeats once
per blocking dequeue (every 7 minutes by default): after a Redis outage the scheduler stayed dead for minutes and
the 15-minute tick was skipped. Here a thread of the worker process checks the scheduler every
`INTERMISSION_SCHEDULER_CHECK_SECONDS` and starts it again once Redis answers.

A Redis that comes back *empty* (no persistence, a failover to an empty replica) also lost the scheduled tick and
the worker's registration: nothing in rq writes either again (the tick schedules its successor only when it runs,
and rq registers a worker only at start). The same thread therefore schedules the next tick when none is, and
registers the worker again when it is missing from rq's worker set (issue #30).

rq 3.0's `CronScheduler` (beta) was considered for the tick: it runs as a separate process (`rq cron`), keeps its
schedule in that process, takes no lock (every cron process enqueues its own copy) and exits on the first Redis
error; delayed retries and hold resumes (`enqueue_at`) still need rq's scheduler, so this thread would stay anyway.

A stop asked while Redis is down used to wait on Redis (rq's SIGTERM handler raises inside a reconnect, where
redis-py turns it into a connection error, and the teardown then rides out the worker's Redis retry): the stop is
now kept, the dequeue loop leaves at its next round, and the teardown skips Redis when it does not answer.
"""
from __future__ import annotations

import logging
import threading

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Worker
from rq.exceptions import StopRequested
from rq.worker import WorkerStatus

from config.settings import get_settings

log = logging.getLogger(__name__)
RECONNECT_WAIT_CAP = 5.0  # seconds: rq's default backoff grows to 60 s between reconnection attempts
SCHEDULER_STOP_WAIT = 3.0  # seconds a stopping worker waits for its scheduler process before killing it
_revive_lock = threading.Lock()


def worker_options() -> dict:
    """rq worker arguments: an idle worker heartbeats every `INTERMISSION_WORKER_HEARTBEAT_SECONDS`."""
    # rq blocks on the queue for worker_ttl - 15 s, then heartbeats; its registration lives worker_ttl + 60 s
    return {"worker_ttl": get_settings().worker_heartbeat_seconds + 15}


def scheduler_alive(worker: Worker) -> bool:
    """True when this worker runs a scheduler process that has not exited."""
    process = worker.scheduler._process if worker.scheduler else None
    return process is not None and process.is_alive()


def revive_scheduler(worker: Worker) -> bool:
    """Start the worker's scheduler again when it died and the lock is free (or still ours); True when started."""
    with _revive_lock:
        if worker.scheduler is None or worker._stop_requested or scheduler_alive(worker):
            return False
        worker.scheduler.acquire_locks(auto_start=True)
        started = scheduler_alive(worker)
    if started:
        log.warning("rq scheduler started again in worker %s", worker.name)
    return started


def registered(worker: Worker) -> bool:
    """Whether rq's worker set still lists this worker (`intermission status`, `check-worker` read it)."""
    return bool(worker.connection.sismember(worker.redis_workers_keys, worker.key))


def register_again(worker: Worker) -> bool:
    """Write the worker's registration back when Redis lost it (its birth stays); True when it was missing."""
    if worker._stop_requested or registered(worker):
        return False
    from rq import worker_registration
    from rq.utils import now

    worker.last_heartbeat = now()
    with worker.connection.pipeline() as pipe:
        pipe.hset(worker.key, mapping={**worker.serialize(), "state": getattr(worker.get_state(), "value", worker.get_state())})
        worker_registration.register(worker, pipe)
        pipe.expire(worker.key, worker.worker_ttl + 60)
        pipe.execute()
    log.warning("worker %s registered again: Redis had lost its registration", worker.name)
    return True


def ensure_tick() -> None:
    """Schedule the next tick when none is (a Redis that lost its data lost it); one job id per slot, so safe."""
    from handlers.sync.jobs import schedule_next_tick

    schedule_next_tick()


def check_once(worker: Worker) -> None:
    """One round of the supervisor: the scheduler process, the worker's registration, the tick."""
    revive_scheduler(worker)
    if not worker._stop_requested:
        register_again(worker)
        ensure_tick()


def supervise(worker: Worker, *, every: float | None = None) -> threading.Event:
    """Keep the scheduler alive and reconnect quickly; set the returned event to stop (before the worker stops)."""
    every = every or get_settings().scheduler_check_seconds
    worker.max_connection_wait_time = RECONNECT_WAIT_CAP
    _guard_maintenance(worker)
    _stop_without_redis(worker)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                check_once(worker)
            except (redis.RedisError, OSError) as exc:  # Redis still away: try again at the next round
                log.info("rq scheduler not revived yet: %s", exc)
            except Exception:  # noqa: BLE001 - a failed round is retried at the next one
                log.warning("rq scheduler check failed", exc_info=True)

    threading.Thread(target=loop, name="scheduler-watch", daemon=True).start()
    return stop


def _guard_maintenance(worker: Worker) -> None:
    """rq's maintenance pass may start the scheduler too: never at the same time as our thread (two schedulers)."""
    original = worker.run_maintenance_tasks

    def guarded() -> None:
        with _revive_lock:
            original()

    worker.run_maintenance_tasks = guarded


def _stop_without_redis(worker: Worker) -> None:
    """A stop asked while Redis is down ends at once: kept when redis-py swallows it, teardown without Redis."""
    request_stop, heartbeat, teardown = worker.request_stop, worker.heartbeat, worker.teardown

    def kept_request_stop(signum, frame) -> None:
        if worker.get_state() != WorkerStatus.BUSY:  # idle: rq raises StopRequested, which a reconnect may swallow
            worker._stop_requested = True
        request_stop(signum, frame)

    def heartbeat_or_stop(*args, **kwargs):
        # rq's dequeue loop heartbeats before each attempt, and retries connection errors forever
        if worker._stop_requested and worker.get_state() != WorkerStatus.BUSY:
            raise StopRequested()
        return heartbeat(*args, **kwargs)

    def quick_teardown() -> None:
        if answers(worker.connection):
            teardown()
            return
        _stop_scheduler(worker)
        log.warning("worker %s stopping while Redis does not answer: its registration will expire", worker.name)

    worker.request_stop, worker.heartbeat, worker.teardown = kept_request_stop, heartbeat_or_stop, quick_teardown


def _stop_scheduler(worker: Worker) -> None:
    process = worker.scheduler._process if worker.scheduler else None
    if process is None or not process.is_alive():
        return
    process.terminate()
    process.join(SCHEDULER_STOP_WAIT)
    if process.is_alive():
        process.kill()
        process.join(SCHEDULER_STOP_WAIT)


def answers(conn: redis.Redis, timeout: float = 1.0) -> bool:
    """One PING on a fresh connection with a short timeout and no retry (the worker's own client would ride it out)."""
    pool = conn.connection_pool
    kwargs = {**pool.connection_kwargs, "socket_timeout": timeout, "socket_connect_timeout": timeout,
              "retry": Retry(NoBackoff(), 0)}
    try:
        probe = pool.connection_class(**kwargs)
        try:
            probe.send_command("PING")
            return probe.read_response() in (b"PONG", "PONG", True)
        finally:
            probe.disconnect()
    except Exception:  # noqa: BLE001 - any failure means "does not answer now"
        return False
