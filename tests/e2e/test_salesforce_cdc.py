"""Change Data Capture through the Pub/Sub API: the sandbox's gRPC stream, read by the subscriber, reaches Tasks."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from config import keys
from config.infra import clock
from webhooks.hosts.salesforce.cdc import Subscriber, check_topic, stored_replay
from handlers.ops.health import streams
from sandboxes.stack_salesforce import SalesforceStack
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates

T0 = date(2026, 3, 2)
TOPIC = "/data/Mission__ChangeEvent"


@pytest.fixture
def cdc_stack(redis_conn):
    with SalesforceStack("acme-sf", mode="cdc") as running:
        yield running


def last_event(stack) -> str:
    events = stack.control("GET", "/_control/pubsub/events")["events"]
    return events[-1]["replay_id"] if events else ""


def caught_up(redis_conn, stack, timeout: float = 20.0) -> None:
    """Wait until the stored replay id is the org's last event (the subscriber runs in another thread)."""
    deadline, wanted = time.monotonic() + timeout, last_event(stack)
    while time.monotonic() < deadline:
        stored = stored_replay(redis_conn, "acme-sf", TOPIC)
        if stored and stored["replay"] == wanted:
            return
        time.sleep(0.05)
    raise AssertionError(f"the subscriber did not reach {wanted}: {stored_replay(redis_conn, 'acme-sf', TOPIC)}")


