"""sObject Collections: create, update, upsert (≤ 200 records) and delete (≤ 200 ids), one API call each."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from . import records
from .errors import RecordError, SfError, json_parser_error, not_found
from .rest import json_body
from .schema import object_named
from .state import API_PREFIX, SandboxState

bp = Blueprint("salesforce_composite", __name__, url_prefix=API_PREFIX)

MAX_RECORDS = 200
ROLLED_BACK = RecordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records "
                          "were valid and the request was using AllOrNone header", [])


def sandbox() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["salesforce_sandbox"]


def too_many() -> SfError:
    """400 EXCEEDED_ID_LIMIT."""
    return SfError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into "
                   "this call")


def _collection() -> tuple[list[dict], bool, str]:
    """(records, allOrNone, raw body) of a collections request; whole-request errors raise SfError."""
    body, raw = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise json_parser_error("Cannot deserialize instance of sobject collection: 'records' must be a list "
                                "at [line:1, column:1]")
    if len(body["records"]) > MAX_RECORDS:
        raise too_many()
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise json_parser_error("Cannot deserialize instance of boolean for allOrNone at [line:1, column:1]")
    return body["records"], all_or_none, raw


def _typed(item, raw: str) -> tuple[str, dict]:
    """(object, values) of one collection record; whole-request errors for a missing type or bad JSON."""
    if not isinstance(item, dict):
        raise json_parser_error("Cannot deserialize instance of sobject from a non-object value "
                                "at [line:1, column:1]")
    name = (item.get("attributes") or {}).get("type")
    if not name:
        raise SfError(400, "INVALID_TYPE", "Must send a concrete entity type.")
    sobject = object_named(sandbox().config, name)
    if sobject is None:
        raise SfError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported.")
    return sobject, records.parse_values(sandbox(), sobject, item, raw)


def _result(outcome) -> dict:
    """One SaveResult / UpsertResult / DeleteResult."""
    if isinstance(outcome, RecordError):
        return {"success": False, "errors": [outcome.item()]}
    record_id, created = outcome
    result = {"id": record_id, "success": True, "errors": []}
    if created is not None:
        result["created"] = created
    return result


def _run(operations: list, all_or_none: bool) -> list[dict]:
    """Apply operations in order under the lock; with allOrNone, any failure rolls every write back."""
    state = sandbox()
    with state.lock:
        saved = records.snapshot(state) if all_or_none else None
        outcomes = []
        for operation in operations:
            try:
                outcomes.append(operation())
            except RecordError as exc:
                outcomes.append(exc)
        if all_or_none and any(isinstance(o, RecordError) for o in outcomes):
            records.rollback(state, saved)
            outcomes = [o if isinstance(o, RecordError) else ROLLED_BACK for o in outcomes]
    return [_result(o) for o in outcomes]


@bp.post("/composite/sobjects")
def create_many():
    """Create up to 200 records (mixed types allowed); per-record results in order."""
    items, all_or_none, raw = _collection()
    typed = [_typed(item, raw) for item in items]
    operations = [lambda s=s, v=v: (records.insert(sandbox(), s, v), None) for s, v in typed]
    return jsonify(_run(operations, all_or_none))


def _update_one(values: dict):
    """Update one record named by its Id."""
    if not values.get("Id"):
        raise RecordError("MISSING_ARGUMENT", "Id not specified in an update call", [])
    return records.update(sandbox(), values["Id"], values), None


@bp.patch("/composite/sobjects")
def update_many():
    """Update up to 200 records, each carrying its Id."""
    items, all_or_none, raw = _collection()
    typed = [_typed(item, raw) for item in items]
    return jsonify(_run([lambda v=v: _update_one(v) for _, v in typed], all_or_none))


@bp.delete("/composite/sobjects")
def delete_many():
    """Delete up to 200 ids (?ids=a,b&allOrNone=false)."""
    ids = [i for i in request.args.get("ids", "").split(",") if i]
    if not ids:
        raise SfError(400, "MISSING_ARGUMENT", "ids parameter is required")
    if len(ids) > MAX_RECORDS:
        raise too_many()
    all_or_none = request.args.get("allOrNone", "false").lower() == "true"
    return jsonify(_run([lambda i=i: (records.delete(sandbox(), i), None) for i in ids], all_or_none))


def _upsert_one(sobject: str, name: str, values: dict, seen: dict):
    """Upsert one record by its external-id value."""
    key = values.get(name)
    if key in (None, ""):
        raise RecordError("MISSING_ARGUMENT", f"{name} not specified", [name])
    if seen[key] > 1:
        raise RecordError("DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {key}", [name])
    rest = {k: v for k, v in values.items() if k != name}
    return records.upsert(sandbox(), sobject, name, key, rest)


@bp.patch("/composite/sobjects/<sobject>/<field>")
def upsert_many(sobject, field):
    """Upsert up to 200 records of one object by an external-id field; results carry `created`."""
    canonical = object_named(sandbox().config, sobject)
    if canonical is None:
        raise not_found()
    ext = records.ext_id_field(sandbox(), canonical, field)
    if ext is None:
        raise SfError(400, "INVALID_FIELD", f"Provided external ID field does not exist or is not accessible: "
                      f"{field}")
    items, all_or_none, raw = _collection()
    typed = [_typed(item, raw) for item in items]
    if any(s != canonical for s, _ in typed):
        raise SfError(400, "INVALID_TYPE", f"Every record must be of type {canonical} in this upsert call.")
    seen: dict = {}
    for _, values in typed:
        seen[values.get(ext.name)] = seen.get(values.get(ext.name), 0) + 1
    operations = [lambda v=v: _upsert_one(canonical, ext.name, v, seen) for _, v in typed]
    return jsonify(_run(operations, all_or_none))
