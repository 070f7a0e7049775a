"""A new mission's creates go out together (handlers/sync/reconcile.py::sent_together): Boond sees them overlap,
and a 429 answered to one of them holds the worker's other threads for its Retry-After."""
from __future__ import annotations

from datetime import date

from config.infra import clock
from handlers.state.ledger import Ledger
from handlers.sync.reconcile import PARALLEL_WRITES
from tests.e2e.helpers import markers, settle

T0 = date(2026, 3, 2)
SLOW = 0.3  # seconds each create takes in the sandbox: long enough that creates sent together overlap
REACTION = 0.1  # seconds after a 429's answer by which the worker has read it (calls sent before may still arrive)


def _creates(stack) -> list[dict]:
    calls = stack.control("GET", "/_control/calls/timeline")["calls"]
    return sorted((c for c in calls if (c["method"], c["path"]) == ("POST", "/api/actions")), key=lambda c: c["t"])


def _most_at_once(calls: list[dict]) -> int:
    """The largest number of calls the sandbox was serving at the same moment."""
    return max(sum(1 for d in calls if d["t"] <= c["t"] < d["answered"]) for c in calls)


def _new_mission_synced(stack, redis_conn, *faults: dict) -> list[dict]:
    """A new mission's eight creates each slowed to SLOW (after `faults`), synced: its creates as Boond saw them."""
    clock.pin(T0)
    for fault in [*faults, {"kind": "slow", "delay": SLOW, "times": 8}]:
        stack.control("POST", "/_control/faults", json={"method": "POST", "path": "/api/actions", **fault})
    stack.control("POST", "/_control/calls/reset")
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    actions = stack.actions()
    assert len(actions) == 8 and max(markers(actions).values()) == 1
    entries = Ledger(redis_conn, "acme", mission).entries()
    assert {e.status for e in entries.values()} == {"written"}
    assert {e.host_id for e in entries.values()} == {a["id"] for a in actions}
    return _creates(stack)


def test_a_new_missions_creates_are_in_flight_together(stack, redis_conn):
    creates = _new_mission_synced(stack, redis_conn)
    assert len(creates) == 8
    assert _most_at_once(creates) == PARALLEL_WRITES  # one after the other, it would be 1
    assert creates[-1]["answered"] - creates[0]["t"] < 8 * SLOW  # eight slow creates took less than eight times one


def test_a_429_on_one_create_holds_the_other_threads_for_its_retry_after(stack, redis_conn):
    creates = _new_mission_synced(stack, redis_conn, {"kind": "429", "retry_after": 1})  # the first create refused
    limited = [c for c in creates if c["status"] == 429]
    assert len(limited) == 1 and len(creates) == 9  # the refused create sent again once
    refused = limited[0]
    during = [c for c in creates if refused["t"] < c["t"] < refused["t"] + 1 - 0.01]
    # the other threads' creates already sent when the 429 came arrive with it; each thread's next create waited
    assert all(c["t"] < refused["answered"] + REACTION for c in during)
    assert len(during) <= PARALLEL_WRITES - 1
    assert len([c for c in creates if c["t"] >= refused["t"] + 1 - 0.01]) >= 8 - PARALLEL_WRITES + 1
