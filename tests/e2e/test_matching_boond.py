"""Opportunity matching on Boond, over real HTTP against the sandbox: consultants coming back are suggested to the
business engineer of the opportunities that fit, in ONE task per opportunity, best first with the reason in words;
replayed webhooks add nothing; a won opportunity withdraws its untouched suggestions; a person's edit is kept."""
from __future__ import annotations

import html
import re
from datetime import date

import requests

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.hosts.boond.adapter import make_client as boond_client
from tests.e2e.helpers import MARK, markers, settle
from webhooks.admin.auth import admin_token
from connectors.boond.settings import boond_settings

TODAY = date(2026, 11, 2)


def _turn_on(stack, **settings) -> None:
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"matching": tenants.MatchSettings(enabled=True, **settings)}))


def _opportunity(stack, title: str, tools: list[str], place: str, start: str) -> str:
    return stack.control("POST", "/_control/opportunities", json={"title": title, "tools": tools, "place": place,
                                                                  "startDate": start, "mainManager": "3"})["id"]


def _story(stack) -> dict:
    """Jean (Java) ends on 27/11, Eve (Python) on 18/12; three opportunities open."""
    clock.pin(TODAY)
    _turn_on(stack, per_consultant=2)
    stack.create_delivery(date(2026, 1, 5), date(2026, 11, 27))
    stack.control("POST", "/_control/resources/7/technical-data",
                  json={"skills": "Java, Spring Boot, PostgreSQL", "tools": [{"tool": "Docker", "level": 4}],
                        "mobilityAreas": ["Paris"]})
    eve = stack.control("POST", "/_control/resources", json={"firstName": "Eve", "lastName": "Martin"})["id"]
    stack.control("POST", f"/_control/resources/{eve}/technical-data",
                  json={"skills": "Python\nDjango\nAirflow", "mobilityAreas": ["Lyon"]})
    stack.create_delivery(date(2026, 2, 2), date(2026, 12, 18), resource=eve, title="Audit data")
    settle()
    ids = {"java": _opportunity(stack, "Back end Java", ["Java", "Spring Boot", "Postgres", "Docker", "Kafka"], "Paris",
                                "2026-12-01"),
           "data": _opportunity(stack, "Data Python", ["Python", "Django", "Airflow"], "Lyon", "2027-01-04"),
           "lyon": _opportunity(stack, "Java Lyon", ["Java", "Spring Boot", "Kafka"], "Lyon", "2027-02-15"),
           "cobol": _opportunity(stack, "Mainframe", ["Cobol", "CICS"], "Paris", "immediate")}
    settle()
    return {**ids, "eve": eve}


def _suggestions(stack) -> dict[str, dict]:
    """Opportunity id → its suggestions task as Boond holds it."""
    out = {}
    for row in stack.actions():
        found = MARK.search(row["attributes"].get("text") or "")
        if found and found.group(1).startswith("opportunity."):
            assert row["relationships"]["dependsOn"]["data"]["type"] == "opportunity"
            out[row["relationships"]["dependsOn"]["data"]["id"]] = row
    return out


def _lines(row: dict) -> list[str]:
    text = html.unescape(re.sub(r"<[^>]+>", "\n", row["attributes"]["text"]))
    return [line.strip() for line in text.splitlines() if re.match(r"\s*\d+\. ", line)]


def test_a_consultant_coming_back_gets_the_fitting_opportunity_first_with_its_reason(stack):
    ids = _story(stack)
    found = _suggestions(stack)
    assert set(found) == {ids["java"], ids["data"], ids["lyon"]}  # nobody fits the mainframe one
    java = found[ids["java"]]
    assert java["attributes"]["title"] == "Consultants disponibles pour « Back end Java »"
    assert java["relationships"]["mainManager"]["data"]["id"] == "3"  # the opportunity's business engineer
    assert _lines(java) == ["1. Jean Dupont — 4 compétences sur 5, disponible le 30/11, même lieu"]
    assert _lines(found[ids["lyon"]]) == ["1. Jean Dupont — 2 compétences sur 3, disponible le 30/11, autre lieu"]
    assert _lines(found[ids["data"]]) == ["1. Eve Martin — 3 compétences sur 3, disponible le 21/12, même lieu"]
    assert java["attributes"]["startDate"].startswith("2026-11-30")  # due when Jean is free
    token = admin_token(stack.tenant_id, "test")
    log = requests.get(f"{stack.web.url}/admin/activity", params={"a": token, "lang": "fr"}, timeout=10).text
    assert "Rapprochement d'opportunités — consultants en intercontrat ou qui y reviennent, rapprochés des " \
           "opportunités ouvertes" in html.unescape(log)


