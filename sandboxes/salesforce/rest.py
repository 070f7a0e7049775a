"""REST resources: versions, limits, query, sObject rows (GET/POST/PATCH/DELETE), upsert by external id, describe."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request

from . import records
from .errors import RecordError, SfError, json_parser_error, no_such_column, not_found
from .describe import full, versions_list
from .query import more, page, run
from .schema import field_named, object_named, objects, record_url
from .state import API_PREFIX, SandboxState, api_prefix
from .values import rest_value

bp = Blueprint("salesforce_rest", __name__, url_prefix=API_PREFIX)
root = Blueprint("salesforce_root", __name__)


def sandbox() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["salesforce_sandbox"]


def json_body() -> tuple[object, str]:
    """(parsed JSON, raw text); JSON_PARSER_ERROR when the body is not JSON."""
    raw = request.get_data(as_text=True)
    try:
        return json.loads(raw), raw
    except ValueError as exc:
        raise json_parser_error(f"Unexpected character: {exc.msg} at [line:{exc.lineno}, column:{exc.colno}]") from exc


def record_body() -> tuple[dict, str]:
    """A JSON object body."""
    body, raw = json_body()
    if not isinstance(body, dict):
        raise json_parser_error("Cannot deserialize instance of sobject from START_ARRAY value "
                                "at [line:1, column:1]")
    return body, raw


def sobject_or_404(name: str) -> str:
    """The canonical object name, or 404 NOT_FOUND (unknown, or not available in this org)."""
    found = object_named(sandbox().config, name)
    if found is None:
        raise not_found()
    return found


def render(sobject: str, rec: dict, names: list[str] | None = None) -> dict:
    """A record as GET /sobjects returns it: attributes, then every field (or the chosen ones)."""
    fields = objects(sandbox().config)[sobject]
    chosen = [fields[n] for n in fields] if names is None else [_field(sobject, n) for n in names]
    out = {"attributes": {"type": sobject, "url": record_url(sobject, rec["Id"])}}
    out.update({f.name: rest_value(f, rec.get(f.name)) for f in chosen})
    return out


def _field(sobject: str, name: str):
    """A field by name; 400 INVALID_FIELD when unknown."""
    found = field_named(sandbox().config, sobject, name.strip())
    if found is None:
        raise no_such_column(name.strip(), sobject)
    return found


def live_or_404(sobject: str, record_id: str) -> dict:
    """A live record of that object; 404 NOT_FOUND, or 404 ENTITY_IS_DELETED for a deleted one."""
    found = sandbox().find(record_id)
    if found is None or found[0] != sobject:
        raise not_found()
    if found[1]["IsDeleted"]:
        raise SfError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
    return found[1]


@root.get("/services/data", strict_slashes=False)
def versions():
    """Available API versions (no session needed)."""
    return jsonify(versions_list())


@bp.get("/limits")
def limits():
    """Org limits: the daily API allocation as the pipeline counts it, and a few fixed others."""
    state = sandbox()
    with state.lock:
        used, limit = state.api_used, state.config.daily_api_limit
    return jsonify({"ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
                    "DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - used)},
                    "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
                    "DataStorageMB": {"Max": 5, "Remaining": 5}})


@bp.get("/query")
def query():
    """SOQL query, first batch."""
    rows = run(sandbox(), request.args.get("q", ""))
    return jsonify(page(sandbox(), rows, None, 0))


@bp.get("/queryAll")
def query_all():
    """SOQL query including deleted records (IsDeleted = true)."""
    rows = run(sandbox(), request.args.get("q", ""), include_deleted=True)
    return jsonify(page(sandbox(), rows, None, 0))


@bp.get("/query/<locator>")
@bp.get("/queryAll/<locator>")
def query_more(locator):
    """The next batch of a query or queryAll (nextRecordsUrl)."""
    return jsonify(more(sandbox(), locator))


@bp.get("/sobjects/<sobject>/describe")
def describe(sobject):
    """The object's summary (keyPrefix, CRUD flags, urls) and its fields: type, length, external id, picklists."""
    return jsonify(full(sobject_or_404(sobject)))


