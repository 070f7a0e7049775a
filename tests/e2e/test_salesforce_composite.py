"""One Salesforce change, one write call: a round's creates, updates and deletes share a composite call."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import date

import pytest
import redis
from rq.job import Job
from rq.registry import FinishedJobRegistry
from rq.serializers import JSONSerializer

from config import keys
from config.infra import clock
from handlers.intake.ingest import mark_dirty
from handlers.intake.queues import get_queue
from handlers.sync import batch, locks
from handlers.sync.batch import sync_tenant
from handlers.sync.holds import held
from handlers.sync.reconcile import PartialFailure
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates

T0 = date(2026, 3, 2)
HUGO = "005000000000003AAA"  # the business engineer: owner of the client case's restaffing step


def writes(org) -> dict[str, int]:
    """Write calls the org counted since the last reset, by route."""
    calls = org.control("GET", "/_control/calls")["by_route"]
    return {route: n for route, n in calls.items() if route.split()[0] in ("POST", "PATCH", "DELETE")}


def fresh_mission(org, **fields) -> str:
    clock.pin(T0)
    mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16), **fields)["record"]["Id"]
    settle()
    assert sorted(k.split(".")[0] for k in by_step(org.tasks(), mission)) == ["natural"] * 8
    org.control("POST", "/_control/calls/reset")
    return mission


def finished_batches(conn) -> dict[str, dict]:
    """What each finished batch job returned, by job id."""
    queue = get_queue(conn)
    jobs = Job.fetch_many(FinishedJobRegistry(queue=queue).get_job_ids(), connection=conn, serializer=JSONSerializer)
    return {j.id: j.return_value() for j in jobs if j and j.func_name == "handlers.sync.batch.sync_tenant"}


def queued_batches(conn) -> list[str]:
    return [j for j in get_queue(conn).get_job_ids() if j.startswith("batch-acme-sf-")]


def dirty(conn) -> dict[bytes, bytes]:
    return conn.hgetall(keys.dirty("acme-sf"))


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


def test_a_record_refused_inside_the_composite_is_handled_alone_and_only_it_is_sent_again(sf_stack, redis_conn):
    mission = fresh_mission(sf_stack)
    with user_gone(sf_stack, HUGO):
        sf_stack.end_early(mission, date(2026, 3, 12), "client")
        with pytest.raises(PartialFailure, match="INVALID_CROSS_REFERENCE_KEY"):
            sync_tenant("acme-sf")  # the queued batch job, run by hand once while Hugo is missing
        first = by_step(sf_stack.tasks(), mission)
    assert len(queued_batches(redis_conn)) == 1  # the notification's; the failed batch queues none for its own missions
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



def test_a_batch_that_follows_another_syncs_only_what_that_one_left(sf_stack, redis_conn, monkeypatch):
    """Two batch jobs of the tenant close together: the second reads the dirty missions, the first (holding the lock)
    does them and releases it, and the second reads them again once it holds the lock, so what the first did is not
    read and planned a second time."""
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


def test_a_batch_job_leaves_at_once_while_another_holds_the_tenants_lock(sf_stack, redis_conn):
    """A batch job started while a live process holds the tenant's batch lock returns at once ("deferred"): it does
    not wait, reads and writes nothing in the org, holds nothing and leaves the dirty missions dirty."""
    mission = fresh_mission(sf_stack)
    before = finished_batches(redis_conn)
    with locks.held(redis_conn, keys.batch_lock("acme-sf"), ttl=60):  # another batch job of the tenant, running
        sf_stack.move_end(mission, date(2026, 5, 7))  # the org notifies: the mission dirty, a batch job queued
        marked, started = dirty(redis_conn), time.monotonic()
        settle()  # the worker runs the queued batch job
        took = time.monotonic() - started
    assert [r for j, r in finished_batches(redis_conn).items() if j not in before] == [{"deferred": 1}]
    assert took < 5 and dirty(redis_conn) == marked and list(marked) == [mission.encode()]
    assert sf_stack.control("GET", "/_control/calls")["total"] == 0 and held(redis_conn, "acme-sf") == {}
    assert queued_batches(redis_conn) == []
    assert mark_dirty(redis_conn, "acme-sf", {}) == "queued"  # what a batch job does once it has released the lock
    settle()
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert writes(sf_stack) == {"POST /composite": 1} and dirty(redis_conn) == {} and duplicates(sf_stack.tasks()) == []


def test_the_tick_queues_the_batch_of_missions_a_killed_holder_left_dirty_once_its_lock_is_gone(sf_stack, redis_conn):
    """A holder killed on another machine keeps the lock until its time-out; the batch jobs deferred meanwhile left.
    The tick queues the tenant's batch again, but only once no live batch holds the lock and none waits."""
    from handlers.sync.jobs import tick

    mission = fresh_mission(sf_stack)
    lock = keys.batch_lock("acme-sf")
    redis_conn.set(lock, "another-machine:4242:dead", ex=60)  # a holder this machine cannot see die
    sf_stack.move_end(mission, date(2026, 5, 7))
    settle()  # the queued batch job defers
    assert list(dirty(redis_conn)) == [mission.encode()] and queued_batches(redis_conn) == []
    assert "acme-sf/batch" not in tick()  # the lock still stands: its holder may be alive
    assert queued_batches(redis_conn) == []
    redis_conn.delete(lock)  # its time-out came
    assert tick()["acme-sf/batch"] == "queued"
    assert "acme-sf/batch" not in tick()  # one batch waits already
    settle()
    assert by_step(sf_stack.tasks(), mission)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert dirty(redis_conn) == {} and duplicates(sf_stack.tasks()) == []


