"""Opportunity matching on Salesforce, over real HTTP against the sandbox org: open Opportunities with a mapped skills
field, consultants' mapped skills on their Contact; ONE Task per Opportunity for its owner, best first with the
reason; Outbound Messages replayed twice in reverse add nothing; a won Opportunity withdraws its untouched Task."""
from __future__ import annotations

import re
from datetime import date

import requests

from config import tenants
from config.infra import clock
from sandboxes.stack_salesforce import SalesforceStack
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import MARK, duplicates
from connectors.salesforce.settings import salesforce_settings

TODAY = date(2026, 11, 2)
HUGO, JEAN_CONTACT = "005000000000003AAA", "003000000000007AAA"
MAPPED = {"opportunity_skills": "Required_Skills__c", "opportunity_start": "Start_Date__c",
          "opportunity_place": "Location__c", "consultant_skills": "Skills__c", "consultant_places": "Locations__c"}


def _set_up(org) -> None:
    tenant = tenants.get(org.tenant_id)
    mapping = salesforce_settings(tenant).mapping.model_copy(update=MAPPED)
    tenants.save(tenant.model_copy(update={
        "host_settings": salesforce_settings(tenant).model_copy(update={"mapping": mapping}),
        "matching": tenants.MatchSettings(enabled=True, per_consultant=2)}))
    org.control("POST", "/_control/outbound", json={"url": org.webhook_url, "object": "Opportunity", "mode": "soap"})


def _opportunity(org, name: str, skills: str, place: str, start: str) -> dict:
    return org.control("POST", "/_control/opportunities", json={
        "Name": name, "Required_Skills__c": skills, "Location__c": place, "Start_Date__c": start})


def _story(org) -> dict:
    clock.pin(TODAY)
    _set_up(org)
    org.control("POST", f"/_control/contacts/{JEAN_CONTACT}/update",
                json={"Skills__c": "Java, Spring Boot, PostgreSQL, Docker", "Locations__c": "Paris"})
    eve = org.control("POST", "/_control/contacts", json={"FirstName": "Eve", "LastName": "Martin"})["Id"]
    org.control("POST", f"/_control/contacts/{eve}/update", json={"Skills__c": "Python\nDjango", "Locations__c": "Lyon;Paris"})
    org.create_mission(date(2026, 1, 5), date(2026, 11, 27))
    org.create_mission(date(2026, 2, 2), date(2026, 12, 18), Consultant__c=eve, Consultant_User__c=None,
                       Name="Audit data")
    settle()
    made = [_opportunity(org, "Back end Java", "Java; Spring Boot; Postgres; Docker; Kafka", "Paris", "2026-12-01"),
            _opportunity(org, "Data Python", "Python; Django; Airflow", "Lyon", "2027-01-04"),
            _opportunity(org, "Mainframe", "Cobol; CICS", "Paris", "2026-12-01")]
    settle()
    return {"java": made[0]["record"]["Id"], "data": made[1]["record"]["Id"], "cobol": made[2]["record"]["Id"],
            "messages": [p for m in made for p in m["notifications"]]}


def _suggestions(org) -> dict[str, dict]:
    return {t["WhatId"]: t for t in org.tasks()
            if (found := MARK.search(t.get("Description") or "")) and found.group(1).startswith("opportunity.")}


def _lines(task: dict) -> list[str]:
    return [line.strip() for line in task["Description"].splitlines() if re.match(r"\d+\. ", line.strip())]


def test_a_consultant_coming_back_gets_the_fitting_opportunity_first_with_its_reason(redis_conn):
    with SalesforceStack("acme-sf") as org:
        ids = _story(org)
        found = _suggestions(org)
        assert set(found) == {ids["java"], ids["data"]}
        java = found[ids["java"]]
        assert java["Subject"] == "Consultants disponibles pour « Back end Java »" and java["OwnerId"] == HUGO
        assert _lines(java) == ["1. Jean Dupont — 4 compétences sur 5, disponible le 30/11, même lieu"]
        assert _lines(found[ids["data"]]) == ["1. Eve Martin — 2 compétences sur 3, disponible le 21/12, même lieu"]
        assert java["ActivityDate"] == "2026-11-30" and java["Status"] == "Not Started"


def test_outbound_messages_replayed_twice_in_reverse_leave_no_duplicate_and_a_won_one_withdraws(redis_conn):
    with SalesforceStack("acme-sf") as org:
        ids = _story(org)
        before = {k: (v["Id"], v["Description"]) for k, v in _suggestions(org).items()}
        for _ in range(2):
            for message in reversed(ids["messages"]):
                answer = requests.post(org.webhook_url, data=message.encode(), timeout=10,
                                       headers={"Content-Type": "text/xml; charset=utf-8"})
                assert answer.status_code == 200 and "<Ack>true</Ack>" in answer.text
            settle()
        assert {k: (v["Id"], v["Description"]) for k, v in _suggestions(org).items()} == before
        assert duplicates(org.tasks()) == []
        org.control("POST", f"/_control/opportunities/{ids['java']}/update", json={"StageName": "Closed Won"})
        settle()
        assert set(_suggestions(org)) == {ids["data"]}


def test_the_business_engineers_digest_is_their_own_task_updated_not_duplicated(redis_conn):
    with SalesforceStack("acme-sf") as org:
        clock.pin(TODAY)
        tenant = tenants.get(org.tenant_id)
        tenants.save(tenant.model_copy(update={"language": "en", "matching": tenants.MatchSettings(digest_every_days=7)}))
        mission = org.create_mission(date(2026, 1, 5), date(2026, 11, 27))["record"]["Id"]
        settle()
        digests = [t for t in org.tasks() if MARK.search(t["Description"]).group(1).startswith("digest.")]
        assert len(digests) == 1 and digests[0]["OwnerId"] == HUGO and not digests[0].get("WhatId")
        assert digests[0]["Subject"] == "Your consultants available within 90 days"
        assert "Within 30 days:\n- Jean Dupont — mission ends 27 Nov, free from 30 Nov" in digests[0]["Description"]
        org.move_end(mission, date(2026, 12, 31))
        settle()
        again = [t for t in org.tasks() if MARK.search(t["Description"]).group(1).startswith("digest.")]
        assert [t["Id"] for t in again] == [digests[0]["Id"]]
        assert "Within 90 days:\n- Jean Dupont — mission ends 31 Dec, free from 4 Jan" in again[0]["Description"]
