"""A worker that comes back by itself after a Redis restart: its rq scheduler revived, fresh heartbeats, short waits.

rq checks its scheduler process only at its maintenance pass (every 10 minutes) and an idle worker heartbeats once
per blocking dequeue (every 7 minutes by default): after a Redis outage the scheduler stayed dead for minutes and
the 15-minute tick was skipped. Here a thread of the worker process checks the scheduler every
`INTERMISSION_SCHEDULER_CHECK_SECONDS` and starts it again once Redis answers.
"""
from __future__ import annotations

import logging
import threading

import redis
from rq import Worker

from config.settings import get_settings

log = logging.getLogger(__name__)
RECONNECT_WAIT_CAP = 5.0  # seconds: rq's default backoff grows to 60 s between reconnection attempts
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


def supervise(worker: Worker, *, every: float | None = None) -> threading.Event:
    """Keep the scheduler alive and reconnect quickly; set the returned event to stop (before the worker stops)."""
    every = every or get_settings().scheduler_check_seconds
    worker.max_connection_wait_time = RECONNECT_WAIT_CAP
    _guard_maintenance(worker)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                revive_scheduler(worker)
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
