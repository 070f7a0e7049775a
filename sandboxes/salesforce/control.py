"""The /_control blueprint (no auth): reset, credentials, config, tokens, limits, calls, faults, inspection."""
from __future__ import annotations

import time
from collections import Counter

from flask import Blueprint, current_app, jsonify, request

from .faults import parse_fault
from .oauth import revoke_grant
from .rest import render
from .schema import objects
from .state import CLIENT_ID, CLIENT_SECRET, ORG_ID, SandboxState

bp = Blueprint("salesforce_control", __name__, url_prefix="/_control")

NUMBER = (int, float)
CONFIG_TYPES = {"access_token_ttl_seconds": (int,), "rotate_refresh_tokens": (bool,), "daily_api_limit": (int,),
                "max_query_batch": (int,), "has_external_id_field": (bool,), "has_surveys": (bool,),
                "outbound_retry_delays": (list,), "duplicate_rate": NUMBER, "shuffle": (bool,),
                "seed": (int,), "outbound_timeout": NUMBER, "cdc_objects": (list,), "pubsub_keepalive_seconds": NUMBER}


class ControlError(Exception):
    """A bad control request (400, or 404 for an unknown record)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def control_error(error: ControlError):
    """Plain JSON error for control calls."""
    return jsonify({"error": str(error)}), error.status


def sandbox() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["salesforce_sandbox"]


def base_url() -> str:
    """This sandbox's base URL."""
    return request.url_root.rstrip("/")


def body() -> dict:
    """The JSON body ({} when empty), or a 400."""
    data = request.get_json(silent=True, force=True)
    if data is None and request.get_data():
        raise ControlError("body must be JSON")
    if data is not None and not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data or {}


# Setup ---------------------------------------------------------------------------------------

@bp.post("/reset")
def reset():
    """Back to the seed (records, tokens, outbox, targets, faults, counters, config)."""
    sandbox().reset()
    from .pubsub import changelog

    changelog(sandbox()).reset()
    return jsonify({"reset": True})


@bp.get("/credentials")
def credentials():
    """The connected app's credentials and the org id."""
    return jsonify({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "org_id": ORG_ID,
                    "login_url": base_url()})


def _check_config(name: str, value) -> None:
    """ControlError unless value fits the config field."""
    allowed = CONFIG_TYPES.get(name)
    if allowed is None:
        raise ControlError(f"unknown config field {name!r}: expected one of {list(CONFIG_TYPES)}")
    if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
        raise ControlError(f"bad value for {name!r}")
    if name == "outbound_retry_delays" and not all(
            isinstance(d, NUMBER) and not isinstance(d, bool) and d >= 0 for d in value):
        raise ControlError("outbound_retry_delays must be a list of seconds >= 0")
    if name == "duplicate_rate" and not 0 <= value <= 1:
        raise ControlError("duplicate_rate must be between 0 and 1")


@bp.route("/config", methods=["GET", "POST"])
def config():
    """Read or change SandboxConfig fields at run time."""
    changes = body() if request.method == "POST" else {}
    for name, value in changes.items():
        _check_config(name, value)
    state = sandbox()
    with state.lock:
        state.config.update(changes)
        if "seed" in changes:
            state.reseed()
        return jsonify(state.config.as_dict())


# OAuth and limits ------------------------------------------------------------------------------

@bp.post("/oauth/revoke-all")
def revoke_all():
    """An admin revokes the app: every refresh and access token dies."""
    state = sandbox()
    with state.lock:
        grants = {e["grant"] for e in state.refresh_tokens.values()}
        grants |= {e["grant"] for e in state.access_tokens.values()}
        for grant in grants:
            revoke_grant(state, grant)
    return jsonify({"revoked_grants": len(grants)})


@bp.post("/oauth/expire-access-tokens")
def expire_access_tokens():
    """Every access token expires now (refresh tokens keep working)."""
    state = sandbox()
    with state.lock:
        for entry in state.access_tokens.values():
            entry["expires_at"] = min(entry["expires_at"], time.time() - 1)
        return jsonify({"expired": len(state.access_tokens)})


@bp.get("/oauth/tokens")
def tokens():
    """How many tokens exist and are alive."""
    state, now = sandbox(), time.time()
    with state.lock:
        live_access = sum(1 for e in state.access_tokens.values() if not e["revoked"] and e["expires_at"] > now)
        live_refresh = sum(1 for e in state.refresh_tokens.values() if e["active"])
        return jsonify({"access_tokens": len(state.access_tokens), "live_access_tokens": live_access,
                        "refresh_tokens": len(state.refresh_tokens), "live_refresh_tokens": live_refresh})


@bp.route("/limits", methods=["GET", "POST"])
def limits():
    """Read or set the API usage of the rolling 24 h window ({"used": N})."""
    state = sandbox()
    if request.method == "POST":
        used = body().get("used")
        if isinstance(used, bool) or not isinstance(used, int) or used < 0:
            raise ControlError("used must be an integer >= 0")
        with state.lock:
            state.api_used = used
    with state.lock:
        return jsonify({"used": state.api_used, "limit": state.config.daily_api_limit})


@bp.post("/limits/reset")
def reset_limits():
    """API usage back to 0."""
    with sandbox().lock:
        sandbox().api_used = 0
    return jsonify({"used": 0, "limit": sandbox().config.daily_api_limit})


# Inspection ----------------------------------------------------------------------------------

def _rows(sobject: str) -> list[dict]:
    """Every record of an object (deleted ones included) as REST renders them."""
    state = sandbox()
    with state.lock:
        table = state.table(sobject)
        if sobject not in objects(state.config):
            return [dict(rec) for rec in table.values()]
        return [render(sobject, rec) for rec in table.values()]


@bp.get("/tasks")
def list_tasks():
    """Every Task (deleted ones have IsDeleted true)."""
    items = _rows("Task")
    return jsonify({"totalSize": len(items), "records": items})


@bp.get("/survey-invitations")
def list_invitations():
    """Every SurveyInvitation."""
    items = _rows("SurveyInvitation")
    return jsonify({"totalSize": len(items), "records": items})


@bp.post("/survey-invitations/<record_id>/respond")
def respond(record_id):
    """Move an invitation's ResponseStatus (default Completed), as a respondent would."""
    status = body().get("ResponseStatus", "Completed")
    if status not in ("NotStarted", "Started", "Paused", "PartiallyCompleted", "Completed"):
        raise ControlError("bad ResponseStatus")
    with sandbox().lock:
        rec = sandbox().table("SurveyInvitation").get(record_id)
        if rec is None:
            raise ControlError(f"unknown invitation {record_id}", 404)
        rec["ResponseStatus"] = status
    return jsonify({"id": record_id, "ResponseStatus": status})


@bp.get("/calls")
def calls():
    """Counts of REST calls by route and status, and token calls per grant type."""
    state = sandbox()
    with state.lock:
        logged, grants = list(state.calls), dict(state.token_grants)
    return jsonify({"total": len(logged),
                    "by_route": dict(Counter(f"{m} {rule}" for m, rule, _ in logged)),
                    "by_status": dict(Counter(status for _, _, status in logged)),
                    "token_grants": {"authorization_code": grants.get("authorization_code", 0),
                                     "refresh_token": grants.get("refresh_token", 0)}})


@bp.post("/calls/reset")
def reset_calls():
    """Forget the call log and token counters."""
    with sandbox().lock:
        sandbox().calls.clear()
        sandbox().token_grants.clear()
    return jsonify({"total": 0})


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
