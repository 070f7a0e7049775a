"""A worker killed mid-write, host faults during the story, dead letters and `intermission replay`."""
from __future__ import annotations

import signal
import subprocess
import sys
from datetime import date

from handlers import clock
from handlers.ledger import Ledger
from handlers.queues import dead_letters, get_queue
from tests.e2e.helpers import by_step, markers, settle

T0 = date(2026, 3, 2)
WORKER = [sys.executable, "-m", "config.cli", "worker", "--burst", "--simple"]


def test_worker_killed_between_host_write_and_ledger_write_leaves_no_duplicate(stack, redis_conn, child_env):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    crashed = subprocess.run(WORKER, env={**child_env, "INTERMISSION_CRASH_AFTER_HOST_WRITE": "3"},
                             capture_output=True, timeout=120)
    assert crashed.returncode == -signal.SIGKILL
    assert len(stack.actions()) == 3  # three written in Boond, the third never recorded
    intents = [e for e in Ledger(redis_conn, "acme", mission).entries().values() if e.status == "intent"]
    assert len(intents) == 1

    restarted = subprocess.run(WORKER, env=child_env, capture_output=True, timeout=120)
    assert restarted.returncode == 0, restarted.stderr.decode()[-2000:]
    actions = stack.actions()
    assert len(actions) == 8 and max(markers(actions).values()) == 1
    entries = Ledger(redis_conn, "acme", mission).entries()
    assert {e.status for e in entries.values()} == {"written"}
    assert {e.host_id for e in entries.values()} == {a["id"] for a in actions}


def test_story_converges_through_429_500_and_timeouts(stack):
    clock.pin(T0)
    for fault in ({"kind": "429", "times": 2, "method": "POST", "path": "/api/actions", "retry_after": 1},
                  {"kind": "500", "times": 2, "method": "GET", "path": "/api/deliveries"},
                  {"kind": "slow", "times": 1, "method": "GET", "path": "/api/resources", "delay": 3},
                  {"kind": "500", "times": 1, "method": "POST", "path": "/api/actions"},
                  {"kind": "drop", "times": 1, "method": "PUT", "path": "/api/actions"}):
        stack.control("POST", "/_control/faults", json=fault)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    stack.move_end(mission, date(2026, 5, 7))
    settle()
    actions = stack.actions()
    assert len(by_step(actions)) == 8 and max(markers(actions).values()) == 1
    statuses = stack.control("GET", "/_control/calls")["by_status"]
    assert statuses.get("429", 0) >= 2 and statuses.get("500", 0) >= 3  # the faults really happened
    assert dead_letters() == []


def test_exhausted_retries_become_dead_letters_and_replay_completes_them(stack, child_env):
    clock.pin(T0)
    stack.control("POST", "/_control/faults", json={"kind": "500", "times": 100, "method": "GET",
                                                    "path": "/api/deliveries"})
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert stack.actions() == []
    dead = dead_letters()
    assert len(dead) == 1 and dead[0].func_name == "handlers.jobs.sync_mission"

    listed = subprocess.run([sys.executable, "-m", "config.cli", "replay", "--list"], env=child_env,
                            capture_output=True, text=True, timeout=60)
    assert dead[0].id in listed.stdout
    stack.control("DELETE", "/_control/faults")
    replayed = subprocess.run([sys.executable, "-m", "config.cli", "replay"], env=child_env,
                              capture_output=True, text=True, timeout=60)
    assert "requeued 1 dead letter" in replayed.stdout
    settle()
    assert len(stack.actions()) == 8 and dead_letters() == []
    assert get_queue().count == 0
