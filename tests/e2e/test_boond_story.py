"""The Boond story end to end: sandbox → webhook → queue → worker → actions back in the sandbox."""
from __future__ import annotations

from datetime import date

import pytest

from config.infra import clock
from handlers.sync.jobs import tick
from tests.e2e.helpers import by_step, due, markers, owner, settle

T0 = date(2026, 3, 2)  # a Monday; Easter Monday (6 April 2026) falls inside the story


@pytest.fixture(params=["documented", "observed"])
def stack(redis_conn, request):
    """The stack on each sandbox dialect (docs/SANDBOXES.md): the story must hold on both."""
    from sandboxes.stack import Stack

    with Stack("acme", dialect=request.param) as running:
        yield running


def _steps(stack, mission: str) -> dict[str, dict]:
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def test_natural_end_lands_with_due_dates_assignees_and_texts(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    steps = _steps(stack, mission)
    assert sorted(steps) == sorted(["natural.availability", "natural.prospect", "natural.handover",
                                    "natural.new_needs", "natural.satisfaction", "natural.rapport_etonnement",
                                    "natural.review", "natural.recommendations"])
    assert due(steps["natural.satisfaction"]) == "2026-04-09"  # 5 business days before Thu 16 April
    assert due(steps["natural.handover"]) == "2026-03-25"  # 15 business days back, skipping Easter Monday
    assert due(steps["natural.review"]) == "2026-04-14"
    assert due(steps["natural.recommendations"]) == "2026-04-16"
    assert steps["natural.satisfaction"]["attributes"]["startDate"] == "2026-04-09T09:00:00+0200"
    assert owner(steps["natural.satisfaction"]) == "2"  # Claire Martin, the project's manager
    assert owner(steps["natural.handover"]) == "7"  # the consultant himself
    assert owner(steps["natural.prospect"]) == "3"  # the opportunity's business engineer
    for row in steps.values():
        assert row["relationships"]["dependsOn"]["data"] == {"id": "7", "type": "resource"}
        assert row["attributes"]["typeOf"] == 5  # the tenant's "Rappel / To do" for resources
    handover = steps["natural.handover"]["attributes"]["text"]
    assert "Acme Industrie" in handover and "16/04/2026" in handover  # French texts for a French tenant


def test_full_story_extension_client_end_bench_and_restaffing(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    first = _steps(stack, mission)

    stack.move_end(mission, date(2026, 5, 7))  # extended by three weeks
    settle()
    moved = _steps(stack, mission)
    assert {k: v["id"] for k, v in moved.items()} == {k: v["id"] for k, v in first.items()}  # rescheduled, none added
    assert len(stack.actions()) == 8
    assert due(moved["natural.review"]) == "2026-05-05"
    assert due(moved["natural.satisfaction"]) == "2026-04-29"  # skips the 1 May holiday
    assert due(moved["natural.recommendations"]) == "2026-05-07"

    stack.end_early(mission, date(2026, 3, 12), "client")
    settle()
    client = _steps(stack, mission)
    assert not any(k.startswith("natural.") for k in client)
    assert not {v["id"] for v in first.values()} & {a["id"] for a in stack.actions()}  # cancelled in the host
    assert len([k for k in client if k.startswith("client.")]) == 8
    assert due(client["client.understand_reason"]) == "2026-03-02"  # right away
    assert owner(client["client.restaff"]) == "3"
    assert due(client["client.transition"]) == "2026-03-05"
    assert due(client["client.keep_in_touch"]) == "2026-04-10"

    clock.pin(date(2026, 3, 13))  # the first day after the end, no next mission
    tick()
    settle()
    bench = _steps(stack, mission)
    bench_keys = sorted(k for k in bench if k.startswith("bench."))
    assert "bench.checkin#1" in bench_keys and "bench.checkin#2" not in bench_keys
    assert {"bench.internal_project", "bench.training", "bench.skills_volunteering", "bench.cv_update"} <= set(bench_keys)
    assert due(bench["bench.checkin#1"]) == "2026-03-13"
    assert due(bench["client.understand_reason"]) == "2026-03-02"  # time passing moves nothing already written

    clock.pin(date(2026, 3, 20))  # a week later: the next check-in appears
    tick()
    settle()
    week2 = _steps(stack, mission)
    assert due(week2["bench.checkin#2"]) == "2026-03-20"
    assert "bench.checkin#3" not in week2

    new = stack.create_delivery(date(2026, 3, 30), date(2026, 12, 18))["data"]["id"]
    settle()
    signed = _steps(stack, mission)
    assert "bench.checkin#2" in signed and "bench.checkin#1" not in signed  # signed, not started: still on the bench

    clock.pin(date(2026, 3, 30))  # the next mission starts
    tick()
    settle()
    after = _steps(stack, mission)
    assert not any(k.startswith("bench.") for k in after)  # bench closed on the start date
    assert len([k for k in after if k.startswith("client.") and ".reminder." not in k]) == 8
    # the survey sent on 9 March is still unanswered on the 20th: one reminder per respondent
    assert {k for k in after if ".reminder." in k} == {"client.satisfaction.reminder.consultant",
                                                        "client.satisfaction.reminder.client_contact"}
    assert _steps(stack, new)  # the new mission has its own end-of-mission plan
    assert max(markers(stack.actions()).values()) == 1


def test_mission_ending_tomorrow_gets_late_steps_on_next_business_day(stack, redis_conn):
    clock.pin(date(2026, 3, 5))  # Thursday
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 3, 6))["data"]["id"]
    settle()
    steps = _steps(stack, mission)
    assert len(steps) == 8  # nothing silently dropped
    assert due(steps["natural.handover"]) == "2026-03-06"  # was due weeks ago → next business day
    assert due(steps["natural.recommendations"]) == "2026-03-06"
    from handlers.state.ledger import ActivityLog

    log = ActivityLog(redis_conn, "acme").recent(mission=mission)
    late = [r for r in log if r["step"] == "natural.handover"][0]
    assert late["late"] is True and late["case"] == "natural"