@bp.get("/sobjects/<sobject>/<record_id>")
def get_record(sobject, record_id):
    """One record; `?fields=a,b` limits the fields."""
    sobject = sobject_or_404(sobject)
    names = request.args.get("fields")
    with sandbox().lock:
        rec = live_or_404(sobject, record_id)
        return jsonify(render(sobject, rec, names.split(",") if names else None))


@bp.post("/sobjects/<sobject>")
def create(sobject):
    """Create one record: 201 {"id","success","errors"}."""
    sobject = sobject_or_404(sobject)
    body, raw = record_body()
    values = records.parse_values(sandbox(), sobject, body, raw)
    try:
        record_id = records.insert(sandbox(), sobject, values)
    except RecordError as exc:
        raise exc.as_sf_error() from None
    return jsonify({"id": record_id, "success": True, "errors": []}), 201


@bp.patch("/sobjects/<sobject>/<record_id>")
def patch(sobject, record_id):
    """Update one record: 204."""
    sobject = sobject_or_404(sobject)
    body, raw = record_body()
    values = records.parse_values(sandbox(), sobject, body, raw)
    with sandbox().lock:
        live_or_404(sobject, record_id)
        try:
            records.update(sandbox(), record_id, values)
        except RecordError as exc:
            raise exc.as_sf_error() from None
    return Response(status=204)


@bp.delete("/sobjects/<sobject>/<record_id>")
def remove(sobject, record_id):
    """Delete one record (to the recycle bin): 204."""
    sobject = sobject_or_404(sobject)
    with sandbox().lock:
        live_or_404(sobject, record_id)
        try:
            records.delete(sandbox(), record_id)
        except RecordError as exc:
            raise exc.as_sf_error() from None
    return Response(status=204)


def _ext_field(sobject: str, name: str) -> str:
    """The canonical external-id field, or 404 NOT_FOUND (unknown or not an external id)."""
    found = records.ext_id_field(sandbox(), sobject, name)
    if found is None:
        raise not_found()
    return found.name


@bp.get("/sobjects/<sobject>/<field>/<path:key>")
def get_by_ext_id(sobject, field, key):
    """One record by external id."""
    sobject = sobject_or_404(sobject)
    name = _ext_field(sobject, field)
    with sandbox().lock:
        rec = next((r for r in sandbox().table(sobject).values()
                    if not r["IsDeleted"] and r.get(name) == key), None)
        if rec is None:
            raise not_found()
        return jsonify(render(sobject, rec))


@bp.patch("/sobjects/<sobject>/<field>/<path:key>")
def upsert(sobject, field, key):
    """Upsert by external id: 201 created, 200 updated (API 46.0+: body with created false)."""
    sobject = sobject_or_404(sobject)
    name = _ext_field(sobject, field)
    body, raw = record_body()
    values = records.parse_values(sandbox(), sobject, body, raw)
    if name in values:
        raise SfError(400, "INVALID_FIELD", f"{name}: the external id field is in the URL; it must not be "
                      "in the body", [name])
    with sandbox().lock:
        exists = any(not r["IsDeleted"] and r.get(name) == key for r in sandbox().table(sobject).values())
        if not exists and request.args.get("updateOnly") == "true":
            raise not_found()
        try:
            record_id, created = records.upsert(sandbox(), sobject, name, key, values)
        except RecordError as exc:
            raise exc.as_sf_error() from None
    body = {"id": record_id, "success": True, "errors": [], "created": created}
    return jsonify(body), 201 if created else 200


@bp.get("/")
def resources():
    """The resource directory of the version."""
    names = ("limits", "query", "queryAll", "sobjects", "composite")
    return jsonify({n: f"{api_prefix()}/{n}" for n in names})

