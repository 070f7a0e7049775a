"""Bad input at the Boond webhook: the documented status, a message an admin can act on, nothing queued."""
from __future__ import annotations

import pytest
import requests

from handlers.intake.queues import get_queue

GOOD_EVENT = {"data": {"id": "evt-1", "type": "webhookevent", "attributes": {"type": "update"},
                       "relationships": {"dependsOn": {"data": {"id": "100", "type": "delivery"}}}}}


def _nothing_queued(redis_conn) -> bool:
    return get_queue(redis_conn).count == 0 and not list(redis_conn.scan_iter("im:t:acme:pending:*"))


@pytest.mark.parametrize("case, url_tail, body, headers, status", [
    ("wrong secret", "acme/not-the-secret", GOOD_EVENT, {}, 404),
    ("unknown tenant", "nobody/whatever", GOOD_EVENT, {}, 404),
    ("non-JSON", None, b"<xml>nope</xml>", {"Content-Type": "application/json"}, 400),
    ("2 MB body", None, b"{" + b" " * 2_000_000 + b"}", {"Content-Type": "application/json"}, 413),
    ("empty body", None, b"", {"Content-Type": "application/json"}, 400),
    ("wrong content type", None, b"a=b", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ("no dependsOn", None, {"data": {"id": "e2"}}, {}, 400),
    ("not UTF-8", None, b"\xff\xfe{\x00", {"Content-Type": "application/json"}, 400),
])
def test_bad_input_gets_its_status_and_queues_nothing(stack, redis_conn, case, url_tail, body, headers, status):
    url = stack.webhook_url if url_tail is None else f"{stack.web.url}/webhooks/boond/{url_tail}"
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    response = requests.post(url, headers=headers, timeout=30, **kwargs)
    assert response.status_code == status, case
    assert response.json()["message"]  # something an admin can act on
    assert _nothing_queued(redis_conn)


def test_wrong_secret_and_unknown_tenant_answer_the_same(stack):
    a = requests.post(f"{stack.web.url}/webhooks/boond/acme/wrong", json=GOOD_EVENT, timeout=30)
    b = requests.post(f"{stack.web.url}/webhooks/boond/ghost/wrong", json=GOOD_EVENT, timeout=30)
    assert (a.status_code, a.json()) == (b.status_code, b.json())


def test_action_events_are_ignored_so_our_writes_never_loop(stack, redis_conn):
    event = {"data": {"id": "evt-a", "attributes": {"type": "create"},
                      "relationships": {"dependsOn": {"data": {"id": "5", "type": "action"}}}}}
    response = requests.post(stack.webhook_url, json=event, timeout=30)
    assert response.status_code == 204
    assert _nothing_queued(redis_conn)


def test_good_event_is_queued_with_202(stack, redis_conn):
    response = requests.post(stack.webhook_url, json=GOOD_EVENT, timeout=30)
    assert response.status_code == 202 and response.json() == {"status": "queued"}
    assert get_queue(redis_conn).count == 1
    again = dict(GOOD_EVENT, data={**GOOD_EVENT["data"], "id": "evt-2"})
    assert requests.post(stack.webhook_url, json=again, timeout=30).json() == {"status": "coalesced"}
    assert get_queue(redis_conn).count == 1  # one re-read covers both hints


def test_the_plain_route_answers_other_methods_and_carries_the_request_id_as_flask_did(stack, redis_conn):
    get = requests.get(stack.webhook_url, timeout=30)
    assert (get.status_code, get.headers["Allow"], get.json()["error"]) == (405, "OPTIONS, POST", "Method Not Allowed")
    options = requests.options(stack.webhook_url, timeout=30)
    assert (options.status_code, options.headers["Allow"]) == (200, "OPTIONS, POST")
    given = requests.post(stack.webhook_url, json=GOOD_EVENT, headers={"X-Request-Id": "esn-trace-42"}, timeout=30)
    assert (given.status_code, given.headers["X-Request-Id"], given.json()) == (202, "esn-trace-42", {"status": "queued"})
    made = requests.post(stack.webhook_url, json={**GOOD_EVENT, "data": {**GOOD_EVENT["data"], "id": "evt-2"}},
                         headers={"X-Request-Id": "not a sane id!"}, timeout=30)
    assert made.status_code == 202 and len(made.headers["X-Request-Id"]) == 32  # a fresh one instead


def test_a_chunked_body_over_the_limit_is_refused_and_queues_nothing(stack, redis_conn):
    def chunks():
        yield b'{"data": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    response = requests.post(stack.webhook_url, data=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413 and "limit" in response.json()["message"]
    assert _nothing_queued(redis_conn)
