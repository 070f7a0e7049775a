"""The /_control blueprint: drive the story, register webhooks, inspect calls, inject faults."""
from __future__ import annotations

import time
from collections import Counter

from flask import Blueprint, current_app, g, jsonify, request

from . import webhooks
from .deliveries import create_delivery, delete_delivery, parse_date, update_delivery
from .dialect import DIALECTS, story_state
from .dictionary import INACTIVITY_TYPES
from .envelope import resource_object
from .faults import parse_fault
from .state import ADMIN_USER_TOKEN, APP_KEY, APP_TOKEN, CLIENT_KEY, CLIENT_TOKEN, USERS
from .state import SandboxState, now_text, sorted_items
from .state import _person
from .views import profile

bp = Blueprint("boond_control", __name__, url_prefix="/_control")

END_MOVES = ("client", "consultant")
CONFIG_TYPES = {"rate_limit_per_10s": (int,), "jwt_max_age_seconds": (int, type(None)),
                "actions_max_page": (int,), "deliver_webhooks": (bool,), "webhook_timeout": (int, float),
                "marketplace_app_key": (str,), "app_token_ttl_seconds": (int, type(None)),
                "webhooks_api_allowed": (bool,), "dialect": (str,), "schema_path": (str, type(None))}


class ControlError(Exception):
    """A bad control request (400, or 404 for an unknown delivery)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@bp.errorhandler(ControlError)
def control_error(error: ControlError):
    """Plain JSON error for control calls."""
    return jsonify({"error": str(error)}), error.status


def sandbox() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["boond_sandbox"]


def body() -> dict:
    """The JSON body ({} when empty), or a 400."""
    data = request.get_json(silent=True)
    if data is None and request.get_data():
        raise ControlError("body must be JSON")
    if data is not None and not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data or {}


# Setup ---------------------------------------------------------------------------------------

@bp.post("/reset")
def reset():
    """Back to the seed (data, actions, events, webhooks, faults, counters, config)."""
    sandbox().reset()
    sandbox().timeline = []
    return jsonify({"reset": True})


@bp.get("/credentials")
def credentials():
    """The seeded tenant's credentials."""
    return jsonify({"appToken": APP_TOKEN, "appKey": APP_KEY, "clientToken": CLIENT_TOKEN,
                    "clientKey": CLIENT_KEY, "userToken": ADMIN_USER_TOKEN})


@bp.route("/config", methods=["GET", "POST"])
def config():
    """Read or change SandboxConfig fields at run time."""
    changes = body() if request.method == "POST" else {}
    for name, value in changes.items():
        allowed = CONFIG_TYPES.get(name)
        if allowed is None or (isinstance(value, bool) and bool not in allowed) \
                or not isinstance(value, allowed):
            raise ControlError(f"bad config field {name!r}: expected one of {list(CONFIG_TYPES)}")
        if name == "dialect" and value not in DIALECTS:
            raise ControlError(f"dialect must be one of {list(DIALECTS)}")
    with sandbox().lock:
        sandbox().config.update(changes)
        return jsonify(sandbox().config.as_dict())


@bp.route("/webhooks", methods=["GET", "POST"])
def webhook_targets():
    """Register a webhook target (POST {"url", "events"?}) or list them."""
    if request.method == "GET":
        with sandbox().lock:
            return jsonify({"webhooks": [dict(h) for h in sandbox().webhooks]})
    data = body()
    if not str(data.get("url", "")).startswith(("http://", "https://")):
        raise ControlError("url must be an http(s) URL")
    events = data.get("events")
    if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
        raise ControlError("events must be a list of entity names")
    return jsonify(webhooks.register(sandbox(), data["url"], events)), 201


# Story: deliveries ---------------------------------------------------------------------------

def _user_token(data: dict) -> str:
    """Who made the change (default: the seeded admin userToken)."""
    token = data.get("userToken", ADMIN_USER_TOKEN)
    if token not in USERS:
        raise ControlError(f"unknown userToken {token!r}")
    return token


def _answer(delivery: dict, change: str, delivery_id: str, data: dict):
    """Record the change's webhook events, deliver them now unless told not to, and answer."""
    state = sandbox()
    events = webhooks.record_change(state, "delivery", delivery_id, change, _user_token(data))
    sent = webhooks.publish(state, events, send=data.get("deliver", True) is not False)
    return jsonify({"data": delivery, "events": [e["payload"] for e in events], "deliveries": sent})


