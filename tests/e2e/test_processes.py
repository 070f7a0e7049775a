"""The long-running commands start as an operator would run them, and do their job over real HTTP."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import requests
from rq.registry import ScheduledJobRegistry

from handlers.sync.jobs import schedule_next_tick
from handlers.intake.queues import get_queue
from tests.conftest import METRICS_TOKEN

CLI = [sys.executable, "-m", "intermission_cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, deadline_s: float = 30.0) -> requests.Response:
    """Poll until the server answers (bounded; no fixed sleep)."""
    end = time.monotonic() + deadline_s
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


@contextmanager
def running(args, env):
    proc = subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_runs_gunicorn_and_accepts_a_webhook(stack, child_env):
    port = _free_port()
    with running(["serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], child_env):
        assert _wait_for(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        assert requests.get(f"http://127.0.0.1:{port}/readyz?scope=web", timeout=5).status_code == 200
        not_ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5,  # no worker runs the scheduler
                                 headers={"Authorization": f"Bearer {METRICS_TOKEN}"})  # the details want the token
        assert not_ready.status_code == 503 and "scheduler not running" in not_ready.json()["reasons"][0]
        url = stack.tenant.webhook_url(f"http://127.0.0.1:{port}")
        event = {"data": {"id": "e-1", "relationships": {"dependsOn": {"data": {"id": "100", "type": "delivery"}}}}}
        assert requests.post(url, json=event, timeout=5).status_code == 202
    assert get_queue().count == 1


def test_sandbox_command_serves_the_boond_api(child_env):
    port = _free_port()
    with running(["sandbox", "boond", "--port", str(port)], child_env):
        creds = _wait_for(f"http://127.0.0.1:{port}/_control/credentials").json()
        assert creds["appToken"]
        refused = requests.get(f"http://127.0.0.1:{port}/api/application/dictionary",
                               headers={"Authorization": "Bearer nope"}, timeout=5)
        assert refused.status_code == 422 and "Signature verification failed" in refused.text


def test_one_tick_is_scheduled_per_slot_whoever_asks(redis_conn):
    schedule_next_tick()
    schedule_next_tick()
    ids = ScheduledJobRegistry(queue=get_queue()).get_job_ids()
    assert len([i for i in ids if i.startswith("tick-")]) == 1
