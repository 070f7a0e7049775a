"""Missions, not deliveries (issue #25): the mission chain, dates that move only with their anchor, the late-step
spread, each bench period its own. Pure: classify and plan, no server."""
from __future__ import annotations

from datetime import date

from config.playbook import default_playbook
from connectors.salesforce.mapping import preset
from config.tenants import PlanningSettings
from handlers.domain.classify import carry, classify, taken_over
from handlers.domain.model import MissionSnapshot, OtherMission, Person
from handlers.domain.plan import Held, LateStep, plan, spread_late_steps
from handlers.domain.rules import Rules
from tests.unit.test_plan import mission

D = date.fromisoformat
PB = default_playbook()


def planned(cur: MissionSnapshot, today: str, prev: MissionSnapshot | None = None, *, rules: Rules | None = None,
            held: dict | None = None):
    """Carry, classify and plan as the pipeline does: (the plan by key, the classification, the snapshot)."""
    rules = rules or Rules()
    cur = carry(prev, cur, D(today))
    found = classify(prev, cur, D(today), rules=rules)
    return {a.key: a for a in plan(cur, found, PB, today=D(today), rules=rules, held=held)}, found, cur


def renewal(start: str = "2026-06-01", *, project: str | None = "45", client: str | None = "10", **extra):
    return OtherMission(id="101", title="ERP rollout (T3)", start=D(start), end=D("2026-09-30"), project=project,
                        client=client, **extra)


def chained(nxt: OtherMission, **changes) -> MissionSnapshot:
    return mission(project_id="45", client_id="10", others=[nxt], next_start=nxt.start, **changes)


# --- the mission chain -------------------------------------------------------------------------------------------

def test_a_renewal_on_the_same_project_friday_to_monday_is_not_an_end():
    actions, found, _ = planned(chained(renewal()), "2026-03-02")
    assert found.case == "continued" and found.end_case is None and actions == {}
    assert "continues in ERP rollout (T3) from 2026-06-01" in found.reason


def test_a_next_mission_of_another_project_is_an_end_without_staffing_steps():
    actions, found, _ = planned(chained(renewal(project="46", client="12")), "2026-03-02")
    assert found.case == "restaffed" and found.next_known
    assert "natural.availability" not in actions and "natural.prospect" not in actions
    assert {"natural.satisfaction", "natural.review", "natural.handover", "natural.rapport_etonnement",
            "natural.recommendations"} <= set(actions)
    assert not [k for k in actions if k.startswith("bench.")]


def test_a_next_mission_later_than_the_next_business_day_does_not_continue():
    _, found, _ = planned(chained(renewal("2026-06-02")), "2026-03-02")
    assert found.case != "continued"


def test_the_same_client_setting_chains_another_project_of_that_client():
    other_project = chained(renewal(project="46"))
    assert planned(other_project, "2026-03-02")[1].case == "restaffed"
    assert planned(other_project, "2026-03-02", rules=Rules(chain_by="client"))[1].case == "continued"
    assert PlanningSettings().chain_by == "project" and PlanningSettings().daily_cap == 5


def test_without_projects_missions_chain_by_client():
    no_project = mission(client_id="10", others=[renewal(project=None)], next_start=D("2026-06-01"))
    assert planned(no_project, "2026-03-02")[1].case == "continued"


def test_certinia_maps_the_project_and_the_custom_preset_chains_by_account():
    assert preset("certinia").project == "pse__Project__c" and preset("custom").project is None
    assert "pse__Project__c" in preset("certinia").fields()


# --- dates move only with their anchor ---------------------------------------------------------------------------

def test_an_overdue_step_keeps_its_written_date_while_its_anchor_stays():
    first, _, cur = planned(mission("2026-04-16"), "2026-03-02")
    held = {k: Held(a.nominal_due, a.due) for k, a in first.items()}
    again, _, _ = planned(mission("2026-04-16", title="ERP rollout — lot 2"), "2026-03-10", cur, held=held)
    assert again["natural.availability"].due == D("2026-03-04")  # overdue, not slid to the next business day
    assert "lot 2" in again["natural.availability"].text
    moved, _, _ = planned(mission("2026-05-29"), "2026-03-10", cur, held=held)  # the anchor moved: so does the date
    assert moved["natural.availability"].due == D("2026-04-13")