def _existing(delivery_id: str) -> None:
    """404 unless the delivery exists."""
    if sandbox().get("delivery", delivery_id) is None:
        raise ControlError(f"unknown delivery {delivery_id}", 404)


def _change(delivery_id: str, data: dict, changes: dict):
    """Apply attribute changes to a delivery and fire its update event."""
    state = sandbox()
    _user_token(data)
    with state.lock:
        _existing(delivery_id)
        try:
            update_delivery(state, delivery_id, changes)
        except ValueError as exc:
            raise ControlError(str(exc)) from None
        delivery = profile(state, "delivery", delivery_id)
    return _answer(delivery, "update", delivery_id, data)


def _date(data: dict, name: str) -> str:
    """A required YYYY-MM-DD field of the body."""
    try:
        return parse_date(data.get(name), name)
    except ValueError as exc:
        raise ControlError(str(exc)) from None


@bp.get("/deliveries")
def list_deliveries():
    """Every delivery, by id."""
    with sandbox().lock:
        items = [resource_object("delivery", did, rec)
                 for did, rec in sorted_items(sandbox().db["delivery"])]
    return jsonify({"data": items})


@bp.post("/deliveries")
def new_delivery():
    """Create a delivery (mission) for a resource on a project: webhook `create`."""
    data, state = body(), sandbox()
    _user_token(data)
    try:
        delivery_id = create_delivery(state, data)
    except LookupError as exc:
        raise ControlError(str(exc), 404) from None
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    with state.lock:
        delivery = profile(state, "delivery", delivery_id)
    return _answer(delivery, "create", delivery_id, data)


@bp.post("/deliveries/<id>/move")
def move_delivery(id):
    """Move the end date (and optionally the start date)."""
    data = body()
    changes = {"endDate": _date(data, "endDate")}
    if data.get("startDate"):
        changes["startDate"] = _date(data, "startDate")
    return _change(id, data, changes)


@bp.post("/deliveries/<id>/end")
def end_delivery(id):
    """End early: new end date, the dialect's "stopped by the client" (documented 2) or "by the consultant" (3)."""
    data = body()
    if data.get("by") not in END_MOVES:
        raise ControlError("by must be 'client' or 'consultant'")
    return _change(id, data, {"endDate": _date(data, "endDate"), "state": _story_state(data["by"])})


@bp.post("/deliveries/<id>/cancel")
def cancel_delivery(id):
    """Cancel: the dialect's cancelled state (documented 4)."""
    data = body()
    return _change(id, data, {"state": _story_state("cancelled")})


@bp.post("/deliveries/<id>/complete")
def complete_delivery(id):
    """observed: mark a delivery "Completed" (state 2 there), its end date unchanged or given."""
    data = body()
    changes = {"state": _story_state("completed")}
    if data.get("endDate"):
        changes["endDate"] = _date(data, "endDate")
    return _change(id, data, changes)


def _story_state(move: str) -> int:
    value = story_state(sandbox().config.dialect, move)
    if value is None:
        raise ControlError(f"the {sandbox().config.dialect} dialect has no {move!r} delivery state")
    return value


@bp.post("/resources/<id>/state")
def resource_state(id):
    """Set a resource's state (e.g. 0 "Sortie": the consultant left the firm); webhook `update` on the resource."""
    data, state = body(), sandbox()
    if not isinstance(data.get("state"), int) or isinstance(data.get("state"), bool):
        raise ControlError("state must be an integer from state.resource")
    with state.lock:
        rec = state.get("resource", id)
        if rec is None:
            raise ControlError(f"unknown resource {id}", 404)
        rec["attributes"].update({"state": data["state"], "updateDate": now_text()})
        events = webhooks.record_change(state, "resource", id, "update", _user_token(data))
    return jsonify({"events": [e["payload"] for e in events],
                    "deliveries": webhooks.publish(state, events, send=data.get("deliver", True) is not False)})


