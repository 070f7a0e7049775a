"""A Boond tenant's dictionary (GET /application/dictionary): its action types and its state labels, in either
shape Boond was seen to answer (reference §10), and the state mapping proposed from those labels."""
from __future__ import annotations

from typing import NamedTuple

import re

from connectors.errors import HostError

# label → proposed case, French and English keywords; first match wins (reference §10: never assume a meaning for a
# state number). Labels seen on real instances: "In progress", "Completed", "Signée", "Prévisionnelle", "LEAVING
# COMPANY", "UN/IC – UNASSIGNED", "Intercontrat", "Sortie", subcontractor and freelance resource types.
DELIVERY_PROPOSALS = (
    (re.compile(r"client|customer", re.I), "client"),
    (re.compile(r"consultant|salari|ressource|resource|d[ée]mission|resign", re.I), "consultant"),
    (re.compile(r"annul|cancel|abandon", re.I), "cancelled"),
    (re.compile(r"termin|complet|achev|cl[ôo]tur|finish|ended|done|closed", re.I), "natural"),
    (re.compile(r"en cours|in progress|ongoing|sign|pr[ée]vision|forecast|planned|running|active", re.I), "active"),
)
RESOURCE_PROPOSALS = (
    (re.compile(r"leaving|on notice|notice period|pr[ée]avis|en cours de (sortie|d[ée]part)|d[ée]part pr[ée]vu|"
                r"sortie pr[ée]vue|partant|outgoing", re.I), "leaving"),
    (re.compile(r"sorti|\bleft\b|\bparti|d[ée]part|\bexit|former|ancien", re.I), "left"),
    (re.compile(r"inter.?contrat|intercontract|bench|unassigned|non.?affect|sans mission|\bIC\b", re.I), "bench"),
    (re.compile(r"en cours|in progress|actif|active|employ|mission|staffed|assigned|affect", re.I), "active"),
)
RESOURCE_TYPE_PROPOSALS = (  # proposed for the admin's information: who is not the firm's employee
    (re.compile(r"sous.?trait|sub.?contract|freelance|ind[ée]pendant|independent|contractor|externe|external|"
                r"portage|partenaire|partner", re.I), "external"),
    (re.compile(r"interne|internal|salari|employ|cdi\b|cdd\b|permanent|consultant", re.I), "employee"),
)
INACTIVITY_PROPOSALS = (  # an inactivity type → the bench activity its days count as (the dashboard's effective use)
    (re.compile(r"formation|training|certif|e.?learning|cours\b|course", re.I), "training"),
    (re.compile(r"m[ée]c[ée]nat|b[ée]n[ée]vol|volunteer|pro.?bono|associati", re.I), "mecenat"),
    (re.compile(r"avant.?vente|presales|pre.?sales|recherche|prospect|mission search|staffing", re.I), "mission_search"),
    (re.compile(r"projet interne|internal project|interne|internal|r ?& ?d|r&d|innovation|outillage|tooling", re.I),
     "internal_project"),
)
PROPOSALS = {"delivery": DELIVERY_PROPOSALS, "resource": RESOURCE_PROPOSALS, "resource_type": RESOURCE_TYPE_PROPOSALS,
             "inactivity": INACTIVITY_PROPOSALS}
STATE_KINDS = ("delivery", "resource")


class Dictionary:
    """The parts of a tenant's dictionary Intermission reads; a HostError naming the tenant for any other shape."""

    def __init__(self, tenant_id: str, document):
        self.tenant_id = tenant_id
        data = document.get("data") if isinstance(document, dict) else None
        setting = data.get("setting") if isinstance(data, dict) else None
        if not isinstance(setting, dict):
            raise self._error("data.setting", "an object")
        self.setting = setting

    def _error(self, where: str, expected: str) -> HostError:
        return HostError(f"tenant {self.tenant_id}: Boond's dictionary has an unexpected `{where}` "
                         f"(expected {expected}); Intermission cannot pick action types or read states from it",
                         host="boond")

    def action_types(self, entity: str) -> list[dict]:
        """The action types usable on an entity: one list per entity, or one flat list that serves them all."""
        action = self.setting.get("action")
        if action is None:
            return []
        if isinstance(action, dict):
            types = action.get(entity) or []
        else:
            types = action
        return self._items(types, "data.setting.action", "a list of {id, value} or one such list per entity")

    def states(self, kind: str) -> dict[str, str]:
        """State id (as text) → the tenant's label, for `delivery` or `resource`."""
        states = self.setting.get("state")
        if states is None:
            return {}
        if not isinstance(states, dict):
            raise self._error("data.setting.state", "one list of {id, value} per entity")
        raw = states.get(kind) or []
        if isinstance(raw, dict):  # {"1": "In progress"}: the id → label form
            raw = [{"id": key, "value": value} for key, value in raw.items()]
        items = self._items(raw, f"data.setting.state.{kind}", "a list of {id, value}")
        return {str(t["id"]): str(t.get("value") or "") for t in items}

    def resource_types(self) -> dict[str, str]:
        """Resource type id → label (`data.setting.typeOf.resource`, ASSUMPTION [INF]: where the RAML's dictionary
        keeps the entity types); {} when the dictionary has no such list."""
        return self.types_of("resource")

    def types_of(self, entity: str) -> dict[str, str]:
        """Type id → label of `data.setting.typeOf.<entity>` (resource; inactivity, ASSUMPTION [INF] of issue #29:
        that the tenant's inactivity types are listed there like the other entity types); {} when absent."""
        types = self.setting.get("typeOf")
        raw = types.get(entity) if isinstance(types, dict) else None
        if not isinstance(raw, list):
            return {}
        return {str(t["id"]): str(t.get("value") or "") for t in raw if isinstance(t, dict) and t.get("id") is not None}

    def _items(self, items, where: str, expected: str) -> list[dict]:
        if not isinstance(items, list) or not all(isinstance(t, dict) and t.get("id") is not None for t in items):
            raise self._error(where, expected)
        return items


def propose(labels: dict[str, str], kind: str) -> dict[str, str]:
    """A mapping proposed from the tenant's labels (id → case; `kind`: delivery, resource or resource_type); a label
    that says nothing is left out."""
    rules = PROPOSALS[kind]
    proposal = {}
    for state_id, label in labels.items():
        case = next((case for pattern, case in rules if pattern.search(label)), None)
        if case:
            proposal[state_id] = case
    return proposal


class LabelsAndProposals(NamedTuple):
    """The dictionary's state labels by kind, and the proposed case of each state by kind."""

    labels: dict[str, dict[str, str]]
    proposals: dict[str, dict[str, str]]


def labels_and_proposals(dictionary: Dictionary) -> LabelsAndProposals:
    """({kind: {id: label}}, {kind: {id: proposed case}}) for the delivery and resource states, and the resource
    types and the inactivity types when the dictionary has them (`resource_type`, `inactivity`: id → bench activity)."""
    labels = {kind: dictionary.states(kind) for kind in STATE_KINDS}
    for kind, entity in (("resource_type", "resource"), ("inactivity", "inactivity")):
        types = dictionary.types_of(entity)
        if types:
            labels[kind] = types
    return LabelsAndProposals(labels, {kind: propose(found, kind) for kind, found in labels.items()})
