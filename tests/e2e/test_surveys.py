"""Survey links over real HTTP: refusals that change nothing, the answer written back once, one reminder."""
from __future__ import annotations

import logging
from html import unescape
from datetime import date

import pytest

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.surveys import records as surveys
from handlers.sync.jobs import tick
from tests.e2e.helpers import by_step, markers, owner, settle
from tests.e2e.survey_helpers import (form_token, link, mission_with_survey, post_answer, serve_links_from, world)


@pytest.fixture
def survey(stack, monkeypatch):
    """The Boond stack with one mission whose survey links are in its survey action: (stack, mission)."""
    serve_links_from(stack, monkeypatch)
    return stack, mission_with_survey(stack)


def _steps(stack, mission: str) -> dict:
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def test_the_page_is_in_the_respondents_language_with_a_switch_and_works_on_a_phone(survey):
    stack, mission = survey
    url = link(stack, mission, "client_contact")
    page = stack.http.get(url, timeout=10)
    assert page.status_code == 200 and 'name="viewport"' in page.text
    assert "La mission « Refonte du SI logistique »" in page.text and 'href="?lang=en"' in page.text
    assert "Recommanderiez-vous Demo ESN" in page.text and 'name="form_token"' in page.text
    assert "http" not in page.text.split("<body>", 1)[1].replace(url, "")  # no external asset, no outside link
    english = stack.http.get(url + "?lang=en", timeout=10)
    assert "Would you recommend Demo ESN" in english.text and 'href="?lang=fr"' in english.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"


def test_an_answer_is_stored_once_and_a_second_one_is_refused_with_nothing_changed(survey):
    stack, mission = survey
    url = link(stack, mission, "consultant")
    token = form_token(stack.http.get(url, timeout=10).text)
    first = post_answer(url, 4, 9, "Très bonne mission.", token=token)
    assert first.status_code == 200 and "Votre réponse est bien enregistrée" in first.text
    settle()
    note = _steps(stack, mission)["natural.satisfaction.answer.consultant"]
    assert note["attributes"]["typeOf"] == 4  # the tenant's "Note" on resources
    before = world(stack, mission)
    again = post_answer(url, 1, 0, "Finalement non.", token=token)
    assert again.status_code == 409 and "nous avons déjà votre réponse" in again.text
    assert "nous avons déjà votre réponse" in stack.http.get(url, timeout=10).text
    settle()
    assert world(stack, mission) == before


@pytest.mark.parametrize("how", ["no form token", "another survey's form token", "cross-site header"])
def test_a_cross_site_post_is_refused_and_changes_nothing(survey, how):
    stack, mission = survey
    url, other = link(stack, mission, "consultant"), link(stack, mission, "client_contact")
    token = {"no form token": "", "another survey's form token": form_token(stack.http.get(other, timeout=10).text),
             "cross-site header": form_token(stack.http.get(url, timeout=10).text)}[how]
    before = world(stack, mission)
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"} if how == "cross-site header" else {}
    refused = post_answer(url, 5, 10, "forged", token=token, headers=headers)
    assert refused.status_code == 403 and "Envoi refusé" in refused.text and "Rien n'a été enregistré" in unescape(refused.text)
    assert world(stack, mission) == before


def test_an_altered_link_is_refused_and_changes_nothing(survey):
    stack, mission = survey
    url = link(stack, mission, "consultant")
    token = form_token(stack.http.get(url, timeout=10).text)
    altered = url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")
    before = world(stack, mission)
    assert stack.http.get(altered, timeout=10).status_code == 404
    refused = post_answer(altered, 5, 10, token=token)
    assert refused.status_code == 404 and "Lien non valable" in refused.text
    assert stack.http.get(url.rsplit("/", 1)[0] + "/not-a-token", timeout=10).status_code == 404
    assert world(stack, mission) == before


def test_an_expired_link_is_refused_and_changes_nothing(survey):
    stack, mission = survey
    url = link(stack, mission, "client_contact")
    token = form_token(stack.http.get(url, timeout=10).text)
    clock.pin(date(2026, 5, 10))  # sent Thu 9 April + 30 days (the tenant's default) = 9 May
    before = world(stack, mission)
    page = stack.http.get(url, timeout=10)
    assert page.status_code == 410 and "Ce lien a expiré" in page.text
    assert post_answer(url, 5, 10, token=token).status_code == 410
    assert world(stack, mission) == before
    clock.pin(date(2026, 5, 9))
    assert stack.http.get(url, timeout=10).status_code == 200  # the last day still works


