"""The ESN-life rules on Salesforce, over real HTTP and a real Redis: what lands in the org's Tasks (issue #10)."""
from __future__ import annotations

from datetime import date

import pytest

from config import tenants
from config.infra.redis_conn import get_redis
from sandboxes.stack_salesforce import SalesforceStack
from config.infra import clock
from handlers.sync.jobs import tick
from handlers.state.ledger import ActivityLog
from handlers.sync.preview import preview
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates
from connectors.salesforce.settings import salesforce_settings

ADMIN, CLAIRE, HUGO = "005000000000001AAA", "005000000000002AAA", "005000000000003AAA"
CONSULTANT_FIELDS = {"consultant_manager_user": "Consultant__r.Manager__c", "consultant_left": "Consultant__r.Left__c",
                     "contract_end": "Consultant__r.Contract_End__c", "occupation": "Occupation__c"}


@pytest.fixture
def org(redis_conn):
    """The org sandbox with a tenant whose mapping reads the consultant's own fields and the occupation."""
    with SalesforceStack("esn-sf") as running:
        settings(running, mapping=CONSULTANT_FIELDS)
        yield running


def settings(org, *, mapping: dict | None = None, **changes) -> None:
    """Change the tenant as the admin pages do (the next job reads it)."""
    tenant = tenants.get(org.tenant_id)
    if mapping:
        cfg = salesforce_settings(tenant)
        changes["host_settings"] = cfg.model_copy(update={"mapping": cfg.mapping.model_copy(update=mapping)})
    tenants.save(tenant.model_copy(update=changes))


def mission(org, start: date, end: date, **fields) -> str:
    return org.create_mission(start, end, **fields)["record"]["Id"]


def consultant(org, **fields) -> str:
    return org.control("POST", "/_control/contacts", json={"LastName": "Durand", **fields})["Id"]


def tasks(org, mission_id: str) -> dict[str, dict]:
    return by_step(org.tasks(), mission_id)


def test_two_years_ago_gives_no_end_steps_and_ten_days_ago_its_late_steps_once(org):
    clock.pin(date(2026, 6, 8))
    old = mission(org, date(2023, 9, 4), date(2024, 5, 29))
    recent = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=consultant(org))
    settle()
    stale = tasks(org, old)
    assert stale and all(k.startswith("bench.") for k in stale)
    assert [k for k in stale if k.startswith("bench.checkin")] == ["bench.checkin#1"]
    assert min(t["ActivityDate"] for t in stale.values()) == "2026-06-08"
    late = {k: t for k, t in tasks(org, recent).items() if k.startswith("natural.")}
    assert "natural.availability" not in late  # an availability already begun is not announced (#27)
    assert len(late) == 7 and {t["ActivityDate"] for t in late.values()} == {"2026-06-09"}
    assert all("en retard" in t["Description"] for t in late.values())
    clock.pin(date(2026, 6, 15))
    tick()
    settle()
    assert [k for k in tasks(org, old) if k.startswith("bench.checkin")] == ["bench.checkin#2"]
    assert duplicates(org.tasks()) == []


def test_without_a_mission_manager_tasks_go_to_the_consultants_manager_then_the_default(org):
    clock.pin(date(2026, 3, 2))
    managed = mission(org, date(2025, 11, 3), date(2026, 4, 16), Manager__c=None,
                      Consultant__c=consultant(org, Manager__c=HUGO), Consultant_User__c=None)
    settle()
    review = tasks(org, managed)["natural.review"]
    assert review["OwnerId"] == HUGO and "manager du consultant" in review["Description"]
    settings(org, planning=tenants.PlanningSettings(default_owners={"manager": CLAIRE}))
    alone = mission(org, date(2025, 11, 3), date(2026, 4, 16), Manager__c=None, Consultant__c=consultant(org),
                    Consultant_User__c=None)
    settle()
    review = tasks(org, alone)["natural.review"]
    assert review["OwnerId"] == CLAIRE and "par défaut" in review["Description"]