def test_own_write_back_or_replayed_webhook_changes_nothing(stack):
    clock.pin(T0)
    made = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    before = stack.actions()
    stack.control("POST", "/_control/calls/reset")
    event = dict(made["events"][0])
    event["data"] = {**event["data"], "id": "a-new-event-for-the-same-state"}
    assert stack.post_webhook(event).status_code == 202
    settle()
    calls = stack.control("GET", "/_control/calls")["by_route"]
    assert not any(route.split()[0] in ("POST", "PUT", "DELETE") for route in calls)  # reads only
    assert stack.actions() == before


def test_cleared_end_date_cancels_and_never_benches(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    stack.control("POST", f"/_control/deliveries/{mission}/clear-end", json={})
    settle()
    clock.pin(date(2026, 5, 1))
    tick()
    settle()
    assert stack.actions() == []


def test_cancelled_mission_cancels_open_steps(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    stack.control("POST", f"/_control/deliveries/{mission}/cancel", json={})
    settle()
    assert stack.actions() == []


def test_consultant_ending_early_gets_consultant_steps(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 6, 30))["data"]["id"]
    settle()
    stack.end_early(mission, date(2026, 3, 27), "consultant")
    settle()
    keys = set(_steps(stack, mission))
    assert len([k for k in keys if k.startswith("consultant.")]) == 8 and not any(k.startswith("natural.") for k in keys)


def test_next_mission_starting_right_after_end_means_no_bench(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 3, 13))["data"]["id"]  # ends Friday
    stack.create_delivery(date(2026, 3, 16), date(2026, 9, 30))  # starts Monday
    settle()
    clock.pin(date(2026, 3, 17))
    tick()
    settle()
    assert not any(k.startswith("bench.") for k in _steps(stack, mission))
