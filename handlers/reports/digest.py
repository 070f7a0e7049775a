"""The business engineer's digest: "vos consultants disponibles dans les 30 / 60 / 90 jours", one task each.

Pure: the forecast's people, who their business engineer is, today and the tenant's cadence → one desired task a
business engineer. A consultant's business engineer is the one of the mission that ends (host), else the tenant's
default one. The task keeps one key while it is open, so each run updates it (never a second one); once someone
ticks it done, deletes or edits it, the next digest waits for the next cadence day and takes a new key.
"""
from __future__ import annotations

from datetime import date, timedelta

from handlers.domain.calendar import next_business_day_on_or_after
from handlers.domain.model import DesiredAction, Person
from handlers.reports.forecast import Return

STEP = "match.digest"
BUCKETS = (30, 60, 90)
ORIGIN = date(2024, 1, 1)  # a Monday: weekly digests fall on Mondays
TEXTS = {
    "fr": {"title": "Vos consultants disponibles dans les 90 jours",
           "bucket": "Dans les {n} jours", "now": "Déjà en intercontrat",
           "line": "{name} — fin de mission le {end}, disponible le {free}",
           "next": ", mission suivante le {start}", "unsure": " (à confirmer)",
           "outro": "Cette liste est mise à jour ici à chaque changement ; proposez-les sur vos opportunités."},
    "en": {"title": "Your consultants available within 90 days",
           "bucket": "Within {n} days", "now": "Already on the bench",
           "line": "{name} — mission ends {end}, free from {free}",
           "next": ", next mission on {start}", "unsure": " (to confirm)",
           "outro": "This list is updated here at every change; put them forward on your opportunities."},
}


def cadence_day(today: date, every_days: int) -> date:
    """The latest digest day on or before today (every `every_days` days from a Monday)."""
    return today - timedelta(days=(today - ORIGIN).days % every_days)


def digest(people: list[Return], owner: Person, today: date, *, key: str, language: str, every_days: int,
           country: str = "FR", subdivision: str | None = None) -> DesiredAction:
    """One business engineer's digest task (on their own record), its consultants by 30 / 60 / 90 days."""
    words = TEXTS[language]
    parts = []
    groups: dict[str, list[str]] = {}
    for person in sorted(people, key=lambda r: (r.first_day, r.name)):
        days = (person.first_day - today).days
        label = words["now"] if days < 0 else words["bucket"].format(n=next((n for n in BUCKETS if days <= n), BUCKETS[-1]))
        line = words["line"].format(name=person.name or person.consultant_id, end=_day(person.end, language),
                                    free=_day(person.first_day, language))
        if person.next_start:
            line += words["next"].format(start=_day(person.next_start, language))
        groups.setdefault(label, []).append("- " + line + (words["unsure"] if person.to_confirm else ""))
    for label, lines in groups.items():
        parts.append(f"{label} :\n" + "\n".join(lines) if language == "fr" else f"{label}:\n" + "\n".join(lines))
    nominal = cadence_day(today, every_days)
    return DesiredAction(key=key, step_id=STEP, kind="task", assignee_role="business_engineer", assignee=owner,
                         target=owner, nominal_due=nominal,
                         due=next_business_day_on_or_after(nominal, country, subdivision),
                         title=words["title"], text="\n\n".join([*parts, words["outro"]]), case="matching")


def _day(value: date, language: str) -> str:
    return value.strftime("%d/%m") if language == "fr" else f"{value.day} {value:%b}"
