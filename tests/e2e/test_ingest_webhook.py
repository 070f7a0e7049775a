"""The webhook receive path: a Boond event queued in one script, run by a worker, counted once, answered as before."""
from __future__ import annotations

from datetime import date

from config.infra import metrics
from config.infra import clock
from handlers.intake.queues import get_queue
from tests.e2e.helpers import by_step, settle
from tests.reliability.webhook_load import boond_event
from tests.unit.test_ingest_admit import conversation

T0 = date(2026, 3, 2)
NATURAL = ["natural.availability", "natural.handover", "natural.new_needs", "natural.prospect",
           "natural.rapport_etonnement", "natural.recommendations", "natural.review", "natural.satisfaction"]


def _webhook_counts(conn) -> dict[str, float]:
    """Webhooks answered, by status (a status an error after the admit moved its count from reads 0)."""
    return {labels["status"]: value for name, labels, value in metrics.read_all(conn)
            if name == "intermission_webhooks" and labels.get("host") == "boond" and value}


def test_a_webhook_is_queued_once_and_a_burst_worker_writes_its_actions(stack, redis_conn):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]
    first = stack.post_webhook(boond_event("evt-1", mission))
    assert (first.status_code, first.json()) == (202, {"status": "queued"})
    again = stack.post_webhook(boond_event("evt-1", mission))
    assert (again.status_code, again.headers["X-Intermission-Ignored"]) == (204, "duplicate event")
    other = stack.post_webhook(boond_event("evt-2", mission))
    assert (other.status_code, other.json()) == (202, {"status": "coalesced"})
    assert get_queue(redis_conn).count == 1  # the duplicate and the coalesced hint queued nothing more
    assert _webhook_counts(redis_conn) == {"202": 2, "204": 1}
    settle()
    assert get_queue(redis_conn).count == 0
    steps = sorted(k.split("/", 1)[1] for k in by_step(stack.actions()) if k.startswith(mission + "/"))
    assert steps == NATURAL
    assert stack.post_webhook(boond_event("evt-1", mission)).status_code == 204  # still a duplicate afterwards


def _app_and_url(stack):
    from webhooks.app import create_app

    return create_app().test_client(), "/" + stack.webhook_url.split("/", 3)[3]


def test_a_webhook_costs_one_round_trip_its_count_included(stack, redis_conn):
    client, url = _app_and_url(stack)
    assert client.post(url, json=boond_event("warm", "900")).status_code == 202  # script loaded, tenant known
    with conversation() as trips:
        answers = [client.post(url, json=boond_event(e, d)).status_code
                   for e, d in (("e1", "901"), ("e1", "901"), ("e2", "901"))]
    assert answers == [202, 204, 202]
    # the tenant check (its stored record's digest), the webhook counter and the request-latency histogram
    # (bucket, sum) are all inside the script
    assert trips == [["EVALSHA"]] * 3
    assert _webhook_counts(redis_conn) == {"202": 3, "204": 1}
    hits = sum(value for name, labels, value in metrics.read_all(redis_conn)
               if name == f"{metrics.REQUEST_HISTOGRAM}_hit" and labels.get("route", "").startswith("/webhooks/"))
    assert hits == 4  # every webhook's latency, in its one bucket


def test_other_answers_are_counted_too(stack, redis_conn):
    client, url = _app_and_url(stack)
    assert client.post(url.rsplit("/", 1)[0] + "/wrong-secret", json=boond_event("e1", "1")).status_code == 404
    assert client.post(url, data=b"{", content_type="application/json").status_code == 400
    assert _webhook_counts(redis_conn) == {"404": 1, "400": 1}


def test_an_error_after_the_admit_answers_503_and_the_redelivery_is_a_duplicate(stack, redis_conn, monkeypatch):
    import webhooks.hosts.boond.webhook

    client, url = _app_and_url(stack)

    def broken(*_, **__):
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(webhooks.hosts.boond.webhook, "json_answer", broken)
    assert client.post(url, json=boond_event("e1", "77")).status_code == 503
    assert _webhook_counts(redis_conn) == {"503": 1}
    assert get_queue(redis_conn).count == 1  # the change itself was admitted whole
    monkeypatch.undo()
    assert client.post(url, json=boond_event("e1", "77")).status_code == 204  # its redelivery: a duplicate


def test_with_wait_replicas_a_refused_webhook_is_counted_as_its_503(stack, redis_conn, monkeypatch):
    from config.settings import get_settings

    client, url = _app_and_url(stack)
    monkeypatch.setattr(get_settings(), "redis_wait_replicas", 1)  # no replica here: WAIT times out, 503
    monkeypatch.setattr(get_settings(), "redis_wait_timeout_ms", 10)
    assert client.post(url, json=boond_event("e1", "78")).status_code == 503
    assert _webhook_counts(redis_conn) == {"503": 1}


def test_a_tenant_changed_after_the_process_read_it_is_read_again(stack, redis_conn):
    from config import tenants

    client, url = _app_and_url(stack)
    assert client.post(url, json=boond_event("k1", "910")).status_code == 202  # the process knows the tenant
    tenant = tenants.get(stack.tenant.id)
    tenants.save(tenant.model_copy(update={"enabled": False}))  # paused by its admin from another process
    paused = client.post(url, json=boond_event("k2", "911"))
    assert (paused.status_code, paused.headers["X-Intermission-Ignored"]) == (204, "tenant paused")
    tenants.save(tenant)
    assert client.post(url, json=boond_event("k3", "912")).status_code == 202
    tenants.save(tenant.model_copy(update={"webhook_secret": "n" * 43}))  # the secret rotated: the old URL is refused
    assert client.post(url, json=boond_event("k4", "913")).status_code == 404
    assert get_queue(redis_conn).count == 2  # k1 and k3 only
