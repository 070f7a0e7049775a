"""The bench dashboard, the timeline and the fixed admin defects in headless Chromium, inside a 1,000 × 700
iframe, in French and English; screenshots in tests/artifacts/."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from config.infra.redis_conn import get_redis
from config.infra import clock
from tests.bench_tenant import generate, write
from tests.browser.conftest import gone, in_iframe, overflow_x, screenshot, submit, wait_for
from tests.e2e.test_bench_pages import _bench_story
from webhooks.admin.auth import admin_token

TODAY = date(2026, 5, 20)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_bench_dashboard_of_300_consultants_fits_the_iframe(stack, browser, lang):
    clock.pin(TODAY)
    tenant = write(get_redis(), "bench-300", generate(300, TODAY), language=lang)
    url = f"{stack.web.url}/admin/bench?a={admin_token(tenant.id, 'test')}"
    in_iframe(browser, stack.web.url, url)
    table = wait_for(browser, "bench-table")
    browser.switch_to.parent_frame()
    screenshot(browser, f"bench-dashboard-{lang}")
    browser.switch_to.frame("host")
    assert overflow_x(browser) == 0
    assert len(table.find_elements(By.CSS_SELECTOR, "tr[data-consultant]")) == 25  # paged
    figures = browser.find_element(By.ID, "figures").text
    assert ("En intercontrat aujourd'hui" if lang == "fr" else "On the bench today") in figures
    assert browser.find_elements(By.CSS_SELECTOR, "#months svg rect.bar") and browser.find_elements(
        By.CSS_SELECTOR, "#shares svg rect")
    submit(browser, "next-page")
    assert "2 /" in wait_for(browser, "pager").text
    query = browser.find_element(By.ID, "q")
    query.send_keys("Consultant 007")
    old = browser.find_element(By.ID, "bench-table")
    query.submit()
    WebDriverWait(browser, 15).until(gone(old))  # the filtered page, not the one before
    rows = wait_for(browser, "bench-table").find_elements(By.CSS_SELECTOR, "tr[data-consultant]")
    assert all("Consultant 007" in r.text for r in rows)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_timeline_shows_done_and_late_steps_in_the_iframe(stack, browser, lang):
    mission = _bench_story(stack)
    url = f"{stack.web.url}/admin/timeline?a={admin_token(stack.tenant_id, 'test')}&lang={lang}&mission={mission}"
    in_iframe(browser, stack.web.url, url)
    steps = wait_for(browser, "timeline-steps")
    browser.switch_to.parent_frame()
    screenshot(browser, f"timeline-{lang}")
    browser.switch_to.frame("host")
    assert overflow_x(browser) == 0
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline svg circle.done")
    assert browser.find_elements(By.CSS_SELECTOR, "#timeline svg circle.late")
    done = steps.find_element(By.CSS_SELECTOR, 'tr[data-step="bench.training"]').text
    assert ("faite" if lang == "fr" else "done") in done
    review = steps.find_element(By.CSS_SELECTOR, 'tr[data-step="natural.review"]').text
    assert ("Manager (Claire Martin)" in review) and (("en retard" if lang == "fr" else "late") in review)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_activity_and_preview_fit_the_iframe_with_labels(stack, browser, lang):
    mission = _bench_story(stack)
    token = admin_token(stack.tenant_id, "test")
    in_iframe(browser, stack.web.url, f"{stack.web.url}/admin/activity?a={token}&lang={lang}")
    wait_for(browser, "activity")
    assert overflow_x(browser) == 0
    assert "natural" not in browser.find_element(By.ID, "activity").text.split("natural.")[0]  # labels, not codes
    browser.switch_to.parent_frame()
    screenshot(browser, f"activity-{lang}")
    in_iframe(browser, stack.web.url, f"{stack.web.url}/admin/preview?a={token}&lang={lang}&mission={mission}")
    wait_for(browser, "timeline")
    assert overflow_x(browser) == 0
    case = browser.find_element(By.ID, "case").text
    assert ("Nouvelle mission" if lang == "fr" else "Restaffed") in case
    browser.switch_to.parent_frame()
    screenshot(browser, f"preview-timeline-{lang}")


def test_the_language_switch_keeps_the_configure_button(market, browser):
    market.market("install")
    url = market.market("iframe", user_token="sbx-user-admin")["url"]
    browser.get(url)
    wait_for(browser, "use-me")
    submit(browser, "switch-language")
    wait_for(browser, "use-me")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert "Use my account" in browser.find_element(By.ID, "use-me").text
    screenshot(browser, "configure-after-language-switch")
    browser.get(browser.current_url.replace("/admin/setup", "/admin/"))  # the overview keeps the nonce too
    wait_for(browser, "use-me")
    submit(browser, "test-connection")
    wait_for(browser, "test-result")
    assert browser.find_elements(By.ID, "use-me")  # the test's answer page still offers the configuration


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_unknown_admin_page_is_a_page_in_the_admins_language(stack, browser, lang):
    token = admin_token(stack.tenant_id, "test")
    in_iframe(browser, stack.web.url, f"{stack.web.url}/admin/nowhere?a={token}&lang={lang}")
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == ("Page introuvable" if lang == "fr" else "Page not found")
    assert browser.find_element(By.ID, "back")
    browser.switch_to.parent_frame()
    screenshot(browser, f"not-found-{lang}")
