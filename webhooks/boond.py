"""POST /webhooks/boond/<tenant>/<secret>: Boond webhook events (references only) → queued re-reads."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, jsonify, request

from config.redis_conn import get_redis
from config.settings import get_settings
from handlers.hosts.boond_read import KINDS as PEOPLE_KINDS, forget
from handlers.ingest import enqueue_resource_sync, enqueue_sync
from webhooks.common import authenticate, error as _error, ignored as _ignored, not_found, too_large

bp = Blueprint("boond", __name__)
log = logging.getLogger(__name__)

MISSION_ENTITIES = {"delivery"}
CONSULTANT_ENTITIES = {"resource"}


class BadPayload(ValueError):
    """The body is not a Boond webhook event we can read."""


@bp.post("/webhooks/boond/<tenant_id>/<secret>")
def receive(tenant_id: str, secret: str):
    """Verify, parse, deduplicate, enqueue; 202 queued, 204 ignored."""
    if too_large():
        return _error(413, "body too large", f"the limit is {get_settings().max_webhook_bytes} bytes")
    tenant = authenticate(tenant_id, secret, "boond")
    if tenant is None:
        return not_found()
    if not _json_content_type():
        return _error(415, "unsupported media type", "send the event as application/json")
    try:
        event = parse_event(request.get_data(cache=False))
    except BadPayload as exc:
        return _error(400, "unreadable event", str(exc))
    if not tenant.enabled:
        return _ignored("tenant paused")
    return _dispatch(tenant_id, event)


def _dispatch(tenant_id: str, event: dict):
    conn = get_redis()
    if event["entity"] in PEOPLE_KINDS:  # the record changed: the tenant's shared copy of it goes
        forget(conn, tenant_id, event["entity"], event["ref"])
    trigger = {"kind": "webhook", "host": "boond", "event": event["id"], "type": event["type"],
               "entity": event["entity"]}
    if event["entity"] in MISSION_ENTITIES:
        outcome = enqueue_sync(conn, tenant_id, event["ref"], trigger, event_id=event["id"])
    elif event["entity"] in CONSULTANT_ENTITIES:
        outcome = enqueue_resource_sync(conn, tenant_id, event["ref"], trigger, event_id=event["id"])
    else:
        return _ignored(f"{event['entity']} events need no action")
    if outcome == "duplicate":
        return _ignored("duplicate event")
    return jsonify(status=outcome), 202


def parse_event(body: bytes) -> dict:
    """Read `{data:{id, attributes:{type}, relationships:{dependsOn:{data:{id,type}}}}}` (or the flat variant)."""
    if not body or not body.strip():
        raise BadPayload("empty body: expected a Boond webhook event (JSON)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadPayload("body is not UTF-8 text: send the event as UTF-8 JSON") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # nested past the parser's depth is as unreadable as bad syntax
        raise BadPayload("body is not valid JSON (or is nested too deeply)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise BadPayload("expected a JSON object with a 'data' object")
    data = doc["data"]
    attrs = _obj(data.get("attributes")) or _obj(doc.get("attributes"))
    rels = _obj(data.get("relationships")) or _obj(doc.get("relationships"))
    depends = _obj(rels.get("dependsOn"))
    depends = _obj(depends.get("data")) or depends
    ref, entity = depends.get("id"), depends.get("type")
    if not _is_id(ref, 64) or not isinstance(entity, str) or not entity.strip() or len(entity) > 64:
        raise BadPayload("missing or invalid relationships.dependsOn {id, type}: which record changed?")
    event_id = data.get("id")
    if not _is_id(event_id, 128):
        raise BadPayload("missing or invalid data.id (the event id)")
    kind = attrs.get("type") if isinstance(attrs.get("type"), str) else "update"
    return {"id": str(event_id), "type": kind[:32], "entity": entity.lower(), "ref": str(ref)}


def _is_id(value, max_len: int) -> bool:
    """A non-empty string or integer (never a boolean) of reasonable length."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return False
    text = str(value).strip()
    return 0 < len(text) <= max_len


def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def _json_content_type() -> bool:
    mime = (request.mimetype or "").lower()
    return mime in ("", "application/json", "text/json") or mime.endswith("+json")


