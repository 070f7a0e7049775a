"""POST /webhooks/salesforce/<tenant>/<secret>: Outbound Messages (SOAP) and Flow HTTP callouts (JSON).

An Outbound Message's endpoint is a URL only, so its secret is in the path. A Flow callout goes through a Named
Credential, whose External Credential can add a header: it may POST to /webhooks/salesforce/<tenant> with
`Authorization: Bearer <secret>` (`webhooks.common.header_secret`), and the secret stays out of every request line."""
from __future__ import annotations

from typing import NamedTuple

import hmac
import json
import logging
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from flask import Blueprint, Response, jsonify, request
from standardwebhooks import Webhook
from xml.etree.ElementTree import ParseError

from config import keys
from config.infra.redis_conn import get_redis
from connectors.salesforce import prefixes
from connectors.salesforce.oauth import same_org
from handlers.intake.ingest import enqueue_batch, enqueue_match
from webhooks import intake_failures
from webhooks.common import authenticate, error, header_secret, ignored, not_found, too_large
from webhooks.plain import body_too_large, to_flask
from connectors.salesforce.settings import salesforce_settings

bp = Blueprint("salesforce", __name__)
log = logging.getLogger(__name__)

OM_NS = "http://soap.sforce.com/2005/09/outbound"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SF_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
SECRET_HEADER = "X-Intermission-Secret"  # sent by the Flow's External Credential (custom header), docs/SALESFORCE.md
HEADER_SECRET_PREFIX = "imsec_"
# Byte for byte the acknowledgement Salesforce documents (help article 000381752, reference §1.1): no XML
# declaration, one-space indentation, no trailing newline. tests/fixtures/salesforce/ack.xml holds the same bytes.
ACK = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
       ' <soapenv:Body>\n'
       '  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
       '   <Ack>true</Ack>\n'
       '  </notificationsResponse>\n'
       ' </soapenv:Body>\n'
       '</soapenv:Envelope>')
MAX_NOTIFICATIONS = 100
OPPORTUNITY, OPPORTUNITY_PREFIX = "Opportunity", "006"  # issue #29: opportunity events re-run the matching
SOAP_TYPES = {"text/xml", "application/soap+xml", "application/xml"}


class BadMessage(ValueError):
    """The body is not a message we can read."""


@dataclass(frozen=True)
class OutboundMessage:
    """A parsed `notifications` envelope: the org, and per notification its id, record id and sObject type."""

    org_id: str
    notifications: list[tuple[str, str]]
    types: list[str | None]  # the local part of each sObject's xsi:type ("sf:Mission__c" → "Mission__c"), or None


@bp.post("/webhooks/salesforce/<tenant_id>")
def receive_by_header(tenant_id: str):
    """`receive` with the secret from the `Authorization: Bearer` header (the path-free form)."""
    return receive(tenant_id, header_secret(request.headers.get("Authorization")))


@bp.post("/webhooks/salesforce/<tenant_id>/<secret>")
def receive(tenant_id: str, secret: str):
    """SOAP → the exact Ack once enqueued; JSON → 202/204."""
    if too_large():
        return to_flask(body_too_large())
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
    message = parse_outbound_message(body)
    if not _org_matches(tenant, message.org_id, "Outbound Message"):
        return not_found()
    if _about_opportunities(tenant, [r for _, r in message.notifications], message.types):
        if tenant.enabled:
            nid = message.notifications[0][0]
            enqueue_match(get_redis(), tenant.id, OPPORTUNITY, trigger=_trigger("outbound", nid), event_id=nid)
        return Response(ACK, status=200, content_type="text/xml; charset=utf-8")
    wrong = _wrong_objects(tenant, message)
    if wrong:
        return _soap_fault(tenant, wrong)
    if tenant.enabled:
        notifications = message.notifications
        missions = {record_id: _trigger("outbound", nid) for nid, record_id in notifications}
        enqueue_batch(get_redis(), tenant.id, missions, event_ids={record_id: nid for nid, record_id in notifications})
    return Response(ACK, status=200, content_type="text/xml; charset=utf-8")


def _about_opportunities(tenant, record_ids: list[str], types: list[str | None]) -> bool:
    """Every record is an Opportunity (by type, else by key prefix) and the tenant matches them (issue #29)."""
    return tenant.matching.enabled and all(
        (sent or "").lower() == OPPORTUNITY.lower() if sent else record_id.startswith(OPPORTUNITY_PREFIX)
        for record_id, sent in zip(record_ids, types))


