"""After a Redis restart the worker comes back by itself: its scheduler runs the next tick on time, heartbeats fresh.

`intermission worker` as the Procfile runs it, on a Redis of our own (deploy/redis.conf, AOF) that is SIGKILLed
for longer than the worker rides out, then restarted on the same port and files. The tick interval is a setting,
so "on time" is checked on 6-second slots instead of 15-minute ones.
"""
from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from handlers.ops.supervise import RECONNECT_WAIT_CAP
from tests.e2e.proc_helpers import ROOT, Process, child_env, procfile
from tests.reliability.redis_servers import RedisServer, app_on_redis, wait_until

TICK = 6  # seconds between ticks in this test (INTERMISSION_TICK_INTERVAL_SECONDS)
HEARTBEAT = 2  # INTERMISSION_WORKER_HEARTBEAT_SECONDS
LATE = 3.0  # a tick "on time" starts within this many seconds of its slot (the scheduler polls every second)


def _worker(server: RedisServer, tmp_path: Path) -> Process:
    env = child_env(server.url, INTERMISSION_TICK_INTERVAL_SECONDS=str(TICK),
                    INTERMISSION_WORKER_HEARTBEAT_SECONDS=str(HEARTBEAT), INTERMISSION_SCHEDULER_CHECK_SECONDS="1",
                    INTERMISSION_REDIS_RETRY_SECONDS="1", INTERMISSION_LOG_FORMAT="text")
    return Process(procfile()["worker"], env, tmp_path / "worker.log").start()


def _tick_started(slot: int) -> datetime | None:
    from config.infra.redis_conn import get_redis

    try:
        job = Job.fetch(f"tick-{slot}", connection=get_redis(), serializer=JSONSerializer)
    except Exception:  # noqa: BLE001 - not scheduled yet, or Redis still loading
        return None
    return job.started_at if job.get_status() == JobStatus.FINISHED else None


def _on_time(slot: int) -> float:
    """Seconds between the slot and the start of its tick (waits for the tick to have run)."""
    started = wait_until(lambda: _tick_started(slot), timeout=TICK * 4, what=f"tick-{slot} to run", every=0.2)
    return started.replace(tzinfo=timezone.utc).timestamp() - slot * TICK


def _next_slot(after: float) -> int:
    return int(after) // TICK + 1


def _scheduled_tick() -> int | None:
    """The slot of the tick the worker scheduled (it does at start-up), once it has."""
    from rq.registry import ScheduledJobRegistry

    from config.infra.redis_conn import get_redis
    from handlers.intake.queues import get_queue

    ticks = [j for j in ScheduledJobRegistry(queue=get_queue(get_redis())).get_job_ids() if j.startswith("tick-")]
    return min(int(j.split("-")[1]) for j in ticks) if ticks else None


def _scheduler_children(worker: Process) -> list[int]:
    """Live children of the worker, whichever of its threads forked them (the scheduler, a --fork horse)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if int(ppid) == worker.pid and state not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def _heartbeat_ages() -> list[float]:
    from handlers.ops.health import workers_info

    from config.infra.redis_conn import get_redis

    return [w["heartbeat_age_seconds"] for w in workers_info(get_redis())]


@pytest.mark.slow
def test_after_a_redis_restart_the_scheduler_runs_the_next_tick_on_time_and_heartbeats_stay_fresh(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    worker = None
    try:
        with app_on_redis(server.url):
            worker = _worker(server, tmp_path)
            first = wait_until(_scheduled_tick, timeout=60, what="the worker to schedule its first tick")
            assert _on_time(first) < LATE  # the tick runs on time before the outage
            time.sleep(HEARTBEAT * 2)  # idle for two heartbeats
            assert all(age <= HEARTBEAT + 2 for age in _heartbeat_ages()), _heartbeat_ages()
            server.kill()
            wait_until(lambda: not _scheduler_children(worker), timeout=60, what="the rq scheduler to die")
            time.sleep(2 * TICK)  # down long enough that a tick slot passes without Redis
            server.start()
            back = time.time()
            # the first slot once the worker can have noticed: its reconnection back-off is at most 5 s apart
            slot = _next_slot(back + RECONNECT_WAIT_CAP + 2)
            lateness = _on_time(slot)
            assert lateness < LATE, f"tick-{slot} started {lateness:.1f}s after its slot\n" + _log(tmp_path)
            assert worker.proc.poll() is None, _log(tmp_path)
            assert _scheduler_children(worker), "no scheduler process after the restart"
            assert all(age <= HEARTBEAT + 2 for age in _heartbeat_ages()), _heartbeat_ages()
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


def test_idle_workers_heartbeat_every_30_seconds_by_default():
    from config.settings import Settings
    from handlers.ops.supervise import worker_options

    assert Settings().worker_heartbeat_seconds <= 30
    ttl = worker_options()["worker_ttl"]
    assert ttl - 15 == Settings().worker_heartbeat_seconds  # rq blocks worker_ttl - 15 s, then heartbeats


def _log(tmp_path: Path) -> str:
    path = tmp_path / "worker.log"
    return path.read_text()[-3000:] if path.exists() else ""


def test_worker_start_up_is_the_procfile_command():
    assert procfile()["worker"] == ["intermission", "worker"]
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0 and "--burst" in done.stdout
