"""The catch-up sweep: webhooks lost by the host are caught by one sweep, and the host ends exactly right."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from config import tenants
from config.infra import clock
from handlers.sync.jobs import tick
from handlers.sync.sweep import last_sweep_key, sweep
from tests.e2e.helpers import settle
from tests.e2e.scale_story import (T0, Driver, Timer, drained_before_the_story, duplicates, quiet_servers, reference_state,
                                   story, unthrottle, wrong_missions)

DROP_RATE = 0.2
pytestmark = pytest.mark.usefixtures(quiet_servers.__name__)
CLI = [sys.executable, "-m", "intermission_cli.main"]


def _lossy_run(stack, rounds, seed: int) -> tuple[Driver, int, int]:
    """The story with a seeded 20 % of the host's notifications never sent; (driver, sent, dropped)."""
    clock.pin(T0)
    unthrottle(stack)
    drained_before_the_story()
    driver, rng, dropped, sent = Driver(stack), random.Random(seed), 0, 0
    driver.consultants(len(rounds[0]))
    for changes in rounds:
        for change in changes:
            deliver = rng.random() >= DROP_RATE
            driver.play(change, deliver=deliver)
            sent, dropped = sent + deliver, dropped + (not deliver)
        settle()
    return driver, sent, dropped


def _check_sweep(stack, redis_conn, host: str) -> None:
    expected = reference_state(stack, redis_conn)
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    driver, sent, dropped = _lossy_run(stack, story(), seed=62)
    wrong_before = wrong_missions(driver, expected)
    assert wrong_before > 0  # the lost notifications really left missions wrong
    timer = Timer()
    found = sweep(tenants.get(stack.tenant_id), since)
    settle()
    wrong_after, dups = wrong_missions(driver, expected), duplicates(driver)
    print(json.dumps({"test": f"sweep_{host}", "missions": len(driver.missions), "changes": sent + dropped,
                      "delivered": sent, "dropped": dropped, "missions_wrong_before_sweep": wrong_before,
                      "swept": found["changed"], "sweep_queued": found["queued"],
                      "missions_wrong_after_sweep": wrong_after, "duplicates": dups, "seconds_to_repair": timer()}))
    assert driver.state() == expected and dups == 0


@pytest.mark.slow
def test_one_sweep_repairs_a_boond_story_after_20_percent_of_webhooks_were_lost(stack, redis_conn):
    _check_sweep(stack, redis_conn, "boond")


@pytest.mark.slow
def test_one_sweep_repairs_a_salesforce_story_after_20_percent_of_messages_were_lost(sf_stack, redis_conn):
    _check_sweep(sf_stack, redis_conn, "salesforce")


def test_sweep_command_requeues_a_mission_whose_webhook_was_lost(stack, child_env):
    clock.pin(T0)
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)
    settle()
    assert stack.actions() == []  # the host never told us
    done = subprocess.run([*CLI, "sweep", "--tenant", stack.tenant_id, "--since-minutes", "5"], env=child_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert (found["tenant"], found["changed"], found["queued"]) == ("acme", 1, 1)
    settle()
    assert len(stack.actions()) == 8


def test_tick_sweeps_each_tenant_once_per_interval_over_twice_the_interval(sf_stack, redis_conn):
    clock.pin(T0)
    mission = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["record"]["Id"]
    assert "acme-sf/sweep" in tick()
    assert "acme-sf/sweep" not in tick()  # swept less than an interval ago
    settle()
    assert len([t for t in sf_stack.tasks() if mission in t["Description"]]) == 8
    redis_conn.set(last_sweep_key("acme-sf"), 0)  # an interval later
    assert "acme-sf/sweep" in tick()


def test_a_sweep_of_a_tenant_that_cannot_be_reached_is_skipped_not_dead_lettered(sf_stack, redis_conn):
    from handlers.intake.queues import dead_letters

    sf_stack.control("POST", "/_control/oauth/revoke-all")
    assert "acme-sf/sweep" in tick()
    settle()
    assert dead_letters() == []