@bp.post("/deliveries/<id>/resource")
def change_resource(id):
    """Give a delivery to another consultant {"resource": "8"} (a replacement; whether real Boond allows changing a
    delivery's dependsOn is unknown, reference §4): webhook `update` on the delivery."""
    data, state = body(), sandbox()
    resource = str(data.get("resource") or "")
    with state.lock:
        _existing(id)
        if state.get("resource", resource) is None:
            raise ControlError("resource must name a seeded or added resource", 404)
        rec = state.db["delivery"][id]
        rec["rels"]["dependsOn"] = ("resource", resource)
        rec["attributes"]["updateDate"] = now_text()
        delivery = profile(state, "delivery", id)
    return _answer(delivery, "update", id, data)


@bp.post("/deliveries/<id>/clear-end")
def clear_end(id):
    """Clear the end date ("" by default, null with {"as_null": true})."""
    data = body()
    return _change(id, data, {"endDate": None if data.get("as_null") else ""})


@bp.post("/resources")
def new_resource():
    """Add a consultant {"firstName","lastName","mainManager"?: "2","hrManager"?: "4","typeOf"?: 0} (null: none):
    many-mission stories."""
    data, state = body(), sandbox()
    managers = {name: None if data.get(name, default) is None else str(data.get(name, default))
                for name, default in (("mainManager", "2"), ("hrManager", "4"))}
    with state.lock:
        if any(rid is not None and state.get("resource", rid) is None for rid in managers.values()):
            raise ControlError("mainManager and hrManager must name seeded resources", 404)
        resource_id = str(max(int(rid) for rid in state.db["resource"]) + 1)
        state.db["resource"][resource_id] = _person(
            str(data.get("firstName") or "Consultant"), str(data.get("lastName") or resource_id),
            f"consultant{resource_id}@esn-sandbox.example", "Consultant",
            **{name: ("resource", rid) if rid else None for name, rid in managers.items()})
        if data.get("typeOf") is not None:  # a resource type of the tenant (e.g. subcontractor)
            if not isinstance(data["typeOf"], int) or isinstance(data["typeOf"], bool):
                raise ControlError("typeOf must be an integer")
            state.db["resource"][resource_id]["attributes"]["typeOf"] = int(data["typeOf"])
        return jsonify(resource_object("resource", resource_id, state.db["resource"][resource_id])), 201


@bp.post("/projects")
def new_project():
    """Add a project like PRJ45 (same client, contact, opportunity) with {"mainManager": "2" | null} and, for another
    client, {"companyName": "…"} (a new company): its id."""
    data, state = body(), sandbox()
    manager = data.get("mainManager", "2")
    with state.lock:
        if manager is not None and state.get("resource", str(manager)) is None:
            raise ControlError("mainManager must name a seeded resource or be null", 404)
        project_id = str(max(int(pid) for pid in state.db["project"]) + 1)
        seed = state.db["project"]["45"]
        rels = {**seed["rels"], "mainManager": ("resource", str(manager)) if manager is not None else None}
        if data.get("companyName"):
            company_id = str(max(int(cid) for cid in state.db["company"]) + 1)
            state.db["company"][company_id] = {"attributes": {"name": str(data["companyName"]), "creationDate": now_text(),
                                                              "updateDate": now_text()}, "rels": {"mainManager": None}}
            rels["company"] = ("company", company_id)
        state.db["project"][project_id] = {"attributes": {**seed["attributes"], "reference": f"PRJ{project_id}"},
                                           "rels": rels}
        return jsonify(resource_object("project", project_id, state.db["project"][project_id])), 201


@bp.post("/inactivities")
def new_inactivity():
    """Add an inactivity to a resource {"resource","startDate","endDate","title"?,"inactivityType"?: "internal" |
    "absence","typeOf"?: an id of the dictionary's typeOf.inactivity}: webhook `create` on the inactivity."""
    data, state = body(), sandbox()
    kind = data.get("inactivityType", "internal")
    if kind not in ("internal", "absence"):
        raise ControlError("inactivityType must be 'internal' or 'absence'")
    type_of = data.get("typeOf")
    if type_of is not None and type_of not in {t["id"] for t in INACTIVITY_TYPES}:
        raise ControlError("typeOf must be an id of the dictionary's typeOf.inactivity")
    attrs = {"startDate": _date(data, "startDate"), "endDate": _date(data, "endDate"),
             "title": str(data.get("title") or "Inactivité"), "inactivityType": kind, "typeOf": type_of,
             "creationDate": now_text(), "updateDate": now_text()}
    if attrs["endDate"] < attrs["startDate"]:
        raise ControlError("endDate must not be before startDate")
    with state.lock:
        resource = str(data.get("resource") or "")
        if state.get("resource", resource) is None:
            raise ControlError(f"unknown resource {resource}", 404)
        inactivity_id = state.next_id("inactivity")
        state.db["inactivity"][inactivity_id] = {"attributes": attrs, "rels": {"resource": ("resource", resource)}}
        events = webhooks.record_change(state, "inactivity", inactivity_id, "create", _user_token(data))
    return jsonify({"data": resource_object("inactivity", inactivity_id, state.db["inactivity"][inactivity_id]),
                    "events": [e["payload"] for e in events],
                    "deliveries": webhooks.publish(state, events, send=data.get("deliver", True) is not False)}), 201


