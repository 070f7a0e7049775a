"""Effective use of the bench from the host's inactivities (issue #29, point 4), over real HTTP on the Boond sandbox:
a consultant on the bench gets a training inactivity in Boond; its webhook re-reads his missions and the dashboard
counts those days as training, in French and English, with no internal code on the page."""
from __future__ import annotations

import re
from datetime import date

import requests

from config import tenants
from config.infra import clock
from config.infra.redis_conn import get_redis
from handlers.hosts.boond.setup import proposals
from tests.e2e.helpers import settle
from tests.e2e.test_forecast_page import _text
from webhooks.admin.auth import admin_token
from connectors.boond.settings import boond_settings

TRAINING, LEAVE = 3, 5  # "Formation", "Congés payés" in the sandbox dictionary's typeOf.inactivity


def _shares(stack, lang: str) -> str:
    """The dashboard's "what the bench went to" card, as the admin reads it."""
    answer = requests.get(f"{stack.web.url}/admin/bench",
                          params={"a": admin_token(stack.tenant_id, "test"), "lang": lang}, timeout=10)
    assert answer.status_code == 200
    return _text(re.search(r'<div class="card" id="shares">(.*?)</div>', answer.text, re.S).group(1))


def test_a_training_inactivity_in_boond_counts_its_bench_days_as_training_on_the_dashboard(stack):
    conn = get_redis()
    tenants.save(proposals(tenants.get(stack.tenant_id), conn))  # the set-up reads the dictionary's labels
    assert boond_settings(tenants.get(stack.tenant_id)).proposed_states["inactivity"] == {
        "2": "internal_project", "3": "training", "4": "mission_search"}
    clock.pin(date(2026, 10, 26))
    mission = stack.create_delivery(date(2026, 1, 5), date(2026, 10, 30))["data"]["id"]
    settle()
    clock.pin(date(2026, 11, 30))  # on the bench since Mon 2 Nov: 20 working days this quarter (11 Nov off)
    sent = stack.control("POST", "/_control/inactivities", json={
        "resource": "7", "startDate": "2026-11-09", "endDate": "2026-11-13", "title": "Formation Kubernetes",
        "typeOf": TRAINING})
    assert [d["status"] for d in sent["deliveries"]] == [202]  # the inactivity event was taken
    stack.control("POST", "/_control/inactivities", json={
        "resource": "7", "startDate": "2026-11-23", "endDate": "2026-11-24", "inactivityType": "absence",
        "typeOf": LEAVE})
    settle()

    french = _shares(stack, "fr")
    assert "Formation : 4 jours Sans activité relevée : 16 jours" in french  # the leave counts as nothing
    assert "Usage effectif de l'intercontrat : 20,0 %" in french  # 4 of 20 days
    assert "Jours couverts par une inactivité de l'outil : Formation 4" in french
    english = _shares(stack, "en")
    assert "Effective use of the bench : 20.0 %" in english
    assert "Days covered by an inactivity in the host : Training 4" in english
    assert "Training : 4 days No activity recorded : 16 days" in english
    for code in ("training", "internal_project", "unrecorded", mission, "typeOf", "None"):
        assert code not in english.split() and code not in french.split(), code
