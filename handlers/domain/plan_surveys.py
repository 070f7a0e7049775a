"""The survey part of the pure planner: links in survey actions, one reminder, the answer written back, a follow-up."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from handlers.domain.calendar import add_business_days
from handlers.domain.model import DesiredAction, MissionSnapshot, Person
from handlers.domain.owners import owner
from handlers.domain.rules import Rules

if TYPE_CHECKING:  # the stored survey record (handlers.surveys) is only a type here: the domain reads no Redis
    from handlers.surveys.records import SurveyState

ROLE_NAMES = {"fr": {"consultant": "consultant", "client_contact": "contact client"},
              "en": {"consultant": "consultant", "client_contact": "client contact"}}
TEXTS = {
    "fr": {
        "links": "Liens personnels du questionnaire (sans compte, une seule réponse chacun) :",
        "reminder_title": "Relancer {name} : questionnaire sur {mission} sans réponse",
        "reminder_text": "{name} ({role}) n'a pas encore répondu au questionnaire de fin de mission sur {mission}, "
                         "envoyé le {sent}. Une seule relance suffit : renvoyez-lui son lien personnel.\n\n{link}",
        "note_title": "Questionnaire de fin de mission : {name} ({role}), satisfaction {sat}/5, "
                      "recommandation {nps}/10",
        "note_text": "Réponse reçue le {day} pour {mission}.\n\n{comment}",
        "comment": "Commentaire : {comment}",
        "no_comment": "Pas de commentaire.",
        "followup_title": "Réponse basse de {name} sur {mission} : reprendre contact",
        "followup_text": "{name} ({role}) a donné {sat}/5 en satisfaction et {nps}/10 en recommandation. Prenez "
                         "contact rapidement pour comprendre ce qui a coincé, convenez des actions à mener et "
                         "notez-les sur la fiche de la mission.\n\n{comment}",
    },
    "en": {
        "links": "Personal survey links (no account needed, one answer each):",
        "reminder_title": "Chase {name}: survey on {mission} not answered yet",
        "reminder_text": "{name} ({role}) has not answered the end-of-mission survey on {mission} sent on {sent}. "
                         "One nudge is enough: send them their personal link again.\n\n{link}",
        "note_title": "End-of-mission survey: {name} ({role}), satisfaction {sat}/5, recommendation {nps}/10",
        "note_text": "Answer received on {day} for {mission}.\n\n{comment}",
        "comment": "Comment: {comment}",
        "no_comment": "No comment.",
        "followup_title": "Low survey answer from {name} on {mission}: get in touch",
        "followup_text": "{name} ({role}) gave {sat}/5 for satisfaction and {nps}/10 for recommendation. Get in "
                         "touch soon to understand what went wrong, agree on what to do about it and record it "
                         "on the mission.\n\n{comment}",
    },
}


@dataclass(frozen=True)
class SurveyInputs:
    """What the planner needs to know about a mission's surveys (read before planning, so planning stays pure)."""

    states: dict[str, SurveyState] = field(default_factory=dict)
    base_url: str = "http://127.0.0.1:8000"
    reminder_days: int = 5
    low_satisfaction: int = 2
    low_nps: int = 6

    @classmethod
    def of(cls, tenant, states: dict[str, SurveyState], base_url: str) -> "SurveyInputs":
        """The inputs for one tenant's mission."""
        cfg = tenant.surveys
        return cls(states=states, base_url=base_url, reminder_days=cfg.reminder_days,
                   low_satisfaction=cfg.low_satisfaction, low_nps=cfg.low_nps)

    def link(self, state: SurveyState) -> str:
        """The respondent's page."""
        return f"{self.base_url.rstrip('/')}/survey/{state.token}"

    def reminder_day(self, state: SurveyState, country: str, subdivision: str | None = None) -> date:
        """When an unanswered survey gets its one reminder."""
        return add_business_days(state.sent_on, self.reminder_days, country, subdivision=subdivision)


def with_surveys(actions: list[DesiredAction], snapshot: MissionSnapshot, inputs: SurveyInputs, *, today: date, language: str,
                 country: str, case: str, rules: Rules | None = None) -> list[DesiredAction]:
    """The plan's actions with survey links added, plus reminders, written-back answers and follow-ups."""
    out = _Surveys(snapshot, inputs, today, language, Rules.coerce(rules, country), case)
    first = _first_survey(actions)
    result = []
    for action in actions:
        if action.kind == "survey" and inputs.states:
            result.append(action.model_copy(update={"text": action.text + "\n\n" + out.links()}))
            if action is first:
                result.extend(out.reminders(action))
        else:
            result.append(action)
    return result + out.answered()


def next_reminder_day(actions: list[DesiredAction], inputs: SurveyInputs, today: date, *, country: str,
                      subdivision: str | None = None) -> date | None:
    """The next day an unanswered survey's reminder falls due (None: no reminder ahead)."""
    if _first_survey(actions) is None:
        return None
    days = [inputs.reminder_day(s, country, subdivision) for s in inputs.states.values() if s.status == "sent"]
    return min((d for d in days if d > today), default=None)


def _first_survey(actions: list[DesiredAction]) -> DesiredAction | None:
    surveys = [a for a in actions if a.kind == "survey"]
    return min(surveys, key=lambda a: (a.due, a.key)) if surveys else None