def _org_matches(tenant, org_id: str, what: str) -> bool:
    """True when the delivery's org is the tenant's; else logged and shown to the admin (the caller gets a 404)."""
    bound = salesforce_settings(tenant).org_id
    if bound and same_org(org_id, bound):
        return True
    if bound:
        en = f"this {what} comes from org {org_id}, the tenant is bound to org {bound}"
        fr = f"ce {_fr(what)} vient de l'org {org_id}, le locataire est lié à l'org {bound}"
    else:
        en = f"this {what} comes from org {org_id}, the tenant is bound to no org yet: connect it first"
        fr = f"ce {_fr(what)} vient de l'org {org_id}, le locataire n'est lié à aucune org : connectez-le d'abord"
    log.warning("salesforce %s refused for tenant %s: %s", what, tenant.id, en)
    intake_failures.record(get_redis(), tenant.id, "org", en=en, fr=fr)
    return False


def _fr(what: str) -> str:
    return "message sortant (Outbound Message)" if what == "Outbound Message" else "appel de Flow"


def _wrong_objects(tenant, message: OutboundMessage) -> list[str]:
    """The objects of the message that are not the tenant's mission object (by xsi:type, else by key prefix)."""
    expected = salesforce_settings(tenant).mapping.object
    wrong = []
    for (_, record_id), sent in zip(message.notifications, message.types):
        found = sent if sent is not None else _object_by_prefix(tenant, record_id)
        if found is not None and found.lower() != expected.lower() and found not in wrong:
            wrong.append(found)
    return wrong


def _object_by_prefix(tenant, record_id: str) -> str | None:
    """The record's object when its key prefix shows it is not the mission object; None when it is, or unknown."""
    expected = salesforce_settings(tenant).mapping.object
    prefix = prefixes.known(get_redis(), tenant.id, expected)
    if prefix is not None:
        return None if record_id[:3] == prefix else (prefixes.standard_object_of(record_id)
                                                     or f"an object with key prefix {record_id[:3]}")
    other = prefixes.standard_object_of(record_id)
    return other if other and other.lower() != expected.lower() else None


def _refused_objects(tenant, wrong: list[str], what: str) -> tuple[str, str]:
    """(English, French) reason naming the objects sent and the one expected; logged and shown to the admin."""
    expected, sent = salesforce_settings(tenant).mapping.object, ", ".join(wrong)
    en = (f"this {what} is about {sent}, but the tenant's mission object is {expected}: wire it on {expected} "
          "(or change the tenant's mapping)")
    fr = (f"ce {_fr(what)} porte sur {sent}, or l'objet mission du locataire est {expected} : "
          f"configurez-le sur {expected} (ou changez la correspondance du locataire)")
    log.warning("salesforce %s refused for tenant %s: %s", what, tenant.id, en)
    intake_failures.record(get_redis(), tenant.id, "object", en=en, fr=fr)
    return en, fr


def _soap_fault(tenant, wrong: list[str]) -> Response:
    """A SOAP 1.1 Fault (HTTP 500, as SOAP 1.1 requires): Salesforce keeps the message and shows the reason."""
    en, _ = _refused_objects(tenant, wrong, "Outbound Message")
    fault = ('<?xml version="1.0" encoding="UTF-8"?>'
             f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><soapenv:Fault>'
             f"<faultcode>soapenv:Client</faultcode><faultstring>Intermission: {_xml_text(en)}</faultstring>"
             "</soapenv:Fault></soapenv:Body></soapenv:Envelope>")
    return Response(fault, status=500, content_type="text/xml; charset=utf-8")


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Outbound(NamedTuple):
    """An outbound message's OrganizationId and its (notification id, record id) pairs."""

    org_id: str
    notifications: list[tuple[str, str]]


def parse_outbound(body: bytes) -> Outbound:
    """(OrganizationId, [(notification id, record id)]) from a `notifications` SOAP envelope; no DTD, no entities."""
    message = parse_outbound_message(body)
    return Outbound(message.org_id, message.notifications)


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """A `notifications` SOAP envelope read with defusedxml (no DTD, no entities), or BadMessage saying why."""
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
    return OutboundMessage(org_id, [_notification(item) for item in items], [_sobject_type(item) for item in items])


def _sobject_type(item) -> str | None:
    """The object named by `<sObject xsi:type="sf:Mission__c">` (the QName's local part), or None when absent."""
    sobject = item.find(f"{{{OM_NS}}}sObject")
    value = (sobject.get(XSI_TYPE) or "").strip() if sobject is not None else ""
    local = value.rpartition(":")[2]
    return local if local and local.replace("_", "").isalnum() and local.isascii() else None


def _notification(item) -> tuple[str, str]:
    notification_id = (item.findtext(f"{{{OM_NS}}}Id") or "").strip()
    record_id = (item.findtext(f"{{{OM_NS}}}sObject/{{{SF_NS}}}Id") or "").strip()
    if not _is_sf_id(notification_id) or not _is_sf_id(record_id):
        raise BadMessage("each Notification needs an Id and an sObject with sf:Id (15 or 18 characters)")
    return notification_id, record_id


