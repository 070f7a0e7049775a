"""Record writes (DML) with Salesforce's validation: insert, update, upsert, delete, rollback."""
from __future__ import annotations

import copy
import uuid

from flask import has_request_context, request

from .errors import RecordError, SfError, json_parser_error
from .schema import (EXT_ID_FIELD, KEY_PREFIX, WRITABLE_OBJECTS, Field, field_named, object_of_id,
                     objects)
from .state import INTEGRATION_USER, SandboxState, now_stamp
from .values import ValueTypeError, coerce, is_record_id, json_column

LABELS = {"OwnerId": "Assigned To ID", "WhoId": "Name ID", "WhatId": "Related To ID",
          "SurveyId": "Survey ID", "ParticipantId": "Participant ID"}
DEFAULTS = {
    "Task": {"Subject": None, "ActivityDate": None, "Status": "Not Started", "Priority": "Normal",
             "OwnerId": INTEGRATION_USER, "WhoId": None, "WhatId": None, "Description": None,
             "IsReminderSet": False, "ReminderDateTime": None},
    "SurveyInvitation": {"Name": None, "SurveyId": None, "ParticipantId": None, "CommunityId": None,
                         "OptionsAllowGuestUserResponse": False,
                         "OptionsAllowParticipantAccessTheirResponse": False,
                         "OptionsCollectAnonymousResponse": False, "InviteExpiryDateTime": None,
                         "OwnerId": INTEGRATION_USER},
}
REQUIRED = {"SurveyInvitation": ("Name", "SurveyId")}
CLOSED_TASK_STATUSES = ("Completed",)  # the org's TaskStatus picklist values marked "Closed"


# Whole-request checks (the request is refused before any record is written) ---------------

def parse_values(state: SandboxState, sobject: str, body: dict, raw: str = "") -> dict:
    """Canonical field names and storage values of a JSON record; SfError for unknown fields or bad JSON types."""
    values = {}
    for name, value in body.items():
        if name == "attributes":
            continue
        found = field_named(state.config, sobject, name)
        if found is None:
            raise SfError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
        try:
            values[found.name] = coerce(found, value)
        except ValueTypeError as exc:
            raise json_parser_error(f"{exc} at [line:1, column:{json_column(raw, value)}]", found.name) from None
    return values


# Per-record validation ------------------------------------------------------------------------

def check_reference(state: SandboxState, field: Field, value: str) -> str:
    """The 18-char id of an existing, live record of an allowed type; RecordError otherwise."""
    if not is_record_id(value):
        label = LABELS.get(field.name, field.name)
        raise RecordError("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [field.name])
    found = state.find(value)
    if found is None or found[0] not in field.refs:
        raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [field.name])
    if found[1].get("IsDeleted"):
        raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [field.name])
    return found[1]["Id"]


def _check_value(state: SandboxState, field: Field, value):
    """A validated value (references normalised to 18 chars); RecordError otherwise."""
    if field.type == "picklist" and value not in field.values:
        raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          f"{field.name}: bad value for restricted picklist field: {value}", [field.name])
    if value is None:
        return None
    if field.length and isinstance(value, str) and len(value) > field.length:
        raise RecordError("STRING_TOO_LONG", f"{field.name}: data value too large: {value[:60]} "
                          f"(max length={field.length})", [field.name])
    if field.type == "reference":
        return check_reference(state, field, value)
    return value


def _check_unique(state: SandboxState, sobject: str, values: dict, own_id: str | None) -> None:
    """DUPLICATE_VALUE when another live record holds a unique field's value."""
    for name, field in objects(state.config)[sobject].items():
        value = values.get(name)
        if not field.unique or value is None:
            continue
        for rid, rec in state.table(sobject).items():
            if rid != own_id and not rec["IsDeleted"] and rec.get(name) == value:
                raise RecordError("DUPLICATE_VALUE", f"duplicate value found: {name} duplicates value on "
                                  f"record with id: {rid}", [])


def validate(state: SandboxState, sobject: str, values: dict, own_id: str | None = None) -> dict:
    """Checked values for a write of `values` to `sobject`; RecordError on the first failure."""
    if sobject not in WRITABLE_OBJECTS:
        raise RecordError("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", [])
    fields = objects(state.config)[sobject]
    locked = [n for n in values if not fields[n].writable and n != "Id"]
    if locked:
        raise RecordError("INVALID_FIELD_FOR_INSERT_UPDATE", f"Unable to create/update fields: "
                          f"{', '.join(locked)}. Please check the security settings of this field and verify "
                          "that it is read/write for your profile or permission set.", locked)
    checked = {n: _check_value(state, fields[n], v) for n, v in values.items() if n != "Id"}
    _check_unique(state, sobject, checked, own_id)
    return checked


# Writes -----------------------------------------------------------------------------------

