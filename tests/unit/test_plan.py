"""The pure planner: golden plans per case, determinism, disabled steps.

Regenerate the goldens with `UPDATE_GOLDEN=1 pytest tests/unit/test_plan.py`, then check every
changed date by hand before committing. Hand-checked (2026 French holidays: Easter Mon 6/4, 1/5, 8/5,
Ascension 14/5, Whit Mon 25/5), mission ending Fri 29 May 2026:
- natural: −30 → 13 Apr, −20 → 27 Apr, −15 → 5 May, −10 → 13 May, −5 → 21 May, −2 → 27 May, 0 → 29 May.
- client (notice Thu 7 May): +1 from notice → Mon 11 May (8 May + weekend); +20 from end → 26 Jun.
- consultant (notice Mon 4 May): +5 → 12 May; +10 from end → 12 Jun; the survey hangs on contact 11.
- bench day one (Mon 1 Jun): check-in #1 on 1 Jun, +10 → 15 Jun; past end steps → 2 Jun, late.
- bench two weeks (Mon 15 Jun): check-ins #1 (1 Jun) and #2 (8 Jun) late → 16 Jun, #3 on 15 Jun.
"""
from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest

from config.playbook import default_playbook, load_playbook
from handlers.domain.classify import classify
from handlers.domain.model import MissionSnapshot, Person
from handlers.domain.plan import plan

GOLDEN = Path(__file__).parent / "golden"
D = date.fromisoformat


def mission(end: str = "2026-05-29", **changes) -> MissionSnapshot:
    """Mission 100 'ERP rollout' of Alice (7) at Globex, with its manager, business engineer, HR and contact."""
    fields = dict(
        tenant="acme", host="boond", mission_id="100", title="ERP rollout", start_date=D("2025-11-03"),
        end_date=D(end), consultant=Person(id="7", name="Alice Martin"), manager=Person(id="2", name="Marc Durand"),
        business_engineer=Person(id="3", name="Nina Petit"), hr=Person(id="4", name="Hugo Roux"),
        client_contact=Person(id="11", type="contact", name="Bob Leroy"), client_name="Globex")
    return MissionSnapshot(**{**fields, **changes})


EARLIER = mission("2026-06-30")
CASES = {
    "natural": (None, mission(), "2026-03-02", "fr"),
    "client": (EARLIER, mission(status="client", raw_state="2", notice_date=D("2026-05-07")), "2026-05-07", "fr"),
    "consultant": (EARLIER, mission(status="consultant", raw_state="3", notice_date=D("2026-05-04")), "2026-05-04", "fr"),
    "bench_day_one": (None, mission(), "2026-06-01", "fr"),
    "bench_two_weeks": (None, mission(), "2026-06-15", "fr"),
    "late_ends_tomorrow": (None, mission("2026-05-28"), "2026-05-27", "fr"),
    "english_tenant": (None, mission(), "2026-03-02", "en"),
}


def planned(prev, cur, today: str, language: str = "fr", playbook=None):
    """Classify then plan, as the worker does."""
    found = classify(prev, cur, D(today))
    return plan(cur, found, playbook or default_playbook(), today=D(today), language=language)


def compact(actions) -> list[dict]:
    """What a user sees of each action: which step, when, for whom, on which record, titled how."""
    return [{"key": a.key, "due": a.due.isoformat(), "late": a.late, "assignee": a.assignee.id if a.assignee else None,
             "target": f"{a.target.type}/{a.target.id}", "title": a.title} for a in actions]


def _dump(rows: list[dict]) -> str:
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_matches_the_hand_checked_golden(case):
    got = compact(planned(*CASES[case]))
    path = GOLDEN / f"{case}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(_dump(got), encoding="utf-8")
    assert got == json.loads(path.read_text(encoding="utf-8"))


def test_the_same_input_always_gives_the_same_plan():
    for case in CASES.values():
        assert planned(*case) == planned(*case)


def test_a_disabled_step_is_not_planned():
    playbook = load_playbook(overrides={"steps": {"natural.review": {"enabled": False}}})
    keys = [a.key for a in planned(None, mission(), "2026-03-02", playbook=playbook)]
    assert "natural.review" not in keys and len(keys) == 7


def test_notice_steps_count_from_the_notice_day_not_from_today():
    cur = mission(status="client", raw_state="2", notice_date=D("2026-05-04"))
    actions = {a.key: a for a in planned(EARLIER, cur, "2026-05-05")}
    assert actions["client.communicate"].due == D("2026-05-05") and not actions["client.communicate"].late
    assert actions["client.understand_reason"].nominal_due == D("2026-05-04")
    assert actions["client.understand_reason"].late and actions["client.understand_reason"].due == D("2026-05-06")


@pytest.mark.parametrize("cur", [mission(status="cancelled"), mission().model_copy(update={"end_date": None})])
def test_a_cancelled_or_undated_mission_plans_nothing(cur):
    assert planned(mission(), cur, "2026-03-02") == []


def test_an_availability_already_begun_is_not_announced_but_one_already_planned_stays():
    """Issue #27: a mission learnt 16 days after its end gets no "announce the availability on <a past day>"; the
    other late steps are still due (next business day, marked late); a plan made before the end keeps the step."""
    late_learnt = mission("2026-05-29", end_seen=D("2026-06-15"))
    keys = {a.key: a for a in planned(None, late_learnt, "2026-06-15")}
    assert "natural.availability" not in keys and keys and all(a.late for a in keys.values() if a.due < D("2026-06-15"))
    learnt_before = mission("2026-05-29", end_seen=D("2026-03-02"))
    assert "natural.availability" in {a.key for a in planned(None, learnt_before, "2026-06-15")}