@bp.delete("/deliveries/<id>")
def drop_delivery(id):
    """Delete a delivery: webhook `delete`."""
    data, state = body(), sandbox()
    _user_token(data)
    with state.lock:
        _existing(id)
        delivery = profile(state, "delivery", id)
        delete_delivery(state, id)
    return _answer(delivery, "delete", id, data)


# Inspection ----------------------------------------------------------------------------------

@bp.get("/events")
def events():
    """Every webhook event so far, in order (?entity=delivery filters), with delivery results."""
    entity = request.args.get("entity")
    with sandbox().lock:
        chosen = [e for e in sandbox().events if not entity or e["entity"] == entity]
        return jsonify({"events": [e["payload"] for e in chosen],
                        "deliveries": [d for e in chosen for d in e["deliveries"]]})


@bp.post("/events/<id>/deliver")
def redeliver(id):
    """Send one recorded event (again) to its webhook URL: replays and out-of-order tests."""
    event = webhooks.find_event(sandbox(), id)
    if event is None:
        raise ControlError(f"unknown event {id}", 404)
    if not event["url"]:
        raise ControlError("event has no webhook target (none was registered)")
    return jsonify({"deliveries": webhooks.deliver(sandbox(), [event])})


@bp.get("/actions")
def all_actions():
    """Every action on any entity, by id, as a JSON:API list."""
    with sandbox().lock:
        items = [resource_object("action", aid, rec)
                 for aid, rec in sorted_items(sandbox().db["action"])]
    return jsonify({"meta": {"totals": {"rows": len(items)}}, "data": items})


@bp.get("/calls")
def calls():
    """Counts of /api calls by route template and by status."""
    with sandbox().lock:
        logged = list(sandbox().calls)
    return jsonify({"total": len(logged),
                    "by_route": dict(Counter(f"{m} {rule}" for m, rule, _ in logged)),
                    "by_status": dict(Counter(status for _, _, status in logged))})


@bp.post("/calls/reset")
def reset_calls():
    """Forget the call log."""
    with sandbox().lock:
        sandbox().calls.clear()
        sandbox().timeline = []
    return jsonify({"total": 0})


@bp.before_app_request
def note_arrival():
    """When the request arrived, before any fault or rate limit delays it."""
    g.arrived = time.monotonic()


@bp.after_app_request
def time_call(response):
    """Keep when each /api call arrived and was answered, its status and Retry-After (checks of how clients back
    off)."""
    if request.path.startswith("/api/"):
        state = sandbox()
        with state.lock:
            state.__dict__.setdefault("timeline", []).append({
                "t": getattr(g, "arrived", time.monotonic()), "answered": time.monotonic(),
                "method": request.method, "path": request.path,
                "status": response.status_code, "retry_after": response.headers.get("Retry-After")})
    return response


@bp.get("/calls/timeline")
def call_timeline():
    """Every /api call since the last reset: monotonic times (arrived, answered), method, path, status, Retry-After."""
    with sandbox().lock:
        return jsonify({"calls": list(getattr(sandbox(), "timeline", []))})


# Faults --------------------------------------------------------------------------------------

@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def faults():
    """Queue a fault (POST), list queued faults (GET) or clear them (DELETE)."""
    state = sandbox()
    if request.method == "POST":
        try:
            fault = parse_fault(body())
        except (TypeError, ValueError) as exc:
            raise ControlError(str(exc)) from None
        with state.lock:
            state.faults.append(fault)
    elif request.method == "DELETE":
        with state.lock:
            state.faults.clear()
    with state.lock:
        return jsonify({"faults": [f.as_dict() for f in state.faults]})
