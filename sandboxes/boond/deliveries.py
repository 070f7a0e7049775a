"""Delivery (mission) mutations shared by the /api routes and the control API."""
from __future__ import annotations

from datetime import date

from .dialect import story_state
from .dictionary import delivery_state_ids
from .state import SandboxState, now_text


def parse_date(value, name: str) -> str:
    """A YYYY-MM-DD string, or ValueError naming the field."""
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValueError(f"{name} must be a YYYY-MM-DD date")


def parse_state(value, dialect: str = "documented") -> int:
    """A delivery state id from the dialect's dictionary, or ValueError."""
    ids = delivery_state_ids(dialect)
    if isinstance(value, bool) or not isinstance(value, int) or value not in ids:
        raise ValueError(f"state must be one of {sorted(ids)}")
    return value


def parse_rate(value) -> float:
    """An occupationRate in percent (0-100), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ValueError("occupationRate must be a number from 0 to 100")
    return float(value)


def check_order(attrs: dict) -> None:
    """ValueError when the end date is before the start date."""
    if attrs.get("startDate") and attrs.get("endDate") and attrs["endDate"] < attrs["startDate"]:
        raise ValueError("endDate must not be before startDate")


def create_delivery(state: SandboxState, body: dict) -> str:
    """Create a delivery from a control body; its new id."""
    resource, project = str(body.get("resource", "")), str(body.get("project", ""))
    if state.get("resource", resource) is None or state.get("project", project) is None:
        raise LookupError("resource and project must name seeded records")
    stamp = now_text()
    attrs = {
        "title": str(body.get("title") or f"Mission {project}"),
        "startDate": parse_date(body.get("startDate"), "startDate"),
        "endDate": parse_date(body["endDate"], "endDate") if body.get("endDate") else "",
        "state": parse_state(body.get("state", story_state(state.config.dialect, "start")), state.config.dialect),
        "typeOf": "Standard" if state.config.dialect == "observed" else 0,
        "averageDailyPriceExcludingTax": 850.0, "averageDailyCost": 493.0, "averageDailyContractCost": 493.0,
        "occupationRate": parse_rate(body.get("occupationRate", 100)), "numberOfWorkingDays": 218,
        **({"isDeleted": False} if state.config.dialect == "observed" else {}),
        "creationDate": stamp, "updateDate": stamp,
    }
    if body.get("averageDailyCost") is not None:
        attrs["averageDailyCost"] = float(body["averageDailyCost"])  # boond-api.md §10: a delivery attribute
    check_order(attrs)
    with state.lock:
        delivery_id = state.next_id("delivery")
        state.db["delivery"][delivery_id] = {"attributes": attrs, "rels": {
            "project": ("project", project), "dependsOn": ("resource", resource)}}
    return delivery_id


def update_delivery(state: SandboxState, delivery_id: str, changes: dict) -> dict:
    """Apply already-validated attribute changes, bump updateDate; the stored record."""
    with state.lock:
        rec = state.db["delivery"][delivery_id]
        merged = {**rec["attributes"], **changes}
        check_order(merged)
        rec["attributes"] = {**merged, "updateDate": now_text()}
        return rec


def delete_delivery(state: SandboxState, delivery_id: str) -> dict:
    """Remove a delivery (observed: a soft delete, `isDeleted: true` and a newer updateDate); the record."""
    with state.lock:
        if state.config.dialect == "observed":
            return update_delivery(state, delivery_id, {"isDeleted": True})
        return state.db["delivery"].pop(delivery_id)
