"""The ESN-life rules on Boond, over real HTTP and a real Redis: what lands in the sandbox's actions (issue #10)."""
from __future__ import annotations

import json
from datetime import date

import requests

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.sync.jobs import tick
from handlers.state.ledger import ActivityLog
from handlers.sync.preview import preview, preview_stored
from intermission_cli.main import main as cli_main
from tests.e2e.helpers import by_step, due, markers, owner, settle
from webhooks.admin.auth import admin_token


def steps(stack, mission: str) -> dict[str, dict]:
    """The mission's actions in Boond by step key."""
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def deliver(stack, start: date, end: date, **extra) -> str:
    """A signed delivery of consultant 7 on project 45 (or `resource`/`project`), its webhook sent: its id."""
    body = {"resource": "7", "project": "45", "startDate": start.isoformat(), "endDate": end.isoformat(),
            "state": 0, "title": "Refonte du SI logistique", **extra}
    return stack.control("POST", "/_control/deliveries", json=body)["data"]["id"]


def text(row: dict) -> str:
    return row["attributes"]["text"]


def settings(stack, **changes) -> None:
    """Change the tenant's settings as the admin page does (the next job reads them)."""
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update=changes))


def test_a_mission_ended_two_years_ago_gets_no_end_steps_and_one_of_each_bench_step(stack):
    clock.pin(date(2026, 6, 3))
    mission = deliver(stack, date(2023, 9, 4), date(2024, 5, 29))
    settle()
    got = steps(stack, mission)
    assert got and all(k.startswith("bench.") for k in got)
    assert [k for k in got if k.startswith("bench.checkin")] == ["bench.checkin#1"]
    assert min(due(r) for r in got.values()) == "2026-06-03"  # planned from today, not two years ago
    clock.pin(date(2026, 6, 10))
    tick()
    settle()
    later = steps(stack, mission)
    assert [k for k in later if k.startswith("bench.checkin")] == ["bench.checkin#2"]  # one open occurrence
    assert max(markers(stack.actions()).values()) == 1


def test_a_mission_ended_ten_days_ago_gets_its_late_steps_each_once(stack):
    clock.pin(date(2026, 6, 8))
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    settle()
    got = steps(stack, mission)
    ends = {k: v for k, v in got.items() if k.startswith("natural.")}
    assert "natural.availability" not in ends  # an availability already begun is not announced (#27)
    assert len(ends) == 7 and {due(v) for v in ends.values()} == {"2026-06-09"}
    assert all("en retard" in text(v) for v in ends.values())
    assert [k for k in got if k.startswith("bench.checkin")] == ["bench.checkin#2"]
    stack.move_end(mission, date(2026, 5, 29))  # the same state again: nothing new
    settle()
    assert max(markers(stack.actions()).values()) == 1 and steps(stack, mission).keys() == got.keys()


def test_without_a_project_manager_steps_go_to_the_consultants_manager_then_the_default(stack):
    clock.pin(date(2026, 3, 2))
    project = stack.control("POST", "/_control/projects", json={"mainManager": None})["id"]
    first = deliver(stack, date(2025, 11, 3), date(2026, 4, 16), project=project)  # Jean, managed by Claire (2)
    settle()
    review = steps(stack, first)["natural.review"]
    assert owner(review) == "2" and "manager du consultant" in text(review)
    loner = stack.control("POST", "/_control/resources", json={"lastName": "Seul", "mainManager": None})["id"]
    settings(stack, planning=tenants.PlanningSettings(default_owners={"manager": "1"}))
    second = deliver(stack, date(2025, 11, 3), date(2026, 4, 16), project=project, resource=loner)
    settle()
    review = steps(stack, second)["natural.review"]
    assert owner(review) == "1" and "par défaut" in text(review)
    page = requests.get(f"{stack.web.url}/admin/", params={"a": admin_token(stack.tenant_id, "t")}, timeout=10)
    warning = page.text.split('id="no-manager-warning"')[1].split("</div>")[0]
    assert f"({first}," in warning and f"({second}," in warning


def test_a_next_mission_three_weeks_after_the_end_gives_bench_steps_closed_on_its_start(stack):
    clock.pin(date(2026, 5, 4))
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    deliver(stack, date(2026, 6, 22), date(2026, 12, 18), title="Migration cloud")  # signed, starts in 3 weeks
    settle()
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    bench = steps(stack, mission)
    assert due(bench["bench.checkin#1"]) == "2026-06-01" and "22/06/2026" in text(bench["bench.checkin#1"])
    clock.pin(date(2026, 6, 22))
    tick()
    settle()
    assert not [k for k in steps(stack, mission) if k.startswith("bench.")]


def test_a_next_mission_starting_the_next_business_day_gives_no_bench(stack):
    clock.pin(date(2026, 5, 4))
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29))
    deliver(stack, date(2026, 6, 1), date(2026, 12, 18), title="Migration cloud")
    settle()
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert not [k for k in steps(stack, mission) if k.startswith("bench.")]


