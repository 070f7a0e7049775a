"""What opportunity matching reads from Boond: the open opportunities (with their criteria) and the consultants'
technical data, as handlers.domain.matching's plain records.

Documented (RAML): the `/opportunities` search and its `opportunityStates` filter; an opportunity's `tools`,
`expertiseArea`, `activityAreas`, `place`, `startDate` (a date or "immediate") and `mainManager`; a resource's
`/technical-data` (`skills` text, `tools` [{tool, level}], `expertiseAreas`, `activityAreas`).
Not documented, isolated here (docs/SANDBOXES.md, "Opportunities"):
- which opportunity states are open: read from the tenant's labels (CLOSED below), every state when it has none;
- that a search row carries the criteria (a row without `tools` is read again on its information tab);
- tools and areas are dictionary ids in a real tenant: a value the dictionary names is read as its label.
"""
from __future__ import annotations

from typing import NamedTuple

import re
from handlers.hosts.boond.dictionary import Dictionary
from handlers.domain.matching import Need, Opening
from handlers.hosts.boond.positionings import PositioningWriter, positioned_state
from handlers.domain.model import Person
from handlers.hosts.values import day

CLOSED = re.compile(r"gagn|won|perdu|lost|abandon|annul|cancel|clos|ferm|sign", re.I)
SETTINGS = {"tools": "tool", "expertiseArea": "expertiseArea", "expertiseAreas": "expertiseArea",
            "activityAreas": "activityArea", "place": "mobilityArea"}


class BoondMatching:
    """What a matching run asks of Boond: the openings, each consultant's (skills, places), the writers."""

    positionings = True  # Boond can also position the suggested consultants

    def __init__(self, adapter):
        self.adapter, self.client = adapter, adapter.client
        self.dictionary = adapter.dictionary()

    def openings(self) -> list[Opening]:
        """Every open opportunity with its business engineer."""
        return openings(self.client, self.dictionary)

    def profiles(self, consultant_ids: list[str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Resource id → (skills, places): two reads a consultant (technical data, information)."""
        return {i: profile_of(self.client, self.dictionary, i) for i in consultant_ids}

    def writers(self) -> dict:
        """Ledger prefix → writer: the suggestions tasks (actions on the opportunity), a business engineer's digest
        (an action on their own resource), the positionings."""
        return {"opportunity": self.adapter, "digest": self.adapter,
                "positioning": PositioningWriter(self.client, positioned_state(self.dictionary))}


def open_states(dictionary: Dictionary) -> list[int]:
    """The tenant's opportunity states whose label does not say won, lost, abandoned or closed."""
    labels = dictionary.states("opportunity")
    return [int(i) for i, label in labels.items() if not CLOSED.search(label) and i.lstrip("-").isdigit()]


def openings(client, dictionary: Dictionary) -> list[Opening]:
    """Every open opportunity, as an opening with its business engineer (mainManager)."""
    states = open_states(dictionary)
    if not states and dictionary.states("opportunity"):
        return []  # every state of the tenant is a closed one
    out = []
    for row in client.opportunities(states):
        if "tools" not in (row.get("attributes") or {}):  # a thin search row: its information tab has them
            row = client.opportunity_information(str(row["id"])).get("data") or row
        out.append(_opening(row, dictionary))
    return out


def _opening(row: dict, dictionary: Dictionary) -> Opening:
    attrs, rels = row.get("attributes") or {}, row.get("relationships") or {}
    skills = [*_labels(dictionary, "tools", attrs.get("tools")), *_labels(dictionary, "activityAreas", attrs.get("activityAreas"))]
    if attrs.get("expertiseArea"):
        skills += _labels(dictionary, "expertiseArea", [attrs["expertiseArea"]])
    place = _labels(dictionary, "place", [attrs["place"]])[0] if attrs.get("place") else None
    start = attrs.get("startDate")
    manager = ((rels.get("mainManager") or {}).get("data") or {}).get("id")
    need = Need(str(row["id"]), str(attrs.get("title") or ""), tuple(skills), day(start), place)  # "immediate": None
    return Opening(need, Person(id=str(manager), type="resource") if manager else None,
                   Person(id=str(row["id"]), type="opportunity", name=need.title))


class Profile(NamedTuple):
    """A consultant's skills and the places they can work, as labels."""

    skills: tuple[str, ...]
    places: tuple[str, ...]


def profile_of(client, dictionary: Dictionary, resource_id: str) -> Profile:
    """A consultant's (skills, places): the `skills` text, tools, expertise and activity areas of their technical
    data, and the `mobilityAreas` of their information tab."""
    attrs = (client.technical_data(resource_id).get("data") or {}).get("attributes") or {}
    tools = [t.get("tool") for t in attrs.get("tools") or [] if isinstance(t, dict) and t.get("tool")]
    skills = (str(attrs.get("skills") or ""), *_labels(dictionary, "tools", tools),
              *_labels(dictionary, "expertiseAreas", attrs.get("expertiseAreas")),
              *_labels(dictionary, "activityAreas", attrs.get("activityAreas")))
    info = (client.resource_information(resource_id).get("data") or {}).get("attributes") or {}
    return Profile(skills, tuple(_labels(dictionary, "place", info.get("mobilityAreas"))))


def _labels(dictionary: Dictionary, field: str, values) -> list[str]:
    """Values as words: a dictionary id the tenant names becomes its label, anything else stays as it is."""
    named = dictionary.setting.get(SETTINGS[field])
    table = {str(t.get("id")): str(t.get("value")) for t in named if isinstance(t, dict)} if isinstance(named, list) else {}
    return [table.get(str(v), str(v)) for v in values or [] if v not in (None, "")]
