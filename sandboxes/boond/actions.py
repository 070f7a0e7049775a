"""Validation of action bodies as real Boond does it (POST/PUT /api/actions)."""
from __future__ import annotations

import re

from .dictionary import action_type_ids
from .envelope import BoondError, invalid
from .state import SandboxState

PARENT_TYPES = ("candidate", "contact", "resource", "opportunity", "project", "order", "invoice")
DEPENDS_ON = "/data/relationships/dependsOn"
MAIN_MANAGER = "/data/relationships/mainManager"
MISSING_PARENT = ("2303 - One of the following must be set: candidate, contact, invoice, "
                  "opportunity, order, project or resource")
KNOWN_ATTRIBUTES = {"typeOf", "title", "text", "description", "startDate", "endDate", "state",
                    "status", "startTimezone", "endTimezone", "location"}
KNOWN_RELATIONSHIPS = {"dependsOn", "mainManager"}
REJECTED_ATTRIBUTES = ("subject", "content")
MAX_LENGTHS = {"title": 8192, "text": 65000, "description": 1000}
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}[+-]\d{4})?$")


def _member(data: dict, name: str) -> dict:
    """`attributes` or `relationships` of the body, which must be an object when present."""
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise invalid(f"/data/{name}")
    return value


def _ref(relationships: dict, name: str) -> dict | None:
    """The `data` of a to-one relationship, or None when absent or null."""
    member = relationships.get(name)
    if member is None:
        return None
    data = member.get("data") if isinstance(member, dict) else "bad"
    if data is not None and not isinstance(data, dict):
        raise invalid(f"/data/relationships/{name}")
    return data


def _parent(state: SandboxState, relationships: dict, existing: dict | None) -> tuple[str, str]:
    """The (type, id) the action depends on, validated; 2303 when missing on create."""
    data = _ref(relationships, "dependsOn")
    if data is None:
        if existing is None or "dependsOn" in relationships:
            raise BoondError(422, MISSING_PARENT, code="2303", logged=True)
        return existing["rels"]["dependsOn"]
    ref = (str(data.get("type", "")), str(data.get("id", "")))
    if ref[0] not in PARENT_TYPES or state.get(*ref) is None:
        raise invalid(DEPENDS_ON)
    return ref


def _type_of(value, parent_type: str, dialect: str) -> int:
    """The typeOf as an int, allowed by the dictionary for the parent's entity type."""
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise invalid("typeOf")
    type_of = int(value)
    if type_of not in action_type_ids(parent_type, dialect):
        raise invalid("typeOf")
    return type_of


def _check_attribute(name: str, value) -> None:
    """Length and format rules of one known attribute."""
    if name in MAX_LENGTHS and (not isinstance(value, str) or len(value) > MAX_LENGTHS[name]):
        raise invalid(name)
    if name in ("startDate", "endDate") and not (isinstance(value, str) and DATETIME.match(value)):
        raise invalid(name)


def _clean_attributes(attributes: dict, debug: bool) -> dict:
    """Known attributes checked; unknown ones dropped (422 under the debug header)."""
    for name in REJECTED_ATTRIBUTES:
        if name in attributes:
            raise invalid(name)
    clean = {}
    for name, value in attributes.items():
        if name not in KNOWN_ATTRIBUTES:
            if debug:
                raise invalid(name)
            continue
        if name != "typeOf":
            _check_attribute(name, value)
        clean[name] = value
    return clean


def _main_manager(state: SandboxState, relationships: dict) -> tuple[str, str] | None:
    """The mainManager resource, validated."""
    data = _ref(relationships, "mainManager")
    if data is None:
        return None
    ref = (str(data.get("type", "")), str(data.get("id", "")))
    if ref[0] != "resource" or state.get(*ref) is None:
        raise invalid(MAIN_MANAGER)
    return ref


def parse_action(state: SandboxState, body, *, debug: bool,
                 existing: dict | None = None) -> tuple[dict, dict]:
    """(attributes, relationships) to store, or the BoondError Boond answers."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise invalid("data")
    attributes, relationships = _member(data, "attributes"), _member(data, "relationships")
    if existing is None and attributes.get("typeOf") in (None, ""):
        raise invalid("typeOf", code="1017")
    parent = _parent(state, relationships, existing)
    type_of = attributes.get("typeOf", existing and existing["attributes"]["typeOf"])
    type_of = _type_of(type_of, parent[0], state.config.dialect)
    clean = {**_clean_attributes(attributes, debug), "typeOf": type_of}
    if debug and set(relationships) - KNOWN_RELATIONSHIPS:
        raise invalid(f"/data/relationships/{sorted(set(relationships) - KNOWN_RELATIONSHIPS)[0]}")
    rels = {"dependsOn": parent}
    if "mainManager" in relationships:
        rels["mainManager"] = _main_manager(state, relationships)
    return clean, rels
