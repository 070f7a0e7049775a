"""POST /webhooks/boond/<tenant>/<secret>: Boond webhook events (references only) → queued re-reads."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, jsonify, request

from config.infra.redis_conn import get_redis
from config.settings import get_settings
from handlers.hosts.boond_read import KINDS as PEOPLE_KINDS, forget
from handlers.ingest import StaleTenant, enqueue_resource_sync, enqueue_sync
from webhooks.common import authenticate_known, error as _error, forget_known, ignored as _ignored, not_found, \
    too_large

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
    try:
        return _receive(tenant_id, secret, fresh=False)
    except StaleTenant:  # the tenant changed since this process read it: nothing was written
        forget_known(tenant_id)
        return _receive(tenant_id, secret, fresh=True)


def _receive(tenant_id: str, secret: str, *, fresh: bool):
    """The checks and the admit, against the process's copy of the tenant unless `fresh`."""
    found = authenticate_known(tenant_id, secret, "boond", fresh=fresh)
    if found is None:
        return not_found()
    tenant, check = found
    if not _json_content_type():
        return _error(415, "unsupported media type", "send the event as application/json")
    try:
        event = parse_event(request.get_data())  # kept: a stale tenant reads it again
    except BadPayload as exc:
        return _error(400, "unreadable event", str(exc))
    if not tenant.enabled:
        if not fresh:  # a refusal is decided on a fresh read
            raise StaleTenant(tenant_id)
        return _ignored("tenant paused")
    return _dispatch(tenant_id, event, None if fresh else check)


def _dispatch(tenant_id: str, event: dict, check=None):
    conn = get_redis()
    if event["entity"] in PEOPLE_KINDS:  # the record changed: the tenant's shared copy of it goes
        forget(conn, tenant_id, event["entity"], event["ref"])
    trigger = {"kind": "webhook", "host": "boond", "event": event["id"], "type": event["type"],
               "entity": event["entity"]}
    if event["entity"] in MISSION_ENTITIES:
        outcome = enqueue_sync(conn, tenant_id, event["ref"], trigger, event_id=event["id"], check=check)
    elif event["entity"] in CONSULTANT_ENTITIES:
        outcome = enqueue_resource_sync(conn, tenant_id, event["ref"], trigger, event_id=event["id"], check=check)
    elif check is not None:  # an answer that writes nothing is decided on a fresh read of the tenant
        raise StaleTenant(tenant_id)
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


