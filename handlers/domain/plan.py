"""The pure planner: (snapshot, classification, playbook, today, rules) → the actions the host should hold.

Rules that hold whatever the playbook says (docs/PLAYBOOKS.md, "Rules"): a past step is due on the next business
day and marked late (the same day for a mission ending today), late steps planned together spread with a per-person
daily cap; a written step keeps its due date while its anchor stays; a mission first seen long after its end gets no
end-of-mission steps and its bench starts the day it was seen; a recurring bench step has one open occurrence, the
current one; a step anchored at the end with an offset ≤ 0 is due on the last business day on or before the end;
no end-of-mission step is due before the mission starts (such a step is moved to the start: a short mission keeps
every step, the early ones on its first business day); each role resolves through its chain (handlers.domain.owners);
each text ends with one "why" line, stable while nothing changes, and a line when the owner fell back; no step
is owned by a consultant after they leave; steps marked `staffing` are left out once the next mission is known.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

from config.catalogs import catalog
from config.playbook import Playbook, Step
from handlers.domain.model import Classification, DesiredAction, MissionSnapshot, Person
from handlers.domain.owners import gone_by, instead_of_leaver, owner
from handlers.domain.plan_surveys import SurveyInputs, with_surveys
from handlers.domain.rules import Rules

WORDS = catalog(Path(__file__).with_name("plan.toml"))  # an action's reason line and handover words, French and English


def _words(table: Mapping[str, tuple], language: str) -> dict[str, str]:
    """A table's phrases in one language ("fr" or "en")."""
    side = 0 if language == "fr" else 1
    return {key: pair[side] for key, pair in table.items()}


class Held(NamedTuple):
    """An action the ledger knows: its nominal and actual due dates, and whether a person settled it (ticked, edited
    or deleted it: never rewritten)."""

    nominal_due: date
    due: date
    settled: bool = False


def plan(snapshot: MissionSnapshot, classification: Classification, playbook: Playbook, *, today: date, language: str = "fr",
         country: str = "FR", surveys: SurveyInputs | None = None,
         rules: Rules | None = None, held: Mapping[str, Held] | None = None,
         taken: Mapping[tuple[str | None, date], int] | None = None,
         drafted: list[DesiredAction] | None = None) -> list[DesiredAction]:
    """Every action the mission should have today, sorted by due date then key (surveys: see plan_surveys).

    `held`: what the ledger knows of the mission's actions (step key → Held); one whose anchor did not move keeps its
    due date, even past; the late ones left are spread by `spread_late_steps`, around `taken` ((person, day) → actions
    other missions hold there: a backfill run's, handlers.state.day_load); a bench key a person settled in an
    earlier bench period gives way to a key of this period (`_Context.keyed`).
    `drafted`: what `draft` gave for the same mission, classification, playbook, day, language, rules and `held`,
    when the caller plans the mission more than once (with and without its surveys)."""
    rules = Rules.coerce(rules, country)
    actions = drafted if drafted is not None else _steps(snapshot, classification, playbook, today, language, rules,
                                                         held or {})
    if surveys is not None:
        actions = with_surveys(actions, snapshot, surveys, today=today, language=language, country=rules.country,
                               case=classification.end_case or "natural", rules=rules)
    return sorted(_dated(actions, held or {}, today, rules, taken or {}), key=lambda a: (a.due, a.key))


def draft(snapshot: MissionSnapshot, classification: Classification, playbook: Playbook, *, today: date,
          language: str = "fr", country: str = "FR", rules: Rules | None = None,
          held: Mapping[str, Held] | None = None) -> list[DesiredAction]:
    """The mission's steps as actions, before its surveys and before the late ones are spread: each one's person is
    already its own (`plan(drafted=...)` builds on it; pure, so a job plans a mission twice for one draft)."""
    return _steps(snapshot, classification, playbook, today, language, Rules.coerce(rules, country), held or {})


class LateStep(NamedTuple):
    """A step to place: its key, its owner (a person id; None: the technical user), its nominal due date (the older,
    the sooner it is placed) and the first day it may be due."""

    key: str
    person: str | None
    nominal: date
    earliest: date


def spread_late_steps(late: Iterable[LateStep], rules: Rules,
                      taken: Mapping[tuple[str | None, date], int] | None = None) -> dict[str, date]:
    """Due dates for late steps first planned together, never stacked on one day: step key → day.

    Each person gets at most `rules.daily_cap` steps a business day, counting `taken` (person, day) → steps already
    due there. The oldest nominal date goes first (then the key, so the result is stable), each on the first business
    day from its `earliest` with room left. Pure: the planner and the install backfill (issue #27) both use it."""
    load: Counter = Counter(taken or {})
    days: dict[str, date] = {}
    for step in sorted(late, key=lambda s: (s.nominal, s.key)):
        day = rules.on_or_after(step.earliest)
        while load[(step.person, day)] >= rules.daily_cap:
            day = rules.after(day)
        load[(step.person, day)] += 1
        days[step.key] = day
    return days