def test_replaying_the_opportunity_webhooks_twice_in_reverse_leaves_no_duplicate(stack):
    _story(stack)
    before = {k: (v["id"], v["attributes"]["text"]) for k, v in _suggestions(stack).items()}
    events = [e["data"]["id"] for e in stack.control("GET", "/_control/events?entity=opportunity")["events"]]
    assert len(events) == 4
    for _ in range(2):
        for event in reversed(events):
            stack.control("POST", f"/_control/events/{event}/deliver")
        settle()
    assert {k: (v["id"], v["attributes"]["text"]) for k, v in _suggestions(stack).items()} == before
    assert max(markers(stack.actions()).values()) == 1
    assert stack.control("GET", "/_control/positionings")["data"] == []  # positionings stay off unless turned on


def test_a_won_opportunity_withdraws_its_suggestions_and_a_persons_edit_is_kept(stack):
    ids = _story(stack)
    lyon = _suggestions(stack)[ids["lyon"]]
    client = boond_client(tenants.get(stack.tenant_id), get_redis())
    edited = lyon["attributes"]["text"].replace("<p>Proposez", "<p>Appelé le client lundi. Proposez")
    client.update_action(lyon["id"], {"data": {"id": lyon["id"], "type": "action", "attributes": {"text": edited}}})
    stack.control("POST", f"/_control/opportunities/{ids['java']}", json={"state": 1})  # won ("Gagnée")
    stack.control("POST", f"/_control/opportunities/{ids['lyon']}", json={"startDate": "2026-12-07"})
    settle()
    found = _suggestions(stack)
    assert ids["java"] not in found  # untouched: withdrawn
    assert found[ids["lyon"]]["attributes"]["text"] == edited  # edited by the business engineer: kept as is
    assert ids["data"] in found


def _positionings(stack) -> dict[tuple[str, str], dict]:
    """(opportunity, resource) → positioning, as Boond holds them (a duplicate would be lost here: counted apart)."""
    rows = stack.control("GET", "/_control/positionings")["data"]
    keys = [(r["relationships"]["opportunity"]["data"]["id"], r["relationships"]["dependsOn"]["data"]["id"]) for r in rows]
    assert len(keys) == len(set(keys)), "a consultant positioned twice on one opportunity"
    return dict(zip(keys, rows))


def test_positionings_when_turned_on_are_positioned_without_e_mail_never_duplicated_and_withdrawn_untouched(stack):
    ids = _story(stack)
    assert _positionings(stack) == {}  # off by default
    _turn_on(stack, per_consultant=2, positionings=True)
    stack.control("POST", f"/_control/opportunities/{ids['cobol']}", json={"criteria": "COBOL, CICS"})  # a new run
    settle()
    found = _positionings(stack)
    assert set(found) == {(ids["java"], "7"), (ids["lyon"], "7"), (ids["data"], ids["eve"])}
    java = found[(ids["java"], "7")]
    assert java["attributes"]["state"] == 0 and java["mails"] == {"sendMailToDependsOnManager": "false",
                                                                  "sendMailToOpportunityManager": "false"}
    assert "4 compétences sur 5, disponible le 30/11" in java["attributes"]["informationComments"]
    events = [e["data"]["id"] for e in stack.control("GET", "/_control/events?entity=opportunity")["events"]]
    for _ in range(2):
        for event in reversed(events):
            stack.control("POST", f"/_control/events/{event}/deliver")
        settle()
    assert _positionings(stack) == found
    client = boond_client(tenants.get(stack.tenant_id), get_redis())
    lyon = found[(ids["lyon"], "7")]["id"]
    client.update_positioning(lyon, {"data": {"id": lyon, "type": "positioning", "attributes": {"state": 3}}})  # CV sent
    for opportunity in ("java", "lyon"):
        stack.control("POST", f"/_control/opportunities/{ids[opportunity]}", json={"state": 2})  # lost
    settle()
    left = _positionings(stack)
    assert set(left) == {(ids["lyon"], "7"), (ids["data"], ids["eve"])}  # the one a person moved on stays
    assert left[(ids["lyon"], "7")]["attributes"]["state"] == 3


