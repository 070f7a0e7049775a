"""REQUEST_LIMIT_EXCEEDED told apart: a concurrency refusal is retried within seconds, the daily limit holds."""
from __future__ import annotations

import json
from datetime import date

from config.infra import metrics
from config.infra import clock
from handlers.sync.holds import held
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates, spend_the_budget_mid_story

T0 = date(2026, 3, 2)


def refusals(redis_conn, kind: str) -> int:
    raw = redis_conn.hget(metrics.KEY, metrics.field("intermission_salesforce_limit_refusals", {"kind": kind}))
    return int(raw or 0)


def test_concurrency_limit_is_retried_within_the_job_and_the_tasks_land(sf_stack, redis_conn):
    clock.pin(T0)
    for kind in ("concurrent-long-txn", "concurrent-requests"):
        sf_stack.control("POST", "/_control/faults", json={"kind": kind, "method": "POST", "path": "/composite"})
    mission = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    assert len(by_step(sf_stack.tasks(), mission)) == 8 and duplicates(sf_stack.tasks()) == []
    assert held(redis_conn, "acme-sf") == {}
    calls = sf_stack.control("GET", "/_control/calls")["by_status"]
    assert calls.get("403") == 2  # both refusals reached the org, then the retry went through
    assert refusals(redis_conn, "concurrency") == 2 and refusals(redis_conn, "daily") == 0


def test_daily_limit_403_still_holds_the_tenant(sf_stack, redis_conn):
    clock.pin(T0)
    sf_stack.control("POST", "/_control/faults", json={"kind": "limit", "method": "POST", "path": "/composite"})
    mission = sf_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    assert by_step(sf_stack.tasks(), mission) == {} and mission in held(redis_conn, "acme-sf")
    assert refusals(redis_conn, "daily") == 1 and refusals(redis_conn, "concurrency") == 0
    assert "REQUEST_LIMIT_EXCEEDED" in json.dumps(held(redis_conn, "acme-sf"), default=str)


def test_resume_reads_the_org_s_usage_again_instead_of_holding_for_a_day(sf_stack, redis_conn):
    from handlers.sync.holds import resume

    mission = spend_the_budget_mid_story(sf_stack, redis_conn)
    sf_stack.control("POST", "/_control/limits/reset")  # the org's rolling usage dropped; nothing told us
    sf_stack.control("POST", "/_control/calls/reset")
    assert resume("acme-sf", redis_conn) == [mission]  # what the scheduled resume and `tenant resume` run
    settle()
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert held(redis_conn, "acme-sf") == {} and duplicates(sf_stack.tasks()) == []
    assert sf_stack.control("GET", "/_control/calls")["by_route"]["GET /limits"] == 1


def test_resume_while_the_org_is_still_over_budget_holds_again_after_one_limits_call(sf_stack, redis_conn):
    from handlers.sync.holds import resume

    mission = spend_the_budget_mid_story(sf_stack, redis_conn)
    sf_stack.control("POST", "/_control/calls/reset")
    resume("acme-sf", redis_conn)
    settle()
    assert mission in held(redis_conn, "acme-sf")
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-04-14"  # not moved yet
    calls = sf_stack.control("GET", "/_control/calls")
    assert calls["by_route"] == {"GET /limits": 1}  # refused (403), read, nothing else tried


def test_the_sweep_reads_the_usage_again_rather_than_skipping_for_a_day(sf_stack, redis_conn):
    from datetime import datetime, timedelta, timezone

    from handlers.sync.sweep import sweep_job

    spend_the_budget_mid_story(sf_stack, redis_conn)
    sf_stack.control("POST", "/_control/limits/reset")
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    result = sweep_job("acme-sf", since)
    assert "skipped" not in result and result["changed"] >= 1
