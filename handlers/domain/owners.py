"""Who owns a step: each role resolves through a chain (the mission, the consultant's record, a tenant default)."""
from __future__ import annotations

from typing import NamedTuple

from dataclasses import dataclass
from datetime import date

from handlers.domain.model import MissionSnapshot, Person
from handlers.domain.rules import Rules

ROLE_NAMES = {"fr": {"manager": "manager", "business_engineer": "ingénieur d'affaires", "hr": "RH"},
              "en": {"manager": "manager", "business_engineer": "business engineer", "hr": "HR"}}
NO_ROLE = {"manager": "de manager", "business_engineer": "d'ingénieur d'affaires", "hr": "de RH"}  # French "no X"
NOTES = {
    "fr": {"consultant_manager": "Attribuée au manager du consultant : la mission ne nomme pas de manager.",
           "default": "Attribuée par défaut ({role}, réglage de l'espace) : ni la mission ni la fiche du consultant "
                      "ne nomment {no_role}.",
           "manager": "Attribuée au manager : la mission ne nomme pas {no_role}.",
           "none": "Ni la mission ni la fiche du consultant ne nomment {no_role} : attribuée à l'utilisateur "
                   "technique.",
           "leaver": "Attribuée au manager : le consultant aura quitté l'entreprise à cette date."},
    "en": {"consultant_manager": "Assigned to the consultant's own manager: the mission names no manager.",
           "default": "Assigned to the default {role} (tenant setting): neither the mission nor the consultant's "
                      "record names one.",
           "manager": "Assigned to the manager: the mission names no {role}.",
           "none": "No {role} found on the mission or the consultant's record: assigned to the technical user.",
           "leaver": "Assigned to the manager: the consultant will have left the firm by then."},
}


# a step whose owner the host names without a name (their record unreadable or empty): said in the plan and preview
NAMELESS = {"fr": "nom inconnu : l'outil ne donne pas le nom de cette personne (sa fiche n'a pas pu être lue) ; "
                  "la tâche lui est quand même attribuée",
            "en": "name unknown: the host gives no name for this person (their record could not be read); the step "
                  "is assigned to them all the same",
            }
NOBODY = {"fr": "personne : ni la mission ni la fiche du consultant ne nomment quelqu'un pour ce rôle ; la tâche va à "
                "l'utilisateur technique",
          "en": "nobody: neither the mission nor the consultant's record names someone for this role; the step goes "
                "to the technical user"}


class NameOrWhy(NamedTuple):
    """The owner's name and '', or None and why there is none (in the admin's language)."""

    name: str | None
    why: str


def name_or_why(person: Person | None, language: str) -> NameOrWhy:
    """(the owner's name, '') or (None, why there is none) in the admin's language."""
    lang = "en" if language.lower().startswith("en") else "fr"
    if person is None:
        return NameOrWhy(None, NOBODY[lang])
    if not person.name.strip():
        return NameOrWhy(None, NAMELESS[lang])
    return NameOrWhy(person.name, "")


@dataclass(frozen=True)
class Owner:
    """The person a step goes to, and how it was found (`via` is None when the mission itself named them)."""

    person: Person | None
    via: str | None = None  # consultant_manager | default | manager | none | leaver
    role: str = "manager"

    def note(self, language: str) -> str:
        """One short line saying the step fell back, or '' when it did not."""
        if self.via is None:
            return ""
        lang = "en" if language.lower().startswith("en") else "fr"
        return NOTES[lang][self.via].format(role=ROLE_NAMES[lang].get(self.role, self.role),
                                            no_role=NO_ROLE.get(self.role, self.role))


def owner(snapshot: MissionSnapshot, role: str, rules: Rules) -> Owner:
    """Resolve a role to a person through its chain; a contact (who cannot own a task) gives way to the manager."""
    if role == "consultant":
        person = snapshot.consultant_user or snapshot.consultant
        if person is not None and person.type.lower() != "contact":
            return Owner(person, role=role)
        return _manager(snapshot, rules)
    if role == "client_contact":
        return _manager(snapshot, rules)
    if role == "manager":
        return _manager(snapshot, rules)
    named = {"hr": snapshot.hr, "business_engineer": snapshot.business_engineer}.get(role)
    if named is not None and named.type.lower() != "contact":
        return Owner(named, role=role)
    if role in rules.defaults:
        return Owner(rules.defaults[role], "default", role)
    fallback = _manager(snapshot, rules)
    return Owner(fallback.person, "manager" if fallback.person else "none", role)


def gone_by(snapshot: MissionSnapshot, day: date) -> bool:
    """The consultant has left the firm (mapped as left), or will have by `day` (their contract ends before it)."""
    return snapshot.consultant_left or bool(snapshot.contract_end and day > snapshot.contract_end)


def instead_of_leaver(snapshot: MissionSnapshot, rules: Rules) -> Owner:
    """Who owns a consultant's step due after they leave: the manager chain, saying why."""
    return Owner(_manager(snapshot, rules).person, "leaver", "consultant")


def _manager(snapshot: MissionSnapshot, rules: Rules) -> Owner:
    """The project's manager, else the consultant's own manager, else the tenant's default manager."""
    if snapshot.manager is not None:
        return Owner(snapshot.manager, role="manager")
    if snapshot.consultant_manager is not None:
        return Owner(snapshot.consultant_manager, "consultant_manager", "manager")
    if "manager" in rules.defaults:
        return Owner(rules.defaults["manager"], "default", "manager")
    return Owner(None, "none", "manager")


def without_manager(snapshot: MissionSnapshot) -> bool:
    """The mission names no manager (its manager steps fall back): for the admin page's warning."""
    return snapshot.manager is None
