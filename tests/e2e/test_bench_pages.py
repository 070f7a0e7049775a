"""The bench dashboard and the timeline over real HTTP, from the demo's story in the Boond sandbox: a mission with
a daily cost ends, the bench starts, a manager ticks two bench steps done in Boond, the consultant is restaffed;
the figures follow."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, timedelta

import requests

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.hosts.boond.adapter import make_client as boond_client
from handlers.sync.jobs import tick
from tests.e2e.helpers import by_step, settle
from webhooks.admin.auth import admin_token, csrf_token
from connectors.boond.settings import boond_settings

DONE_TYPE = 6  # "Fait / Done" in the sandbox's dictionary


def _working_days(a: date, b: date) -> int:
    import holidays

    fr = holidays.country_holidays("FR", years=[a.year, b.year])
    return sum(1 for n in range((b - a).days + 1) if (a + timedelta(n)).weekday() < 5 and a + timedelta(n) not in fr)


def _bench_story(stack) -> str:
    tenant = tenants.get(stack.tenant_id)
    boond_settings(tenant).done_action_types = [DONE_TYPE]
    tenants.save(tenant)
    clock.pin(date(2026, 3, 2))
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 3, 12), daily_cost=480)["data"]["id"]
    settle()
    clock.pin(date(2026, 3, 13))  # the first bench day
    tick()
    settle()
    steps = {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}
    client = boond_client(tenants.get(stack.tenant_id), get_redis())
    for step in ("bench.training", "bench.skills_volunteering"):  # a manager ticks them done in Boond
        action_id = steps[step]["id"]
        client.update_action(action_id, {"data": {"id": action_id, "type": "action",
                                                  "attributes": {"typeOf": DONE_TYPE}}})
    stack.create_delivery(date(2026, 3, 30), date(2026, 12, 18), title="Migration cloud")  # restaffed
    clock.pin(date(2026, 3, 30))
    tick()
    settle()
    return mission


def test_the_dashboard_shows_the_bench_days_cost_and_mecenat_saving_from_the_host(stack):
    mission = _bench_story(stack)
    token = admin_token(stack.tenant_id, "test")
    page = requests.get(f"{stack.web.url}/admin/bench", params={"a": token, "lang": "en"}, timeout=10)
    assert page.status_code == 200
    days = _working_days(date(2026, 3, 13), date(2026, 3, 29))  # 11: from the first bench day to the new mission
    row = re.search(r'<tr data-consultant="7"[^>]*>(.*?)</tr>', page.text, re.S).group(1)
    assert "2026-03-13" in row and "2026-03-29" in row and f">{days}<" in row
    assert "€5,280" in row and "(host)" in row  # 11 × 480
    assert "Training" in row and "Skills volunteering" in row
    saving = round(0.6 * 480 / 1.5 * days / 2)  # half the bench days went to mécénat: 60 % × 320 € × 5.5
    assert f"€{saving:,}" in re.search(r'id="mecenat">(.*?)</p>', page.text, re.S).group(1)
    rate = days / _working_days(date(2026, 3, 1), date(2026, 3, 30))  # one consultant: 11 of March's 21 days
    assert f"{rate * 100:.1f} %" in html.unescape(re.search(r'id="rate-month">(.*?)<', page.text).group(1))
    assert "above the benchmark" in page.text
    assert "<svg" in page.text and "<script" not in page.text
    exported = requests.get(f"{stack.web.url}/admin/bench.csv", params={"a": token, "lang": "en"}, timeout=10)
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert exported.headers["Content-Type"].startswith("text/csv") and rows[1][:6] == [
        "Jean Dupont", "Refonte du SI logistique", "2026-03-13", "2026-03-29", str(days), str(days)]
    assert (rows[0][-1], rows[1][-1]) == ("Mission id in the host", mission)  # the host's id, said what it is


def test_the_bench_settings_refuse_a_bad_amount_in_the_admins_language(stack):
    token = admin_token(stack.tenant_id, "test")
    form = {"a": token, "csrf": csrf_token(token), "lang": "fr", "default_daily_cost": "beaucoup",
            "daily_margin": "", "gross_daily_salary": ""}
    refused = requests.post(f"{stack.web.url}/admin/bench/settings", data=form, timeout=10)
    assert refused.status_code == 400 and "Saisissez un montant positif" in refused.text
    assert tenants.get(stack.tenant_id).bench.default_daily_cost is None
    saved = requests.post(f"{stack.web.url}/admin/bench/settings", data={**form, "default_daily_cost": "450,50"},
                          timeout=10)
    assert saved.status_code == 200 and tenants.get(stack.tenant_id).bench.default_daily_cost == 450.5


def test_the_timeline_shows_done_late_and_planned_steps_with_owners_and_links(stack):
    mission = _bench_story(stack)
    token = admin_token(stack.tenant_id, "test")
    page = requests.get(f"{stack.web.url}/admin/timeline", params={"a": token, "mission": mission}, timeout=10)
    assert page.status_code == 200 and "Nouvelle mission" in page.text  # the case: restaffed
    done = re.search(r'<tr data-step="bench.training" data-state="done">(.*?)</tr>', page.text, re.S).group(1)
    assert "faite" in done and "/actions/" in done  # kept after restaffing: someone's work
    review = re.search(r'<tr data-step="natural.review" data-state="(\w+)">(.*?)</tr>', page.text, re.S)
    assert review.group(1) == "late" and "Manager (Claire Martin)" in review.group(2)
    assert 'class="mark"' in page.text and "Aujourd'hui 2026-03-30" in html.unescape(page.text)


def test_unknown_admin_urls_and_refusals_are_pages_in_the_admins_language(stack):
    token = admin_token(stack.tenant_id, "test")
    missing = requests.get(f"{stack.web.url}/admin/nowhere", params={"a": token}, timeout=10)
    assert missing.status_code == 404 and "Page introuvable" in missing.text and "<html" in missing.text
    english = requests.get(f"{stack.web.url}/admin/nowhere", params={"a": token, "lang": "en"}, timeout=10)
    assert "Page not found" in english.text
    forged = requests.post(f"{stack.web.url}/admin/toggle", data={"a": token, "lang": "fr"}, timeout=10)
    assert forged.status_code == 403 and "rien n'a été modifié" in html.unescape(forged.text)
    assert "nothing" not in forged.text


def test_resume_is_refused_for_a_tenant_not_configured(stack):
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"enabled": False, "status": "needs_configuration"}))
    token = admin_token(stack.tenant_id, "test")
    answer = requests.post(f"{stack.web.url}/admin/toggle", data={"a": token, "csrf": csrf_token(token),
                                                                 "lang": "fr"}, timeout=10)
    assert answer.status_code == 200 and "Impossible de réactiver" in html.unescape(answer.text)
    assert tenants.get(stack.tenant_id).enabled is False


def test_the_connection_test_speaks_in_words_and_checks_the_mapping(stack):
    token = admin_token(stack.tenant_id, "test")
    form = {"a": token, "csrf": csrf_token(token), "lang": "fr"}
    ok = requests.post(f"{stack.web.url}/admin/test", data=form, timeout=10)
    ok.encoding = "utf-8"
    assert "La connexion fonctionne : Boond répond" in ok.text and "La correspondance est valide" in ok.text
    tenant = tenants.get(stack.tenant_id)
    boond_settings(tenant).action_types = {"task": 999}
    tenants.save(tenant)
    wrong = requests.post(f"{stack.web.url}/admin/test", data=form, timeout=10)
    assert "le type d'action task → 999 n'existe pas" in html.unescape(wrong.text)
    boond_settings(tenant).app_key = "not-the-key"
    tenants.save(tenant)
    refused = requests.post(f"{stack.web.url}/admin/test", data={**form, "lang": "en"}, timeout=10)
    assert "refuses" in refused.text and "('" not in refused.text
