"""The tenant dictionary served at GET /api/application/dictionary (shape of the real one)."""
from __future__ import annotations

from .dialect import FLAT_ACTION_TYPES, OBSERVED_DELIVERY_STATES

ACTION_TYPES = {
    "resource": [
        {"id": 4, "value": "Note", "isNotification": False},
        {"id": 5, "value": "Rappel / To do", "isNotification": False},
        {"id": 9, "value": "Suivi de Mission", "isNotification": False},
        {"id": 6, "value": "Fait / Done", "isNotification": False},
        {"id": 102, "value": "Notification", "isNotification": True},
    ],
    "contact": [
        {"id": 2, "value": "Note", "isNotification": False},
        {"id": 3, "value": "Rappel / To do", "isNotification": False},
        {"id": 11, "value": "Suivi de Mission", "isNotification": False},
    ],
    "project": [
        {"id": 30, "value": "Note", "isNotification": False},
        {"id": 31, "value": "Rappel / To do", "isNotification": False},
        {"id": 32, "value": "Suivi de Mission", "isNotification": False},
    ],
    # Sandbox values (no public capture): lets an action hang on the seeded opportunity.
    "opportunity": [
        {"id": 50, "value": "Note", "isNotification": False},
        {"id": 51, "value": "Rappel / To do", "isNotification": False},
    ],
}

STATES = {
    # 0/1 come from a real tenant; 2/3/4 are an ASSUMPTION (a tenant would add such states).
    "delivery": [
        {"id": 0, "value": "Signée"},
        {"id": 1, "value": "Prévisionnelle"},
        {"id": 2, "value": "Arrêtée par le client"},
        {"id": 3, "value": "Arrêtée par le consultant"},
        {"id": 4, "value": "Annulée"},
    ],
    "resource": [{"id": 1, "value": "En cours"}, {"id": 2, "value": "Intercontrat"},
                 {"id": 0, "value": "Sortie"}],
    "project": [{"id": 1, "value": "En cours"}, {"id": 0, "value": "Archivé"}],
    "positioning": [{"id": 0, "value": "Positionné"}, {"id": 3, "value": "CV Envoyé"},
                    {"id": 4, "value": "Présenté Client"}, {"id": 1, "value": "Rejeté"},
                    {"id": 2, "value": "Gagné"}],
    # ASSUMPTION (issue #29, no public capture): a tenant's opportunity states, open ones first.
    "opportunity": [{"id": 0, "value": "En cours"}, {"id": 5, "value": "Reportée"}, {"id": 1, "value": "Gagnée"},
                    {"id": 2, "value": "Perdue"}, {"id": 3, "value": "Abandonnée"}],
}

# ASSUMPTION [INF] (issue #29, no public capture): a tenant's own inactivity types, listed like the other entity types
# under `setting.typeOf`, and carried by each inactivity as `typeOf` (docs/SANDBOXES.md).
INACTIVITY_TYPES = [{"id": 1, "value": "Intercontrat"}, {"id": 2, "value": "Projet interne"},
                    {"id": 3, "value": "Formation"}, {"id": 4, "value": "Avant-vente"},
                    {"id": 5, "value": "Congés payés"}]

DELIVERY_STATE_IDS = frozenset(item["id"] for item in STATES["delivery"])


def delivery_state_ids(dialect: str = "documented") -> frozenset[int]:
    """The delivery states the tenant's dictionary defines in this dialect."""
    if dialect == "observed":
        return frozenset(item["id"] for item in OBSERVED_DELIVERY_STATES)
    return DELIVERY_STATE_IDS


def dictionary_data(dialect: str = "documented") -> dict:
    """The `data` member of the dictionary answer (observed: flat action list, "In progress/Completed" states)."""
    if dialect == "observed":
        return {"setting": {"action": FLAT_ACTION_TYPES,
                            "state": {**STATES, "delivery": OBSERVED_DELIVERY_STATES},
                            "typeOf": {"inactivity": INACTIVITY_TYPES}}}
    return {"setting": {"action": ACTION_TYPES, "state": STATES, "typeOf": {"inactivity": INACTIVITY_TYPES}}}


def action_type_ids(entity: str, dialect: str = "documented") -> set[int]:
    """Action typeOf ids allowed on an entity type (empty when the tenant defines none)."""
    if dialect == "observed":
        return {item["id"] for item in FLAT_ACTION_TYPES}
    return {item["id"] for item in ACTION_TYPES.get(entity, [])}
