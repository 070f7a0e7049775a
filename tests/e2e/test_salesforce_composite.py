"""One Salesforce change, one write call: a round's creates, updates and deletes share a composite call."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

import pytest

from config import keys
from config.infra import clock
from handlers.sync import batch
from handlers.sync.batch import sync_tenant
from handlers.sync.reconcile import PartialFailure
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates

T0 = date(2026, 3, 2)
HUGO = "005000000000003AAA"  # the business engineer: owner of the client case's restaffing step


def writes(org) -> dict[str, int]:
    """Write calls the org counted since the last reset, by route."""
    calls = org.control("GET", "/_control/calls")["by_route"]
    return {route: n for route, n in calls.items() if route.split()[0] in ("POST", "PATCH", "DELETE")}


def fresh_mission(org) -> str:
    clock.pin(T0)
    mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    assert sorted(k.split(".")[0] for k in by_step(org.tasks(), mission)) == ["natural"] * 8
    org.control("POST", "/_control/calls/reset")
    return mission


@contextmanager
def user_gone(org, user_id: str):
    """The user is missing from the org for a while (a Task assigned to them is refused), then back."""
    state = org.sandbox._server.app.extensions["salesforce_sandbox"]
    with state.lock:
        user = state.table("User").pop(user_id)
    try:
        yield
    finally:
        with state.lock:
            state.table("User")[user_id] = user


def test_each_change_delivered_alone_is_one_write_call(sf_stack):
    mission = fresh_mission(sf_stack)
    sf_stack.move_end(mission, date(2026, 5, 7))
    settle()
    assert writes(sf_stack) == {"POST /composite": 1}
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-05-05"
    sf_stack.control("POST", "/_control/calls/reset")
    sf_stack.end_early(mission, date(2026, 3, 12), "client")  # 8 natural Tasks deleted, 8 client Tasks created
    settle()
    assert writes(sf_stack) == {"POST /composite": 1}
    tasks = sf_stack.control("GET", "/_control/tasks")["records"]
    assert sum(1 for t in tasks if t["IsDeleted"]) == 8
    steps = by_step(sf_stack.tasks(), mission)
    assert sorted(k.split(".")[0] for k in steps) == ["client"] * 8 and duplicates(sf_stack.tasks()) == []
    assert steps["client.restaff"]["OwnerId"] == HUGO and steps["client.restaff"]["Priority"] == "High"


def test_a_record_refused_inside_the_composite_is_handled_alone_and_only_it_is_sent_again(sf_stack):
    mission = fresh_mission(sf_stack)
    with user_gone(sf_stack, HUGO):
        sf_stack.end_early(mission, date(2026, 3, 12), "client")
        with pytest.raises(PartialFailure, match="INVALID_CROSS_REFERENCE_KEY"):
            sync_tenant("acme-sf")  # the queued batch job, run by hand once while Hugo is missing
        first = by_step(sf_stack.tasks(), mission)
    assert writes(sf_stack) == {"POST /composite": 1}
    assert first and all(k.startswith("client.") and t["OwnerId"] != HUGO for k, t in first.items())
    settle()  # the batch job again: only the refused Tasks are created
    assert writes(sf_stack) == {"POST /composite": 2}
    final = by_step(sf_stack.tasks(), mission)
    refused = {k for k, t in final.items() if t["OwnerId"] == HUGO}
    assert refused and set(final) == set(first) | refused and len(final) == 8
    assert {k: t["Id"] for k, t in final.items() if k in first} == {k: t["Id"] for k, t in first.items()}
    assert duplicates(sf_stack.tasks()) == []


def test_a_subrequest_that_fails_leaves_the_others_done_and_is_retried(sf_stack):
    mission = fresh_mission(sf_stack)
    sf_stack.control("POST", "/_control/faults", json={"kind": "500", "method": "POST", "path": "/composite/sobjects"})
    sf_stack.end_early(mission, date(2026, 3, 12), "client")
    settle()  # the creates' subrequest fails, the deletes' succeeds; the job's retry creates the client Tasks
    steps = by_step(sf_stack.tasks(), mission)
    assert sorted(k.split(".")[0] for k in steps) == ["client"] * 8 and duplicates(sf_stack.tasks()) == []
    assert writes(sf_stack) == {"POST /composite": 2}
    assert sf_stack.control("GET", "/_control/faults") == {"faults": []}



def test_a_batch_that_waited_for_another_syncs_only_what_that_one_left(sf_stack, redis_conn, monkeypatch):
    """Two batch jobs of the tenant at once: the second reads the dirty missions, waits for the first's lock, and
    reads them again once it holds it, so what the first did is not read and planned a second time."""
    mission = fresh_mission(sf_stack)
    sf_stack.move_end(mission, date(2026, 5, 7))  # the org notifies: the mission is dirty, a batch job queued
    reads, batch_dirty = [], batch._dirty

    def read(conn, tenant_id):
        found = batch_dirty(conn, tenant_id)
        if not reads:  # read before the lock; the batch holding it then does this mission and marks it done
            conn.hdel(keys.dirty(tenant_id), *found)
        reads.append(found)
        return found

    monkeypatch.setattr(batch, "_dirty", read)
    assert sync_tenant("acme-sf") == {"skipped": 0}
    assert [sorted(r) for r in reads] == [[mission], []]
    assert sf_stack.control("GET", "/_control/calls")["total"] == 0  # the org was not read again
