"""Story mutations of Mission__c / pse__Assignment__c records (control API), with their notifications."""
from __future__ import annotations

from .errors import RecordError
from .records import check_reference
from .schema import KEY_PREFIX, MISSION_OBJECTS, objects
from .seed import mission_defaults
from .state import SandboxState, now_stamp
from .values import ValueTypeError, coerce

SYSTEM_FIELDS = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate")
CONTROL_KEYS = ("object", "deliver", "schedule")
SCHEDULE_DATES = ("pse__Start_Date__c", "pse__End_Date__c")


def _values(state: SandboxState, sobject: str, body: dict) -> dict:
    """Validated storage values of a control body (ValueError names the problem)."""
    fields = objects(state.config)[sobject]
    values = {}
    for name, value in body.items():
        if name in CONTROL_KEYS:
            continue
        if name not in fields or name in SYSTEM_FIELDS:
            raise ValueError(f"unknown or read-only field {name!r} on {sobject}")
        field = fields[name]
        try:
            values[name] = coerce(field, value)
        except ValueTypeError as exc:
            raise ValueError(f"{name}: expected a {field.type} value, got {value!r}") from exc
        values[name] = _checked(state, field, values[name])
    return values


def _checked(state: SandboxState, field, value):
    """Picklist and lookup checks; the stored value."""
    if value is None:
        return None
    if field.type == "picklist" and value not in field.values:
        raise ValueError(f"{field.name} must be one of {list(field.values)}")
    if field.type == "reference":
        try:
            return check_reference(state, field, value)
        except RecordError as exc:
            raise ValueError(f"{field.name}: {exc.message}") from None
    return value


def _check_dates(sobject: str, rec: dict) -> None:
    """ValueError when the end date is before the start date."""
    prefix = "pse__" if sobject == "pse__Assignment__c" else ""
    start, end = rec.get(f"{prefix}Start_Date__c"), rec.get(f"{prefix}End_Date__c")
    if start and end and end < start:
        raise ValueError("the end date must not be before the start date")


def create(state: SandboxState, body: dict) -> tuple[str, dict]:
    """Create a mission record from a control body; (object, record)."""
    sobject = body.get("object", "Mission__c")
    if sobject not in MISSION_OBJECTS:
        raise ValueError(f"object must be one of {list(MISSION_OBJECTS)}")
    with state.lock:
        values = _values(state, sobject, body)
        record_id = state.new_id(KEY_PREFIX[sobject])
        number = int(record_id[3:15])
        stamp = now_stamp()
        rec = {"Id": record_id, "IsDeleted": False, "CreatedDate": stamp, "LastModifiedDate": stamp,
               **mission_defaults(sobject, number), **values}
        _check_dates(sobject, rec)
        state.table(sobject)[record_id] = rec
        if sobject == "pse__Assignment__c":
            _new_schedule(state, rec, body.get("schedule") or {})
        return sobject, dict(rec)


def _new_schedule(state: SandboxState, assignment: dict, body: dict) -> None:
    """Certinia creates an assignment's schedule with it: the same dates unless the body's `schedule` says others."""
    schedule_id = state.new_id(KEY_PREFIX["pse__Schedule__c"])
    stamp = now_stamp()
    state.table("pse__Schedule__c")[schedule_id] = {
        "Id": schedule_id, "IsDeleted": False, "CreatedDate": stamp, "LastModifiedDate": stamp,
        "Name": f"SCH-{int(schedule_id[3:15]):05d}", **{f: assignment.get(f) for f in SCHEDULE_DATES},
        **_values(state, "pse__Schedule__c", body)}
    assignment["pse__Schedule__c"] = schedule_id


def _update_schedule(state: SandboxState, assignment: dict, values: dict, body: dict) -> None:
    """Dates moved on an assignment move its schedule too; `schedule` in the body changes the schedule alone."""
    schedule = state.table("pse__Schedule__c").get(assignment.get("pse__Schedule__c") or "")
    if schedule is None:
        return
    change = {**{f: values[f] for f in SCHEDULE_DATES if f in values}, **_values(state, "pse__Schedule__c", body)}
    if change:
        schedule.update(change)
        schedule["LastModifiedDate"] = now_stamp()


def find(state: SandboxState, record_id: str) -> tuple[str, dict]:
    """(object, live record) of a mission id; LookupError when unknown or deleted."""
    found = state.find(record_id)
    if found is None or found[0] not in MISSION_OBJECTS or found[1]["IsDeleted"]:
        raise LookupError(f"unknown mission {record_id}")
    return found


def update(state: SandboxState, record_id: str, body: dict) -> tuple[str, dict]:
    """Change fields of a mission and bump LastModifiedDate; (object, record)."""
    with state.lock:
        sobject, rec = find(state, record_id)
        values = _values(state, sobject, body)
        merged = {**rec, **values}
        _check_dates(sobject, merged)
        rec.update(values)
        rec["LastModifiedDate"] = now_stamp()
        if sobject == "pse__Assignment__c":
            _update_schedule(state, rec, values, body.get("schedule") or {})
        return sobject, dict(rec)


def delete(state: SandboxState, record_id: str) -> tuple[str, dict]:
    """Delete a mission (recycle bin: IsDeleted true, gone from /query); (object, record)."""
    with state.lock:
        sobject, rec = find(state, record_id)
        rec["IsDeleted"] = True
        rec["LastModifiedDate"] = now_stamp()
        return sobject, dict(rec)
