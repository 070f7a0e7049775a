"""Duplicated, shuffled and replayed webhooks converge to the same host state, with zero duplicates."""
from __future__ import annotations

import random
from datetime import date

import pytest

from config.infra import clock
from handlers.sync.jobs import tick
from tests.e2e.helpers import host_state, markers, settle

T0 = date(2026, 3, 2)


@pytest.fixture(params=["documented", "observed"])
def stack(redis_conn, request):
    """The stack on each sandbox dialect (docs/SANDBOXES.md): the story must hold on both."""
    from sandboxes.stack import Stack

    with Stack("acme", dialect=request.param) as running:
        yield running


def _story(stack, deliver):
    """The issue's story; `deliver(events)` decides how each phase's webhooks reach us."""
    history: list[dict] = []

    def phase(response):
        history.extend(response["events"])
        deliver(response["events"], history)
        settle()

    clock.pin(T0)
    made = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)
    mission = made["data"]["id"]
    phase(made)
    phase(stack.move_end(mission, date(2026, 5, 7), deliver=False))
    phase(stack.end_early(mission, date(2026, 3, 12), "client", deliver=False))
    clock.pin(date(2026, 3, 13))
    tick()
    settle()
    phase(stack.create_delivery(date(2026, 3, 30), date(2026, 12, 18), deliver=False))
    return history


def _reset(stack, redis_conn):
    redis_conn.flushdb()
    stack.control("POST", "/_control/reset")
    stack.tenant = stack._create_tenant()


def test_triple_shuffled_and_replayed_webhooks_end_in_the_in_order_state(stack, redis_conn):
    def in_order(events, history):
        for event in events:
            assert stack.post_webhook(event).status_code == 202

    _story(stack, in_order)
    expected = host_state(stack.actions())
    assert expected and max(markers(stack.actions()).values()) == 1

    _reset(stack, redis_conn)
    rng = random.Random(20261126)

    def messy(events, history):
        burst = list(history) * 3  # this phase's events and every earlier one, three times each
        rng.shuffle(burst)
        statuses = {stack.post_webhook(e).status_code for e in burst}
        assert statuses <= {202, 204}

    history = _story(stack, messy)
    assert host_state(stack.actions()) == expected
    assert max(markers(stack.actions()).values()) == 1

    stack.control("POST", "/_control/calls/reset")
    replay = history * 3
    rng.shuffle(replay)
    for event in replay:
        stack.post_webhook(event)
    settle()
    assert host_state(stack.actions()) == expected
    writes = [r for r in stack.control("GET", "/_control/calls")["by_route"] if r.split()[0] != "GET"]
    assert writes == []  # replaying the whole story wrote nothing


def test_duplicate_event_is_acknowledged_once_and_ignored_after(stack, redis_conn):
    clock.pin(T0)
    made = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)
    event = made["events"][0]
    assert stack.post_webhook(event).status_code == 202
    again = stack.post_webhook(event)
    assert again.status_code == 204 and again.headers["X-Intermission-Ignored"] == "duplicate event"
    settle()
    assert len(stack.actions()) == 8