def marking_while_it_runs(sf_stack, redis_conn, monkeypatch, *, mission: str, end: date) -> dict:
    """The batch's `_sync` made to let the org notify a change of `mission` while the batch holds the lock, and the
    worker then run the queued batch jobs; what they returned and what the org saw meanwhile go in the dict."""
    real_sync, seen = batch._sync, {}

    def sync(conn, tenant, found):
        if not seen:
            sf_stack.move_end(mission, end)  # the org notifies: `mission` dirty, a batch job queued
            before = finished_batches(redis_conn)
            settle()
            seen.update(results=[r for j, r in finished_batches(redis_conn).items() if j not in before],
                        calls=sf_stack.control("GET", "/_control/calls")["total"], dirty=sorted(dirty(redis_conn)),
                        found=sorted(found))
        return real_sync(conn, tenant, found)

    monkeypatch.setattr(batch, "_sync", sync)
    return seen


def test_the_batch_holding_the_lock_queues_the_next_for_what_was_marked_while_it_ran(sf_stack, redis_conn,
                                                                                      monkeypatch):
    """A mission marked while a batch job holds the tenant's lock: the batch jobs started meanwhile leave at once,
    and once the holder has released the lock it queues the batch that syncs that mission."""
    first, second = fresh_mission(sf_stack), fresh_mission(sf_stack, Consultant__c=sf_stack.new_consultant("Durand"))
    sf_stack.move_end(first, date(2026, 5, 7))  # dirty, a batch job queued
    seen = marking_while_it_runs(sf_stack, redis_conn, monkeypatch, mission=second, end=date(2026, 6, 4))
    assert sync_tenant("acme-sf")["missions"] == 1  # that batch job, run by hand: it does `first` only
    both = sorted([first.encode(), second.encode()])
    assert seen == {"results": [{"deferred": 2}, {"deferred": 2}], "calls": 0, "dirty": both, "found": [first]}
    assert list(dirty(redis_conn)) == [second.encode()] and len(queued_batches(redis_conn)) == 1
    assert writes(sf_stack) == {"POST /composite": 1}
    settle()  # the batch job the holder queued
    assert writes(sf_stack) == {"POST /composite": 2} and dirty(redis_conn) == {} and queued_batches(redis_conn) == []
    tasks = sf_stack.tasks()
    assert by_step(tasks, first)["natural.review"]["ActivityDate"] == "2026-05-05"
    assert by_step(tasks, second)["natural.review"]["ActivityDate"] == "2026-06-02"
    assert len(by_step(tasks, first)) == len(by_step(tasks, second)) == 8 and duplicates(tasks) == []


def test_a_batch_that_fails_still_queues_the_next_for_what_was_marked_while_it_ran(sf_stack, redis_conn,
                                                                                   monkeypatch):
    """The holder's batch fails: its error is what the job raises, and once the lock is released it still queues the
    batch for the mission marked while it ran (its own missions stay dirty for that batch and for rq's retry)."""
    first, second = fresh_mission(sf_stack), fresh_mission(sf_stack, Consultant__c=sf_stack.new_consultant("Durand"))
    with user_gone(sf_stack, HUGO):
        sf_stack.end_early(first, date(2026, 3, 12), "client")  # the restaffing Task's owner is refused
        seen = marking_while_it_runs(sf_stack, redis_conn, monkeypatch, mission=second, end=date(2026, 6, 4))
        with pytest.raises(PartialFailure, match="INVALID_CROSS_REFERENCE_KEY"):
            sync_tenant("acme-sf")
    assert seen["results"] == [{"deferred": 2}, {"deferred": 2}] and seen["found"] == [first]
    assert sorted(dirty(redis_conn)) == sorted([first.encode(), second.encode()])
    assert len(queued_batches(redis_conn)) == 1
    settle()  # the batch job the holder queued: the refused Tasks and `second`
    tasks = sf_stack.tasks()
    steps = by_step(tasks, first)
    assert sorted(k.split(".")[0] for k in steps) == ["client"] * 8 and steps["client.restaff"]["OwnerId"] == HUGO
    assert by_step(tasks, second)["natural.review"]["ActivityDate"] == "2026-06-02"
    assert dirty(redis_conn) == {} and duplicates(tasks) == []


def test_a_failed_look_after_a_failed_batch_leaves_the_batchs_own_error(sf_stack, redis_conn, monkeypatch, caplog):
    """Redis refuses the holder's look at the dirty set after its batch failed: the job still raises the batch's
    own error (what rq retries), and the failed look is logged."""
    first, second = fresh_mission(sf_stack), fresh_mission(sf_stack, Consultant__c=sf_stack.new_consultant("Durand"))

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Redis went away")

    with user_gone(sf_stack, HUGO), caplog.at_level(logging.WARNING, logger="handlers.sync.batch"):
        sf_stack.end_early(first, date(2026, 3, 12), "client")
        marking_while_it_runs(sf_stack, redis_conn, monkeypatch, mission=second, end=date(2026, 6, 4))
        monkeypatch.setattr(batch, "mark_dirty", unreachable)
        with pytest.raises(PartialFailure, match="INVALID_CROSS_REFERENCE_KEY"):
            sync_tenant("acme-sf")
    assert "could not be looked at again" in caplog.text and "Redis went away" in caplog.text
