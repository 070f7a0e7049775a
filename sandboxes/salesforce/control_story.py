"""The /_control story routes: trigger targets, missions and their notifications, the outbox."""
from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from . import delivery, missions, pubsub
from .control import ControlError, base_url, body, sandbox
from .values import parse_date
from .outbound import secret_key
from .rest import render
from .schema import KEY_PREFIX, MISSION_OBJECTS, TRIGGER_OBJECTS, objects
from .seed import _contact as contact
from .seed import _system as system_record

bp = Blueprint("salesforce_story", __name__, url_prefix="/_control")

DEFAULT_FIELDS = {"Mission__c": ["Id", "End_Date__c", "LastModifiedDate"],
                  "pse__Assignment__c": ["Id", "pse__End_Date__c", "LastModifiedDate"],
                  "Opportunity": ["Id", "StageName", "LastModifiedDate"]}


# Trigger targets -----------------------------------------------------------------------------

def _target_body(data: dict) -> dict:
    """Validated target registration: url, object, fields, mode, flow_secret, headers (a Flow's Named Credential's
    custom headers, e.g. `Authorization: Bearer <webhook secret>` for the path-free webhook URL)."""
    url, sobject, mode = str(data.get("url", "")), data.get("object", "Mission__c"), data.get("mode", "soap")
    if not url.startswith(("http://", "https://")):
        raise ControlError("url must be an http(s) URL")
    if sobject not in TRIGGER_OBJECTS:
        raise ControlError(f"object must be one of {list(TRIGGER_OBJECTS)}")
    if mode not in ("soap", "flow"):
        raise ControlError("mode must be 'soap' or 'flow'")
    fields = data.get("fields", DEFAULT_FIELDS[sobject])
    known = objects(sandbox().config)[sobject]
    if not isinstance(fields, list) or not all(isinstance(f, str) and f in known for f in fields):
        raise ControlError(f"fields must be a list of {sobject} fields: {list(known)}")
    secret = data.get("flow_secret")
    if secret is not None:
        if mode != "flow":
            raise ControlError("flow_secret only applies to mode 'flow'")
        try:
            secret_key(secret)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
    headers = data.get("headers") or {}
    if headers and mode != "flow":
        raise ControlError("headers only apply to mode 'flow' (an Outbound Message's endpoint is a URL only)")
    if not isinstance(headers, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise ControlError("headers must be an object of header names to texts")
    return {"url": url, "sobject": sobject, "fields": fields, "mode": mode, "flow_secret": secret, "headers": headers}


@bp.route("/outbound", methods=["GET", "POST", "DELETE"])
def targets():
    """Register a target (POST), list targets (GET) or remove them all (DELETE)."""
    state = sandbox()
    if request.method == "POST":
        return jsonify(delivery.add_target(state, **_target_body(body()))), 201
    with state.lock:
        if request.method == "DELETE":
            state.targets.clear()
        return jsonify({"targets": [dict(t) for t in state.targets]})


def _notes(states: tuple[str, ...]) -> list[dict]:
    """Outbox notifications in the given states."""
    with sandbox().lock:
        return [dict(n) for n in sandbox().notifications if n["state"] in states]


@bp.get("/notifications")
def notifications():
    """Every notification so far (held, pending, acked)."""
    return jsonify({"notifications": _notes(("held", "pending", "acked"))})


@bp.get("/outbound/pending")
def pending():
    """Notifications whose delivery never got the expected answer."""
    return jsonify({"notifications": _notes(("pending",))})


@bp.post("/outbound/flush")
def flush():
    """One more attempt for each pending notification."""
    return jsonify({"deliveries": delivery.flush(sandbox(), base_url())})


@bp.post("/outbound/batch")
def batch():
    """Send every held notification, up to 100 per message."""
    return jsonify({"deliveries": delivery.batch(sandbox(), base_url())})


@bp.get("/outbound/log")
def outbound_log():
    """Every delivery attempt: url, notification ids, status, acked, body excerpt."""
    with sandbox().lock:
        return jsonify({"attempts": [dict(entry) for entry in sandbox().outbound_log]})


# Missions ------------------------------------------------------------------------------------

def _answer(sobject: str, rec: dict, event: str, data: dict, status: int = 200, changed: list[str] = ()):
    """Record the change's notifications and change event, deliver the notifications unless told not to, answer."""
    state = sandbox()
    pubsub.changelog(state).record(sobject, rec, event, list(changed))
    notes = delivery.record_change(state, sobject, rec["Id"], event)
    payloads = [delivery.preview(state, n, base_url()) for n in notes]
    sent = delivery.deliver_each(state, notes, base_url()) if data.get("deliver", True) is not False else []
    return jsonify({"record": render(sobject, rec), "notifications": payloads, "deliveries": sent}), status


@bp.post("/contacts")
def new_contact():
    """Add a Contact {"FirstName","LastName", optional "Manager__c","Left__c","Contract_End__c","Title"}: its
    record."""
    data, state = body(), sandbox()
    extra = {k: data[k] for k in ("Manager__c", "Left__c", "Contract_End__c", "Title") if k in data}
    if extra.get("Left__c") not in (None, True, False) or not isinstance(extra.get("Manager__c") or "", str):
        raise ControlError("Left__c must be true/false and Manager__c a User id")
    if extra.get("Contract_End__c") is not None and not parse_date(extra["Contract_End__c"]):
        raise ControlError("Contract_End__c must be a YYYY-MM-DD date")
    with state.lock:
        record_id = state.new_id(KEY_PREFIX["Contact"])
        while record_id in state.table("Contact"):
            record_id = state.new_id(KEY_PREFIX["Contact"])
        last = str(data.get("LastName") or record_id[-6:])
        state.table("Contact")[record_id] = contact(record_id, str(data.get("FirstName") or "Consultant"), last,
                                                    f"{last.lower()}@esn-sandbox.example",
                                                    **{"Title": "Consultant", **extra})
        return jsonify(render("Contact", state.table("Contact")[record_id])), 201


@bp.post("/accounts")
def new_account():
    """Add a client Account {"Name"}: its record (a mission with another client)."""
    data, state = body(), sandbox()
    with state.lock:
        record_id = state.new_id(KEY_PREFIX["Account"])
        while record_id in state.table("Account"):
            record_id = state.new_id(KEY_PREFIX["Account"])
        state.table("Account")[record_id] = system_record(record_id, Name=str(data.get("Name") or "Client"))
        return jsonify(render("Account", state.table("Account")[record_id])), 201


@bp.get("/missions")
def list_missions():
    """Every Mission__c and pse__Assignment__c (deleted ones included)."""
    state = sandbox()
    with state.lock:
        items = [render(s, rec) for s in MISSION_OBJECTS for rec in state.table(s).values()]
    return jsonify({"totalSize": len(items), "records": items})


@bp.post("/missions")
def new_mission():
    """Create a mission record (`object` defaults to Mission__c): event `created`."""
    data = body()
    try:
        sobject, rec = missions.create(sandbox(), data)
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return _answer(sobject, rec, "created", data, 201)


@bp.post("/missions/<record_id>/update")
def update_mission(record_id):
    """Change any fields of a mission: event `updated`."""
    data = body()
    try:
        before = dict(missions.find(sandbox(), record_id)[1])
        sobject, rec = missions.update(sandbox(), record_id, data)
    except LookupError as exc:
        raise ControlError(str(exc).strip("'\""), 404) from None
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    changed = [name for name, value in rec.items() if before.get(name) != value and name != "LastModifiedDate"]
    return _answer(sobject, rec, "updated", data, changed=changed)


@bp.delete("/missions/<record_id>")
def delete_mission(record_id):
    """Delete a mission: event `deleted` (the SOAP sObject carries only its Id)."""
    data = body()
    try:
        sobject, rec = missions.delete(sandbox(), record_id)
    except LookupError as exc:
        raise ControlError(str(exc).strip("'\""), 404) from None
    return _answer(sobject, rec, "deleted", data)


# Pub/Sub API (change data capture) ---------------------------------------------------------------

@bp.route("/pubsub/faults", methods=["GET", "POST", "DELETE"])
def pubsub_faults():
    """Queue a stream fault {"kind": "drop", "after": n} | {"kind": "invalid-replay"} | {"kind": "auth-expired"}."""
    state, log = sandbox(), pubsub.changelog(sandbox())
    if request.method == "POST":
        data = body()
        kind = data.get("kind")
        if kind not in ("drop", "invalid-replay", "auth-expired"):
            raise ControlError("kind must be 'drop', 'invalid-replay' or 'auth-expired'")
        if kind == "auth-expired":  # every access token expires now: open streams end with UNAUTHENTICATED
            with state.lock:
                for entry in state.access_tokens.values():
                    entry["expires_at"] = min(entry["expires_at"], time.time() - 1)
            return jsonify({"kind": kind}), 201
        after = data.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ControlError("after must be a number of events >= 0")
        with log.cond:
            log.faults.append({"kind": kind, "after": after})
        return jsonify({"kind": kind, "after": after}), 201
    with log.cond:
        if request.method == "DELETE":
            log.faults.clear()
        return jsonify({"faults": [dict(f) for f in log.faults]})


@bp.get("/pubsub/events")
def pubsub_events():
    """Every change event emitted since the last reset: replay id, topic, record ids, type, changed fields."""
    log = pubsub.changelog(sandbox())
    with log.cond:
        return jsonify({"events": [{"replay": e["replay"], "replay_id": pubsub.replay_bytes(e["replay"]).hex(),
                                    "topic": e["topic"], "recordIds": e["header"]["recordIds"],
                                    "changeType": e["header"]["changeType"],
                                    "changedFields": e["header"]["changedFields"]} for e in log.events]})
