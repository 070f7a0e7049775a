"""What the Salesforce endpoint takes and refuses: the mission object only, the tenant's org only, each message once."""
from __future__ import annotations

import html
import time
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from config import tenants
from sandboxes.stack_salesforce import SalesforceStack
from tests.e2e.sf_helpers import queued_syncs
from webhooks.admin.auth import admin_token
from connectors.salesforce.settings import salesforce_settings

CAPTURES = Path(__file__).parent.parent / "fixtures" / "salesforce"
XML = {"Content-Type": "text/xml; charset=utf-8"}
SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/"
ORG = "00D000000000001EAA"


def capture(name: str) -> bytes:
    return (CAPTURES / f"outbound_message__{name}.xml").read_bytes()


def dirty(redis_conn, tenant: str = "acme-sf") -> dict:
    return redis_conn.hgetall(f"im:t:{tenant}:dirty")


def activity_page(stack, lang: str = "en") -> str:
    token = admin_token(stack.tenant_id, "test")
    page = requests.get(f"{stack.web.url}/admin/activity", params={"a": token, "lang": lang}, timeout=10)
    assert page.status_code == 200
    return html.unescape(page.text)


def fault_string(answer: requests.Response) -> str:
    fault = ET.fromstring(answer.content).find(f"{{{SOAPENV}}}Body/{{{SOAPENV}}}Fault")
    assert fault is not None and fault.findtext("faultcode") == "soapenv:Client"
    return fault.findtext("faultstring")


@pytest.mark.parametrize("name, sent", [("account", "Account"), ("contact", "Contact"), ("opportunity", "Opportunity")])
def test_outbound_message_on_another_object_is_a_soap_fault_naming_both_and_nothing_is_queued(sf_stack, redis_conn,
                                                                                            name, sent):
    for _ in range(2):  # Salesforce keeps the message and retries it: each delivery is refused and counted
        answer = requests.post(sf_stack.webhook_url, data=capture(name), headers=XML, timeout=10)
        assert answer.status_code == 500 and answer.headers["Content-Type"].startswith("text/xml")
        assert "<Ack>" not in answer.text
        reason = fault_string(answer)
        assert f"about {sent}" in reason and "mission object is Mission__c" in reason
    assert queued_syncs() == 0 and dirty(redis_conn) == {}
    page = activity_page(sf_stack)
    assert 'id="refused-deliveries"' in page and f"about {sent}, but the tenant's mission object is Mission__c" in page
    row = page[page.index('id="refused-deliveries"'):]
    assert f"<td>{time.strftime('%Y-%m-%d', time.gmtime())}" in row and "<td>2</td>" in row
    assert "porte sur " + sent in activity_page(sf_stack, "fr")


