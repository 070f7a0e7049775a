"""Survey e-mail pieces that need no server: the texts, the settings' secrets, the opt-out token, the progress bar."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from config import tenants
from handlers.sync import backfill
from handlers.surveys import mail as survey_mail
from handlers.surveys.mail_texts import render
from connectors.salesforce.settings import SalesforceConfig


def test_the_texts_are_in_the_respondents_language_with_the_link_and_the_opt_out():
    subject, plain, html = render("en", "reminder", name="Sophie", company="ESN", link="https://x/survey/t",
                                  optout="https://x/survey/opt-out/o")
    assert subject == "Reminder: your view on the mission that is ending — ESN"
    assert "Hello Sophie," in plain and "https://x/survey/t" in plain and "https://x/survey/opt-out/o" in plain
    assert 'href="https://x/survey/t"' in html and 'lang="en"' in html
    subject, plain, _ = render("fr", "invite", name="Jean <b>", company="", link="l", optout="o")
    assert subject == "Votre avis sur la mission qui se termine" and "Bonjour Jean <b>," in plain
    assert "Jean &lt;b&gt;" in render("fr", "invite", name="Jean <b>", company="", link="l", optout="o")[2]


def test_the_smtp_password_is_masked_and_a_bad_sender_refused():
    email = tenants.SurveyEmail(host="smtp.example", password="hunter2-long", sender="s@esn.example")
    tenant = tenants.Tenant(id="acme", host="boond", surveys=tenants.SurveySettings(email=email))
    assert tenant.redacted()["surveys"]["email"]["password"] == "hun…"
    with pytest.raises(ValidationError):
        tenants.SurveyEmail(host="smtp.example", sender="not an address")


def test_surveys_go_by_email_only_without_a_survey_tool():
    email = tenants.SurveyEmail(host="smtp.example", sender="s@esn.example")
    boond = tenants.Tenant(id="acme", host="boond", surveys=tenants.SurveySettings(email=email))
    assert survey_mail.uses_email(boond) and not survey_mail.uses_email(tenants.Tenant(id="acme", host="boond"))
    sf = tenants.Tenant(id="acme-sf", host="salesforce", surveys=tenants.SurveySettings(email=email),
                        host_settings=SalesforceConfig(client_id="c", client_secret="s", has_surveys=True))
    assert not survey_mail.uses_email(sf)


def test_an_opt_out_token_names_the_person_by_hash_only(redis_conn):
    tenants.save(tenants.Tenant(id="acme", host="boond"))
    token = survey_mail.optout_token("acme", "Jean@Example.com", "en")
    assert "jean" not in token.lower() and survey_mail.optout_language(token) == "en"
    assert survey_mail.opt_out(redis_conn, token + "x") is None
    assert survey_mail.opt_out(redis_conn, token) == "acme"
    assert survey_mail.opted_out(redis_conn, "acme", "jean@example.com")
    assert not survey_mail.opted_out(redis_conn, "acme", "other@example.com")


def test_the_progress_bar():
    assert backfill.bar({"total": 40, "read": 10, "planned": 9, "failed": 1, "held": 0}, width=8) == \
        "[##------] 10/40 read, 9 planned, 1 failed, 0 held"
    assert backfill.bar({"total": 0, "read": 0}, width=4).startswith("[####] 0/0")


def test_the_progress_bar_says_the_time_left_at_the_pace_of_the_stretch_under_way():
    run = {"status": "running", "total": 100, "read": 30, "pace_since": 1000.0, "pace_read": 20, "paced_at": 1010.0}
    assert backfill.estimate_left(run, 1010.0) == 70.0  # 10 missions in 10 s since resumed: 70 left, 70 s
    assert backfill.estimate_left(run, 1015.0) == 65.0  # the end estimated at the last page does not drift
    assert backfill.estimate_left({**run, "read": 20}, 1010.0) is None  # nothing done yet in this stretch
    assert backfill.estimate_left({**run, "status": "done"}, 1010.0) is None
    assert backfill.bar({**run, "eta_seconds": 125}, width=4).endswith("0 held, about 2 min 05 s left")
