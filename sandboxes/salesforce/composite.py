"""sObject Collections (create, update, upsert ≤ 200 records, delete ≤ 200 ids) and Composite (≤ 25 subrequests,
≤ 5 of them collections or queries), one API call each."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, current_app, jsonify, request

from . import records
from .describe import canonical_path
from .errors import RecordError, SfError, json_parser_error, not_found
from .faults import apply_slow, fault_error, take_fault
from .rest import json_body
from .schema import object_named
from .state import API_PREFIX, VERSION_KEY, SandboxState

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


# Composite: up to 25 subrequests in one API call ---------------------------------------------

MAX_SUBREQUESTS = 25
MAX_COLLECTION_SUBREQUESTS = 5  # sObject Collections, query and queryAll subrequests
SUBREQUEST_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD"}
SUBREQUEST_FAULTS = {"500", "503", "slow"}  # drop, 401 and limit concern the whole HTTP call
_COLLECTION_URL = re.compile(r"/services/data/v\d+\.\d+/(composite/sobjects|query|queryAll)(?=[/?]|\Z)")
_REFERENCE_ID = re.compile(r"[A-Za-z0-9_]+\Z")
HALTED = [{"errorCode": "PROCESSING_HALTED",
           "message": "The transaction was rolled back since another operation in the same transaction failed."}]


@dataclass(frozen=True)
class Subrequest:
    """One entry of `compositeRequest`."""

    method: str
    url: str
    reference_id: str
    body: object = None
    has_body: bool = False


def _subrequests() -> tuple[list[Subrequest], bool]:
    """(subrequests, allOrNone) of a composite body; a malformed body or a limit exceeded raises SfError (400)."""
    body, _ = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list) \
            or not body["compositeRequest"]:
        raise json_parser_error("Cannot deserialize instance of composite request: 'compositeRequest' must be a "
                                "non-empty list at [line:1, column:1]")
    for flag in ("allOrNone", "collateSubrequests"):
        if not isinstance(body.get(flag, False), bool):
            raise json_parser_error(f"Cannot deserialize instance of boolean for {flag} at [line:1, column:1]")
    items, seen, subs = body["compositeRequest"], set(), []
    if len(items) > MAX_SUBREQUESTS:
        raise SfError(400, "LIMIT_EXCEEDED", f"Limit Exceeded: a composite request can have at most "
                      f"{MAX_SUBREQUESTS} subrequests, not {len(items)}.")
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) \
                or str(item.get("method", "")).upper() not in SUBREQUEST_METHODS:
            raise json_parser_error(f"Subrequest {n}: 'method' must be one of "
                                    f"{', '.join(sorted(SUBREQUEST_METHODS))} and 'url' a string")
        ref = item.get("referenceId")
        if not isinstance(ref, str) or not _REFERENCE_ID.match(ref) or ref in seen:
            raise json_parser_error(f"Subrequest {n}: 'referenceId' must be a unique name of letters, digits "
                                    f"and underscores, not {ref!r}")
        seen.add(ref)
        subs.append(Subrequest(item["method"].upper(), item["url"], ref, item.get("body"), "body" in item))
    collections = sum(1 for s in subs if _COLLECTION_URL.match(s.url))
    if collections > MAX_COLLECTION_SUBREQUESTS:
        raise SfError(400, "LIMIT_EXCEEDED", f"Limit Exceeded: a composite request can have at most "
                      f"{MAX_COLLECTION_SUBREQUESTS} sObject Collections or query subrequests, not {collections}.")
    return subs, body.get("allOrNone", False)


def _forced_all_or_none(sub: Subrequest) -> Subrequest:
    """The subrequest with its own allOrNone set (a composite allOrNone overrides the collections' flag)."""
    found = _COLLECTION_URL.match(sub.url)
    if found is None or found.group(1) != "composite/sobjects":
        return sub
    if sub.method == "DELETE":
        parts = urlsplit(sub.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "allOrNone"] + [("allOrNone", "true")]
        return replace(sub, url=urlunsplit(parts._replace(query=urlencode(query, safe=","))))
    if isinstance(sub.body, dict):
        return replace(sub, body={**sub.body, "allOrNone": True})
    return sub


def _dispatch(sub: Subrequest) -> tuple[int, object]:
    """Run one subrequest through the sandbox's own routes: (status, JSON body or None)."""
    parts = urlsplit(sub.url)
    path = canonical_path(parts.path) or ""
    if not path.startswith(API_PREFIX + "/") or path == API_PREFIX + "/composite":
        return 404, not_found().body()  # outside the served versions (or a composite in a composite)
    version = parts.path.split("/")[3]  # canonical_path checked it: /services/data/vNN.0/…
    sub = replace(sub, url=urlunsplit(parts._replace(path=path)))
    outer = (request.method, request.path)
    fault = take_fault(sandbox(), sub.method, path,
                       only=lambda f: f.kind in SUBREQUEST_FAULTS and not f.matches(*outer))
    if fault is not None:
        apply_slow(fault)
        error = fault_error(fault)
        if error is not None:
            return error.status, error.body()
    app = current_app._get_current_object()
    extra = {"data": json.dumps(sub.body), "content_type": "application/json"} if sub.has_body else {}
    with app.test_request_context(sub.url, method=sub.method, base_url=request.host_url,
                                  environ_overrides={VERSION_KEY: version},
                                  headers={"Authorization": request.headers.get("Authorization", "")}, **extra):
        try:
            response = app.make_response(app.dispatch_request())
        except Exception as exc:  # noqa: BLE001 - every error becomes this subrequest's answer, as in Salesforce
            response = app.make_response(app.handle_user_exception(exc))
        data = response.get_data()
        return response.status_code, (json.loads(data) if data else None)


def _failed(status: int, body) -> bool:
    """True when a subrequest failed: an error status, or a record refused in a collection."""
    return status >= 400 or (isinstance(body, list) and any(
        isinstance(item, dict) and item.get("success") is False for item in body))


_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_.\[\]]+)\}")