def test_outbound_message_on_the_mission_object_is_acknowledged_and_queued(sf_stack, redis_conn):
    answer = requests.post(sf_stack.webhook_url, data=capture("mission"), headers=XML, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/xml; charset=utf-8"
    # byte for byte the envelope Salesforce documents (no XML declaration): anything else is retried for 24 h
    assert answer.content == (CAPTURES / "ack.xml").read_bytes()
    assert list(dirty(redis_conn)) == [b"a0X000000000100AAA"]
    assert 'id="refused-deliveries"' not in activity_page(sf_stack)


def test_mission_object_follows_the_tenant_mapping(sf_stack, redis_conn):
    from connectors.salesforce.mapping import preset

    cfg = salesforce_settings(sf_stack.tenant).model_copy(update={"mapping": preset("certinia")})
    tenants.save(sf_stack.tenant.model_copy(update={"host_settings": cfg}))
    answer = requests.post(sf_stack.webhook_url, data=capture("mission"), headers=XML, timeout=10)
    assert answer.status_code == 500 and "about Mission__c" in fault_string(answer)
    assert "pse__Assignment__c" in fault_string(answer) and dirty(redis_conn) == {}
    certinia = capture("mission").replace(b"sf:Mission__c", b"sf:pse__Assignment__c").replace(
        b"a0X000000000100AAA", b"a1A000000000100AAA")
    assert requests.post(sf_stack.webhook_url, data=certinia, headers=XML, timeout=10).status_code == 200


def test_message_from_another_org_is_404_and_the_admin_is_told_which_orgs(sf_stack, redis_conn):
    other = capture("mission").replace(ORG.encode(), b"00D5e000000AbCdEAK")
    answer = requests.post(sf_stack.webhook_url, data=other, headers=XML, timeout=10)
    assert answer.status_code == 404 and dirty(redis_conn) == {}
    assert (f"this Outbound Message comes from org 00D5e000000AbCdEAK, the tenant is bound to org {ORG}"
            in activity_page(sf_stack))


def _flow(org, body: dict, *, headers: dict | None = None) -> requests.Response:
    return requests.post(org.webhook_url, json=body, headers=headers or {}, timeout=10)


def test_flow_callout_for_a_record_of_another_object_is_refused(sf_stack, redis_conn):
    assert redis_conn.get("im:t:acme-sf:sf:key-prefix:mission__c") == b"a0X"  # learnt from describe at connect
    for record in ("001000000000010AAA", "a1A000000000100AAA"):  # an Account, then a custom object's record
        answer = _flow(sf_stack, {"organizationId": ORG, "recordId": record, "eventId": uuid.uuid4().hex})
        assert answer.status_code == 400 and answer.json()["error"] == "wrong object"
        assert "Mission__c" in answer.json()["message"]
    wrong_name = _flow(sf_stack, {"organizationId": ORG, "object": "Opportunity", "recordId": "a0X000000000100AAA"})
    assert wrong_name.status_code == 400 and "about Opportunity" in wrong_name.json()["message"]
    assert dirty(redis_conn) == {} and "key prefix a1A" in activity_page(sf_stack)
    ok = _flow(sf_stack, {"organizationId": ORG, "object": "Mission__c", "recordId": "a0X000000000100AAA"})
    assert ok.status_code == 202


def _signed(secret: str, msg_id: str, body: bytes) -> dict:
    now = datetime.now(tz=timezone.utc)
    return {"Content-Type": "application/json", "webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body.decode())}


def test_resent_signed_callout_with_the_same_webhook_id_and_a_new_body_id_is_a_duplicate(redis_conn):
    with SalesforceStack("acme-sf", mode="flow", signed_flow=True) as org:
        secret, msg_id = salesforce_settings(org.tenant).flow_secret, f"msg_{uuid.uuid4().hex}"
        first = f'{{"organizationId": "{ORG}", "recordId": "a0X000000000100AAA", "eventId": "e-1"}}'.encode()
        again = first.replace(b"e-1", b"e-2")
        assert requests.post(org.webhook_url, data=first, headers=_signed(secret, msg_id, first), timeout=10).status_code == 202
        redis_conn.delete("im:t:acme-sf:dirty", "im:t:acme-sf:batch-pending")
        resent = requests.post(org.webhook_url, data=again, headers=_signed(secret, msg_id, again), timeout=10)
        assert resent.status_code == 204 and resent.headers["X-Intermission-Ignored"] == "duplicate event"
        assert dirty(redis_conn) == {}
        fresh = requests.post(org.webhook_url, data=again, headers=_signed(secret, f"msg_{uuid.uuid4().hex}", again),
                              timeout=10)
        assert fresh.status_code == 202  # a new message with a new event id is news


def test_parallel_resends_of_one_webhook_id_admit_exactly_one(redis_conn):
    """8 concurrent deliveries sharing a `webhook-id` (each with its own body id), 30 rounds: one admitted each time."""
    from concurrent.futures import ThreadPoolExecutor

    with SalesforceStack("acme-sf", mode="flow", signed_flow=True) as org:
        secret = salesforce_settings(org.tenant).flow_secret
        with ThreadPoolExecutor(8) as pool:
            for _ in range(30):
                msg_id = f"msg_{uuid.uuid4().hex}"
                bodies = [f'{{"organizationId": "{ORG}", "recordId": "a0X000000000100AAA", '
                          f'"eventId": "{uuid.uuid4().hex}"}}'.encode() for _ in range(8)]
                answers = list(pool.map(lambda b, m=msg_id: requests.post(org.webhook_url, data=b, timeout=10,
                                                                          headers=_signed(secret, m, b)), bodies))
                statuses = sorted(a.status_code for a in answers)
                assert statuses == [202] + [204] * 7, statuses
                assert {a.headers.get("X-Intermission-Ignored") for a in answers if a.status_code == 204} == {
                    "duplicate event"}
                redis_conn.delete("im:t:acme-sf:dirty", "im:t:acme-sf:batch-pending")


def test_flow_callout_with_the_external_credential_header_secret(redis_conn):
    with SalesforceStack("acme-sf", mode="flow") as org:
        secret = "imsec_" + uuid.uuid4().hex + uuid.uuid4().hex
        tenants.save(org.tenant.model_copy(update={"host_settings": salesforce_settings(org.tenant).model_copy(
            update={"flow_secret": secret})}))
        body = {"organizationId": ORG, "recordId": "a0X000000000100AAA", "eventId": "e-9"}
        assert _flow(org, body).status_code == 401
        assert _flow(org, body, headers={"X-Intermission-Secret": secret[:-1] + ("x" if secret[-1] != "x" else "y")}).status_code == 401
        assert _flow(org, body, headers={"X-Intermission-Secret": secret}).status_code == 202
        redis_conn.delete("im:t:acme-sf:dirty")
        org.control("DELETE", "/_control/outbound")  # the org's callout now sends the header, as set up in Salesforce
        org.control("POST", "/_control/outbound", json={"url": org.webhook_url, "object": "Mission__c",
                                                         "mode": "flow", "flow_secret": secret})
        mission = org.new_mission(datetime(2026, 1, 5).date(), datetime(2026, 6, 30).date())
        log = org.control("GET", "/_control/outbound/log")["attempts"]
        assert log[-1]["status"] == 202 and mission.encode() in dirty(redis_conn)
