"""POST /webhooks/boond/<tenant>/<secret>: Boond webhook events (references only) → queued re-reads.

Boond's webhook settings take a URL and nothing else, so the secret is in the path; a sender that can set a header
may POST to /webhooks/boond/<tenant> with `Authorization: Bearer <secret>` (`webhooks.common.header_secret`): the
same checks, admit and answers.

Served as a plain WSGI route (`webhooks/plain.py`), not by Flask: it is the path every Boond change takes."""
from __future__ import annotations

import json
import logging

from config.infra.redis_conn import get_redis
from handlers.hosts.boond.read import KINDS as PEOPLE_KINDS, forget
from handlers.intake.ingest import StaleTenant, enqueue_match, enqueue_resource_sync, enqueue_sync
from webhooks.common import authenticate_known, forget_known, header_secret, not_found_answer
from webhooks.plain import Answer, PlainRequest, PlainRoute, error, ignored, json_answer

log = logging.getLogger(__name__)

MISSION_ENTITIES = {"delivery"}
CONSULTANT_ENTITIES = {"resource", "inactivity"}  # an inactivity: its consultant's missions (effective use, #29)
MATCH_ENTITIES = {"opportunity"}  # issue #29: an opportunity opened, changed, won or closed re-runs the matching
STATUSES = {"queued": 202, "coalesced": 202, "duplicate": 204}  # the answer of each admit outcome


class BadPayload(ValueError):
    """The body is not a Boond webhook event we can read."""


def receive(request: PlainRequest, tenant_id: str, secret: str) -> Answer:
    """Verify, parse, deduplicate, enqueue; 202 queued, 204 ignored (a body over the limit is refused before)."""
    try:
        return _receive(request, tenant_id, secret, fresh=False)
    except StaleTenant:  # the tenant changed since this process read it: nothing was written
        forget_known(tenant_id)
        return _receive(request, tenant_id, secret, fresh=True)


def receive_by_header(request: PlainRequest, tenant_id: str) -> Answer:
    """`receive` with the secret from the `Authorization: Bearer` header (the path-free form)."""
    return receive(request, tenant_id, header_secret(request.environ.get("HTTP_AUTHORIZATION")))


route = PlainRoute("POST", "/webhooks/boond/", "/webhooks/boond/<tenant_id>/<secret>", receive)
header_route = PlainRoute("POST", "/webhooks/boond/", "/webhooks/boond/<tenant_id>", receive_by_header, parts=1)


def _receive(request: PlainRequest, tenant_id: str, secret: str, *, fresh: bool) -> Answer:
    """The checks and the admit, against the process's copy of the tenant unless `fresh`."""
    found = authenticate_known(tenant_id, secret, "boond", fresh=fresh)
    if found is None:
        return not_found_answer()
    tenant, check = found
    if not _json_content_type(request.mimetype):
        return error(415, "unsupported media type", "send the event as application/json")
    try:
        event = parse_event(request.body())  # kept: a stale tenant reads it again
    except BadPayload as exc:
        return error(400, "unreadable event", str(exc))
    if not tenant.enabled:
        if not fresh:  # a refusal is decided on a fresh read
            raise StaleTenant(tenant_id)
        return ignored("tenant paused")
    return _dispatch(request, tenant_id, event, None if fresh else check, matching=tenant.matching.enabled)


def _dispatch(request: PlainRequest, tenant_id: str, event: dict, check=None, *, matching: bool = False) -> Answer:
    conn = get_redis()
    if event["entity"] in PEOPLE_KINDS:  # the record changed: the tenant's shared copy of it goes
        forget(conn, tenant_id, event["entity"], record_id=event["ref"])
    trigger = {"kind": "webhook", "host": "boond", "event": event["id"], "type": event["type"],
               "entity": event["entity"]}
    if event["entity"] in MISSION_ENTITIES:
        outcome = enqueue_sync(conn, tenant_id, event["ref"], trigger=trigger, event_id=event["id"], check=check,
                               tally=request.tally(STATUSES))
    elif event["entity"] in CONSULTANT_ENTITIES:
        outcome = enqueue_resource_sync(conn, tenant_id, event["ref"], trigger=trigger, event_id=event["id"], check=check,
                                        tally=request.tally(STATUSES), by=event["entity"])
    elif event["entity"] in MATCH_ENTITIES and matching:
        outcome = enqueue_match(conn, tenant_id, event["entity"], trigger=trigger, event_id=event["id"], check=check,
                                tally=request.tally(STATUSES))
    elif check is not None:  # an answer that writes nothing is decided on a fresh read of the tenant
        raise StaleTenant(tenant_id)
    else:
        return ignored(f"{event['entity']} events need no action")
    return answer_for(outcome)


def answer_for(outcome: str) -> Answer:
    """The answer of an admit's outcome."""
    if outcome == "duplicate":
        return ignored("duplicate event")
    return json_answer(STATUSES[outcome], status=outcome)


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


def _json_content_type(mime: str) -> bool:
    return mime in ("", "application/json", "text/json") or mime.endswith("+json")
