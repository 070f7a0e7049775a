"""POST /webhooks/salesforce/<tenant>/<secret>: Outbound Messages (SOAP) and Flow HTTP callouts (JSON)."""
from __future__ import annotations

import json
import logging

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import Blueprint, Response, jsonify, request
from standardwebhooks import Webhook
from xml.etree.ElementTree import ParseError

from config.redis_conn import get_redis
from config.settings import get_settings
from connectors.salesforce.oauth import same_org
from handlers.ingest import enqueue_batch
from webhooks.common import authenticate, error, ignored, not_found, too_large

bp = Blueprint("salesforce", __name__)
log = logging.getLogger(__name__)

OM_NS = "http://soap.sforce.com/2005/09/outbound"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SF_NS = "urn:sobject.enterprise.soap.sforce.com"
ACK = ('<?xml version="1.0" encoding="UTF-8"?>'
       '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
       '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       '</notificationsResponse></soapenv:Body></soapenv:Envelope>')
MAX_NOTIFICATIONS = 100
SOAP_TYPES = {"text/xml", "application/soap+xml", "application/xml"}


class BadMessage(ValueError):
    """The body is not a message we can read."""


@bp.post("/webhooks/salesforce/<tenant_id>/<secret>")
def receive(tenant_id: str, secret: str):
    """SOAP → the exact Ack once enqueued; JSON → 202/204."""
    if too_large():
        return error(413, "body too large", f"the limit is {get_settings().max_webhook_bytes} bytes")
    tenant = authenticate(tenant_id, secret, "salesforce")
    if tenant is None:
        return not_found()
    mime = (request.mimetype or "").lower()
    body = request.get_data(cache=False)
    try:
        if mime in SOAP_TYPES:
            return _outbound_message(tenant, body)
        if mime == "application/json" or mime.endswith("+json"):
            return _flow_callout(tenant, body)
    except BadMessage as exc:
        return error(400, "unreadable message", str(exc))
    return error(415, "unsupported media type", "send Outbound Messages as text/xml and Flow callouts as application/json")


def _outbound_message(tenant, body: bytes):
    org_id, notifications = parse_outbound(body)
    if not tenant.salesforce.org_id or not same_org(org_id, tenant.salesforce.org_id):
        log.warning("outbound message for another org refused (tenant %s)", tenant.id)
        return not_found()
    if tenant.enabled:
        missions = {record_id: _trigger("outbound", nid) for nid, record_id in notifications}
        enqueue_batch(get_redis(), tenant.id, missions, {record_id: nid for nid, record_id in notifications})
    return Response(ACK, status=200, content_type="text/xml; charset=utf-8")


def parse_outbound(body: bytes) -> tuple[str, list[tuple[str, str]]]:
    """(OrganizationId, [(notification id, record id)]) from a `notifications` SOAP envelope; no DTD, no entities."""
    if not body.strip():
        raise BadMessage("empty body: expected a SOAP Outbound Message")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadMessage("DTDs and entities are not accepted in an Outbound Message") from None
    except (ParseError, ValueError):
        raise BadMessage("body is not well-formed XML") from None
    found = root.find(f"{{{SOAP_NS}}}Body/{{{OM_NS}}}notifications")
    if found is None:
        raise BadMessage("no soapenv:Body/notifications element: is this an Outbound Message?")
    org_id = (found.findtext(f"{{{OM_NS}}}OrganizationId") or "").strip()
    if not org_id:
        raise BadMessage("OrganizationId is missing")
    items = found.findall(f"{{{OM_NS}}}Notification")
    if not 1 <= len(items) <= MAX_NOTIFICATIONS:
        raise BadMessage(f"expected 1 to {MAX_NOTIFICATIONS} Notification elements, got {len(items)}")
    return org_id, [_notification(item) for item in items]


def _notification(item) -> tuple[str, str]:
    notification_id = (item.findtext(f"{{{OM_NS}}}Id") or "").strip()
    record_id = (item.findtext(f"{{{OM_NS}}}sObject/{{{SF_NS}}}Id") or "").strip()
    if not _is_sf_id(notification_id) or not _is_sf_id(record_id):
        raise BadMessage("each Notification needs an Id and an sObject with sf:Id (15 or 18 characters)")
    return notification_id, record_id


def _flow_callout(tenant, body: bytes):
    secret = tenant.salesforce.flow_secret
    if secret:
        try:
            Webhook(secret).verify(body, dict(request.headers), json_parse=False)
        except Exception:  # missing, malformed, stale or wrong signature: all the same answer
            return error(401, "bad signature", "webhook-id, webhook-timestamp and webhook-signature must be a valid "
                                               "Standard Webhooks signature made in the last 5 minutes")
    event = parse_flow(body)
    if not tenant.salesforce.org_id or not same_org(event["org_id"], tenant.salesforce.org_id):
        return not_found()
    if not tenant.enabled:
        return ignored("tenant paused")
    ids = event["record_ids"]
    event_ids = {r: f"{event['id']}:{r}" for r in ids} if event["id"] else {}
    outcome = enqueue_batch(get_redis(), tenant.id, {r: _trigger("flow", event["id"]) for r in ids}, event_ids)
    if outcome == "duplicate":
        return ignored("duplicate event")
    return jsonify(status=outcome, records=len(ids)), 202


def parse_flow(body: bytes) -> dict:
    """`{organizationId, recordId | recordIds, eventId?}` → normalised event."""
    if not body.strip():
        raise BadMessage("empty body: expected a JSON Flow callout")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadMessage("body is not valid UTF-8 JSON (or is nested too deeply)") from None
    if not isinstance(doc, dict):
        raise BadMessage("expected a JSON object")
    ids = doc.get("recordIds") if doc.get("recordIds") is not None else [doc.get("recordId")]
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_NOTIFICATIONS or not all(_is_sf_id(i) for i in ids):
        raise BadMessage("recordId (or recordIds, 1 to 100) must be Salesforce ids of 15 or 18 characters")
    org_id, event_id = doc.get("organizationId"), doc.get("eventId")
    if not _is_sf_id(org_id):
        raise BadMessage("organizationId must be your org's 15 or 18 character id")
    if event_id is not None and (not isinstance(event_id, str) or not 0 < len(event_id) <= 128):
        raise BadMessage("eventId, when given, must be a string of at most 128 characters")
    return {"org_id": org_id, "record_ids": list(dict.fromkeys(ids)), "id": event_id}


def _trigger(kind: str, event_id: str | None) -> dict:
    return {"kind": "webhook", "host": "salesforce", "via": kind, "event": event_id}


def _is_sf_id(value) -> bool:
    return isinstance(value, str) and len(value) in (15, 18) and value.isalnum() and value.isascii()