def test_a_next_mission_three_weeks_later_benches_until_its_start_and_the_next_day_gives_none(org):
    clock.pin(date(2026, 5, 4))
    gap_person, next_day_person = consultant(org), consultant(org)
    gap = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=gap_person)
    mission(org, date(2026, 6, 22), date(2026, 12, 18), Consultant__c=gap_person)
    tight = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=next_day_person)
    mission(org, date(2026, 6, 1), date(2026, 12, 18), Consultant__c=next_day_person)
    settle()
    clock.pin(date(2026, 6, 1))
    tick()
    settle()
    assert tasks(org, gap)["bench.checkin#1"]["ActivityDate"] == "2026-06-01"
    assert not [k for k in tasks(org, tight) if k.startswith("bench.")]
    clock.pin(date(2026, 6, 22))
    tick()
    settle()
    assert not [k for k in tasks(org, gap) if k.startswith("bench.")]


def test_a_leaver_gets_no_bench(org):
    clock.pin(date(2026, 6, 1))
    left = mission(org, date(2025, 11, 3), date(2026, 5, 29), Consultant__c=consultant(org, Left__c=True))
    ending = mission(org, date(2025, 11, 3), date(2026, 5, 29),
                     Consultant__c=consultant(org, Contract_End__c="2026-05-29"))
    settle()
    for mission_id in (left, ending):
        got = tasks(org, mission_id)
        assert "natural.recommendations" in got and not [k for k in got if k.startswith("bench.")]


def test_a_part_timer_at_full_time_elsewhere_gets_no_bench_and_a_true_reason(org):
    clock.pin(date(2026, 6, 1))
    mission(org, date(2026, 1, 5), date(2026, 12, 31), Name="Data lake", Occupation__c=100)
    part = mission(org, date(2025, 11, 3), date(2026, 5, 29), Occupation__c=50)
    settle()
    assert not [k for k in tasks(org, part) if k.startswith("bench.")]
    seen = preview(org.tenant_id, part)
    assert seen["case"] == "staffed_elsewhere" and "still staffed elsewhere: Data lake (100 %)" in seen["reason"]


def test_dates_short_mission_saturday_and_ascension_ends(org):
    clock.pin(date(2026, 5, 4))
    short = mission(org, date(2026, 5, 11), date(2026, 5, 29))
    saturday = mission(org, date(2025, 11, 3), date(2026, 5, 30), Consultant__c=consultant(org))
    settle()
    assert min(t["ActivityDate"] for t in tasks(org, short).values()) == "2026-05-11"
    assert tasks(org, saturday)["natural.recommendations"]["ActivityDate"] == "2026-05-29"
    clock.pin(date(2027, 3, 1))
    ascension = mission(org, date(2026, 11, 2), date(2027, 5, 6), Consultant__c=consultant(org))
    settle()
    assert tasks(org, ascension)["natural.recommendations"]["ActivityDate"] == "2027-05-05"


def test_a_moselle_tenant_skips_good_friday_and_26_december(org):
    settings(org, subdivision="57")
    clock.pin(date(2025, 10, 1))
    christmas = mission(org, date(2025, 3, 3), date(2025, 12, 26))
    easter = mission(org, date(2025, 11, 3), date(2026, 4, 3), Consultant__c=consultant(org))
    settle()
    assert tasks(org, christmas)["natural.recommendations"]["ActivityDate"] == "2025-12-24"
    assert tasks(org, easter)["natural.recommendations"]["ActivityDate"] == "2026-04-02"


def test_preview_activity_and_task_text_agree_on_an_unsure_change(org):
    clock.pin(date(2026, 3, 2))
    mission_id = mission(org, date(2025, 11, 3), date(2026, 6, 30))
    settle()
    clock.pin(date(2026, 3, 3))
    org.move_end(mission_id, date(2026, 5, 29))
    settle()
    seen = preview(org.tenant_id, mission_id)
    logged = [r for r in ActivityLog(get_redis(), org.tenant_id).recent(mission=mission_id) if r["op"] == "rescheduled"]
    assert seen["unsure"] and logged and {(r["case"], r["reason"]) for r in logged} == {(seen["case"], seen["reason"])}
    review = tasks(org, mission_id)["natural.review"]["Description"]
    assert "à confirmer" in review and "30/06/2026 → 29/05/2026" in review


def test_a_part_timer_below_the_threshold_elsewhere_is_on_the_bench(org):
    clock.pin(date(2026, 6, 1))
    mission(org, date(2026, 1, 5), date(2026, 12, 31), Name="Audit", Occupation__c=20)
    part = mission(org, date(2025, 11, 3), date(2026, 5, 29), Occupation__c=80)
    settle()
    assert "temps partiel : Audit (20 %)" in tasks(org, part)["bench.checkin#1"]["Description"]