def _derived(state: SandboxState, sobject: str, rec: dict) -> None:
    """Read-only fields Salesforce computes (Task IsClosed; SurveyInvitation link, status, participant ids)."""
    if sobject == "Task":
        rec["IsClosed"] = rec.get("Status") in CLOSED_TASK_STATUSES
        return
    if sobject != "SurveyInvitation":
        return
    base = request.url_root.rstrip("/") if has_request_context() else ""
    survey = state.table("Survey").get(rec["SurveyId"] or "", {})
    rec.setdefault("InvitationLink", f"{base}/survey/runtimeApp.app?invitationId={rec['Id']}"
                   f"&surveyName={survey.get('DeveloperName', '')}&UUID={uuid.uuid4()}")
    rec.setdefault("ResponseStatus", "NotStarted")
    participant = object_of_id(rec.get("ParticipantId") or "")
    rec["ContactId"] = rec["ParticipantId"] if participant == "Contact" else None
    rec["UserId"] = rec["ParticipantId"] if participant == "User" else None


def insert(state: SandboxState, sobject: str, values: dict) -> str:
    """Create a record; its new id. RecordError on validation failure."""
    if "Id" in values:
        raise RecordError("INVALID_FIELD", "cannot specify Id in an insert call", [])
    with state.lock:
        checked = validate(state, sobject, values)
        merged = {**DEFAULTS.get(sobject, {}), **checked}
        missing = [n for n in REQUIRED.get(sobject, ()) if merged.get(n) in (None, "")]
        if missing:
            raise RecordError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                              missing)
        record_id, stamp = state.new_id(KEY_PREFIX[sobject]), now_stamp()
        rec = {"Id": record_id, "IsDeleted": False, "CreatedDate": stamp, "LastModifiedDate": stamp, **merged}
        _derived(state, sobject, rec)
        state.table(sobject)[record_id] = rec
    return record_id


def live_record(state: SandboxState, record_id, *, field: str = "Id") -> tuple[str, dict]:
    """(object, record) of a live record by id; RecordError for malformed, unknown or deleted ids."""
    if not is_record_id(record_id):
        raise RecordError("MALFORMED_ID", f"malformed id {record_id}", [field] if field else [])
    found = state.find(record_id)
    if found is None:
        raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
    if found[1]["IsDeleted"]:
        raise RecordError("ENTITY_IS_DELETED", "entity is deleted", [])
    return found


def update(state: SandboxState, record_id: str, values: dict) -> str:
    """Update a live record; its 18-char id. RecordError on failure."""
    with state.lock:
        sobject, rec = live_record(state, record_id)
        if values.get("Id") not in (None, rec["Id"], rec["Id"][:15]):
            raise RecordError("INVALID_FIELD", "Id in the body does not match the record", ["Id"])
        checked = validate(state, sobject, values, rec["Id"])
        rec.update(checked)
        rec["LastModifiedDate"] = now_stamp()
        _derived(state, sobject, rec)
        return rec["Id"]


def upsert(state: SandboxState, sobject: str, ext_field: str, key: str, values: dict) -> tuple[str, bool]:
    """Update the live record whose ext-id equals key, or create one; (id, created)."""
    with state.lock:
        matches = [rid for rid, rec in state.table(sobject).items()
                   if not rec["IsDeleted"] and rec.get(ext_field) == key]
        if len(matches) > 1:
            raise RecordError("MULTIPLE_CHOICES", f"More than one record found for external id field "
                              f"{ext_field} with value {key}", [ext_field], status=300)
        if matches:
            return update(state, matches[0], values), False
        return insert(state, sobject, {**values, ext_field: key}), True


def delete(state: SandboxState, record_id) -> str:
    """Move a live record to the recycle bin (IsDeleted); its id. RecordError on failure."""
    with state.lock:
        sobject, rec = live_record(state, record_id, field="")
        if sobject not in WRITABLE_OBJECTS:
            raise RecordError("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", [])
        rec["IsDeleted"] = True
        rec["LastModifiedDate"] = now_stamp()
        return rec["Id"]


def snapshot(state: SandboxState) -> dict:
    """A copy of the writable tables and id counters, to roll an allOrNone call back."""
    with state.lock:
        return {"tables": {n: copy.deepcopy(state.table(n)) for n in WRITABLE_OBJECTS},
                "next": dict(state._next)}


def rollback(state: SandboxState, saved: dict) -> None:
    """Restore a snapshot."""
    with state.lock:
        state.db.update(saved["tables"])
        state._next = saved["next"]


def ext_id_field(state: SandboxState, sobject: str, name: str) -> Field | None:
    """The external-id field of an object by name, or None when the org has no such field."""
    found = field_named(state.config, sobject, name)
    return found if found is not None and found.external_id else None


__all__ = ["EXT_ID_FIELD", "parse_values", "insert", "update", "upsert", "delete", "snapshot", "rollback",
           "live_record", "check_reference", "ext_id_field"]
