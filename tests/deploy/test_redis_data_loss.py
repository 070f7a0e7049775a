"""A Redis that comes back empty (a restart without persistence, a failover to an empty replica) under a running worker.

`intermission worker` as the Procfile runs it, on a Redis of our own with no persistence at all (`--save ''
--appendonly no`): SIGKILLed, then started again on the same port with nothing in it. Within a minute of Redis
answering again the tick schedule is back and the tick fires, the worker is registered again, and `status` and
`check-worker` say so; a stop asked while Redis is down ends well within the worker's grace period in deploy/.
The tick interval is a setting, so the test runs on 6-second slots instead of 15-minute ones.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.deploy.test_scheduler_recovery import HEARTBEAT, TICK, _scheduled_tick, _tick_started
from tests.e2e.proc_helpers import DEPLOY, ROOT, Process, child_env, procfile
from tests.reliability.redis_servers import RedisServer, app_on_redis, wait_until

IDLE_TICK = 3600  # seconds: the stop test's tick interval, so that no tick runs while it measures an idle worker
RECOVERY = 60  # seconds: the bound from "Redis answers again" to everything true again
CLI = [sys.executable, "-m", "intermission_cli.main"]


def _empty_redis(tmp_path: Path) -> RedisServer:
    return RedisServer(tmp_path / "redis", "--save", "", "--appendonly", "no", conf=None)


def _worker(server: RedisServer, tmp_path: Path, *, tick: int = TICK) -> Process:
    env = child_env(server.url, INTERMISSION_TICK_INTERVAL_SECONDS=str(tick),
                    INTERMISSION_WORKER_HEARTBEAT_SECONDS=str(HEARTBEAT), INTERMISSION_SCHEDULER_CHECK_SECONDS="1",
                    INTERMISSION_LOG_FORMAT="text")
    return Process(procfile()["worker"], env, tmp_path / "worker.log").start()


def _cli(server: RedisServer, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "REDIS_URL": server.url, "INTERMISSION_WORKER_HEARTBEAT_SECONDS": str(HEARTBEAT)}
    return subprocess.run([*CLI, *argv], env=env, capture_output=True, text=True, cwd=ROOT, timeout=60)


def _status(server: RedisServer) -> dict:
    done = _cli(server, "status", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def _told_the_truth(server: RedisServer) -> bool:
    status = _status(server)
    return (len(status["workers"]) == 1 and status["scheduler"]["alive"] and status["scheduler"]["next_tick"]
            and _cli(server, "check-worker").returncode == 0)


def _worker_grace_seconds() -> int:
    docs = yaml.safe_load_all((DEPLOY / "k8s" / "worker.yaml").read_text())
    return next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"]


def _log(tmp_path: Path) -> str:
    path = tmp_path / "worker.log"
    return path.read_text()[-4000:] if path.exists() else ""


@pytest.mark.slow
def test_a_redis_that_lost_its_data_gets_its_tick_and_worker_back_within_a_minute(tmp_path):
    server = _empty_redis(tmp_path).start()
    worker = None
    try:
        with app_on_redis(server.url):
            worker = _worker(server, tmp_path)
            first = wait_until(_scheduled_tick, timeout=60, what="the worker to schedule its first tick")
            wait_until(lambda: _tick_started(first), timeout=TICK * 4, what="the first tick to run", every=0.2)
            assert _told_the_truth(server)
            server.kill()
            time.sleep(3)
            server.start()  # empty: no AOF, no RDB
            back = time.monotonic()
            slot = wait_until(_scheduled_tick, timeout=RECOVERY, what="a tick scheduled again", every=0.5)
            wait_until(lambda: _tick_started(slot), timeout=TICK * 4, what=f"tick-{slot} to fire", every=0.2)
            fired = time.monotonic() - back
            wait_until(lambda: _told_the_truth(server), timeout=max(1.0, RECOVERY - (time.monotonic() - back)),
                       what="status and check-worker to see the worker", every=1)
            truthful = time.monotonic() - back
            assert worker.proc.poll() is None, _log(tmp_path)
            print(json.dumps({"test": "redis-data-loss", "tick_fired_after_s": round(fired, 1),
                              "status_and_check_worker_true_after_s": round(truthful, 1)}))
    finally:
        if worker is not None:
            worker.stop()
        server.stop()


@pytest.mark.slow
def test_a_stop_asked_while_redis_is_down_ends_within_the_grace_period(tmp_path):
    server = _empty_redis(tmp_path).start()
    worker = None
    try:
        with app_on_redis(server.url):
            # no tick falls due during the test: an idle worker is what this measures. A worker busy with a job
            # when Redis goes away first lets the job ride out its Redis calls (INTERMISSION_REDIS_RETRY_SECONDS
            # each), as a warm stop does, which a CI run once measured at 67 s: still well within the grace
            worker = _worker(server, tmp_path, tick=IDLE_TICK)
            wait_until(_scheduled_tick, timeout=60, what="the worker to start")
            wait_until(lambda: _told_the_truth(server), timeout=30, what="the worker to register", every=1)
            server.kill()
            time.sleep(2)  # the worker notices: its dequeue fails, it retries
            asked = time.monotonic()
            os.kill(worker.pid, signal.SIGTERM)  # a warm stop, as compose and Kubernetes send it
            worker.proc.wait(timeout=_worker_grace_seconds())
            took = time.monotonic() - asked
            print(json.dumps({"test": "stop-while-redis-down", "seconds": round(took, 1),
                              "grace_seconds": _worker_grace_seconds()}))
            # well within the grace, and no longer than riding out one Redis call (INTERMISSION_REDIS_RETRY_SECONDS)
            assert took < 15, f"stopped after {took:.1f}s\n" + _log(tmp_path)
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
