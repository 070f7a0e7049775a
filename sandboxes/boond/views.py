"""JSON:API views of stored entities: profiles, list items and the `included` closure."""
from __future__ import annotations

from .auth import Identity
from .envelope import not_found, resource_object
from .state import SandboxState

NOT_FOUND_TEXT = {"delivery": "Delivery not found", "resource": "Resource not found",
                  "project": "Project not found", "contact": "Contact not found",
                  "company": "Company not found", "opportunity": "Opportunity not found",
                  "action": "Action not found", "inactivity": "Inactivity not found"}

DELIVERY_ITEM = ("startDate", "endDate", "state", "title", "occupationRate")  # occupationRate in the list: [INF]
INACTIVITY_ITEM = ("startDate", "endDate", "title", "inactivityType", "typeOf")  # typeOf: ASSUMPTION [INF] (#29)


def require(state: SandboxState, kind: str, entity_id: str) -> dict:
    """The stored entity, or the 404 Boond answers."""
    rec = state.get(kind, entity_id)
    if rec is None:
        raise not_found(NOT_FOUND_TEXT.get(kind, "Not found"))
    return rec


def profile(state: SandboxState, kind: str, entity_id: str) -> dict:
    """Full resource object of an entity."""
    return resource_object(kind, entity_id, require(state, kind, entity_id))


def delivery_item(entity_id: str, rec: dict) -> dict:
    """A delivery as listed in deliveries-inactivities."""
    return resource_object("delivery", entity_id, rec, only=DELIVERY_ITEM, rels=("project",))


def inactivity_item(entity_id: str, rec: dict) -> dict:
    """An inactivity as listed in deliveries-inactivities (reference §4: startDate, endDate, title, inactivityType)."""
    return resource_object("inactivity", entity_id, rec, only=INACTIVITY_ITEM, rels=("resource",))


def included_closure(state: SandboxState, kind: str, entity_id: str) -> list[dict]:
    """Every entity reachable through relationships, as resource objects (the root excluded)."""
    seen: set[tuple[str, str]] = {(kind, entity_id)}
    queue = [(kind, entity_id)]
    found = []
    while queue:
        rec = state.get(*queue.pop(0))
        for ref in (rec or {"rels": {}})["rels"].values():
            if ref is None or ref in seen or state.get(*ref) is None:
                continue
            seen.add(ref)
            queue.append(ref)
            found.append(resource_object(ref[0], ref[1], state.get(*ref)))
    return found


def current_user(state: SandboxState, identity: Identity) -> dict:
    """The `currentuser` object of the calling userToken."""
    rec = require(state, "resource", identity.resource_id)
    attrs = {key: rec["attributes"][key] for key in ("firstName", "lastName", "email1")}
    attrs.update({"language": "fr", "login": attrs["email1"], "userToken": identity.user_token,
                  "level": "administrator" if identity.resource_id == "1" else "manager",
                  "timezone": "Europe/Paris"})
    return {"id": identity.resource_id, "type": "currentuser", "attributes": attrs,
            "relationships": {}}
