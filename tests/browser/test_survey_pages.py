"""Surveys answered in headless Chromium on a phone-sized window; the answer found in the host sandbox."""
from __future__ import annotations

from datetime import date

import pytest
from selenium.webdriver.common.by import By

from config.infra import clock
from tests.browser.conftest import screenshot, wait_for
from tests.e2e.helpers import by_step, owner, settle
from tests.e2e.sf_helpers import by_step as sf_by_step
from tests.e2e.survey_helpers import link, mission_with_survey, serve_links_from

SOPHIE_CONTACT = "003000000000011AAA"


def answer_on(driver, url: str, satisfaction: int, nps: int, comment: str, name: str) -> str:
    """Open the link, pick the scores, type the comment, send; returns the page's message."""
    driver.get(url)
    assert driver.execute_script("return window.innerWidth") <= 420  # a phone-sized viewport
    screenshot(driver, f"{name}-form")
    driver.find_element(By.CSS_SELECTOR, f"label[for=sat-{satisfaction}]").click()
    driver.find_element(By.CSS_SELECTOR, f"label[for=nps-{nps}]").click()
    driver.find_element(By.ID, "comment").send_keys(comment)
    button = driver.find_element(By.ID, "submit")
    assert button.size["height"] >= 44 and button.size["width"] >= 300  # a thumb-sized target
    button.click()
    message = wait_for(driver, "message")
    screenshot(driver, f"{name}-sent")
    return message.text


def _steps(stack, mission: str) -> dict:
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def test_a_consultant_answers_on_a_phone_and_the_answer_lands_in_boond_as_a_note(stack, phone, monkeypatch):
    serve_links_from(stack, monkeypatch)
    mission = mission_with_survey(stack)
    clock.pin(date(2026, 4, 9))  # the day the survey is sent
    url = link(stack, mission, "consultant")
    assert "Merci" in answer_on(phone, url, 4, 9, "Équipe accueillante, objectifs tenus.", "boond-consultant")
    settle()
    steps = _steps(stack, mission)
    note = steps["natural.satisfaction.answer.consultant"]
    attrs = note["attributes"]
    assert attrs["typeOf"] == 4  # "Note" in the tenant's dictionary for resources
    assert note["relationships"]["dependsOn"]["data"] == {"id": "7", "type": "resource"}
    assert "satisfaction 4/5" in attrs["title"] and "recommandation 9/10" in attrs["title"]
    assert "Équipe accueillante, objectifs tenus." in attrs["text"]
    assert not [k for k in steps if ".reminder." in k or ".followup." in k]  # no reminder, no follow-up
    phone.get(url)  # the same link again
    assert "déjà votre réponse" in wait_for(phone, "message").text
    screenshot(phone, "boond-consultant-again")


def test_a_low_score_from_the_client_contact_gives_the_manager_a_follow_up(stack, phone, monkeypatch):
    serve_links_from(stack, monkeypatch)
    mission = mission_with_survey(stack)
    clock.pin(date(2026, 4, 10))  # a Friday
    phone.get(link(stack, mission, "client_contact") + "?lang=en")
    phone.find_element(By.ID, "submit").click()  # nothing picked: errors next to the fields
    assert wait_for(phone, "error-satisfaction").is_displayed() and phone.find_element(By.ID, "error-nps")
    screenshot(phone, "boond-client-errors")
    message = answer_on(phone, phone.current_url, 2, 3, "Deadlines slipped twice.", "boond-client-low")
    assert "Thank you" in message
    settle()
    steps = _steps(stack, mission)
    follow = steps["natural.satisfaction.followup.client_contact"]
    assert owner(follow) == "2" and follow["attributes"]["startDate"].startswith("2026-04-13")  # next business day
    assert follow["relationships"]["dependsOn"]["data"] == {"id": "11", "type": "contact"}
    assert "Deadlines slipped twice." in follow["attributes"]["text"]
    note = steps["natural.satisfaction.answer.client_contact"]
    assert note["attributes"]["typeOf"] == 2  # "Note" for contacts


def test_an_expired_link_shows_a_clear_page(stack, phone, monkeypatch):
    serve_links_from(stack, monkeypatch)
    mission = mission_with_survey(stack)
    clock.pin(date(2026, 6, 1))
    phone.get(link(stack, mission, "consultant"))
    assert "expiré" in wait_for(phone, "message").text
    screenshot(phone, "survey-expired")


@pytest.fixture
def sf_links(sf_stack, monkeypatch):
    serve_links_from(sf_stack, monkeypatch)
    return sf_stack


def test_on_salesforce_the_answer_is_a_completed_task_on_the_mission(sf_links, phone):
    org = sf_links
    mission = mission_with_survey(org)
    clock.pin(date(2026, 4, 9))
    message = answer_on(phone, link(org, mission, "client_contact"), 1, 2, "Pas de nouvelles depuis un mois.",
                        "salesforce-client")
    assert "Merci" in message
    settle()
    tasks = sf_by_step(org.tasks(), mission)
    note = tasks["natural.satisfaction.answer.client_contact"]
    assert note["Status"] == "Completed" and note["WhatId"] == mission and note["WhoId"] == SOPHIE_CONTACT
    assert "1/5" in note["Subject"] and "Pas de nouvelles depuis un mois." in note["Description"]
    follow = tasks["natural.satisfaction.followup.client_contact"]
    assert follow["Status"] == "Not Started" and follow["Priority"] == "High" and follow["ActivityDate"] == "2026-04-10"