def _dated(actions: list[DesiredAction], held: Mapping[str, Held], today: date, rules: Rules,
           others: Mapping[tuple[str | None, date], int]) -> list[DesiredAction]:
    """Dates move only with their anchor: an action held with the same nominal date keeps its due date (an overdue
    one stays overdue, it does not slide); the late ones planned now are spread (`spread_late_steps`) around this
    mission's other actions and what `others` (other missions) hold."""
    kept = {a.key: held[a.key].due for a in actions if a.key in held and held[a.key].nominal_due == a.nominal_due}
    staying = {a.key for a in fixed(actions, held, today)}
    late = [a for a in actions if a.key not in staying]
    moving = {a.key for a in late}
    taken = Counter((_person(a), kept.get(a.key, a.due)) for a in actions if a.key not in moving) + Counter(others)
    days = spread_late_steps([LateStep(a.key, _person(a), a.nominal_due, a.due) for a in late], rules, taken)
    days.update(kept)
    return [a.model_copy(update={"due": days[a.key]}) if a.key in days and days[a.key] != a.due else a
            for a in actions]


def fixed(actions: Iterable[DesiredAction], held: Mapping[str, Held], today: date) -> list[DesiredAction]:
    """The actions whose day other missions cannot move: due on or after today, or held with the same nominal date
    (the complement of what `_dated` spreads)."""
    return [a for a in actions if a.nominal_due >= today or (a.key in held and held[a.key].nominal_due == a.nominal_due)]


def _person(action: DesiredAction) -> str | None:
    return action.assignee.id if action.assignee else None


def _steps(snapshot: MissionSnapshot, classification: Classification, playbook: Playbook, today: date,
           language: str, rules: Rules, held: Mapping[str, Held]) -> list[DesiredAction]:
    if classification.end_case is None or snapshot.end_date is None or snapshot.consultant is None:
        return []
    ctx = _Context(snapshot, classification, today, language, rules, held)
    no_search = classification.next_known or classification.leaver  # no step looks for a next mission
    wanted = [s for s in playbook.steps_for(classification.end_case)
              if not (no_search and s.staffing) and not ctx.pointless(s)]
    actions = [] if classification.stale else [ctx.action(step, step.id, ctx.anchor_date(step)) for step in wanted]
    if classification.bench:
        for step in playbook.bench_steps(classification.end_case):
            actions.append(ctx.current(step))
    return actions


