"""Many missions in one round: every create, update and delete goes to the writer at once; results one by one."""
from __future__ import annotations

import pytest

from connectors.errors import HostUnavailable
from handlers.state.ledger import ActivityLog, Ledger
from handlers.hosts.protocol import Outcome, WriteResult
from handlers.sync.reconcile import MissionWork, PartialFailure, Reconciler, Round
from tests.unit.test_reconcile import action
from tests.unit.test_reconcile_batch import FakeOrg


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch, redis_conn):
    """Reading an intent back waits for a create still in flight: recorded here, not slept."""
    from handlers.sync import reconcile

    waits: list[float] = []
    monkeypatch.setattr(reconcile.time, "sleep", waits.append)
    return waits


class FakeRoundOrg(FakeOrg):
    """FakeOrg plus `write_all`: one round per call, the ledger as it stood when the call went out."""

    def __init__(self, conn, refuse=frozenset(), broken_delete: set[str] = frozenset(), fail_after: int | None = None):
        super().__init__(refuse)
        self.conn, self.broken_delete, self.fail_after = conn, set(broken_delete), fail_after
        self.rounds: list[dict] = []

    def create_many(self, mission_id, actions):
        for a in actions:  # ids never reused, even after a Task was deleted
            if a.key in self.refuse:
                yield a, WriteResult(ok=False, error="INVALID_CROSS_REFERENCE_KEY: OwnerId")
                continue
            host_id = f"00T{len(self.rounds)}{len(self.tasks):03d}"
            self.tasks[host_id] = {"key": a.key, "due": a.due, "marker": f"intermission:{mission_id}/{a.key}"}
            yield a, WriteResult(host_id=host_id)

    def write_all(self, creates, updates, deletes, *, closes=(), before_create=None):
        if creates:
            before_create(list(range(len(creates))))
        self.rounds.append({"creates": len(creates), "updates": len(updates), "deletes": len(deletes),
                            "ledgers": {m: dict(Ledger(self.conn, "acme", m).entries()) for m in ("m1", "m2")}})
        results = [Outcome("create", n, r) for n, c in enumerate(creates)
                   for _, r in self.create_many(c.mission_id, [c.action])]
        for n, u in enumerate(updates):
            results += [Outcome("update", n, r) for _, r in self.update_many(u.mission_id, [(u.host_id, u.action)])]
        for n, host_id in enumerate(deletes):
            if host_id in self.broken_delete:
                results.append(Outcome("delete", n, WriteResult(ok=False, error="UNKNOWN_EXCEPTION: boom")))
            else:
                results += [Outcome("delete", n, r) for _, r in self.delete_many([host_id])]
        for n, result in enumerate(results):
            if self.fail_after is not None and n == self.fail_after:
                raise HostUnavailable("dropped", host="salesforce")
            yield result


def _round(conn, org, desired: dict[str, list]):
    works = [MissionWork(Reconciler(Ledger(conn, "acme", m), org, ActivityLog(conn, "acme"), m, {}), d)
             for m, d in desired.items()]
    Round(works, org).run()
    return {w.run.mission_id: w.run.counts for w in works}


def _keys(org, mission: str | None = None) -> list[str]:
    return sorted(t["key"] for t in org.tasks.values() if mission is None or t["marker"].startswith(
        f"intermission:{mission}/"))


def test_one_round_of_two_missions_is_one_writer_call_with_intents_recorded_first(redis_conn):
    org = FakeRoundOrg(redis_conn)
    _round(redis_conn, org, {"m1": [action("a"), action("b")], "m2": [action("c")]})
    first = org.rounds[0]
    assert (first["creates"], first["updates"], first["deletes"]) == (3, 0, 0)
    assert {m: {k: e.status for k, e in entries.items()} for m, entries in first["ledgers"].items()} == {
        "m1": {"a": "intent", "b": "intent"}, "m2": {"c": "intent"}}
    counts = _round(redis_conn, org, {"m1": [action("a", due="2026-06-03"), action("d")], "m2": []})
    assert len(org.rounds) == 2 and {k: org.rounds[1][k] for k in ("creates", "updates", "deletes")} == {
        "creates": 1, "updates": 1, "deletes": 2}
    assert counts == {"m1": {"created": 1, "rescheduled": 1, "cancelled": 1, "recovered": 0, "kept": 0},
                      "m2": {"created": 0, "rescheduled": 0, "cancelled": 1, "recovered": 0, "kept": 0}}
    assert _keys(org) == ["a", "d"] and Ledger(redis_conn, "acme", "m2").entries() == {}


def test_refusals_in_a_round_are_handled_one_by_one(redis_conn):
    org = FakeRoundOrg(redis_conn)
    _round(redis_conn, org, {"m1": [action("a"), action("b"), action("c")]})
    gone = next(h for h, t in org.tasks.items() if t["key"] == "a")
    del org.tasks[gone]  # a user deleted it in Salesforce: its update answers not found
    org.refuse = {"n"}
    org.broken_delete = {next(h for h, t in org.tasks.items() if t["key"] == "c")}
    with pytest.raises(PartialFailure) as info:
        _round(redis_conn, org, {"m1": [action("a", due="2026-06-03"), action("b", due="2026-06-03"),
                                        action("n"), action("o")]})
    assert "m1/n: INVALID_CROSS_REFERENCE_KEY" in str(info.value) and "m1/c: UNKNOWN_EXCEPTION" in str(info.value)
    entries = Ledger(redis_conn, "acme", "m1").entries()
    assert {k: e.status for k, e in entries.items()} == {"a": "dismissed", "b": "written", "c": "written",
                                                         "n": "intent", "o": "written"}
    assert _keys(org) == ["b", "c", "o"] and len(org.rounds) == 2
    org.refuse, org.broken_delete = set(), set()
    _round(redis_conn, org, {"m1": [action("a", due="2026-06-03"), action("b", due="2026-06-03"),
                                    action("n"), action("o")]})
    assert _keys(org) == ["b", "n", "o"]  # n created once (read back first: nothing found), c deleted, a never back


def test_a_round_cut_off_by_the_host_keeps_what_was_answered_and_raises(redis_conn):
    org = FakeRoundOrg(redis_conn, fail_after=1)
    with pytest.raises(HostUnavailable):
        _round(redis_conn, org, {"m1": [action("a"), action("b")]})
    entries = Ledger(redis_conn, "acme", "m1").entries()
    assert {k: e.status for k, e in entries.items()} == {"a": "written", "b": "intent"}
    org.fail_after = None
    _round(redis_conn, org, {"m1": [action("a"), action("b")]})
    assert _keys(org) == ["a", "b"] and len(org.tasks) == 2  # b, made by the cut-off call, adopted not doubled
