"""The set-up flow over HTTP (issue #27): screens resumable, proposals pre-selected, nothing written before the end."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlparse

import requests

from config import tenants
from config.infra import clock
from handlers.sync import holds
from tests.e2e.helpers import settle


def _form(html: str, action_part: str) -> dict:
    """The hidden fields and selected options of the form posting to `action_part`."""
    form = html.split(f'action="{action_part}', 1)[1].split("</form>", 1)[0]
    values = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)">(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        values[name] = chosen.group(1) if chosen else ""
    return values


def test_a_marketplace_install_goes_through_the_flow_and_plans_right(market, redis_conn):
    clock.pin(date(2026, 3, 2))
    market.market("install")
    iframe = market.market("iframe", user_token="sbx-user-admin")["url"]
    http = requests.Session()
    page = http.get(iframe, timeout=30)
    assert page.status_code == 200 and 'id="setup-connection"' in page.text  # a new install opens its set-up
    base = market.web.url
    token = parse_qs(urlparse(page.url).query)["a"][0]
    page = http.post(f"{base}/admin/configure", data=_form(page.text, "/admin/configure"), timeout=30)
    assert 'id="connection-result" class="ok"' in page.text
    market.installed()
    mission = market.new_mission(date(2025, 11, 3), date(2026, 6, 30))
    market.end_early(mission, date(2026, 4, 10), "client")
    settle()
    assert market.actions() == [] and holds.held(redis_conn, market.tenant.id)
    page = http.post(f"{base}/admin/setup/connection", data=_form(page.text, "/admin/setup/connection"), timeout=30)
    assert 'id="setup-states"' in page.text and "Arrêtée par le client" in page.text
    page = http.post(f"{base}/admin/setup/states", data=_form(page.text, "/admin/setup/states"), timeout=30)
    assert 'id="setup-owners"' in page.text
    # resumable: reopening the flow goes back to the first screen not confirmed
    assert 'id="setup-owners"' in http.get(f"{base}/admin/setup", params={"a": token}, timeout=30).text
    found = http.get(f"{base}/admin/setup", params={"a": token, "step": "owners", "manager": "martin",
                                                     "business_engineer": "hugo", "hr": "moreau"}, timeout=30)
    assert "Claire Martin" in found.text
    form = _form(found.text, "/admin/setup/owners")
    for role, ident in (("manager", "2"), ("business_engineer", "3"), ("hr", "4")):
        form[f"owner_{role}"] = ident
    page = http.post(f"{base}/admin/setup/owners", data=form, timeout=30)
    assert 'id="setup-place"' in page.text, page.text[:3000]
    page = http.post(f"{base}/admin/setup/place", data=_form(page.text, "/admin/setup/place"), timeout=30)
    assert 'id="setup-preview"' in page.text
    assert "Fin anticipée par le client" in page.text  # the early end is planned as a client end
    page = http.post(f"{base}/admin/setup/preview", data=_form(page.text, "/admin/setup/preview"), timeout=30)
    assert 'id="setup-activate"' in page.text
    page = http.post(f"{base}/admin/setup/activate", data=_form(page.text, "/admin/setup/activate"), timeout=30)
    assert 'id="setup-incomplete"' not in page.text and tenants.get(market.tenant.id).setup_complete
    settle()
    written = [a for a in market.actions() if f"intermission:{mission}/" in a["attributes"].get("text", "")]
    assert written and all(f"intermission:{mission}/client." in a["attributes"]["text"] for a in written)
