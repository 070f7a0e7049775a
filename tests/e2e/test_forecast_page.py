"""The bench forecast on the dashboard, from missions read from the Boond sandbox over real HTTP: who comes back
(names, dates, case, "to confirm"), the stacked week chart, and the CSV exports (formulas defused)."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date

import requests

from config.infra import clock
from tests.e2e.helpers import settle
from webhooks.admin.auth import admin_token

TODAY = date(2026, 11, 2)  # a Monday


def _story(stack) -> dict:
    clock.pin(TODAY)
    jean = stack.create_delivery(date(2026, 1, 5), date(2026, 11, 20), daily_cost=450)["data"]["id"]
    eve_id = stack.control("POST", "/_control/resources", json={"firstName": "=Eve", "lastName": "Martin"})["id"]
    eve = stack.create_delivery(date(2026, 2, 2), date(2026, 12, 31), resource=eve_id, title="Audit sécurité")
    settle()
    stack.move_end(eve["data"]["id"], date(2026, 11, 13))  # moved earlier, no reason given: to confirm
    settle()
    return {"jean": jean, "eve": eve["data"]["id"], "eve_resource": eve_id}


def _card(stack, lang: str) -> str:
    token = admin_token(stack.tenant_id, "test")
    page = requests.get(f"{stack.web.url}/admin/bench", params={"a": token, "lang": lang}, timeout=10)
    assert page.status_code == 200
    return re.search(r'<div class="card" id="forecast">(.*?)</div>\s*<div class="card" id="shares">', page.text, re.S).group(1)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", " ", fragment, flags=re.S))))


def test_the_dashboard_forecasts_who_comes_back_with_dates_case_and_to_confirm_in_french_and_english(stack):
    ids = _story(stack)
    card = _card(stack, "fr")
    returns = re.search(r'id="forecast-returns"[^>]*>(.*?)</table>', card, re.S).group(1)
    rows = re.findall(r"<tr class=\"([^\"]*)\">(.*?)</tr>", returns, re.S)
    assert [_text(r).split(" Audit")[0].split(" Refonte")[0].strip() for _, r in rows] == ["=Eve Martin", "Jean Dupont"]
    eve, jean = (_text(r) for _, r in rows)
    assert "13/11/2026 à confirmer" in eve and "Fin naturelle" in eve and "aucune connue" in eve
    assert "20/11/2026" in jean and "à confirmer" not in jean
    assert "48 21 600 €" in jean  # from 23/11 to the horizon (31/01): 48 working days × 450 €
    assert rows[0][0] == "to-confirm" and rows[1][0] == ""
    assert '<svg' in card and 'class="layer to_confirm"' in card and 'class="layer coming_back"' in card
    for code in (ids["jean"], ids["eve"], ids["eve_resource"], "7"):  # no host id beside a person
        assert code not in (eve + jean).split(), code
    assert not {"to_confirm", "coming_back", "on_bench", "natural", "None"} & set(_text(card).split())
    english = _text(_card(stack, "en"))
    assert "Coming back to the bench 2" in english and "13 Nov 2026 to confirm" in english and "none known" in english


def test_the_forecast_csv_lists_returns_and_weeks_and_defuses_formulas(stack):
    _story(stack)
    token = admin_token(stack.tenant_id, "test")
    url = f"{stack.web.url}/admin/bench/forecast.csv"
    returns = requests.get(url, params={"a": token, "lang": "en"}, timeout=10)
    assert returns.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(returns.text)))
    assert rows[0][:4] == ["Consultant", "Mission", "Mission ends", "Case"]
    assert rows[1][0] == "'=Eve Martin" and rows[1][2:5] == ["2026-11-13", "Natural end", "to confirm"]
    assert rows[2][:3] == ["Jean Dupont", "Refonte du SI logistique", "2026-11-20"] and rows[2][7:] == ["48", "450.00", "21600.00"]
    weeks = list(csv.reader(io.StringIO(requests.get(url, params={"a": token, "lang": "fr", "part": "weeks"},
                                                     timeout=10).text)))
    assert weeks[0][0] == "Semaine du" and len(weeks) == 14 and weeks[1][0] == TODAY.isoformat()
    assert weeks[3][2:6] == ["5", "0", "0", "5"]  # 16–22 Nov: Eve only (to confirm)
    assert weeks[4][1:6] == ["2", "10", "0", "5", "5"] and weeks[4][6:8] == ["100,0 %", "au-dessus du repère"]


def test_the_matching_card_turns_matching_on_and_refuses_a_bad_number_in_the_admins_language(stack):
    from config import tenants
    from webhooks.admin.auth import csrf_token

    token = admin_token(stack.tenant_id, "test")
    url = f"{stack.web.url}/admin/bench/matching"
    form = {"a": token, "csrf": csrf_token(token), "lang": "fr", "enabled": "1", "per_consultant": "beaucoup"}
    refused = requests.post(url, data=form, timeout=10, allow_redirects=False)
    assert refused.status_code == 400 and "Saisissez un nombre entier de 1 à 20." in refused.text
    assert tenants.get(stack.tenant_id).matching.enabled is False  # nothing saved
    saved = requests.post(url, data={**form, "per_consultant": "2", "positionings": "1"}, timeout=10,
                          allow_redirects=False)
    assert saved.status_code == 302
    assert tenants.get(stack.tenant_id).matching == tenants.MatchSettings(enabled=True, per_consultant=2,
                                                                          positionings=True)
    page = requests.get(f"{stack.web.url}/admin/bench", params={"a": token, "lang": "en"}, timeout=10).text
    card = re.search(r'<div class="card" id="matching">(.*?)</form>', page, re.S).group(1)
    assert "Suggest consultants for open opportunities" in card and 'value="2"' in card
    assert card.count("checked") == 2