def test_a_consultant_whose_end_moves_is_ranked_again_without_any_opportunity_event(stack):
    ids = _story(stack)
    jean = next(e for e in stack.events() if e["data"]["relationships"]["dependsOn"]["data"]["type"] == "delivery")
    stack.move_end(jean["data"]["relationships"]["dependsOn"]["data"]["id"], date(2027, 1, 15))  # free on 18/01
    settle()
    found = _suggestions(stack)
    assert ids["java"] not in found  # starts on 01/12, 48 days before Jean is free: withdrawn
    assert _lines(found[ids["lyon"]]) == ["1. Jean Dupont — 2 compétences sur 3, disponible le 18/01, autre lieu"]


def _digests(stack) -> list[dict]:
    return [r for r in stack.actions() if (m := MARK.search(r["attributes"].get("text") or "")) and m.group(1).startswith("digest.")]


def _text(row: dict) -> str:
    return html.unescape(re.sub(r"</p>", "\n\n", re.sub(r"<(?!/p)[^>]+>", "", row["attributes"]["text"])))


def test_the_business_engineers_digest_is_one_action_updated_then_a_new_one_the_next_week_once_done(stack):
    tenant = tenants.get(stack.tenant_id)
    boond_settings(tenant).done_action_types = [6]  # "Fait / Done"
    tenants.save(tenant.model_copy(update={"matching": tenants.MatchSettings(digest_every_days=7)}))
    clock.pin(TODAY)  # a Monday: a digest day
    jean = stack.create_delivery(date(2026, 1, 5), date(2026, 11, 27))["data"]["id"]
    eve = stack.control("POST", "/_control/resources", json={"firstName": "Eve", "lastName": "Martin"})["id"]
    stack.create_delivery(date(2026, 2, 2), date(2026, 12, 18), resource=eve, title="Audit data")
    settle()
    (digest,) = _digests(stack)
    assert digest["relationships"]["dependsOn"]["data"] == {"id": "3", "type": "resource"}  # Hugo's own record
    assert digest["relationships"]["mainManager"]["data"]["id"] == "3"
    assert digest["attributes"]["title"] == "Vos consultants disponibles dans les 90 jours"
    text = _text(digest)
    assert "Dans les 30 jours :\n- Jean Dupont — fin de mission le 27/11, disponible le 30/11" in text
    assert "Dans les 60 jours :\n- Eve Martin — fin de mission le 18/12, disponible le 21/12" in text
    stack.move_end(jean, date(2026, 11, 20))  # moved earlier, no reason: to confirm
    settle()
    (updated,) = _digests(stack)
    assert updated["id"] == digest["id"] and "disponible le 23/11 (à confirmer)" in _text(updated)
    client = boond_client(tenants.get(stack.tenant_id), get_redis())
    client.update_action(updated["id"], {"data": {"id": updated["id"], "type": "action", "attributes": {"typeOf": 6}}})
    stack.move_end(jean, date(2026, 11, 13))
    settle()
    assert [r["id"] for r in _digests(stack)] == [digest["id"]]  # done this week: kept, nothing new before Monday
    clock.pin(date(2026, 11, 9))  # the next digest day: the scheduled run
    from handlers.sync.matching import match_tenant

    match_tenant(stack.tenant_id, "digest", {"kind": "scheduler"})
    fresh = [r for r in _digests(stack) if r["id"] != digest["id"]]
    assert len(fresh) == 1 and fresh[0]["attributes"]["startDate"].startswith("2026-11-09")
    assert "Dans les 30 jours :\n- Jean Dupont — fin de mission le 13/11, disponible le 16/11 (à confirmer)" in _text(fresh[0])


def test_a_consultant_leaving_early_gets_replacement_candidates_in_the_find_a_replacement_step(stack):
    _story(stack)
    luc = stack.control("POST", "/_control/resources", json={"firstName": "Luc", "lastName": "Petit"})["id"]
    stack.control("POST", f"/_control/resources/{luc}/technical-data", json={"skills": "Python, Django, Airflow"})
    mission = stack.create_delivery(date(2026, 3, 2), date(2027, 6, 30), resource=luc, title="Plateforme data")
    settle()
    stack.end_early(mission["data"]["id"], date(2026, 12, 11), "consultant")
    settle()
    step = next(r for r in stack.actions()
                if f"intermission:{mission['data']['id']}/consultant.replacement_offer" in r["attributes"]["text"])
    text = html.unescape(re.sub(r"<[^>]+>", "\n", step["attributes"]["text"]))
    block = text[text.index("Consultants disponibles dont les compétences correspondent"):]
    assert [line.strip() for line in block.splitlines() if re.match(r"\s*\d+\. ", line)] == [
        "1. Eve Martin — 3 compétences sur 3, disponible le 21/12 (9 jours après le démarrage), lieu non précisé"]
