"""`intermission status`: what an operator sees of queues, workers, the scheduler, dead letters and tenants waiting."""
from __future__ import annotations

import json
import subprocess
import sys

from handlers.sync import holds
from handlers.intake.ingest import enqueue_sync
from handlers.intake.queues import get_queue, run_burst
from tests.e2e.proc_helpers import wait_until

CLI = [sys.executable, "-m", "intermission_cli.main"]


def status(env, *args) -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, "status", *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_status_shows_queue_dead_letters_missing_scheduler_and_tenants_waiting(stack, redis_conn, child_env):
    get_queue().enqueue("handlers.no_such_module.job")  # fails at once, no retry: a dead letter
    run_burst()
    enqueue_sync(redis_conn, "acme", "55", trigger={"kind": "webhook"})
    redis_conn.set("im:t:acme:sf:needs-reconsent", "refresh refused: invalid_grant")
    holds.hold(redis_conn, "acme", "77", reason="needs re-consent: refresh refused")

    found = json.loads(status(child_env, "--json").stdout)
    assert found["queue"]["depth"] == 1 and found["queue"]["dead_letters"] == 1
    assert found["queue"]["oldest_age_seconds"] is not None
    assert found["workers"] == [] and found["scheduler"]["alive"] is False
    assert found["tenants"] == [{"tenant": "acme", "needs_reconsent": "refresh refused: invalid_grant", "held": 1,
                                 "held_reasons": ["needs re-consent: refresh refused"], "attention": [],
                                 "setup_incomplete": False, "paused": False}]
    text = status(child_env).stdout
    assert "1 queued" in text and "1 dead letter(s)" in text and "scheduler: NOT RUNNING" in text
    assert "acme: needs re-consent (refresh refused: invalid_grant); 1 mission(s) held" in text


def test_status_shows_each_worker_with_its_heartbeat_and_the_scheduler_it_runs(stack, redis_conn, child_env):
    worker = subprocess.Popen([*CLI, "worker"], env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        found = wait_until(lambda: _running(child_env), timeout=30, what="a worker running the scheduler")
        (seen,) = found["workers"]
        assert seen["pid"] == worker.pid and seen["state"] in ("idle", "busy")
        assert seen["last_heartbeat"] and seen["heartbeat_age_seconds"] < 60
        assert found["scheduler"]["heartbeat_age_seconds"] < 10 and found["scheduler"]["next_tick"]
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _running(env) -> dict | None:
    found = json.loads(status(env, "--json").stdout)
    return found if found["workers"] and found["scheduler"]["alive"] else None


def test_status_tells_a_job_waiting_for_its_retry_from_a_plain_scheduled_one(stack, redis_conn, child_env):
    """Issue #27: a failing job between two attempts is shown as retrying, not only as "scheduled"."""
    from rq import Retry

    get_queue().enqueue("handlers.no_such_module.job", retry=Retry(max=2, interval=[600, 600]))
    run_burst()  # fails once; its retry waits 10 minutes in the scheduled registry
    found = json.loads(status(child_env, "--json").stdout)
    assert found["queue"]["retrying"] == 1 and found["queue"]["dead_letters"] == 0
    assert "(1 retrying after a failure)" in status(child_env).stdout
