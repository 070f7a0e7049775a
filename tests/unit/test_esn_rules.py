"""The rules that hold whatever the playbook says (docs/PLAYBOOKS.md "Rules"), one test or two per rule."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from config.playbook import default_playbook
from config.tenants import Tenant, TenantError, check_region
from handlers.domain.classify import carry, classify, wakeup
from handlers.domain.model import MissionSnapshot, OtherMission, Person
from handlers.domain.plan import plan
from handlers.domain.plan_surveys import SurveyInputs
from handlers.domain.rules import Rules
from handlers.surveys.records import SurveyState
from tests.unit.test_plan import mission

D = date.fromisoformat
PB = default_playbook()


def planned(cur: MissionSnapshot, today: str, prev: MissionSnapshot | None = None, *, rules: Rules | None = None,
            language: str = "fr", **kw):
    """Carry, classify and plan as the worker does; the plan by key and the classification."""
    cur = carry(prev, cur, D(today))
    found = classify(prev, cur, D(today), rules=rules)
    return {a.key: a for a in plan(cur, found, PB, today=D(today), language=language, rules=rules, **kw)}, found


def seen(cur: MissionSnapshot, first_seen: str, end_seen: str | None = None) -> MissionSnapshot:
    """A stored snapshot as the pipeline keeps it (first read on `first_seen`)."""
    return cur.model_copy(update={"first_seen": D(first_seen), "end_seen": D(end_seen or first_seen)})


# --- no floods ----------------------------------------------------------------------------------------------

def test_a_mission_ended_two_years_ago_gets_no_end_steps_and_one_occurrence_of_each_bench_step():
    actions, found = planned(mission("2024-05-29"), "2026-06-03")
    assert found.stale and found.bench and "no end-of-mission steps" in found.reason
    assert not [k for k in actions if not k.startswith("bench.")]
    assert [k for k in actions if k.startswith("bench.checkin")] == ["bench.checkin#1"]
    assert actions["bench.checkin#1"].due == D("2026-06-03") and not actions["bench.checkin#1"].late
    assert min(a.due for a in actions.values()) == D("2026-06-03")  # planned from today, nothing late
    assert len(actions) == len(PB.bench_steps("natural"))


def test_a_mission_ended_ten_days_ago_gets_its_late_steps_once_each_on_the_next_business_day():
    actions, found = planned(mission("2026-05-29"), "2026-06-08")
    assert not found.stale and found.bench
    ends = {k: a for k, a in actions.items() if k.startswith("natural.")}
    assert len(ends) == 7 and all(a.late and a.due == D("2026-06-09") for a in ends.values())
    assert "natural.availability" not in ends  # announcing an availability already begun is pointless (#27)
    assert "en retard" in ends["natural.handover"].text
    assert [k for k in actions if k.startswith("bench.checkin")] == ["bench.checkin#2"]  # the current week only


def test_the_stale_threshold_is_the_tenants():
    _, found = planned(mission("2026-05-29"), "2026-06-08", rules=Rules(stale_after_days=5))
    assert found.stale


def test_a_recurring_step_keeps_one_open_occurrence_the_current_one():
    stored = seen(mission(), "2026-03-02")
    week1, _ = planned(stored, "2026-06-01", stored)
    week3, _ = planned(stored, "2026-06-16", stored)
    assert [k for k in week1 if "checkin" in k] == ["bench.checkin#1"]
    assert [k for k in week3 if "checkin" in k] == ["bench.checkin#3"]
    assert week3["bench.checkin#3"].nominal_due == D("2026-06-15") and not week3["bench.checkin#3"].late


# --- the right owner ----------------------------------------------------------------------------------------

def test_manager_steps_fall_back_to_the_consultants_manager_and_say_so():
    cur = mission(manager=None, consultant_manager=Person(id="9", name="Lea Roy"))
    actions, _ = planned(cur, "2026-03-02")
    review = actions["natural.review"]
    assert review.assignee.id == "9" and "manager du consultant" in review.text
    assert "manager du consultant" not in actions["natural.handover"].text  # the consultant's own step


def test_then_the_tenant_default_per_role_and_the_text_says_it():
    rules = Rules(defaults={"manager": Person(id="1"), "hr": Person(id="5")})
    cur = mission(manager=None, hr=None)
    actions, _ = planned(cur, "2026-06-01", rules=rules, language="en")
    assert actions["natural.review"].assignee.id == "1" and "default manager" in actions["natural.review"].text
    assert actions["bench.training"].assignee.id == "5" and "default HR" in actions["bench.training"].text


def test_without_any_owner_the_step_says_it_goes_to_the_technical_user():
    actions, _ = planned(mission(manager=None), "2026-03-02", language="en")
    assert actions["natural.review"].assignee is None and "technical user" in actions["natural.review"].text


def test_business_engineer_falls_back_to_the_default_then_the_manager():
    actions, _ = planned(mission(business_engineer=None), "2026-03-02")
    prospect = actions["natural.prospect"]
    assert prospect.assignee.id == "2" and "la mission ne nomme pas d'ingénieur d'affaires" in prospect.text
    with_default, _ = planned(mission(business_engineer=None), "2026-03-02",
                              rules=Rules(defaults={"business_engineer": Person(id="8")}))
    assert with_default["natural.prospect"].assignee.id == "8"


def test_a_low_answer_from_the_consultant_goes_to_hr_not_to_the_manager():
    state = SurveyState(tenant="acme", mission="100", step_id="natural.satisfaction", role="consultant",
                        person_id="7", person_type="resource", person_name="Alice Martin", token="t",
                        sent_on=D("2026-05-21"), status="answered", satisfaction=1, nps=2,
                        comment="Mon manager ne m'écoute pas.", answered_on=D("2026-05-22"),
                        answered_at=datetime(2026, 5, 22, tzinfo=timezone.utc))
    actions, _ = planned(mission(), "2026-05-22", surveys=SurveyInputs(states={"consultant": state}))
    follow = actions["natural.satisfaction.followup.consultant"]
    assert follow.assignee.id == "4" and follow.assignee_role == "hr"


# --- the bench as it happens --------------------------------------------------------------------------------

def nxt(start: str, end: str | None = None, occupation: int | None = None, title: str = "Next") -> OtherMission:
    return OtherMission(id="200", title=title, start=D(start), end=D(end) if end else None, occupation=occupation)


def test_a_next_mission_three_weeks_after_the_end_gives_bench_steps_until_it_starts():
    cur = mission(others=[nxt("2026-06-22")], next_start=D("2026-06-22"))
    before, found = planned(cur, "2026-05-20")
    assert found.bench_until == D("2026-06-22") and not found.bench and wakeup(cur, found, D("2026-05-20")) == D("2026-05-30")
    during, found = planned(cur, "2026-06-01")
    assert found.bench and "bench.checkin#1" in during and "22/06/2026" in during["bench.checkin#1"].text
    assert wakeup(cur, found, D("2026-06-19")) == D("2026-06-22")
    after, found = planned(cur, "2026-06-22")
    assert found.case == "restaffed" and not [k for k in after if k.startswith("bench.")]


def test_a_next_mission_starting_the_next_business_day_gives_no_bench():
    actions, found = planned(mission(others=[nxt("2026-06-01")]), "2026-06-02")
    assert found.case == "restaffed" and not found.bench and "right after the end" in found.reason
    assert not [k for k in actions if k.startswith("bench.")]


def test_a_leaver_is_never_on_the_bench():
    for cur in (mission(consultant_left=True), mission(contract_end=D("2026-05-29"))):
        actions, found = planned(cur, "2026-06-02")
        assert found.leaver and not found.bench and not [k for k in actions if k.startswith("bench.")]
        assert "natural.recommendations" in actions  # the end-of-mission steps still happen


def test_a_part_timer_staffed_full_time_elsewhere_is_not_on_the_bench_and_the_reason_says_where():
    cur = mission(occupation=50, others=[nxt("2026-01-05", "2026-12-31", 100, "Data lake")])
    actions, found = planned(cur, "2026-06-02")
    assert found.case == "staffed_elsewhere" and not found.bench  # not "restaffed": nothing new starts
    assert "still staffed elsewhere: Data lake (100 %)" in found.reason and "right after" not in found.reason


def test_a_part_timer_below_the_threshold_elsewhere_is_on_the_bench():
    cur = mission(others=[nxt("2026-01-05", "2026-12-31", 20, "Audit")])
    actions, found = planned(cur, "2026-06-02")
    assert found.bench and "Audit (20 %)" in actions["bench.checkin#1"].text
    _, strict = planned(cur, "2026-06-02", rules=Rules(bench_threshold=20))
    assert strict.case == "staffed_elsewhere"


# --- dates that make sense ----------------------------------------------------------------------------------

def test_a_three_week_mission_has_no_step_before_its_start():
    actions, _ = planned(mission("2026-05-29", start_date=D("2026-05-11")), "2026-05-04")
    ends = [a for k, a in actions.items() if k.startswith("natural.")]
    assert len(ends) == 8 and min(a.due for a in ends) == D("2026-05-11")


@pytest.mark.parametrize("end, expected", [("2026-05-30", "2026-05-29"), ("2027-05-06", "2027-05-05")])
def test_an_end_on_a_saturday_or_a_holiday_puts_offset_zero_on_the_business_day_before(end, expected):
    actions, _ = planned(mission(end), "2026-03-02")
    assert actions["natural.recommendations"].due == D(expected)


def test_late_steps_of_a_mission_ending_today_are_due_today():
    actions, _ = planned(mission("2026-05-29"), "2026-05-29")
    assert actions["natural.handover"].due == D("2026-05-29") and actions["natural.handover"].late


# --- country and region -------------------------------------------------------------------------------------

def test_a_moselle_tenant_skips_good_friday_and_26_december():
    france, moselle = Rules(), Rules(subdivision="57")
    assert france.business(D("2026-04-03")) and not moselle.business(D("2026-04-03"))
    assert france.business(D("2025-12-26")) and not moselle.business(D("2025-12-26"))
    actions, _ = planned(mission("2026-04-03"), "2026-03-02", rules=moselle)
    assert actions["natural.recommendations"].due == D("2026-04-02")


def test_tenant_country_and_subdivision_are_validated_with_holidays_codes():
    check_region("FR", "6AE")
    with pytest.raises(TenantError, match="Moselle is 57"):
        check_region("FR", "99")
    with pytest.raises(ValueError, match="unknown country code"):
        Tenant(id="acme", host="boond", country="XX")
    assert Rules.of(Tenant(id="acme", host="boond", subdivision="57")).subdivision == "57"


# --- why, where people look ---------------------------------------------------------------------------------

def test_each_text_says_why_and_rereading_without_change_rewrites_nothing():
    first, _ = planned(mission("2026-06-30"), "2026-03-02")
    stored = carry(None, mission("2026-06-30"), D("2026-03-02"))
    moved = mission("2026-05-29")
    after, found = planned(moved, "2026-03-03", stored)
    assert found.unsure and "à confirmer" in after["natural.review"].text
    assert "30/06/2026 → 29/05/2026" in after["natural.review"].text
    kept = carry(stored, moved, D("2026-03-03"))
    again, found_again = planned(mission("2026-05-29"), "2026-03-10", kept)
    assert found_again.case == found.case and found_again.reason == found.reason
    assert {k: a.digest() for k, a in again.items()} == {k: a.digest() for k, a in after.items()}
    assert first["natural.review"].text.endswith("Pourquoi : fin de mission prévue.")


def test_an_extension_says_old_to_new_end():
    stored = carry(None, mission("2026-05-29"), D("2026-03-02"))
    actions, found = planned(mission("2026-06-30"), "2026-03-03", stored, language="en")
    assert found.case == "extension" and "mission extended (end: 2026-05-29 → 2026-06-30)" in actions["natural.review"].text


def test_carry_keeps_first_seen_and_the_last_end_move():
    a = carry(None, mission("2026-05-29"), D("2026-03-02"))
    b = carry(a, mission("2026-06-30"), D("2026-03-05"))
    c = carry(b, mission("2026-06-30"), D("2026-03-09"))
    assert (a.first_seen, a.end_seen, a.previous_end) == (D("2026-03-02"), D("2026-03-02"), None)
    assert (c.first_seen, c.end_seen, c.previous_end) == (D("2026-03-02"), D("2026-03-05"), D("2026-05-29"))


def test_a_snapshot_stored_before_these_fields_never_turns_its_past_steps_late():
    legacy = mission("2026-05-29")  # no first_seen / end_seen: stored by an earlier version
    actions, found = planned(mission("2026-05-29"), "2026-05-20", legacy)
    assert not found.stale and not any(a.late for a in actions.values())
    assert all("retard" not in a.text for a in actions.values())