def test_the_link_lifetime_is_a_tenant_setting(survey):
    stack, mission = survey
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"surveys": tenant.surveys.model_copy(update={"link_max_age_days": 0})}))
    url = link(stack, mission, "consultant")
    clock.pin(date(2026, 4, 10))
    assert stack.http.get(url, timeout=10).status_code == 410


def test_bad_scores_are_refused_next_to_the_field_and_change_nothing(survey):
    stack, mission = survey
    url = link(stack, mission, "consultant")
    before = world(stack, mission)
    bad = post_answer(url, 9, 7, "Bien.")
    assert bad.status_code == 400 and 'id="error-satisfaction"' in bad.text and "note n'est pas valable" in unescape(bad.text)
    assert 'id="nps-7" value="7" checked' in bad.text and "Bien." in bad.text  # what was typed is kept
    missing = post_answer(url, "", 7)
    assert missing.status_code == 400 and 'id="error-satisfaction"' in missing.text and "error-nps" not in missing.text
    assert post_answer(url, 3, 7, "x" * 2001).status_code == 400
    assert world(stack, mission) == before


def test_one_reminder_when_unanswered_after_the_delay_and_none_after_the_answer(survey):
    stack, mission = survey
    conn = get_redis()
    assert conn.zscore("im:due", f"{stack.tenant_id}|{mission}") == date(2026, 4, 16).toordinal()
    clock.pin(date(2026, 4, 15))  # sent on the 9th: 4 business days later
    tick()
    settle()
    assert not [k for k in _steps(stack, mission) if ".reminder." in k]
    clock.pin(date(2026, 4, 16))  # 5 business days: the scheduler wakes the mission
    assert f"{stack.tenant_id}/{mission}" in tick()
    settle()
    steps = _steps(stack, mission)
    reminder = steps["natural.satisfaction.reminder.client_contact"]
    assert reminder["attributes"]["startDate"].startswith("2026-04-16") and owner(reminder) == "2"
    assert reminder["relationships"]["dependsOn"]["data"] == {"id": "11", "type": "contact"}
    assert link(stack, mission, "client_contact") in reminder["attributes"]["text"]
    assert "natural.satisfaction.reminder.consultant" in steps
    for day in (16, 17, 20):
        clock.pin(date(2026, 4, day))
        tick()
        stack.move_end(mission, date(2026, 4, 16))  # a webhook for good measure: still one reminder each
        settle()
    assert max(markers(stack.actions()).values()) == 1
    post_answer(link(stack, mission, "client_contact"), 5, 10)
    settle()
    after = _steps(stack, mission)
    assert "natural.satisfaction.reminder.client_contact" not in after  # cancelled once answered
    assert "natural.satisfaction.reminder.consultant" in after


def test_survey_links_never_reach_the_logs(survey, caplog):
    stack, mission = survey
    url = link(stack, mission, "consultant")
    token = url.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO):
        stack.http.get(url, timeout=10)
        post_answer(url, 4, 8)
        settle()
    assert "/survey/[token]" in caplog.text and token not in caplog.text


def test_a_survey_answer_lands_in_the_activity_log_with_its_trigger(survey):
    from handlers.state.ledger import ActivityLog

    stack, mission = survey
    post_answer(link(stack, mission, "consultant"), 2, 5, "Peu d'accompagnement.")
    settle()
    rows = ActivityLog(get_redis(), stack.tenant_id).recent(mission=mission)
    made = {r["key"]: r for r in rows if r["op"] == "created"}
    trigger = made["natural.satisfaction.followup.consultant"]["trigger"]
    assert {k: trigger[k] for k in ("kind", "step", "role")} == {"kind": "survey", "step": "natural.satisfaction",
                                                                 "role": "consultant"}
    assert surveys.averages(get_redis(), stack.tenant_id)["count"] == 1


def test_the_preview_knows_the_surveys_and_shows_nothing_to_do_after_an_answer(survey):
    from handlers.sync.preview import preview, preview_stored

    stack, mission = survey
    post_answer(link(stack, mission, "client_contact"), 1, 2, "Déçu.")
    settle()
    for shown in (preview(stack.tenant_id, mission), preview_stored(tenants.get(stack.tenant_id), mission)):
        ops = {a["key"]: a["op"] for a in shown["actions"]}
        assert ops["natural.satisfaction.followup.client_contact"] == "unchanged"
        assert set(ops.values()) == {"unchanged"}