def test_a_part_timer_at_full_time_elsewhere_gets_no_bench_and_a_true_reason(stack):
    clock.pin(date(2026, 5, 4))
    deliver(stack, date(2026, 1, 5), date(2026, 12, 31), title="Data lake", occupationRate=100)
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29), occupationRate=50)
    settle()
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert not [k for k in steps(stack, mission) if k.startswith("bench.")]
    seen = preview(stack.tenant_id, mission)
    assert seen["case"] == "staffed_elsewhere" and "still staffed elsewhere: Data lake (100 %)" in seen["reason"]
    assert "right after the end" not in seen["reason"]


def test_a_part_timer_below_the_threshold_elsewhere_is_on_the_bench(stack):
    clock.pin(date(2026, 6, 1))
    deliver(stack, date(2026, 1, 5), date(2026, 12, 31), title="Audit", occupationRate=20)
    mission = deliver(stack, date(2025, 11, 3), date(2026, 5, 29), occupationRate=80)
    settle()
    checkin = steps(stack, mission)["bench.checkin#1"]
    assert "temps partiel : Audit (20 %)" in text(checkin)


def test_a_three_week_mission_has_no_step_before_its_start(stack):
    clock.pin(date(2026, 5, 4))
    mission = deliver(stack, date(2026, 5, 11), date(2026, 5, 29))
    settle()
    got = steps(stack, mission)
    assert len(got) == 8 and min(due(v) for v in got.values()) == "2026-05-11"


def test_an_end_on_a_saturday_or_on_ascension_day_has_its_offset_zero_step_the_business_day_before(stack):
    clock.pin(date(2026, 3, 2))
    saturday = deliver(stack, date(2025, 11, 3), date(2026, 5, 30))
    settle()
    assert due(steps(stack, saturday)["natural.recommendations"]) == "2026-05-29"
    clock.pin(date(2027, 3, 1))
    ascension = deliver(stack, date(2026, 11, 2), date(2027, 5, 6))
    settle()
    assert due(steps(stack, ascension)["natural.recommendations"]) == "2027-05-05"


def test_a_moselle_tenant_skips_good_friday_and_26_december(stack):
    settings(stack, subdivision="57")
    clock.pin(date(2025, 10, 1))
    christmas = deliver(stack, date(2025, 3, 3), date(2025, 12, 26))
    easter = deliver(stack, date(2025, 11, 3), date(2026, 4, 3))
    settle()
    assert due(steps(stack, christmas)["natural.recommendations"]) == "2025-12-24"
    assert due(steps(stack, easter)["natural.recommendations"]) == "2026-04-02"


def test_a_france_tenant_keeps_26_december_and_good_friday_as_working_days(stack):
    clock.pin(date(2025, 10, 1))
    christmas = deliver(stack, date(2025, 3, 3), date(2025, 12, 26))
    settle()
    assert due(steps(stack, christmas)["natural.recommendations"]) == "2025-12-26"


def test_preview_activity_and_host_text_agree_on_an_unsure_change(stack, capsys):
    clock.pin(date(2026, 3, 2))
    mission = deliver(stack, date(2025, 11, 3), date(2026, 6, 30))
    settle()
    clock.pin(date(2026, 3, 3))
    stack.move_end(mission, date(2026, 5, 29))  # earlier, with no reason mapped
    settle()
    seen = preview(stack.tenant_id, mission)
    logged = [r for r in ActivityLog(get_redis(), stack.tenant_id).recent(mission=mission) if r["op"] == "rescheduled"]
    assert seen["unsure"] and logged and {(r["case"], r["reason"]) for r in logged} == {(seen["case"], seen["reason"])}
    review = steps(stack, mission)["natural.review"]
    assert "à confirmer" in text(review) and "30/06/2026 → 29/05/2026" in text(review)
    stored = preview_stored(tenants.get(stack.tenant_id), mission)  # the admin page's preview (last snapshot)
    assert (stored["case"], stored["reason"], stored["unsure"]) == (seen["case"], seen["reason"], True)
    capsys.readouterr()
    assert cli_main(["plan", "--tenant", stack.tenant_id, "--mission", mission, "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)  # `intermission plan`
    assert (planned["case"], planned["reason"], planned["unsure"]) == (seen["case"], seen["reason"], True)
    clock.pin(date(2026, 3, 9))
    stack.control("POST", "/_control/calls/reset")
    stack.move_end(mission, date(2026, 5, 29))  # re-read, nothing changed: no host write
    settle()
    calls = stack.control("GET", "/_control/calls")["by_route"]
    assert not any(route.split()[0] in ("POST", "PUT", "DELETE") for route in calls)
    assert preview(stack.tenant_id, mission)["reason"] == seen["reason"]
