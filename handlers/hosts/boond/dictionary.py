"""A Boond tenant's dictionary (GET /application/dictionary): its action types and its state labels, in either
shape Boond was seen to answer (reference §10), and the state mapping proposed from those labels."""
from __future__ import annotations

import re

from connectors.errors import HostError

# label → proposed case; first match wins (reference §10: never assume a meaning for a state number)
DELIVERY_PROPOSALS = (
    (re.compile(r"client", re.I), "client"),
    (re.compile(r"consultant|salari|ressource|resource|d[ée]mission", re.I), "consultant"),
    (re.compile(r"annul|cancel", re.I), "cancelled"),
    (re.compile(r"termin|complet|achev|cl[ôo]tur|finish|ended|done", re.I), "natural"),
    (re.compile(r"en cours|in progress|sign|pr[ée]vision|forecast|planned|running|active", re.I), "active"),
)
RESOURCE_PROPOSALS = (
    (re.compile(r"sorti|left|parti|d[ée]part|exit|former", re.I), "left"),
    (re.compile(r"inter.?contrat|bench|intercontract", re.I), "bench"),
    (re.compile(r"en cours|in progress|actif|active|employ|mission", re.I), "active"),
)
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

    def _items(self, items, where: str, expected: str) -> list[dict]:
        if not isinstance(items, list) or not all(isinstance(t, dict) and t.get("id") is not None for t in items):
            raise self._error(where, expected)
        return items


def propose(labels: dict[str, str], kind: str) -> dict[str, str]:
    """A mapping proposed from the tenant's labels (state id → case); a state whose label says nothing is left out."""
    rules = DELIVERY_PROPOSALS if kind == "delivery" else RESOURCE_PROPOSALS
    proposal = {}
    for state_id, label in labels.items():
        case = next((case for pattern, case in rules if pattern.search(label)), None)
        if case:
            proposal[state_id] = case
    return proposal


def labels_and_proposals(dictionary: Dictionary) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """({kind: {id: label}}, {kind: {id: proposed case}}) for the delivery and resource states."""
    labels = {kind: dictionary.states(kind) for kind in STATE_KINDS}
    return labels, {kind: propose(labels[kind], kind) for kind in STATE_KINDS}