def _flow_callout(tenant, body: bytes):
    refused = _flow_auth_refusal(salesforce_settings(tenant).flow_secret, body)
    if refused is not None:
        return refused
    event = parse_flow(body)
    if not _org_matches(tenant, event["org_id"], "Flow callout"):
        return not_found()
    if _about_opportunities(tenant, event["record_ids"], [event["object"]] * len(event["record_ids"])):
        if not tenant.enabled:
            return ignored("tenant paused")
        outcome = enqueue_match(get_redis(), tenant.id, OPPORTUNITY, trigger=_trigger("flow", event["id"]), event_id=event["id"])
        return ignored("duplicate event") if outcome == "duplicate" else (jsonify(status=outcome), 202)
    wrong = _wrong_flow_objects(tenant, event)
    if wrong:
        en, fr = _refused_objects(tenant, wrong, "Flow callout")
        return error(400, "wrong object", f"{en} / {fr}")
    if not tenant.enabled:
        return ignored("tenant paused")
    conn, ids, webhook_id = get_redis(), event["record_ids"], _webhook_id(tenant)
    event_ids = {r: f"{event['id']}:{r}" for r in ids} if event["id"] else {}
    # the same Standard Webhooks message, whatever its body says now, is a duplicate: its `webhook-id` is checked and
    # set inside the admit script, so of concurrent resends exactly one is admitted
    outcome = enqueue_batch(conn, tenant.id, {r: _trigger("flow", event["id"]) for r in ids}, event_ids=event_ids,
                            message_key=_webhook_seen_key(tenant.id, webhook_id) if webhook_id else None)
    if outcome == "duplicate":
        return ignored("duplicate event")
    return jsonify(status=outcome, records=len(ids)), 202


def _flow_auth_refusal(secret: str | None, body: bytes):
    """None when the callout carries the tenant's authentication (none, header secret, Standard Webhooks), else a 401."""
    if not secret:
        return None
    if secret.startswith(HEADER_SECRET_PREFIX):
        given = request.headers.get(SECRET_HEADER, "")
        if hmac.compare_digest(given.encode(), secret.encode()):
            return None
        return error(401, "bad secret", f"the {SECRET_HEADER} header must carry the tenant's secret: add it as a "
                                        "custom header of the Flow's External Credential (docs/SALESFORCE.md)")
    try:
        Webhook(secret).verify(body, dict(request.headers), json_parse=False)
    except Exception:  # missing, malformed, stale or wrong signature: all the same answer
        return error(401, "bad signature", "webhook-id, webhook-timestamp and webhook-signature must be a valid "
                                           "Standard Webhooks signature made in the last 5 minutes")
    return None


def _webhook_id(tenant) -> str | None:
    """The Standard Webhooks idempotency key of a signed callout (verified by then), else None."""
    secret = salesforce_settings(tenant).flow_secret
    if not secret or secret.startswith(HEADER_SECRET_PREFIX):
        return None
    return request.headers.get("webhook-id") or None


def _webhook_seen_key(tenant_id: str, webhook_id: str) -> str:
    return keys.seen_webhook_id(tenant_id, webhook_id)


def _wrong_flow_objects(tenant, event: dict) -> list[str]:
    """The objects a callout names (its `object`, its record ids' key prefixes) that are not the mission object."""
    expected = salesforce_settings(tenant).mapping.object
    wrong = [event["object"]] if event["object"] and event["object"].lower() != expected.lower() else []
    for record_id in event["record_ids"]:
        found = _object_by_prefix(tenant, record_id)
        if found is not None and found not in wrong:
            wrong.append(found)
    return wrong


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
    org_id, event_id, sobject = doc.get("organizationId"), doc.get("eventId"), doc.get("object")
    if not _is_sf_id(org_id):
        raise BadMessage("organizationId must be your org's 15 or 18 character id")
    if event_id is not None and (not isinstance(event_id, str) or not 0 < len(event_id) <= 128):
        raise BadMessage("eventId, when given, must be a string of at most 128 characters")
    if sobject is not None and (not isinstance(sobject, str) or not 0 < len(sobject) <= 80):
        raise BadMessage("object, when given, must be the API name of the record's object (e.g. Mission__c)")
    return {"org_id": org_id, "record_ids": list(dict.fromkeys(ids)), "id": event_id, "object": sobject}


def _trigger(kind: str, event_id: str | None) -> dict:
    return {"kind": "webhook", "host": "salesforce", "via": kind, "event": event_id}


def _is_sf_id(value) -> bool:
    return isinstance(value, str) and len(value) in (15, 18) and value.isalnum() and value.isascii()
