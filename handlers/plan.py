"""The pure planner: (snapshot, classification, playbook, today) → the actions the host should hold."""
from __future__ import annotations

from datetime import date, timedelta

from config.playbook import Playbook, Step
from handlers.calendar import next_business_day_after, next_business_day_on_or_after, shift
from handlers.model import Classification, DesiredAction, MissionSnapshot, Person
from handlers.plan_surveys import SurveyInputs, with_surveys


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def plan(snapshot: MissionSnapshot, classification: Classification, playbook: Playbook, today: date, *,
         language: str = "fr", country: str = "FR", surveys: SurveyInputs | None = None) -> list[DesiredAction]:
    """Every action the mission should have today, sorted by due date then key (surveys: see plan_surveys)."""
    actions = _steps(snapshot, classification, playbook, today, language, country)
    if surveys is not None:
        actions = with_surveys(actions, snapshot, surveys, today, language=language, country=country,
                               case=classification.end_case or "natural")
    return sorted(actions, key=lambda a: (a.due, a.key))


def _steps(snapshot: MissionSnapshot, classification: Classification, playbook: Playbook, today: date,
           language: str, country: str) -> list[DesiredAction]:
    if classification.end_case is None or snapshot.end_date is None or snapshot.consultant is None:
        return []
    ctx = _Context(snapshot, classification, today, language, country)
    actions = [ctx.action(step, step.id, ctx.anchor_date(step)) for step in playbook.steps_for(classification.end_case)]
    if classification.bench:
        for step in playbook.bench_steps(classification.end_case):
            actions.extend(ctx.occurrences(step))
    return actions


class _Context:
    """The inputs shared by every step of one plan."""

    def __init__(self, snapshot: MissionSnapshot, classification: Classification, today: date, language: str,
                 country: str):
        self.s, self.c, self.today, self.lang, self.country = snapshot, classification, today, language, country
        self.values = _Blank(consultant=snapshot.consultant.name if snapshot.consultant else "",
                             client=snapshot.client_name, mission=snapshot.title or snapshot.mission_id,
                             end_date=_format_date(snapshot.end_date, language))

    def anchor_date(self, step: Step) -> date:
        """Where the step's offset counts from."""
        anchor = step.offset.anchor
        if anchor == "notice":
            base = self.s.notice_date or self.today
        elif anchor == "bench":
            base = next_business_day_after(self.s.end_date, self.country)
        else:
            base = self.s.end_date
        return next_business_day_on_or_after(shift(base, step.offset.days, step.offset.unit, self.country),
                                              self.country)

    def occurrences(self, step: Step) -> list[DesiredAction]:
        """A bench step, repeated every N days up to one period ahead of today."""
        first = self.anchor_date(step)
        if step.recurrence is None:
            return [self.action(step, step.id, first)]
        every = step.recurrence.every_days
        horizon = max(self.today, first) + timedelta(days=every - 1)
        out, n = [], 0
        while step.recurrence.max_occurrences is None or n < step.recurrence.max_occurrences:
            due = next_business_day_on_or_after(first + timedelta(days=n * every), self.country)
            if n and due > horizon:
                break
            out.append(self.action(step, f"{step.id}#{n + 1}", due))
            n += 1
        return out

    def action(self, step: Step, key: str, nominal: date) -> DesiredAction:
        """One desired action; a due date already past moves to the next business day, marked late."""
        late = nominal < self.today
        due = next_business_day_after(self.today, self.country) if late else nominal
        people = self.s.people()
        assignee = people.get(step.assignee)
        if assignee is None or assignee.type.lower() == "contact":
            assignee = self.s.manager  # contacts cannot own a task: their manager does
        target = self.s.client_contact if step.assignee == "client_contact" and self.s.client_contact else self.s.consultant
        return DesiredAction(
            key=key, step_id=step.id, kind=step.kind, assignee_role=step.assignee, assignee=assignee,
            target=target or Person(id=self.s.mission_id), nominal_due=nominal, due=due, late=late,
            priority=step.priority, case=self.c.end_case or "natural",
            title=step.title.get(self.lang).format_map(self.values).strip(),
            text=step.text.get(self.lang).format_map(self.values).strip())


def _format_date(day: date | None, language: str) -> str:
    if day is None:
        return ""
    return day.strftime("%d/%m/%Y") if language == "fr" else day.isoformat()
