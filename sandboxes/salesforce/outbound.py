"""Message formats of the triggers: Outbound Message SOAP envelopes, the Ack check, Flow JSON and its signature."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .state import ORG_ID, ORG_ID_15

SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""',
                "User-Agent": "Jakarta Commons-HttpClient/3.1"}


def _sobject_xml(sobject: str, values: dict[str, str | None]) -> str:
    """One <sObject>: sf:Id then the chosen fields (null fields as xsi:nil)."""
    parts = [f'<sObject xsi:type="sf:{sobject}" xmlns:sf="{SOBJECT}">']
    for name, value in values.items():
        if value is None:
            parts.append(f'<sf:{name} xsi:nil="true"/>')
        else:
            parts.append(f"<sf:{name}>{escape(value)}</sf:{name}>")
    parts.append("</sObject>")
    return "".join(parts)


def soap_envelope(base: str, action_id: str, items: list[tuple[str, str, dict]]) -> str:
    """A notifications() message: items are (notification id, object, sObject field texts), 1 to 100."""
    notes = "".join(f"<Notification><Id>{nid}</Id>{_sobject_xml(sobject, values)}</Notification>"
                    for nid, sobject, values in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAPENV}" xmlns:xsd="{XSD}" xmlns:xsi="{XSI}">'
            f'<soapenv:Body><notifications xmlns="{OUTBOUND}">'
            f"<OrganizationId>{ORG_ID}</OrganizationId><ActionId>{action_id}</ActionId>"
            '<SessionId xsi:nil="true"/>'
            f"<EnterpriseUrl>{escape(base)}/services/Soap/c/67.0/{ORG_ID_15}</EnterpriseUrl>"
            f"<PartnerUrl>{escape(base)}/services/Soap/u/67.0/{ORG_ID_15}</PartnerUrl>"
            f"{notes}</notifications></soapenv:Body></soapenv:Envelope>")


def is_ack(status: int, body: bytes) -> bool:
    """True only for HTTP 200 with a SOAP envelope whose body holds notificationsResponse/Ack = true."""
    if status != 200 or not body:
        return False
    try:
        root = fromstring(body)
    except (ParseError, DefusedXmlException, ValueError):
        return False
    if root.tag != f"{{{SOAPENV}}}Envelope":
        return False
    response = root.find(f"{{{SOAPENV}}}Body/{{{OUTBOUND}}}notificationsResponse")
    ack = response.find(f"{{{OUTBOUND}}}Ack") if response is not None else None
    return ack is not None and (ack.text or "").strip() == "true"


def flow_payload(sobject: str, record_ids: list[str], event: str, event_id: str) -> dict:
    """The Flow HTTP Callout JSON (recordId for one record, recordIds for several)."""
    body = {"organizationId": ORG_ID, "object": sobject}
    if len(record_ids) == 1:
        body["recordId"] = record_ids[0]
    else:
        body["recordIds"] = list(record_ids)
    body.update({"event": event, "eventId": event_id})
    return body


def flow_bytes(payload: dict) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


SECRET_HEADER = "X-Intermission-Secret"  # the External Credential's custom header (no code in the org)
HEADER_SECRET_PREFIX = "imsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret (or the bytes of an `imsec_…` header secret); ValueError otherwise."""
    if isinstance(secret, str) and secret.startswith(HEADER_SECRET_PREFIX) and len(secret) > 20:
        return secret.encode()
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise ValueError("flow_secret must look like whsec_<base64> (Apex, Standard Webhooks) or imsec_<token> "
                         "(External Credential custom header)")
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("flow_secret must look like whsec_<base64>") from None
    if not key:
        raise ValueError("flow_secret key is empty")
    return key


def webhook_headers(secret: str | None, event_id: str, body: bytes) -> dict:
    """What the org sends with a Flow callout: Content-Type, plus the tenant's authentication, set up as documented.

    `imsec_…`: the Named Credential's External Credential (Custom protocol) adds the custom header
    `X-Intermission-Secret: {!$Credential.Intermission.Secret}`; `whsec_…`: the Apex callout of docs/SALESFORCE.md
    signs `{webhook-id}.{webhook-timestamp}.{body}` with Crypto.generateMac('hmacSHA256', …) (Standard Webhooks),
    the webhook-id being the body's eventId.
    """
    headers = {"Content-Type": "application/json", "User-Agent": "SFDC-Callout/67.0"}
    if not secret:
        return headers
    if secret.startswith(HEADER_SECRET_PREFIX):
        return {**headers, SECRET_HEADER: secret}
    stamp = str(int(time.time()))
    signed = f"{event_id}.{stamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    headers.update({"webhook-id": event_id, "webhook-timestamp": stamp,
                    "webhook-signature": "v1," + base64.b64encode(digest).decode()})
    return headers
