"""Hostile or wrong input at the Salesforce endpoint: XML attacks, another org, bad signatures."""
from __future__ import annotations

import time
import uuid

import pytest
import requests
from standardwebhooks import Webhook

from sandboxes.stack_salesforce import SalesforceStack
from tests.e2e.sf_helpers import queued_syncs
from connectors.salesforce.settings import salesforce_settings

OM = """<?xml version="1.0" encoding="UTF-8"?>{doctype}
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId>
<ActionId>04k000000000001AAA</ActionId><SessionId xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>
<Notification><Id>04l{n:0>12}AAA</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
<sf:Id>a0X000000000100AAA</sf:Id><sf:End_Date__c>{value}</sf:End_Date__c></sObject></Notification>
</notifications></soapenv:Body></soapenv:Envelope>"""
XML = {"Content-Type": "text/xml; charset=utf-8"}


def _om(org="00D000000000001AAA", doctype="", value="2026-09-30", n="0001"):
    return OM.format(org=org, doctype=doctype, value=value, n=n).encode()


def test_external_entity_and_entity_bomb_are_refused_and_no_file_is_read(sf_stack, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("TOP-SECRET-CANARY")
    xxe = f'<!DOCTYPE x [<!ENTITY leak SYSTEM "file://{canary}">]>'
    bomb = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">' \
           '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    for doctype, value in ((xxe, "&leak;"), (bomb, "&d;")):
        answer = requests.post(sf_stack.webhook_url, data=_om(doctype=doctype, value=value), headers=XML, timeout=10)
        assert answer.status_code == 400 and "TOP-SECRET" not in answer.text
        assert "DTD" in answer.json()["message"]
    assert queued_syncs() == 0


def test_message_from_another_org_gets_404_and_ours_gets_the_exact_ack(sf_stack):
    other = requests.post(sf_stack.webhook_url, data=_om(org="00D000000000999AAA"), headers=XML, timeout=10)
    assert other.status_code == 404 and queued_syncs() == 0
    ours = requests.post(sf_stack.webhook_url, data=_om(org="00D000000000001"), headers=XML, timeout=10)  # 15-char form
    assert ours.status_code == 200 and ours.headers["Content-Type"].startswith("text/xml")
    assert "<Ack>true</Ack>" in ours.text and "notificationsResponse" in ours.text
    assert queued_syncs() == 1


@pytest.mark.parametrize("how", ["stale", "wrong", "missing"])
def test_flow_callout_with_a_bad_signature_gets_401(redis_conn, how):
    with SalesforceStack("acme-sf", mode="flow", signed_flow=True) as org:
        body = b'{"organizationId": "00D000000000001AAA", "recordId": "a0X000000000100AAA", "eventId": "e1"}'
        msg_id, stamp = f"msg_{uuid.uuid4().hex}", time.time() - (600 if how == "stale" else 0)
        from datetime import datetime, timezone

        secret = salesforce_settings(org.tenant).flow_secret if how != "wrong" else "whsec_" + "A" * 44
        signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(stamp, tz=timezone.utc), body.decode())
        headers = {"Content-Type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(stamp)), "webhook-signature": signature}
        if how == "missing":
            headers = {"Content-Type": "application/json"}
        answer = requests.post(org.webhook_url, data=body, headers=headers, timeout=10)
        assert answer.status_code == 401 and queued_syncs() == 0
        good_sig = Webhook(salesforce_settings(org.tenant).flow_secret).sign(msg_id, datetime.now(tz=timezone.utc), body.decode())
        good = {"Content-Type": "application/json", "webhook-id": msg_id,
                "webhook-timestamp": str(int(time.time())), "webhook-signature": good_sig}
        assert requests.post(org.webhook_url, data=body, headers=good, timeout=10).status_code == 202
