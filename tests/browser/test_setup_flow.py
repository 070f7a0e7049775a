"""The set-up flow driven end to end in headless Chromium, inside a 1,000 × 700 iframe, in French and English, against
both sandboxes (issue #27); a screenshot of each screen in tests/artifacts/setup-<host>-<n>-<screen>-<lang>.png."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.sync import holds
from tests.browser.conftest import in_iframe, overflow_x, screenshot, submit, wait_for
from tests.e2e.helpers import markers, settle
from webhooks.admin.auth import admin_token

T0 = date(2026, 3, 2)
NOBODY = {"fr": "personne", "en": "nobody"}
CLIENT_END = {"fr": "Fin anticipée par le client", "en": "Ended early by the client"}


def _shot(browser, host: str, number: int, screen: str, lang: str) -> None:
    """Check the screen fits the iframe, then keep its picture."""
    assert overflow_x(browser) == 0, screen
    browser.switch_to.parent_frame()
    screenshot(browser, f"setup-{host}-{number}-{screen}-{lang}")
    browser.switch_to.frame("host")


def _search_and_pick(browser, people: dict[str, tuple[str, str]]) -> None:
    """Search each role's person by name (a page reload each), then pick them by name in the selects."""
    for role, (query, _name) in people.items():
        box = browser.find_element(By.ID, f"search_{role}")
        box.clear()
        box.send_keys(query)
        submit(browser, f"find_{role}")
        wait_for(browser, "setup-owners")
    for role, (_query, name) in people.items():
        Select(browser.find_element(By.ID, f"owner_{role}")).select_by_visible_text(name)


def _preview_checks(browser, lang: str) -> None:
    """The next ends as the host will get them: the client's early end as a client end, every step owned by a named
    person, no step's code shown."""
    text = browser.find_element(By.ID, "setup-preview").text
    assert CLIENT_END[lang] in text
    owners = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td.owner")]
    assert owners and NOBODY[lang] not in owners and all(owners)
    assert "client." not in text and "natural" not in text and "business_engineer" not in text


def _place_and_preview(browser, host: str, number: int, lang: str) -> None:
    """The calendar screen (Europe/Paris and France proposed or kept), then the next ends."""
    wait_for(browser, "setup-place")
    assert Select(browser.find_element(By.ID, "timezone")).first_selected_option.get_attribute("value") == "Europe/Paris"
    assert Select(browser.find_element(By.ID, "country")).first_selected_option.get_attribute("value") == "FR"
    _shot(browser, host, number, "place", lang)
    submit(browser, "setup-next")
    wait_for(browser, "setup-preview")
    _preview_checks(browser, lang)
    _shot(browser, host, number + 1, "preview", lang)
    submit(browser, "setup-next")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_boond_set_up_flow_from_the_marketplace_iframe(market, browser, redis_conn, lang):
    clock.pin(T0)
    market.market("install")
    tenants.save(market.installed().model_copy(update={"language": lang}))
    leaver = market.new_consultant("Sortant")
    iframe = market.market("iframe", user_token="sbx-user-admin")["url"]
    in_iframe(browser, market.web.url, iframe)
    wait_for(browser, "setup-connection")
    _shot(browser, "boond", 1, "connection", lang)
    submit(browser, "use-me")
    assert "ok" in wait_for(browser, "connection-result").get_attribute("class")
    # while the set-up is incomplete, a client's early end and a leaver's last mission are held, not written
    mission = market.new_mission(date(2025, 11, 3), date(2026, 6, 30))
    market.end_early(mission, date(2026, 4, 10), "client")
    gone = market.create_delivery(date(2025, 10, 1), date(2026, 2, 27), resource=leaver)["data"]["id"]
    market.control("POST", f"/_control/resources/{leaver}/state", json={"state": 0})
    settle()
    assert market.actions() == [] and mission in holds.held(redis_conn, market.tenant.id)
    submit(browser, "setup-next")

    wait_for(browser, "setup-states")
    left = [o for o in browser.find_elements(By.CSS_SELECTOR, "select[id^=state_resource_] option[selected]")]
    assert any(o.get_attribute("value") == "left" for o in left)  # "Sortie" proposed as left, pre-selected
    _shot(browser, "boond", 2, "states", lang)
    submit(browser, "setup-next")

    wait_for(browser, "setup-owners")
    _search_and_pick(browser, {"manager": ("martin", "Claire Martin"), "business_engineer": ("hugo", "Hugo Bernard"),
                               "hr": ("moreau", "Inès Moreau")})
    _shot(browser, "boond", 3, "owners", lang)
    submit(browser, "setup-next")

    _place_and_preview(browser, "boond", 4, lang)
    wait_for(browser, "setup-activate")
    forecast = browser.find_element(By.ID, "setup-forecast").text  # what the install backfill will write, first
    assert ("action(s)" in forecast) and ("Claire Martin" in forecast or "Hugo Bernard" in forecast)
    _shot(browser, "boond", 6, "activate", lang)
    submit(browser, "activate")
    assert wait_for(browser, "kill-switch") and not browser.find_elements(By.ID, "setup-incomplete")
    settle()
    actions = market.actions()
    ours = [a for a in actions if f"intermission:{mission}/" in a["attributes"].get("text", "")]
    assert ours and set(markers(ours)) == {m for m in markers(ours) if m.startswith(f"intermission:{mission}/client.")}
    assert not [m for m in markers(actions) if m.startswith(f"intermission:{gone}/bench.")]  # nobody who left benched
    owners = {(a["relationships"]["mainManager"]["data"] or {}).get("id") for a in actions}
    assert owners and "1" not in owners  # never the technical account


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_salesforce_set_up_flow_after_connect(sf_stack, browser, lang):
    clock.pin(T0)
    tenant = tenants.require(sf_stack.tenant.id)
    tenants.save(tenant.model_copy(update={"language": lang, "setup_complete": False,
                                           "planning": tenants.PlanningSettings(), "timezone": "UTC"}))
    mission = sf_stack.new_mission(date(2025, 11, 3), date(2026, 6, 30))
    sf_stack.end_early(mission, date(2026, 4, 10), "client")
    settle()
    assert sf_stack.tasks() == [] and mission in holds.held(get_redis(), tenant.id)
    in_iframe(browser, sf_stack.web.url, f"{sf_stack.web.url}/admin/setup?a={admin_token(tenant.id, 'test')}")
    assert "ok" in wait_for(browser, "connection-result").get_attribute("class")
    _shot(browser, "salesforce", 1, "connection", lang)
    submit(browser, "setup-next")

    wait_for(browser, "setup-owners")  # no state screen: Salesforce's values come with the mapping
    _search_and_pick(browser, {"manager": ("claire", "Claire Martin"), "business_engineer": ("hugo", "Hugo Bernard"),
                               "hr": ("moreau", "Inès Moreau")})
    _shot(browser, "salesforce", 2, "owners", lang)
    submit(browser, "setup-next")

    _place_and_preview(browser, "salesforce", 3, lang)  # Salesforce: proposed from its Organization
    wait_for(browser, "setup-activate")
    _shot(browser, "salesforce", 5, "activate", lang)
    submit(browser, "activate")
    wait_for(browser, "kill-switch")
    settle()
    tasks = [t for t in sf_stack.tasks() if mission in (t.get("WhatId") or "") + (t.get("Description") or "")]
    assert tasks and all("/client." in t["Description"] for t in tasks)
    assert tenants.require(tenant.id).timezone == "Europe/Paris"