class _Surveys:
    """The generated actions of one plan."""

    def __init__(self, snapshot: MissionSnapshot, inputs: SurveyInputs, today: date, language: str, rules: Rules,
                 case: str):
        self.s, self.inputs, self.today, self.rules, self.case = snapshot, inputs, today, rules, case
        self.lang = "en" if language.lower().startswith("en") else "fr"
        self.t = TEXTS[self.lang]
        self.mission = snapshot.title or snapshot.mission_id

    def links(self) -> str:
        """The respondents' links, one a line, after a short heading (and what became of their e-mail)."""
        rows = [f"- {s.person_name or s.person_id} ({ROLE_NAMES[self.lang][s.role]}) : {self.inputs.link(s)}"
                if self.lang == "fr" else
                f"- {s.person_name or s.person_id} ({ROLE_NAMES[self.lang][s.role]}): {self.inputs.link(s)}"
                for s in sorted(self.inputs.states.values(), key=lambda s: s.role, reverse=True)]
        rows = [row + mail_note(s, self.lang) for row, s in
                zip(rows, sorted(self.inputs.states.values(), key=lambda s: s.role, reverse=True))]
        return "\n".join([self.t["links"], *rows])

    def reminders(self, survey: DesiredAction) -> list[DesiredAction]:
        """One reminder per respondent still silent once the delay has passed."""
        out = []
        for s in sorted(self.inputs.states.values(), key=lambda s: s.role):
            nominal = self.inputs.reminder_day(s, self.rules.country, self.rules.subdivision)
            if s.status == "answered" or nominal > self.today:
                continue
            values = self._values(s, sent=_day(s.sent_on, self.lang), link=self.inputs.link(s))
            out.append(self._action(f"{survey.step_id}.reminder.{s.role}", survey.step_id, "reminder", s, nominal,
                                    self.t["reminder_title"].format(**values),
                                    self.t["reminder_text"].format(**values)))
        return out

    def answered(self) -> list[DesiredAction]:
        """Each answer as a note on the respondent's record, and a follow-up when it is low: for the manager, or for
        HR when the consultant answered (a consultant's low mark may be about that very manager)."""
        out = []
        for s in sorted(self.inputs.states.values(), key=lambda s: s.role):
            if s.status != "answered":
                continue
            values = self._values(s)
            out.append(self._action(f"{s.step_id}.answer.{s.role}", s.step_id, "note", s, s.answered_on,
                                    self.t["note_title"].format(**values), self.t["note_text"].format(**values),
                                    as_written=True))
            if s.is_low(self.inputs.low_satisfaction, self.inputs.low_nps):
                out.append(self._action(f"{s.step_id}.followup.{s.role}", s.step_id, "task", s,
                                        self.rules.after(s.answered_on),
                                        self.t["followup_title"].format(**values),
                                        self.t["followup_text"].format(**values), priority="high",
                                        role="hr" if s.role == "consultant" else "manager"))
        return out

    def _values(self, s: SurveyState, **extra) -> dict:
        comment = self.t["comment"].format(comment=s.comment) if s.comment else self.t["no_comment"]
        return {"name": s.person_name or s.person_id, "role": ROLE_NAMES[self.lang][s.role], "mission": self.mission,
                "sat": s.satisfaction, "nps": s.nps, "comment": comment,
                "day": _day(s.answered_on, self.lang) if s.answered_on else "", **extra}

    def _action(self, key: str, step_id: str, kind: str, s: SurveyState, nominal: date, title: str, text: str, *,
                priority: str = "normal", as_written: bool = False, role: str = "manager") -> DesiredAction:
        """A generated action for `role` (through its owner chain) on the respondent's record; past days move to the
        next business day."""
        late = nominal < self.today and not as_written
        due = self.rules.after(self.today) if late else nominal
        found = owner(self.s, role, self.rules)
        return DesiredAction(key=key, step_id=step_id, kind=kind, assignee_role=role, assignee=found.person,
                             target=Person(id=s.person_id, type=s.person_type, name=s.person_name),
                             nominal_due=nominal, due=due, late=late, priority=priority, case=self.case,
                             title=title.strip(), text=text.strip())


def _day(day: date, language: str) -> str:
    return day.strftime("%d/%m/%Y") if language == "fr" else day.isoformat()


MAIL_NOTES = {  # issue #17: a survey sent by e-mail says so in the manager's action, to whom and when
    "fr": {"sent": " (envoyé par e-mail à {to} le {day}{reminder})", "reminder": ", relancé le {day}",
           "capped": " (pas d'e-mail : déjà sollicité récemment ; transmettez le lien vous-même)",
           "opted_out": " (pas d'e-mail : désinscrit des questionnaires)",
           "no_address": " (pas d'e-mail : aucune adresse connue ; transmettez le lien vous-même)",
           "failed": " (e-mail non remis : {error} ; transmettez le lien vous-même)"},
    "en": {"sent": " (e-mailed to {to} on {day}{reminder})", "reminder": ", reminded on {day}",
           "capped": " (no e-mail: asked recently already; forward the link yourself)",
           "opted_out": " (no e-mail: opted out of surveys)",
           "no_address": " (no e-mail: no address known; forward the link yourself)",
           "failed": " (e-mail not delivered: {error}; forward the link yourself)"},
}


def mail_note(s: SurveyState, lang: str) -> str:
    """What became of a survey's e-mail, for the line of its link ('' when it does not go by e-mail)."""
    notes = MAIL_NOTES[lang]
    if not getattr(s, "mail_status", ""):
        return ""
    reminder = notes["reminder"].format(day=_day(s.reminded_on, lang)) if s.reminded_on else ""
    day = _day(s.emailed_on, lang) if s.emailed_on else ""
    return notes[s.mail_status].format(to=s.email_to, day=day, reminder=reminder, error=s.mail_error[:80])