def _resolved(sub: Subrequest, refs: dict[str, object]) -> Subrequest:
    """`@{refId.field}` in the url and body replaced by an earlier subrequest's answer (unknown ones kept as is)."""
    def value(match: re.Match) -> str:
        found = refs.get(match.group(1))
        for part in re.findall(r"[^.\[\]]+", match.group(2)):
            if isinstance(found, list) and part.isdigit() and int(part) < len(found):
                found = found[int(part)]
            elif isinstance(found, dict):
                found = found.get(part)
            else:
                return match.group(0)
        return match.group(0) if found is None or isinstance(found, (dict, list)) else str(found)

    body = json.loads(_REFERENCE.sub(value, json.dumps(sub.body))) if sub.has_body else sub.body
    return replace(sub, url=_REFERENCE.sub(value, sub.url), body=body)


@bp.post("/composite")
def composite():
    """Run up to 25 subrequests in order as ONE API call; top-level 200 with each subrequest's status and body."""
    subs, all_or_none = _subrequests()
    state = sandbox()
    answers: list[tuple[int, object] | None] = []
    refs: dict[str, object] = {}
    if not all_or_none:
        for sub in subs:
            answers.append(_dispatch(_resolved(sub, refs)))
            refs[sub.reference_id] = answers[-1][1]
    else:
        with state.lock:  # reentrant: the subrequests' own handlers take it too
            saved = records.snapshot(state)
            for sub in subs:
                answers.append(_dispatch(_forced_all_or_none(_resolved(sub, refs))))
                refs[sub.reference_id] = answers[-1][1]
                if _failed(*answers[-1]):
                    records.rollback(state, saved)
                    break
            failed = len(answers) - 1 if _failed(*answers[-1]) else None
            if failed is not None:
                answers = [a if n == failed else (400, HALTED) for n, a in enumerate(answers)]
                answers += [(400, HALTED)] * (len(subs) - len(answers))
    return jsonify({"compositeResponse": [
        {"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": sub.reference_id}
        for sub, (status, body) in zip(subs, answers)]})
