"""/_control/marketplace: the sandbox plays Boond's marketplace towards an app (signed install, uninstall,
validate calls as form posts; the iframe's signed URL), and lets a test expire or inspect app tokens.
"""
from __future__ import annotations

from urllib.parse import urlencode

import requests
from flask import Blueprint, jsonify, request

from . import app_tokens
from .control import ControlError, body, control_error, sandbox
from .state import ADMIN_USER_TOKEN, CLIENT_TOKEN, USERS

bp = Blueprint("boond_control_marketplace", __name__, url_prefix="/_control/marketplace")
bp.register_error_handler(ControlError, control_error)

CLIENT_NAME = "ESN Sandbox"


def _app_url(data: dict) -> str:
    """The app URL an admin declared in Boond (its calls go to <app_url>/install, …)."""
    url = data.get("app_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ControlError("app_url must be an http(s) URL (e.g. http://127.0.0.1:8000/boond)")
    return url.rstrip("/")


def _post(url: str, payload: dict) -> dict:
    """POST one signed call as form data (never under the lock); what was sent and what came back."""
    state = sandbox()
    signed = app_tokens.sign_request(payload, state.config.marketplace_app_key)
    sent = {"url": url, "payload": payload, "signedRequest": signed}
    try:
        resp = requests.post(url, data={"signedRequest": signed}, timeout=state.config.webhook_timeout,
                             headers={"User-Agent": "boond-sandbox-marketplace"})
    except requests.RequestException as exc:
        return {**sent, "status": f"error: {type(exc).__name__}", "body": None, "ok": False}
    try:
        answer = resp.json()
    except ValueError:
        answer = resp.text[:500]
    ok = resp.status_code == 200 and isinstance(answer, dict) and answer.get("result") is True
    return {**sent, "status": resp.status_code, "body": answer, "ok": ok}


@bp.post("/install")
def install():
    """Call 1 {installationCode}, then (if accepted) call 2 {appToken, clientToken, clientName[, refresh data]}."""
    data, state = body(), sandbox()
    app_url = _app_url(data)
    first = _post(f"{app_url}/install", {"installationCode": str(data.get("installation_code", ""))})
    if not first["ok"]:
        return jsonify({"installed": False, "calls": [first]})
    issued = app_tokens.issue(state)
    second = _post(f"{app_url}/install", {**issued, "clientToken": CLIENT_TOKEN, "clientName": CLIENT_NAME})
    if not second["ok"]:
        app_tokens.revoke(state, issued["appToken"])
    return jsonify({"installed": second["ok"], "calls": [first, second], **issued})


@bp.post("/uninstall")
def uninstall():
    """Call {clientToken}; the customer's app tokens die whatever the app answers."""
    data = body()
    call = _post(f"{_app_url(data)}/uninstall", {"clientToken": CLIENT_TOKEN})
    revoked = app_tokens.revoke_client(sandbox())
    return jsonify({"uninstalled": call["ok"], "revoked": revoked, "calls": [call]})


@bp.post("/validate")
def validate():
    """The admin clicked Validate: fresh tokens replace the old ones, sent as {clientToken, appToken, …}."""
    data, state = body(), sandbox()
    app_url = _app_url(data)
    app_tokens.revoke_client(state)
    issued = app_tokens.issue(state)
    call = _post(f"{app_url}/validate", {"clientToken": CLIENT_TOKEN, **issued})
    return jsonify({"validated": call["ok"], "calls": [call], **issued})


@bp.post("/iframe")
def iframe():
    """Boond's iframe URL: <app_url>/<page>?signedRequest=… carrying userToken, clientToken, urlCallback."""
    data = body()
    user_token = data.get("user_token", ADMIN_USER_TOKEN)
    if user_token not in USERS:
        raise ControlError(f"unknown user_token {user_token!r}")
    page = str(data.get("page", "configure")).strip("/")
    payload = {"userToken": user_token, "clientToken": CLIENT_TOKEN,
               "urlCallback": f"{request.host_url.rstrip('/')}/apps/intermission", "fromPage": "apps"}
    signed = app_tokens.sign_request(payload, sandbox().config.marketplace_app_key)
    return jsonify({"url": f"{_app_url(data)}/{page}?{urlencode({'signedRequest': signed})}", "payload": payload})


@bp.post("/expire-tokens")
def expire_tokens():
    """Every temporary app token expires now (refresh tokens still work)."""
    return jsonify({"expired": app_tokens.expire_all(sandbox())})


@bp.get("/tokens")
def tokens():
    """The marketplace app tokens the sandbox knows (live or expired)."""
    return jsonify({"tokens": app_tokens.live_tokens(sandbox())})
