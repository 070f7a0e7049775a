"""Backfill at install: the missions a Boond tenant already has are planned right after configure, once."""
from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import pytest

from config import tenants
from handlers.sync import backfill
from tests.e2e.helpers import MARK, assert_planned_once, markers, settle

T0 = date(2026, 3, 2)  # the market fixture's pinned day
SOON = [T0 + timedelta(days=3 + 7 * i) for i in range(12)]  # 12 missions ending within 90 days
LATER = [T0 + timedelta(days=95 + 9 * i) for i in range(22)] + [T0 - timedelta(days=200 + i) for i in range(6)]


def _forty(market) -> dict[str, date]:
    """40 deliveries of 40 consultants, created before Intermission is installed: mission id → end day."""
    ends = {}
    for i, end in enumerate(SOON + LATER):
        resource = market.new_consultant(f"Backfill{i}")
        made = market.create_delivery(end - timedelta(days=200), end, resource=resource, title=f"Mission {i}")
        ends[made["data"]["id"]] = end
    assert len(ends) == 40
    return ends


def _missions_with_actions(market) -> set[str]:
    return {MARK.search(a["attributes"]["text"]).group(1) for a in market.actions()}


def _assert_right_actions(market, redis_conn, soon: set[str]) -> None:
    assert_planned_once(market, redis_conn, soon, T0)


def _installed(market) -> dict[str, date]:
    ends = _forty(market)
    market.market("install")
    assert market.actions() == []
    assert market.configure()["configured"] is True
    return ends


def test_configure_plans_the_12_missions_ending_within_90_days_and_only_them(market, redis_conn):
    ends = _installed(market)
    soon = {m for m, end in ends.items() if T0 <= end <= T0 + timedelta(days=90)}
    assert len(soon) == 12
    settle()
    _assert_right_actions(market, redis_conn, soon)
    run = backfill.progress(redis_conn, market.tenant.id)
    assert (run["status"], run["kind"], run["total"], run["read"], run["planned"], run["failed"]) == \
        ("done", "install", 12, 12, 12, 0)


def test_a_second_backfill_duplicates_nothing(market, redis_conn, child_env):
    ends = _installed(market)
    settle()
    before = sorted((a["id"], a["attributes"]["title"], a["attributes"]["startDate"]) for a in market.actions())
    done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "backfill", "--tenant", market.tenant.id],
                          env=child_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "[" + "#" * 30 + "] 12/12 read, 12 planned, 0 failed, 0 held" in done.stderr
    after = sorted((a["id"], a["attributes"]["title"], a["attributes"]["startDate"]) for a in market.actions())
    assert after == before
    soon = {m for m, end in ends.items() if T0 <= end <= T0 + timedelta(days=90)}
    _assert_right_actions(market, redis_conn, soon)


def test_a_backfill_killed_half_way_resumes_without_duplicates(market, redis_conn, monkeypatch):
    ends = _installed(market)  # the install's run is queued, not started yet
    from handlers.sync import jobs

    real, calls = jobs.sync_mission, []

    def dies_on_the_seventh(tenant_id, mission_id, trigger):
        calls.append(mission_id)
        if len(calls) == 7:
            raise SystemExit("worker killed")  # a BaseException: nothing after it runs, like a SIGKILL
        return real(tenant_id, mission_id, trigger)

    monkeypatch.setattr(backfill, "PAGE", 5)
    monkeypatch.setattr(jobs, "sync_mission", dies_on_the_seventh)
    with pytest.raises(SystemExit):
        backfill.carry_on(redis_conn, market.tenant.id)
    half = backfill.progress(redis_conn, market.tenant.id)
    assert (half["status"], half["read"], half["total"]) == ("running", 5, 12)  # the first page is recorded
    assert len(_missions_with_actions(market)) == 6  # the 6th was written but not recorded as done
    monkeypatch.setattr(jobs, "sync_mission", real)
    settle()  # the queued install job resumes the run
    run = backfill.progress(redis_conn, market.tenant.id)
    assert (run["status"], run["read"], run["planned"], run["failed"]) == ("done", 12, 12, 0)
    soon = {m for m, end in ends.items() if T0 <= end <= T0 + timedelta(days=90)}
    _assert_right_actions(market, redis_conn, soon)


def test_consultants_already_on_the_bench_are_planned(market, redis_conn):
    resource = market.new_consultant("Bench")
    ended = market.create_delivery(T0 - timedelta(days=120), T0 - timedelta(days=10), resource=resource)["data"]["id"]
    market.market("install")
    market.configure()
    settle()
    steps = {m.split("/", 1)[1] for m in markers(market.actions()) if m.startswith(f"intermission:{ended}/")}
    assert steps and any(s.startswith("bench.") for s in steps), steps


def test_the_window_is_the_tenants_own(market, redis_conn):
    ends = _forty(market)
    market.market("install")
    tenant = market.installed()
    tenants.save(tenant.model_copy(update={"backfill_days": 30}))
    market.configure()
    settle()
    assert _missions_with_actions(market) == {m for m, end in ends.items() if T0 <= end <= T0 + timedelta(days=30)}
