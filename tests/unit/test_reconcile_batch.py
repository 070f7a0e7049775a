"""The batching reconciler: one host call per chunk, partial failures recorded one by one, nothing doubled."""
from __future__ import annotations

import pytest

from handlers.state.ledger import ActivityLog, Ledger
from handlers.hosts.protocol import Outcome, WriteResult
from handlers.sync.reconcile import PartialFailure, Reconciler
from tests.unit.test_reconcile import action


class FakeOrg:
    """Stands in for the host (not for our storage): Tasks by id, with refusals on request."""

    def __init__(self, refuse: set[str] = frozenset()):
        self.tasks: dict[str, dict] = {}
        self.refuse = set(refuse)
        self.calls: list[tuple[str, int]] = []

    def create_many(self, mission_id, actions):
        self.calls.append(("create", len(actions)))
        for a in actions:
            if a.key in self.refuse:
                yield a, WriteResult(ok=False, error="INVALID_CROSS_REFERENCE_KEY: OwnerId")
                continue
            host_id = f"00T{len(self.tasks):03d}"
            self.tasks[host_id] = {"key": a.key, "due": a.due, "marker": f"intermission:{mission_id}/{a.key}"}
            yield a, WriteResult(host_id=host_id)

    def update_many(self, mission_id, pairs):
        self.calls.append(("update", len(pairs)))
        for host_id, a in pairs:
            if host_id not in self.tasks:
                yield host_id, WriteResult(ok=False, not_found=True, error="ENTITY_IS_DELETED")
                continue
            self.tasks[host_id]["due"] = a.due
            yield host_id, WriteResult(host_id=host_id)

    def delete_many(self, host_ids):
        self.calls.append(("delete", len(host_ids)))
        for host_id in host_ids:
            found = self.tasks.pop(host_id, None)
            yield host_id, WriteResult(ok=found is not None, not_found=found is None)

    def write_all(self, creates, updates, deletes, *, closes=(), before_create=None):
        """One round: each kind in one call, as the adapter packs them; an Outcome a record, in order."""
        if creates:
            before_create(list(range(len(creates))))
        if creates:
            missions = {c.mission_id for c in creates}
            assert len(missions) == 1  # the batching reconciler writes one mission's round
            results = self.create_many(missions.pop(), [c.action for c in creates])
            yield from (Outcome("create", n, r) for n, (_, r) in enumerate(results))
        if updates:
            results = self.update_many(updates[0].mission_id, [(u.host_id, u.action) for u in updates])
            yield from (Outcome("update", n, r) for n, (_, r) in enumerate(results))
        if deletes:
            yield from (Outcome("delete", n, r) for n, (_, r) in enumerate(self.delete_many(deletes)))

    def find_marked(self, mission_id, target_type, target_id):
        found = {}
        for host_id, task in self.tasks.items():
            found.setdefault(task["key"], []).append(host_id)
        return found


def _run(redis_conn, org, desired):
    rec = Reconciler(Ledger(redis_conn, "acme", "m1"), org, ActivityLog(redis_conn, "acme"), "m1", {})
    return rec.run(desired)


def test_many_creates_go_in_one_call_to_the_writer(redis_conn):
    org = FakeOrg()
    counts = _run(redis_conn, org, [action(f"s{i}") for i in range(250)])
    assert counts["created"] == 250 and org.calls == [("create", 250)] and len(org.tasks) == 250


def test_a_refused_record_fails_the_job_but_the_others_are_kept_and_not_redone(redis_conn):
    org = FakeOrg(refuse={"s1"})
    with pytest.raises(PartialFailure, match="s1: INVALID_CROSS_REFERENCE_KEY"):
        _run(redis_conn, org, [action("s0"), action("s1"), action("s2")])
    assert sorted(t["key"] for t in org.tasks.values()) == ["s0", "s2"]
    org.refuse.clear()
    org.calls.clear()
    _run(redis_conn, org, [action("s0"), action("s1"), action("s2")])
    assert sorted(t["key"] for t in org.tasks.values()) == ["s0", "s1", "s2"]  # the retry created only s1


def test_updates_and_cancels_are_batched_and_a_task_deleted_in_the_org_stays_deleted(redis_conn):
    org = FakeOrg()
    _run(redis_conn, org, [action("a"), action("b"), action("c")])
    gone = next(h for h, t in org.tasks.items() if t["key"] == "b")
    del org.tasks[gone]  # a user deleted it in Salesforce
    org.calls.clear()
    _run(redis_conn, org, [action("a", due="2026-06-03"), action("b", due="2026-06-03")])
    assert org.calls == [("update", 2), ("delete", 1)]
    assert [t["key"] for t in org.tasks.values()] == ["a"]
    org.calls.clear()
    _run(redis_conn, org, [action("a", due="2026-06-03"), action("b", due="2026-06-03")])
    assert org.calls == []  # b is dismissed, never recreated


def test_an_unrecorded_create_is_adopted_from_the_org_not_made_twice(redis_conn):
    org = FakeOrg()
    ledger = Ledger(redis_conn, "acme", "m1")
    from handlers.state.ledger import LedgerEntry

    org.tasks["00T999"] = {"key": "a", "due": action("a").due, "marker": "intermission:m1/a"}
    ledger.put(LedgerEntry.of(action("a"), "intent"))  # the worker died after the host wrote it
    counts = _run(redis_conn, org, [action("a")])
    assert counts["recovered"] == 1 and list(org.tasks) == ["00T999"]


def test_a_fresh_intent_waits_for_the_dead_workers_create_to_land_before_reading_back(redis_conn, monkeypatch):
    """The host may still be finishing a create its (now dead) caller sent: reading back too soon would miss it."""
    import time as clock_module

    from handlers.sync import reconcile
    from handlers.state.ledger import LedgerEntry

    waits = []
    monkeypatch.setattr(reconcile.time, "sleep", lambda s: waits.append(s))
    org = FakeOrg()
    ledger = Ledger(redis_conn, "acme", "m1")
    ledger.put(LedgerEntry.of(action("a"), "intent"))  # just now
    assert ledger.entries()["a"].at > clock_module.time() - 5  # the intent's time survives storage
    org.tasks["00T999"] = {"key": "a", "due": action("a").due, "marker": "intermission:m1/a"}  # it landed meanwhile
    counts = _run(redis_conn, org, [action("a")])
    assert waits and waits[0] > 1 and counts["recovered"] == 1 and list(org.tasks) == ["00T999"]
