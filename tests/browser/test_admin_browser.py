"""The admin pages in headless Chromium: install from the Boond marketplace, edit a step, see the preview."""
from __future__ import annotations

from datetime import date

from selenium.webdriver.common.by import By

from config import tenants
from config.infra import clock
from tests.browser.conftest import gone, screenshot, submit, wait_for
from tests.e2e.helpers import settle
from tests.e2e.market_helpers import CLIENT_TOKEN
from webhooks.admin.auth import admin_token
from connectors.boond.settings import boond_settings
from handlers.hosts.boond import marketplace


def test_boond_install_from_the_marketplace_to_a_configured_tenant(market, browser):
    market.market("install")
    tenant = marketplace.tenant_for_client_token(CLIENT_TOKEN)
    assert tenant is not None and not boond_settings(tenant).user_token  # installed, waiting for its technical user
    browser.get(market.market("iframe", user_token="sbx-user-admin")["url"])
    wait_for(browser, "setup-connection")  # a new install opens its set-up flow (issue #27)
    screenshot(browser, "admin-boond-configure")
    button = browser.find_element(By.ID, "use-me")
    button.click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(gone(button))  # the old page is gone
    result = wait_for(browser, "connection-result")
    screenshot(browser, "admin-boond-configured")
    assert "Alex Admin" in result.text and "ok" in result.get_attribute("class")  # in the tenant's language (French)
    assert "La connexion fonctionne" in result.text
    assert any("/webhooks/boond/" in w.get("url", "") for w in market.api_webhooks())
    clock.pin(date(2026, 3, 2))
    market.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    assert market.actions() == [] and tenants.require(tenant.id).setup_complete is False  # held until the set-up
    # ends: tests/browser/test_setup_flow.py drives the rest of the flow


def test_rewording_and_retiming_a_step_changes_the_preview(stack, browser):
    clock.pin(date(2026, 3, 2))
    stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
    settle()
    base = f"{stack.web.url}/admin"
    token = admin_token(stack.tenant_id, "test")
    browser.get(f"{base}/preview?a={token}&lang=en")
    before = wait_for(browser, "preview").find_element(By.CSS_SELECTOR, 'tr[data-step="natural.review"]').text
    assert "2026-04-14" in before
    browser.get(f"{base}/playbook/natural.review?a={token}&lang=en")
    title = wait_for(browser, "title_fr")
    title.clear()
    title.send_keys("Bilan de fin de mission à trois (maison)")
    days = browser.find_element(By.ID, "offset_days")
    days.clear()
    days.send_keys("-6")
    screenshot(browser, "admin-step-edit")
    submit(browser, "save")
    assert "1" in wait_for(browser, "replan-count").text  # how many missions will change, before confirming
    submit(browser, "confirm")
    wait_for(browser, "steps")
    browser.get(f"{base}/preview?a={token}&lang=en")
    after = wait_for(browser, "preview").find_element(By.CSS_SELECTOR, 'tr[data-step="natural.review"]').text
    screenshot(browser, "admin-preview")
    assert "Bilan de fin de mission à trois (maison)" in after and "2026-04-08" in after and "update" in after


def test_a_validation_error_is_shown_next_to_its_field(stack, browser):
    token = admin_token(stack.tenant_id, "test")
    browser.get(f"{stack.web.url}/admin/playbook/natural.handover?a={token}&lang=en")
    days = wait_for(browser, "offset_days")
    days.clear()
    days.send_keys("400")
    browser.find_element(By.ID, "save").click()  # the browser refuses an impossible value: nothing is sent
    assert browser.execute_script("return document.getElementById('offset_days').validity.rangeOverflow") is True
    assert browser.find_element(By.ID, "offset_days") == days  # still the same page
    browser.execute_script("document.getElementById('step-form').noValidate = true")  # as a script or old browser
    submit(browser, "save")
    error = wait_for(browser, "offset_days-error")
    screenshot(browser, "admin-validation-error")
    field = browser.find_element(By.ID, "offset_days")
    assert error.text == "“Offset”: at most 366."  # the server refuses it too, in words
    assert error.location["y"] - field.location["y"] < 80  # right under the field it is about
    assert tenants.get(stack.tenant_id).playbook_overrides == {}


def test_the_planning_card_picks_a_country_then_one_of_its_regions(stack, browser):
    """Issue #27, point 4: country and region are selects; picking another country offers its regions, in words."""
    from selenium.webdriver.support.ui import Select, WebDriverWait

    token = admin_token(stack.tenant_id, "test")
    browser.get(f"{stack.web.url}/admin/?a={token}&lang=fr")
    country = Select(wait_for(browser, "country"))
    assert country.first_selected_option.text == "France"

    def regions(driver) -> list[str]:  # read in one go: the options are replaced while the page fetches them
        return driver.execute_script("return Array.from(document.getElementById('subdivision').options)"
                                     ".map(o => o.text)")

    assert "Moselle (57)" in regions(browser)
    country.select_by_value("CA")
    WebDriverWait(browser, 10).until(lambda d: "Québec (QC)" in regions(d))
    assert "Moselle (57)" not in regions(browser)
    Select(browser.find_element(By.ID, "subdivision")).select_by_value("QC")
    screenshot(browser, "planning-card-region-fr")
    submit(browser, "save-planning")
    saved = tenants.require(stack.tenant_id)
    assert (saved.country, saved.subdivision) == ("CA", "QC")
