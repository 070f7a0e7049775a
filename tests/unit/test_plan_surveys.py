"""The survey part of the pure planner: links, one reminder after the delay, answers written back, low-score follow-up."""
from __future__ import annotations

from datetime import date, datetime, timezone

from config.playbook import default_playbook
from handlers.domain.classify import classify
from handlers.domain.plan import plan
from handlers.domain.plan_surveys import SurveyInputs, next_reminder_day
from handlers.surveys.records import SurveyState
from tests.unit.test_plan import mission

D = date.fromisoformat
BASE = "https://im.example.test"


def state(role: str, **changes) -> SurveyState:
    """A survey sent on Thu 21 May 2026 (natural.satisfaction of mission 100, ending Fri 29 May)."""
    person = {"consultant": ("7", "resource", "Alice Martin"), "client_contact": ("11", "contact", "Bob Leroy")}[role]
    fields = dict(tenant="acme", mission="100", step_id="natural.satisfaction", role=role, person_id=person[0],
                  person_type=person[1], person_name=person[2], token=f"tok-{role}", sent_on=D("2026-05-21"))
    return SurveyState(**{**fields, **changes})


def answered(role: str, satisfaction: int, nps: int, comment: str = "", on: str = "2026-05-22") -> SurveyState:
    return state(role, status="answered", satisfaction=satisfaction, nps=nps, comment=comment,
                 answered_at=datetime(2026, 5, 22, 10, tzinfo=timezone.utc), answered_on=D(on))


def planned(today: str, *states: SurveyState, language: str = "fr", **inputs) -> dict:
    cur = mission()
    found = classify(None, cur, D(today))
    got = plan(cur, found, default_playbook(), today=D(today), language=language,
               surveys=SurveyInputs(states={s.role: s for s in states}, base_url=BASE, **inputs))
    return {a.key: a for a in got}


def test_the_survey_action_carries_each_respondents_link():
    actions = planned("2026-03-02", state("consultant"), state("client_contact"))
    text = actions["natural.satisfaction"].text
    assert f"{BASE}/survey/tok-consultant" in text and f"{BASE}/survey/tok-client_contact" in text
    assert "Alice Martin (consultant)" in text and "Bob Leroy (contact client)" in text
    assert not [k for k in actions if ".reminder." in k or ".answer." in k]


def test_no_survey_input_plans_exactly_what_it_did_before():
    cur = mission()
    found = classify(None, cur, D("2026-03-02"))
    plain = plan(cur, found, default_playbook(), today=D("2026-03-02"))
    empty = plan(cur, found, default_playbook(), today=D("2026-03-02"), surveys=SurveyInputs(base_url=BASE))
    assert plain == empty


def test_one_reminder_per_silent_respondent_once_the_delay_has_passed():
    assert not [k for k in planned("2026-05-28", state("consultant")) if ".reminder." in k]  # 4 business days
    actions = planned("2026-05-29", state("consultant"), answered("client_contact", 5, 10))
    reminder = actions["natural.satisfaction.reminder.consultant"]
    assert reminder.due == D("2026-05-29") and reminder.kind == "reminder" and not reminder.late
    assert reminder.assignee.id == "2" and (reminder.target.id, reminder.target.type) == ("7", "resource")
    assert f"{BASE}/survey/tok-consultant" in reminder.text and "21/05/2026" in reminder.text
    assert "natural.satisfaction.reminder.client_contact" not in actions  # answered: no reminder


def test_the_reminder_delay_is_the_tenants():
    assert "natural.satisfaction.reminder.consultant" in planned("2026-05-26", state("consultant"), reminder_days=2)


def test_an_answer_becomes_a_note_on_the_respondents_record_and_the_reminder_goes():
    actions = planned("2026-05-28", answered("consultant", 4, 9, "Très bonne équipe."))
    note = actions["natural.satisfaction.answer.consultant"]
    assert note.kind == "note" and note.due == D("2026-05-22") and not note.late
    assert (note.target.id, note.target.type) == ("7", "resource")
    assert "satisfaction 4/5" in note.title and "recommandation 9/10" in note.title
    assert "Très bonne équipe." in note.text
    assert "natural.satisfaction.reminder.consultant" not in actions
    assert "natural.satisfaction.followup.consultant" not in actions  # a good answer needs no follow-up


def test_a_low_answer_gives_the_manager_a_high_priority_follow_up_the_next_business_day():
    actions = planned("2026-05-22", answered("client_contact", 2, 8, "Délais non tenus."), language="en")
    follow = actions["natural.satisfaction.followup.client_contact"]
    assert follow.priority == "high" and follow.assignee.id == "2" and follow.kind == "task"
    assert follow.due == D("2026-05-26")  # Friday's answer → Tuesday (Whit Monday is a holiday)
    assert (follow.target.id, follow.target.type) == ("11", "contact")
    assert "2/5" in follow.text and "Délais non tenus." in follow.text and "Low survey answer" in follow.title


def test_low_means_at_or_below_either_threshold_and_thresholds_are_the_tenants():
    assert "natural.satisfaction.followup.consultant" in planned("2026-05-22", answered("consultant", 5, 6))
    assert "natural.satisfaction.followup.consultant" not in planned("2026-05-22", answered("consultant", 3, 7))
    strict = planned("2026-05-22", answered("consultant", 3, 7), low_satisfaction=3)
    assert "natural.satisfaction.followup.consultant" in strict


def test_answers_stay_written_back_whatever_happens_to_the_mission_later():
    cur = mission(status="cancelled")
    found = classify(mission(), cur, D("2026-06-10"))
    got = plan(cur, found, default_playbook(), today=D("2026-06-10"),
               surveys=SurveyInputs(states={"consultant": answered("consultant", 1, 0)}, base_url=BASE))
    assert {a.key for a in got} == {"natural.satisfaction.answer.consultant", "natural.satisfaction.followup.consultant"}


def test_generated_actions_do_not_move_as_days_pass():
    first = planned("2026-05-29", state("consultant"), answered("client_contact", 1, 1))
    later = planned("2026-06-03", state("consultant"), answered("client_contact", 1, 1))
    for key in ("natural.satisfaction.reminder.consultant", "natural.satisfaction.answer.client_contact",
                "natural.satisfaction.followup.client_contact"):
        assert first[key].content() == later[key].content() and first[key].nominal_due == later[key].nominal_due


def test_next_reminder_day_is_the_first_unanswered_reminder_still_ahead():
    cur = mission()
    base = plan(cur, classify(None, cur, D("2026-05-21")), default_playbook(), today=D("2026-05-21"))
    inputs = SurveyInputs(states={"consultant": state("consultant"), "client_contact": answered("client_contact", 5, 9)},
                          base_url=BASE)
    assert next_reminder_day(base, inputs, D("2026-05-21"), country="FR") == D("2026-05-29")  # 5 business days, Whit Monday off
    assert next_reminder_day(base, inputs, D("2026-05-29"), country="FR") is None  # due today: planned already
    assert next_reminder_day([], inputs, D("2026-05-21"), country="FR") is None  # no survey step in the plan
