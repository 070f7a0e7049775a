"""The /api routes an installed app uses on its own: /webhooks (JSON:API, reference §3.1) and the token refresh."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from . import app_tokens
from .api_common import json_body, sandbox
from .auth import SIGNATURE_FAILED, signature_ok, unverified_claims
from .envelope import BoondError, document, invalid, meta, not_found

bp = Blueprint("boond_api_marketplace", __name__, url_prefix="/api")

REFRESH_HEADER = "X-Jwt-App-Refresh-Boondmanager"
CHANGES = ("create", "update", "delete")
# The RAML's webhook entity enum (reference §3.1).
ENTITIES = ("product", "candidate", "resource", "advantage", "contract", "purchase", "payment", "opportunity",
            "app", "positioning", "order", "invoice", "contact", "company", "project", "delivery", "inactivity",
            "groupment", "businessunit", "agency", "pole", "role", "expensesreport", "timesreport",
            "absencesreport", "action", "quotation", "validation", "vendor", "customer", "architecture",
            "savedsearch", "actiontemplate", "flag", "target", "thread", "roletemplate", "todolist", "task")


# Webhooks --------------------------------------------------------------------------------------

def webhook_object(hook: dict) -> dict:
    """A registered target (API or control) as a JSON:API `webhook`."""
    if hook.get("changes") is not None:
        events = [{"type": change, "entity": entity} for change, entity in hook["changes"]]
    else:
        events = [{"type": c, "entity": e} for e in (hook["events"] or ENTITIES) for c in CHANGES]
    attrs = {"name": hook.get("name", ""), "description": hook.get("description", ""), "url": hook["url"],
             "events": events}
    return {"id": hook["id"], "type": "webhook", "attributes": attrs}


@bp.get("/webhooks")
def list_webhooks():
    """Every webhook of the tenant (no paging, like Boond)."""
    with sandbox().lock:
        items = [webhook_object(h) for h in sandbox().webhooks]
    return document(items, rows=len(items))


def _events(attrs: dict) -> list[list[str]]:
    """Validated `events`: [{type, entity}], type create|update|delete, entity from the RAML enum."""
    events = attrs.get("events")
    if not isinstance(events, list) or not events:
        raise invalid("events", code="1017" if events is None else "1002")
    pairs = []
    for event in events:
        if not isinstance(event, dict) or event.get("type") not in CHANGES or event.get("entity") not in ENTITIES:
            raise invalid("events")
        pairs.append([event["type"], event["entity"]])
    return sorted({tuple(p) for p in pairs}, key=lambda p: (p[1], p[0]))


def _attributes() -> dict:
    """The attributes of a POST /webhooks body, checked."""
    data = json_body().get("data")
    if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
        raise invalid("data")
    attrs = data["attributes"]
    url = attrs.get("url")
    if url is None:
        raise invalid("url", code="1017")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid("url")
    return attrs


@bp.post("/webhooks")
def create_webhook():
    """Register a webhook: it becomes a delivery target with its events filter (`action` is accepted)."""
    state = sandbox()
    if not state.config.webhooks_api_allowed:
        raise BoondError(403, "Forbidden: this app may not manage webhooks", logged=True)
    attrs = _attributes()
    changes = [list(p) for p in _events(attrs)]
    with state.lock:
        hook = {"id": state.next_id("webhook"), "url": attrs["url"],
                "events": sorted({entity for _, entity in changes}), "changes": changes,
                "name": str(attrs.get("name") or ""), "description": str(attrs.get("description") or "")}
        state.webhooks.append(hook)
        return document(webhook_object(hook))


def _find(webhook_id: str) -> dict:
    hook = next((h for h in sandbox().webhooks if h["id"] == webhook_id), None)
    if hook is None:
        raise not_found()
    return hook


@bp.get("/webhooks/<id>")
def get_webhook(id):
    """One webhook."""
    with sandbox().lock:
        return document(webhook_object(_find(id)))


@bp.delete("/webhooks/<id>")
def delete_webhook(id):
    """Remove a webhook: no more deliveries to its URL."""
    state = sandbox()
    with state.lock:
        state.webhooks.remove(_find(id))
    return jsonify({"meta": meta()})


# Token refresh (ASSUMPTION: the shape is unknown, see docs/SANDBOXES.md) -----------------------------

@bp.post("/marketplace/refresh-token")
def refresh_token():
    """Header X-Jwt-App-Refresh-Boondmanager (HS256, appKey; claims appToken, refreshToken) → a new pair."""
    token = request.headers.get(REFRESH_HEADER, "").strip()
    if not token:
        raise BoondError(401, "Not logged in")
    claims = unverified_claims(token) or {}
    key = sandbox().config.marketplace_app_key
    if not signature_ok(token, key) or not isinstance(claims.get("refreshToken"), str):
        raise BoondError(422, SIGNATURE_FAILED, code="0", parameter="xJwtAppRefresh")
    fresh = app_tokens.refresh(sandbox(), str(claims.get("appToken")), claims["refreshToken"])
    return document({"id": fresh["appToken"][-6:], "type": "apptoken", "attributes": fresh})
