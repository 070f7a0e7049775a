"""Survey e-mails against a real SMTP server: invitation and reminder, language, opt-out, cap, retries, failures."""
from __future__ import annotations

import re
from datetime import date

import pytest
import requests

from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.surveys import records as surveys
from handlers.sync.jobs import tick
from handlers.surveys.mail import failures
from tests.e2e.helpers import settle
from tests.e2e.smtp_helpers import PASSWORD, USER, start_smtp
from tests.e2e.survey_helpers import END, T0, host_texts, serve_links_from

SENT = date(2026, 4, 9)  # the survey day of a mission ending on 16 April
REMINDER = date(2026, 4, 16)  # five business days later
CONSULTANT, CONTACT = "jean.dupont@esn-sandbox.example", "sophie.leroy@acme-industrie.example"


@pytest.fixture
def mail(stack, monkeypatch):
    """The Boond stack whose tenant sends surveys through a real SMTP server: (stack, inbox)."""
    serve_links_from(stack, monkeypatch)
    controller, inbox = start_smtp()
    tenant = tenants.get(stack.tenant_id)
    email = tenants.SurveyEmail(host="127.0.0.1", port=controller.port, security="none", username=USER,
                                password=PASSWORD, sender="surveys@esn.example", sender_name="Demo ESN")
    tenants.save(tenant.model_copy(update={"surveys": tenant.surveys.model_copy(update={"email": email})}))
    state = stack.sandbox._server.app.extensions["boond_sandbox"]
    with state.lock:  # the client contact reads English (a `language` attribute on her record)
        state.db["contact"]["11"]["attributes"]["language"] = "en"
    yield stack, inbox
    controller.stop()


def _day(day: date) -> None:
    clock.pin(day)
    tick()
    settle()


def _mission(stack, end: date = END, resource: str = "7") -> str:
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), end, resource=resource)["data"]["id"]
    settle()
    return mission


def _link(mission: str, role: str, stack) -> str:
    return f"/survey/{surveys.states(get_redis(), stack.tenant_id, mission)[role].token}"


def test_invitation_and_reminder_arrive_in_each_respondents_language(mail):
    stack, inbox = mail
    mission = _mission(stack)
    assert inbox.messages == []  # nothing before the survey's day
    _day(SENT)
    [fr], [en] = inbox.to(CONSULTANT), inbox.to(CONTACT)
    assert fr["Subject"].startswith("Votre avis") and en["Subject"].startswith("Your view")
    assert inbox.logins and set(inbox.logins) == {(USER, PASSWORD)}
    for message, role in ((fr, "consultant"), (en, "client_contact")):
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert _link(mission, role, stack) in plain.get_content() and _link(mission, role, stack) in html.get_content()
        assert "/survey/opt-out/" in message["List-Unsubscribe"] and message["From"].endswith("<surveys@esn.example>")
    assert "Bonjour Jean Dupont" in fr.get_body(("plain",)).get_content()
    assert "Hello Sophie Leroy" in en.get_body(("plain",)).get_content()
    text = host_texts(stack)  # the manager's action says it went, to whom and when
    assert f"envoyé par e-mail à {CONSULTANT} le 09/04/2026" in text and f"envoyé par e-mail à {CONTACT}" in text
    _day(REMINDER)
    assert [m["Subject"][:7] for m in inbox.to(CONSULTANT)] == ["Votre a", "Rappel "]
    assert [m["Subject"][:8] for m in inbox.to(CONTACT)] == ["Your vie", "Reminder"]
    assert "relancé le 16/04/2026" in host_texts(stack)
    _day(date(2026, 4, 30))
    assert len(inbox.messages) == 4  # one reminder, never a second


def test_a_respondent_who_opted_out_gets_nothing_more_ever(mail):
    stack, inbox = mail
    _mission(stack)
    _day(SENT)
    [invitation] = inbox.to(CONSULTANT)
    optout = re.search(r"<(http[^>]+)>", invitation["List-Unsubscribe"]).group(1)
    page = requests.get(optout, timeout=10)
    assert page.status_code == 200 and 'id="opt-out"' in page.text  # a scanner opening the link opts nobody out
    done = requests.post(optout, timeout=10)
    assert done.status_code == 200 and "plus de questionnaire" in done.text
    _day(REMINDER)
    assert len(inbox.to(CONSULTANT)) == 1 and len(inbox.to(CONTACT)) == 2
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"surveys": tenant.surveys.model_copy(update={"cap_days": 0})}))
    _mission(stack, end=date(2026, 6, 18))  # a later mission of the same consultant
    _day(date(2026, 6, 11))
    _day(date(2026, 6, 18))
    assert len(inbox.to(CONSULTANT)) == 1


def test_a_second_survey_within_the_cap_is_not_sent(mail):
    stack, inbox = mail
    other = stack.new_consultant("Second")
    first = _mission(stack)
    second = _mission(stack, end=date(2026, 4, 23), resource=other)  # same client contact, a week later
    _day(SENT)
    _day(REMINDER)  # the first survey's reminder, the second one's invitation day
    subjects = [m["Subject"][:8] for m in inbox.to(CONTACT)]
    assert subjects == ["Your vie", "Reminder"]  # her reminder, not a second survey
    assert len(inbox.to(f"consultant{other}@esn-sandbox.example")) == 1
    state = surveys.states(get_redis(), stack.tenant_id, second)["client_contact"]
    assert state.mail_status == "capped" and first != second
    assert "already" not in host_texts(stack) and "déjà sollicité récemment" in host_texts(stack)


def test_smtp_errors_are_retried_then_shown_on_the_admin_page(mail):
    stack, inbox = mail
    from webhooks.admin.auth import admin_token

    inbox.busy_times = 2  # two 451s: the third attempt goes through
    inbox.refuse = {CONTACT}  # a hard bounce every time
    mission = _mission(stack)
    _day(SENT)
    assert len(inbox.to(CONSULTANT)) == 1 and inbox.to(CONTACT) == []
    assert inbox.attempts >= 2 + 1 + 4  # the busy answers, then every attempt at the refused address
    [failure] = failures(get_redis(), stack.tenant_id)
    assert failure["to"] == CONTACT and "550" in failure["error"] and failure["mission"] == mission
    page = requests.get(f"{stack.web.url}/admin/progress", params={"a": admin_token(stack.tenant_id, "t")},
                        timeout=10)
    assert page.status_code == 200 and CONTACT in page.text and "mailbox unavailable" in page.text
    assert "e-mail non remis" in host_texts(stack)
    _day(REMINDER)
    assert inbox.to(CONTACT) == [] and len(inbox.to(CONSULTANT)) == 2