class Running:
    """`intermission subscribe` in a thread of the test process."""

    def __enter__(self):
        self.subscriber = Subscriber(rescan_seconds=0.2)
        self.thread = threading.Thread(target=self.subscriber.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.subscriber.stop.set()
        self.thread.join(timeout=10)


def test_an_end_date_changed_in_the_org_reaches_the_host_as_tasks_through_cdc(cdc_stack, redis_conn):
    clock.pin(T0)
    with Running():
        time.sleep(0.3)  # the stream starts at the latest event: let it open before the first change
        mission = cdc_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        caught_up(redis_conn, cdc_stack)
        settle()
        assert by_step(cdc_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-04-14"
        cdc_stack.move_end(mission, date(2026, 5, 7))
        caught_up(redis_conn, cdc_stack)
        settle()
        assert by_step(cdc_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-05-05"
        assert len(by_step(cdc_stack.tasks(), mission)) == 8 and duplicates(cdc_stack.tasks()) == []
        # a change of a field no step depends on (the mission's name) is read from the stream but not admitted
        cdc_stack.update_mission(mission, Name="Refonte, phase 2")
        caught_up(redis_conn, cdc_stack)
        assert redis_conn.hgetall(keys.dirty("acme-sf")) == {}
        state = {s["topic"]: s for s in streams(redis_conn)}[TOPIC]
        assert state["state"] == "streaming" and state["silence_seconds"] < 10
        _health_shows_the_stream(redis_conn)


def _health_shows_the_stream(redis_conn) -> None:
    """`intermission status`, /readyz's details and the metrics show the stream, its state and its silence."""
    from prometheus_client import generate_latest

    from handlers.ops import health
    from handlers.ops.metrics import make_registry
    from intermission_cli.status import render

    text = render(health.status(redis_conn))
    assert "change streams: 1" in text and f"acme-sf  {TOPIC}  streaming" in text
    _, details = health.readiness(redis_conn)
    assert {(s["tenant"], s["state"]) for s in details["streams"]} == {("acme-sf", "streaming")}
    scrape = generate_latest(make_registry()).decode()
    assert 'intermission_cdc_streams{state="streaming"} 1.0' in scrape
    assert 'intermission_cdc_events_total{outcome="ignored"} 1.0' in scrape  # the name change, read and let go
    assert "intermission_cdc_stream_silence_seconds" in scrape


def test_an_invalid_replay_id_starts_from_the_latest_and_sweeps_the_gap(cdc_stack, redis_conn):
    clock.pin(T0)
    with Running():
        time.sleep(0.3)
        first = cdc_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        caught_up(redis_conn, cdc_stack)
    settle()
    # while the subscriber is down, a change happens and the org stops accepting our replay id (expired)
    cdc_stack.control("POST", "/_control/pubsub/faults", json={"kind": "invalid-replay"})
    cdc_stack.move_end(first, date(2026, 5, 7))
    with Running():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(s["state"] in ("recovering", "streaming") and s.get("replay", "")
                                                      == "" for s in streams(redis_conn)):
            time.sleep(0.05)
        second = cdc_stack.create_mission(date(2025, 12, 1), date(2026, 6, 30))["record"]["Id"]
        caught_up(redis_conn, cdc_stack)
    settle()  # the sweep the refusal queued re-reads the first mission; the stream brought the second
    assert by_step(cdc_stack.tasks(), first)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert len(by_step(cdc_stack.tasks(), second)) == 8 and duplicates(cdc_stack.tasks()) == []


def test_an_expired_token_is_refreshed_and_the_stream_resumes(cdc_stack, redis_conn):
    clock.pin(T0)
    with Running():
        time.sleep(0.3)
        cdc_stack.control("POST", "/_control/pubsub/faults", json={"kind": "auth-expired"})
        mission = cdc_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        caught_up(redis_conn, cdc_stack)
    settle()
    assert len(by_step(cdc_stack.tasks(), mission)) == 8
    assert cdc_stack.control("GET", "/_control/calls")["token_grants"].get("refresh_token", 0) >= 1


def test_a_dropped_stream_reconnects_and_loses_nothing(cdc_stack, redis_conn):
    clock.pin(T0)
    people = [cdc_stack.new_consultant(f"Drop{n}") for n in range(5)]  # one each: the missions do not overlap
    with Running():
        time.sleep(0.3)
        cdc_stack.control("POST", "/_control/pubsub/faults", json={"kind": "drop", "after": 2})
        made = [cdc_stack.create_mission(date(2025, 11, 3), date(2026, 4, 16 + n), Consultant__c=person,
                                         Consultant_User__c=None)["record"]["Id"] for n, person in enumerate(people)]
        caught_up(redis_conn, cdc_stack)
    settle()
    assert all(len(by_step(cdc_stack.tasks(), m)) == 8 for m in made) and duplicates(cdc_stack.tasks()) == []


def test_get_topic_says_whether_cdc_is_on_for_the_mission_object(cdc_stack):
    from config import tenants

    tenant = tenants.get("acme-sf")
    assert check_topic(tenant)["enabled"] is True
    cdc_stack.control("POST", "/_control/config", json={"cdc_objects": []})
    off = check_topic(tenant)
    assert off["enabled"] is False and "Setup > Integrations > Change Data Capture" in off["message_en"]
    assert "Change Data Capture" in off["message_fr"] and "Mission__c" in off["message_fr"]


@pytest.mark.slow
def test_subscriber_killed_ten_times_while_200_changes_flow_loses_and_duplicates_nothing(cdc_stack, redis_conn,
                                                                                          child_env):
    import random
    import signal
    import subprocess
    import sys

    from config.infra.redis_conn import get_redis

    clock.pin(T0)
    env = {**child_env, "INTERMISSION_SF_PUBSUB_ENDPOINT": cdc_stack.pubsub_endpoint, "INTERMISSION_LOG_LEVEL": "WARNING",
           "INTERMISSION_CDC_LOCK_SECONDS": "1.5"}  # a killed process's lock expires within 1.5 s

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "intermission_cli.main", "subscribe"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    procs = [start()]
    try:
        deadline = time.monotonic() + 30
        while stored_replay(redis_conn, "acme-sf", TOPIC) is None:  # the stream opened and knows where it starts
            assert time.monotonic() < deadline and procs[-1].poll() is None, "the subscriber did not start"
            time.sleep(0.05)
        missions: list[str] = []
        finals: dict[str, date] = {}
        people = [cdc_stack.new_consultant(f"Kill{n}") for n in range(20)]  # one each: the missions do not overlap

        def streaming(pid: int) -> None:
            end = time.monotonic() + 30
            while not any(f":{pid}:" in s["owner"] and s["state"] == "streaming" for s in streams(redis_conn)):
                assert time.monotonic() < end, "the restarted subscriber did not stream"
                time.sleep(0.02)

        def changes(step: int) -> None:  # round 0: 20 creations; rounds 1-9: each end date moved once
            for n in range(20):
                if step == 0:
                    missions.append(cdc_stack.create_mission(date(2025, 11, 3), date(2026, 4, 1 + n), Consultant__c=people[n],
                                                             Consultant_User__c=None)["record"]["Id"])
                else:
                    finals[missions[n]] = date(2026, 5, 1 + n) if step % 2 == 1 else date(2026, 6, 1 + n)
                    cdc_stack.move_end(missions[n], finals[missions[n]])
                time.sleep(0.05)

        rng = random.Random(28)
        for step in range(10):  # each round: 20 changes flow, and the subscriber is SIGKILLed in the middle of them
            streaming(procs[-1].pid)
            writer = threading.Thread(target=changes, args=(step,))
            writer.start()
            time.sleep(rng.uniform(0.1, 0.5))
            assert writer.is_alive()  # the kill happens while this round's changes are flowing
            procs[-1].send_signal(signal.SIGKILL)
            procs[-1].wait(timeout=10)
            procs.append(start())
            writer.join(timeout=60)
        caught_up(redis_conn, cdc_stack, timeout=40)
        procs[-1].send_signal(signal.SIGTERM)
        assert procs[-1].wait(timeout=20) == 0  # a SIGTERM stops it cleanly
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    events = cdc_stack.control("GET", "/_control/pubsub/events")["events"]
    assert len(events) == 200
    conn = get_redis()
    lost = [e for e in events if not conn.exists(keys.seen_event("acme-sf", f"cdc:{e['replay_id']}:{e['recordIds'][0]}"))]
    assert lost == []  # every change was admitted
    settle()
    tasks = cdc_stack.tasks()
    assert duplicates(tasks) == []
    for mission in missions:
        steps = by_step(tasks, mission)
        assert len(steps) == 8 and steps["natural.handover"]["WhatId"] == mission
    # each mission's Tasks follow its last end date (the review falls a few working days before it, not before the
    # June date of the change before)
    for mission in missions:
        review = date.fromisoformat(by_step(tasks, mission)["natural.review"]["ActivityDate"])
        assert 0 < (finals[mission] - review).days <= 10, (mission, finals[mission], review)


def test_the_admin_connection_test_says_whether_cdc_is_on_and_how_to_turn_it_on(cdc_stack):
    import html

    import requests

    from webhooks.admin.auth import admin_token, csrf_token

    token = admin_token("acme-sf", "test")
    form = {"a": token, "csrf": csrf_token(token), "lang": "fr"}
    on = requests.post(f"{cdc_stack.web.url}/admin/test", data=form, timeout=10)
    assert "La capture des modifications (Change Data Capture) est active pour Mission__c" in html.unescape(on.text)
    cdc_stack.control("POST", "/_control/config", json={"cdc_objects": []})
    off = requests.post(f"{cdc_stack.web.url}/admin/test", data={**form, "lang": "en"}, timeout=10)
    assert "Setup &gt; Integrations &gt; Change Data Capture, move Mission__c" in off.text or \
        "Setup > Integrations > Change Data Capture, move Mission__c" in html.unescape(off.text)
