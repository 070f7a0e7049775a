"""Survey records in a real Redis: made once per respondent, a stable link, answered once, tenant averages."""
from __future__ import annotations

import threading
from datetime import date

import pytest

from config.infra import signing
from config.tenants import Tenant
from handlers.surveys import records as surveys
from handlers.domain.model import DesiredAction, Person
from tests.unit.test_plan import mission

D = date.fromisoformat
TENANT = Tenant(id="acme", host="boond", language="en")


def survey_action(due: str, step: str = "natural.satisfaction") -> DesiredAction:
    return DesiredAction(key=step, step_id=step, kind="survey", assignee_role="manager", assignee=Person(id="2"),
                         target=Person(id="7"), nominal_due=D(due), due=D(due), title="t", text="x")


def made(conn, due: str = "2026-05-21", today: str = "2026-03-02", snap=None) -> dict:
    return surveys.ensure(conn, TENANT, snap or mission(), survey_actions=[survey_action(due)], today=D(today))


def test_one_survey_per_respondent_with_a_link_minted_once(redis_conn):
    first = made(redis_conn)
    assert sorted(first) == ["client_contact", "consultant"]
    assert first["consultant"].person_id == "7" and first["client_contact"].person_type == "contact"
    assert first["consultant"].language == "en" and first["consultant"].sent_on == D("2026-05-21")
    again = made(redis_conn)
    assert {r: s.token for r, s in again.items()} == {r: s.token for r, s in first.items()}
    assert surveys.states(redis_conn, "acme", "100") == again
    assert redis_conn.hkeys("im:t:acme:surveys:100")  # under the tenant's namespace


def test_an_unknown_respondent_gets_no_survey_and_no_survey_step_makes_none(redis_conn):
    assert list(made(redis_conn, snap=mission(client_contact=None))) == ["consultant"]
    assert surveys.ensure(redis_conn, TENANT, mission(mission_id="101"), survey_actions=[], today=D("2026-03-02")) == {}


def test_an_unsent_survey_follows_its_step_and_a_sent_one_stays(redis_conn):
    made(redis_conn, "2026-05-21")
    assert made(redis_conn, "2026-06-04", today="2026-03-10")["consultant"].sent_on == D("2026-06-04")  # extended
    assert made(redis_conn, "2026-06-18", today="2026-06-05")["consultant"].sent_on == D("2026-06-04")  # already sent


def test_a_survey_is_answered_once(redis_conn):
    token = made(redis_conn)["consultant"].token
    assert surveys.answer(redis_conn, TENANT, token, satisfaction=4, nps=9, comment=" Great team. ", today=D("2026-05-22")) == "answered"
    stored = surveys.states(redis_conn, "acme", "100")["consultant"]
    assert (stored.status, stored.satisfaction, stored.nps, stored.comment) == ("answered", 4, 9, "Great team.")
    assert stored.answered_on == D("2026-05-22")
    assert surveys.answer(redis_conn, TENANT, token, satisfaction=1, nps=0, comment="changed my mind", today=D("2026-05-23")) == "already"
    assert surveys.states(redis_conn, "acme", "100")["consultant"] == stored


def test_concurrent_answers_store_exactly_one(redis_conn):
    token = made(redis_conn)["client_contact"].token
    results, start = [], threading.Barrier(8)

    def go(n: int) -> None:
        start.wait()
        results.append(surveys.answer(redis_conn, TENANT, token, satisfaction=1 + n % 5, nps=n, comment=f"answer {n}",
            today=D("2026-05-22")))

    threads = [threading.Thread(target=go, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already"] * 7 + ["answered"]
    kept = surveys.states(redis_conn, "acme", "100")["client_contact"]
    assert kept.comment == f"answer {kept.nps}"


def test_an_altered_or_foreign_token_opens_nothing(redis_conn):
    token = made(redis_conn)["consultant"].token
    assert surveys.find(redis_conn, token).role == "consultant"
    assert surveys.find(redis_conn, token[:-2] + ("AA" if not token.endswith("AA") else "BB")) is None
    forged = signing.sign("survey", {"t": "acme", "m": "100", "r": "consultant", "n": "00000000"})
    assert surveys.find(redis_conn, forged) is None  # genuine signature, but not the link we sent
    assert surveys.answer(redis_conn, TENANT, forged, satisfaction=5, nps=10, comment="", today=D("2026-05-22")) == "unknown"
    assert surveys.find(redis_conn, signing.sign("admin", {"t": "acme"})) is None


@pytest.mark.parametrize("sat, nps, comment, problem", [
    (0, 5, "", {"satisfaction": "range"}), (6, 5, "", {"satisfaction": "range"}), (3, 11, "", {"nps": "range"}),
    (None, 5, "", {"satisfaction": "required"}), (3, "x", "", {"nps": "range"}),
    (3, 5, "é" * 2001, {"comment": "too_long"})])
def test_bad_answers_are_refused_before_anything_is_stored(redis_conn, sat, nps, comment, problem):
    token = made(redis_conn)["consultant"].token
    assert surveys.validate(sat, nps, comment) == problem
    with pytest.raises(ValueError):
        surveys.answer(redis_conn, TENANT, token, satisfaction=sat, nps=nps, comment=comment, today=D("2026-05-22"))
    assert surveys.states(redis_conn, "acme", "100")["consultant"].status == "sent"


def test_expiry_counts_from_the_day_the_survey_is_sent():
    state = surveys.SurveyState(tenant="acme", mission="1", step_id="s", role="consultant", person_id="7",
                                person_type="resource", token="t", sent_on=D("2026-05-21"))
    assert not state.expired(D("2026-03-01"), 30) and not state.expired(D("2026-06-20"), 30)
    assert state.expired(D("2026-06-21"), 30) and state.expired(D("2026-05-22"), 0)


def test_answers_and_averages_per_tenant(redis_conn):
    assert surveys.averages(redis_conn, "acme") == {"count": 0, "satisfaction": None, "nps": None, "nps_score": None}
    for mission_id, scores in (("100", [(5, 10), (4, 9)]), ("101", [(2, 3), (3, 7)])):
        got = made(redis_conn, snap=mission(mission_id=mission_id))
        for role, (sat, nps) in zip(("consultant", "client_contact"), scores):
            surveys.answer(redis_conn, TENANT, got[role].token, satisfaction=sat, nps=nps, comment="", today=D("2026-05-22"))
    made(redis_conn, snap=mission(mission_id="102"))  # sent, unanswered: not counted
    assert len(surveys.answers(redis_conn, "acme")) == 4
    assert surveys.answers(redis_conn, "other") == []
    assert surveys.averages(redis_conn, "acme") == {"count": 4, "satisfaction": 3.5, "nps": 7.25, "nps_score": 25}
