"""`intermission worker` runs jobs in-process by default; `--fork` forks a work horse per job: same outcome."""
from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from config.infra import clock
from tests.e2e.helpers import by_step, markers

T0 = date(2026, 3, 2)


@pytest.mark.parametrize("flags", [[], ["--fork"]], ids=["in-process", "fork"])
def test_each_worker_class_carries_a_change_into_boond(stack, child_env, flags):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--burst", *flags], env=child_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    actions = stack.actions()
    assert len(by_step(actions)) == 8 and max(markers(actions).values()) == 1
    assert {key.split("/")[0] for key in by_step(actions)} == {mission}


def test_fork_and_simple_cannot_be_asked_together(child_env):
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--fork", "--simple"], env=child_env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


def test_a_worker_keeps_its_start_up_objects_out_of_the_collectors_full_passes(redis_conn, child_env):
    """A full collection walks only what was made after start-up (config/infra/heap.py): asked of a job itself."""
    from handlers.intake.queues import get_queue

    job = get_queue(redis_conn).enqueue("gc.get_freeze_count")
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "worker", "--burst"], env=child_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    job.refresh()
    assert job.return_value() > 30_000  # the modules, classes and tables loaded at start-up