class _Context:
    """The inputs shared by every step of one plan."""

    def __init__(self, snapshot: MissionSnapshot, classification: Classification, today: date, language: str,
                 rules: Rules, held: Mapping[str, Held]):
        if snapshot.end_date is None:  # _steps plans only missions with an end date
            raise ValueError(f"mission {snapshot.mission_id}: no end date to plan from")
        self.s, self.c, self.today, self.rules = snapshot, classification, today, rules
        self.end: date = snapshot.end_date
        self.lang = "en" if language.lower().startswith("en") else "fr"
        self.planned_on = snapshot.end_seen or today  # the day this end date was learnt: 'late' is relative to it
        self.bench_start = rules.after(self.end)
        self.bench_base = self.bench_start
        self.held = held
        if classification.stale and snapshot.first_seen:  # a bench learnt of late is planned from that day
            self.bench_base = max(self.bench_start, rules.on_or_after(snapshot.first_seen))
        self.values = dict(consultant=snapshot.consultant.name if snapshot.consultant else "",
                             client=snapshot.client_name, mission=snapshot.title or snapshot.mission_id,
                             end_date=_format_date(self.end, self.lang))

    def pointless(self, step: Step) -> bool:
        """A step whose point is gone when this end was learnt (an availability announced after it began)."""
        return step.pointless_after == "end" and self.planned_on > self.end

    def anchor_date(self, step: Step) -> date:
        """Where the step falls: its offset from its anchor, on a business day, never before the mission starts."""
        offset, rules = step.offset, self.rules
        if offset.anchor == "notice":
            return rules.on_or_after(rules.shift(self.s.notice_date or self.today, offset.days, offset.unit))
        if offset.anchor == "bench":
            return rules.on_or_after(rules.shift(self.bench_base, offset.days, offset.unit))
        end = self.end
        if offset.days > 0:
            day = rules.on_or_after(rules.shift(end, offset.days, offset.unit))
        elif offset.unit == "business":
            day = rules.add(rules.on_or_before(end), offset.days) if offset.days else rules.on_or_before(end)
        else:
            day = rules.on_or_before(end + timedelta(days=offset.days))
        return self._not_before_start(day)

    def _not_before_start(self, day: date) -> date:
        start = self.s.start_date
        if start is None or day >= start:
            return day
        first = self.rules.on_or_after(start)
        return first if first <= self.end else start

    def current(self, step: Step) -> DesiredAction:
        """A bench step; a recurring one only as its current occurrence (missed ones are never created)."""
        first = self.anchor_date(step)
        if step.recurrence is None:
            return self.action(step, self.keyed(step.id), first)
        every = step.recurrence.every_days
        n = 0 if self.today <= first else (self.today - first).days // every
        if step.recurrence.max_occurrences is not None:
            n = min(n, step.recurrence.max_occurrences - 1)
        return self.action(step, self.keyed(f"{step.id}#{n + 1}"), self.rules.on_or_after(first + timedelta(days=n * every)))

    def keyed(self, key: str) -> str:
        """Each bench period is its own: a key the host still holds from an earlier period of this mission (a step
        someone ticked or edited then, which is never rewritten) gives way to one keyed by this period's start, so
        this period gets the full menu (`bench.cv_update#p20261001`, `bench.checkin#p20261001#1`)."""
        held = self.held.get(key)
        if held is None or not held.settled or held.nominal_due >= self.bench_start:
            return key
        period = f"#p{self.bench_start:%Y%m%d}"
        step, _, occurrence = key.partition("#")
        return f"{step}{period}#{occurrence}" if occurrence else f"{step}{period}"

    def action(self, step: Step, key: str, nominal: date) -> DesiredAction:
        """One desired action; a due date already past moves to the next business day (today if the mission ends
        today), marked late when it was past on the day this end date was learnt."""
        late = nominal < self.planned_on
        due = nominal
        if nominal < self.today:
            due = self.rules.after(self.today)
            end = self.end
            if step.offset.anchor != "bench" and nominal <= end and self.today <= end < due:
                due = self.today
        found = owner(self.s, step.assignee, self.rules)
        if step.assignee == "consultant" and gone_by(self.s, due):  # no step is owned by a person after they leave
            found = instead_of_leaver(self.s, self.rules)
        target = self.s.client_contact if step.assignee == "client_contact" and self.s.client_contact else self.s.consultant
        body = step.text.render(self.lang, self.values).strip()
        title = step.title.render(self.lang, self.values).strip()
        lines = [body, self.why(step, nominal, late), found.note(self.lang)]
        if step.handover and self.c.replaced_by:  # the case-3 steps name the replacement once known
            title, line = self.handed_to(title)
            lines.insert(1, line)
        return DesiredAction(
            key=key, step_id=step.id, kind=step.kind, assignee_role=step.assignee, assignee=found.person,
            target=target or Person(id=self.s.mission_id), nominal_due=nominal, due=due, late=late,
            priority=step.priority, case=self.c.end_case or "natural",
            title=title, text="\n\n".join(line for line in lines if line))

    def handed_to(self, title: str) -> tuple[str, str]:
        """The title saying to whom the mission is handed over, and the line naming the replacement(s) and when."""
        t = _words(WORDS, self.lang)
        names = [(o.consultant.name if o.consultant else "") or t["handover_nameless"] for o in self.c.replaced_by]
        who = "; ".join(t["handover_who"].format(name=name, day=_format_date(o.start, self.lang))
                        for name, o in zip(names, self.c.replaced_by))
        return title + t["handover_title"].format(names=", ".join(names)), t["handover_line"].format(who=who)

    def why(self, step: Step, nominal: date, late: bool) -> str:
        """The one-line reason this step exists: the case, what changed, 'to confirm', 'late'."""
        t, fmt = _words(WORDS, self.lang), lambda d: _format_date(d, self.lang)
        if step.is_bench:
            what = (t["stale"].format(end=fmt(self.end), seen=fmt(self.s.first_seen)) if self.c.stale
                    else t["bench"].format(day=fmt(self.bench_start)))
            if self.c.bench_until:
                what += t["until"].format(day=fmt(self.c.bench_until))
            if self.c.busy:
                what += t["busy"].format(busy=", ".join(self.c.busy))
        else:
            extended = self.s.previous_end and self.end > self.s.previous_end and self.c.end_case == "natural"
            what = t["extension" if extended else (self.c.end_case or "natural")]
            if self.s.previous_end and self.s.previous_end != self.end:
                what += t["change"].format(old=fmt(self.s.previous_end), new=fmt(self.end))
            if self.c.unsure:
                what += t["unsure"]
        if late:
            what += t["late"].format(day=fmt(nominal))
        return f"{t['prefix']}{what}."


def _format_date(day: date | None, language: str) -> str:
    if day is None:
        return ""
    return day.strftime("%d/%m/%Y") if language == "fr" else day.isoformat()