def test_late_steps_are_spread_with_a_per_person_daily_cap_oldest_first():
    rules = Rules(daily_cap=2)
    late = [LateStep(f"s{i}", "2", D("2026-05-01") + (D("2026-05-02") - D("2026-05-01")) * i, D("2026-06-02"))
            for i in range(5)] + [LateStep("other", "3", D("2026-05-20"), D("2026-06-02"))]
    days = spread_late_steps(reversed(late), rules, taken={("2", D("2026-06-03")): 1})
    assert [days[f"s{i}"] for i in range(5)] == [D("2026-06-02"), D("2026-06-02"), D("2026-06-03"),
                                                D("2026-06-04"), D("2026-06-04")]
    assert days["other"] == D("2026-06-02")  # the cap is per person


def test_a_spread_skips_weekends_and_holidays():
    days = spread_late_steps([LateStep(f"s{i}", None, D("2026-05-01"), D("2026-05-22")) for i in range(3)],
                             Rules(daily_cap=1))
    assert sorted(days.values()) == [D("2026-05-22"), D("2026-05-26"), D("2026-05-27")]  # Whit Monday 25/5


def test_a_plan_found_two_weeks_late_never_gives_one_person_more_than_the_cap_a_day():
    actions, _, _ = planned(mission(), "2026-06-15", rules=Rules(daily_cap=3))
    per_day: dict = {}
    for a in actions.values():
        per_day[(a.assignee.id, a.due)] = per_day.get((a.assignee.id, a.due), 0) + 1
    assert max(per_day.values()) == 3


# --- each bench period is its own ------------------------------------------------------------------------------

def test_a_second_bench_period_of_the_same_mission_has_keys_of_its_own():
    first, found, cur = planned(mission(), "2026-06-03")
    assert found.bench and "bench.cv_update" in first
    done = {k: Held(a.nominal_due, a.due, settled=k in ("bench.cv_update", "bench.checkin#1"))
            for k, a in first.items()}  # ticked during the first bench; the others were withdrawn on the extension
    held = {k: h for k, h in done.items() if h.settled}
    second, found, _ = planned(mission("2026-09-30"), "2026-10-01", cur, held=held)
    assert found.bench and "bench.cv_update#p20261001" in second and "bench.checkin#p20261001#1" in second
    assert "bench.cv_update" not in second and "bench.training" in second  # untouched ones keep their plain keys
    same, _, _ = planned(mission("2026-09-30"), "2026-10-01", cur)  # nothing ticked: the plain keys, whatever happened
    assert "bench.cv_update" in same and "bench.cv_update#p20261001" not in same


# --- leavers and labels -----------------------------------------------------------------------------------------

def test_no_step_is_owned_by_a_consultant_after_their_contract_ends():
    actions, found, _ = planned(mission(contract_end=D("2026-05-20")), "2026-03-02")
    assert found.leaver and "natural.availability" not in actions and "natural.prospect" not in actions
    assert actions["natural.handover"].assignee.id == "7"  # due 7 May, before the contract ends
    report = actions["natural.rapport_etonnement"]  # due 21 May, after
    assert report.assignee.id == "2" and report.target.id == "7" and "aura quitté l'entreprise" in report.text
    gone, _, _ = planned(mission(consultant_left=True), "2026-03-02")
    assert all(a.assignee.id != "7" for a in gone.values())


def test_restaffed_only_when_a_next_mission_starts_and_staffed_elsewhere_names_the_missions():
    busy = OtherMission(id="9", title="Data lake", start=D("2026-01-05"), end=D("2026-12-31"), occupation=100)
    _, found, _ = planned(mission(others=[busy]), "2026-06-02")
    assert found.case == "staffed_elsewhere" and "Data lake (100 %)" in found.reason and not found.bench
    _, found, _ = planned(chained(renewal(project="46", client="12")), "2026-06-02")
    assert found.case == "restaffed" and "starts right after the end" in found.reason


# --- a replacement by delivery (white paper case 3) ----------------------------------------------------------------

def crew_member(start: str, *, end: str = "2026-09-30", who: str = "8", name: str = "Nina Nouveau") -> OtherMission:
    return OtherMission(id="101", title="ERP rollout", start=D(start), end=D(end), project="45",
                        consultant=Person(id=who, name=name))


def test_an_early_end_taken_over_by_another_consultant_names_the_replacement_in_the_handover_steps():
    early = mission("2026-04-17", status="consultant", raw_state="3", project_id="45", crew=[crew_member("2026-04-20")])
    actions, found, _ = planned(early, "2026-03-16", prev=mission("2026-09-30", project_id="45"))
    assert found.case == "consultant" and [o.consultant.name for o in found.replaced_by] == ["Nina Nouveau"]
    assert "replaced by Nina Nouveau from 2026-04-20" in found.reason
    transition = actions["consultant.transition"]
    assert transition.title.endswith("— passation à Nina Nouveau") and transition.assignee.id == "7"
    assert "Nina Nouveau, sur la mission à partir du 20/04/2026" in transition.text
    assert "Nina" in actions["consultant.replacement_offer"].title
    assert not [k for k, a in actions.items() if "Nina" in a.title + a.text
                and k not in ("consultant.transition", "consultant.replacement_offer")]


def test_a_teammate_a_late_start_a_natural_end_or_the_same_consultant_is_no_replacement():
    prev = mission("2026-09-30", project_id="45")
    for member in (crew_member("2026-01-05"),  # a teammate since January: more than 30 days before the end
                   crew_member("2026-04-21"),  # starts after the next business day
                   crew_member("2026-04-20", end="2026-04-17"),  # does not go on after his end
                   crew_member("2026-04-20", who="7")):  # himself (a renewal is the chain's business)
        early = mission("2026-04-17", status="consultant", raw_state="3", project_id="45", crew=[member])
        _, found, _ = planned(early, "2026-03-16", prev=prev)
        assert found.replaced_by == [], member
    natural = mission("2026-04-17", project_id="45", crew=[crew_member("2026-04-20")])  # a planned end
    assert planned(natural, "2026-03-16")[1].replaced_by == []
    moved = mission("2026-04-17", project_id="45", crew=[crew_member("2026-04-20")])  # moved earlier, no reason
    actions, found, _ = planned(moved, "2026-03-16", prev=prev)
    assert found.unsure and found.replaced_by and actions["natural.handover"].title.endswith("passation à Nina Nouveau")


def test_a_new_mission_knows_which_early_ends_it_may_take_over():
    jeans = OtherMission(id="100", start=D("2025-11-03"), end=D("2026-04-17"), project="45",
                         consultant=Person(id="7", name="Alice Martin"))
    ninas = mission("2026-09-30", mission_id="101", start_date=D("2026-04-20"), consultant=Person(id="8"),
                    project_id="45", crew=[jeans])
    assert taken_over(ninas, Rules()) == ["100"]
    assert taken_over(ninas.model_copy(update={"start_date": D("2026-04-21")}), Rules()) == []


def test_late_steps_go_around_what_other_missions_of_a_run_hold():
    alone, _, _ = planned(mission(), "2026-06-15", rules=Rules(daily_cap=3))
    first = min(a.due for a in alone.values() if a.nominal_due < D("2026-06-15"))  # the first day of late steps
    others = {(a.assignee.id, first): 3 for a in alone.values()}  # another mission filled everyone's that day
    cur = carry(None, mission(), D("2026-06-15"))
    found = classify(None, cur, D("2026-06-15"), rules=Rules(daily_cap=3))
    shared = plan(cur, found, PB, today=D("2026-06-15"), rules=Rules(daily_cap=3), taken=others)
    late = [a for a in shared if a.nominal_due < D("2026-06-15")]
    assert len(late) > 3 and all(a.due > first for a in late)  # the late ones spill to the next days
    assert any(alone[a.key].due == first for a in late)
    assert {a.key for a in shared} == set(alone)  # nothing lost: every step kept, with its owner
