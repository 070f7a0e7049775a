"""Reconciliation: the pure diff, and the crash-safe Reconciler against a real Redis ledger."""
from __future__ import annotations

import threading
from datetime import date

import pytest

from connectors.errors import HostNotFound
from handlers.state.ledger import ActivityLog, Ledger, LedgerEntry
from handlers.domain.model import DesiredAction, Person
from handlers.sync.reconcile import Reconciler, diff

D = date.fromisoformat
ALICE = Person(id="7", name="Alice")


def action(key: str = "natural.review", due: str = "2026-05-27", **changes) -> DesiredAction:
    """A desired action on consultant 7, on time unless told otherwise."""
    fields = dict(key=key, step_id=key.split("#")[0], kind="task", assignee_role="manager", assignee=Person(id="2"),
                  target=ALICE, nominal_due=D(due), due=D(due), title=f"Do {key}", text="Body")
    return DesiredAction(**{**fields, **changes})


def written(a: DesiredAction, host_id: str = "h1", status: str = "written") -> dict[str, LedgerEntry]:
    return {a.key: LedgerEntry.of(a, status, host_id)}


def kinds(ops) -> list[tuple[str, str]]:
    return [(op.kind, op.key) for op in ops]


# ------------------------------------------------------------------ diff (pure)


def test_a_new_step_is_created():
    assert kinds(diff([action()], {})) == [("create", "natural.review")]


def test_an_unchanged_step_needs_nothing():
    assert diff([action()], written(action())) == []


@pytest.mark.parametrize("change", [{"title": "Reworded"}, {"assignee": Person(id="3")},
                                    {"due": "2026-06-03"}])
def test_new_wording_owner_or_planned_date_is_an_update(change):
    assert kinds(diff([action(**change)], written(action()))) == [("update", "natural.review")]


def test_a_late_step_keeps_its_given_due_date_while_the_plan_is_unchanged():
    given = action(due="2026-05-29", nominal_due=D("2026-05-27"), late=True)
    next_day = action(due="2026-06-01", nominal_due=D("2026-05-27"), late=True)
    assert diff([next_day], written(given)) == []


def test_a_step_written_on_time_is_not_moved_when_its_date_passes():
    overdue_now = action(due="2026-05-29", nominal_due=D("2026-05-27"), late=True)
    assert diff([overdue_now], written(action(due="2026-05-27"))) == []


def test_a_step_no_longer_planned_is_cancelled():
    assert kinds(diff([], written(action()))) == [("cancel", "natural.review")]


def test_an_unconfirmed_create_is_recovered_not_created_again():
    assert kinds(diff([action()], written(action(), None, "intent"))) == [("recover", "natural.review")]


def test_a_step_dismissed_in_the_host_is_left_alone_even_if_the_plan_changes():
    assert diff([action(title="Reworded")], written(action(), status="dismissed")) == []


# ------------------------------------------------------------------ Reconciler with a real ledger


class FakeHost:
    """Stands in for the host's actions (id → (mission, action)); can fail right after a create succeeded."""

    def __init__(self, ledger: Ledger | None = None, crash_after_create: bool = False):
        self.actions: dict[str, tuple[str, DesiredAction]] = {}
        self.ledger, self.crash_after_create = ledger, crash_after_create
        self.ledger_status_at_create: list[str] = []
        self.creates = 0
        self.counting = threading.Lock()

    def create(self, mission_id, a):  # a round's creates come from several threads (sent_together)
        if self.ledger:
            self.ledger_status_at_create.append(self.ledger.entries()[a.key].status)
        with self.counting:
            self.creates += 1
            host_id = f"h{self.creates}"
        self.actions[host_id] = (mission_id, a)
        if self.crash_after_create:
            raise RuntimeError("worker killed after the host answered")
        return host_id

    def update(self, host_id, mission_id, a):
        if host_id not in self.actions:
            raise HostNotFound("Action not found", host="fake", status=404)
        self.actions[host_id] = (mission_id, a)

    def delete(self, host_id):
        if host_id not in self.actions:
            raise HostNotFound("Action not found", host="fake", status=404)
        del self.actions[host_id]

    def find_marked(self, mission_id, target_type, target_id):
        found: dict[str, list[str]] = {}
        for host_id, (m_id, a) in self.actions.items():
            if (m_id, a.target.type, a.target.id) == (mission_id, target_type, target_id):
                found.setdefault(a.key, []).append(host_id)
        return found


@pytest.fixture
def ledger(redis_conn):
    return Ledger(redis_conn, "acme", "100")


def reconcile(redis_conn, ledger, host, desired):
    return Reconciler(ledger, host, ActivityLog(redis_conn, "acme"), "100", {"trigger": "test"}).run(desired)


def test_intent_is_recorded_before_the_host_create(redis_conn, ledger):
    host = FakeHost(ledger)
    counts = reconcile(redis_conn, ledger, host, [action()])
    assert host.ledger_status_at_create == ["intent"]
    assert counts["created"] == 1
    assert ledger.entries()["natural.review"].status == "written" and ledger.entries()["natural.review"].host_id == "h1"


def test_a_crash_after_create_is_adopted_on_the_next_run_not_duplicated(redis_conn, ledger):
    host = FakeHost(crash_after_create=True)
    with pytest.raises(RuntimeError):
        reconcile(redis_conn, ledger, host, [action()])
    assert ledger.entries()["natural.review"].status == "intent"

    host.crash_after_create = False
    counts = reconcile(redis_conn, ledger, host, [action()])
    assert host.creates == 1 and list(host.actions) == ["h1"]
    assert counts["recovered"] == 1 and counts["created"] == 0
    entry = ledger.entries()["natural.review"]
    assert (entry.status, entry.host_id) == ("written", "h1")


def test_an_intent_with_nothing_in_the_host_is_created_once(redis_conn, ledger):
    ledger.put(LedgerEntry.of(action(), "intent"))
    host = FakeHost()
    counts = reconcile(redis_conn, ledger, host, [action()])
    assert counts["created"] == 1 and list(host.actions) == ["h1"]


def test_an_action_deleted_in_the_host_is_dismissed_and_never_recreated(redis_conn, ledger):
    ledger.put(LedgerEntry.of(action(), "written", "h9"))  # a user deleted h9 in the host
    host = FakeHost()
    reconcile(redis_conn, ledger, host, [action(title="Reworded")])
    assert ledger.entries()["natural.review"].status == "dismissed"
    reconcile(redis_conn, ledger, host, [action(title="Reworded again")])
    assert host.actions == {} and host.creates == 0
    assert [r["op"] for r in ActivityLog(redis_conn, "acme").recent(mission="100")] == ["dismissed"]


def test_a_step_no_longer_planned_is_deleted_from_the_host_and_forgotten(redis_conn, ledger):
    host = FakeHost()
    reconcile(redis_conn, ledger, host, [action(), action("natural.handover")])
    counts = reconcile(redis_conn, ledger, host, [action("natural.handover")])
    assert counts["cancelled"] == 1
    assert [a.key for _, a in host.actions.values()] == ["natural.handover"]
    assert list(ledger.entries()) == ["natural.handover"]


def test_a_dismissed_step_that_leaves_the_plan_stays_dismissed_without_a_host_call(redis_conn, ledger):
    ledger.put(LedgerEntry.of(action(), "dismissed", "h9"))
    host = FakeHost()
    host.actions["h9"] = ("100", action())  # would be deleted if the reconciler ignored "dismissed"
    counts = reconcile(redis_conn, ledger, host, [])
    assert counts["cancelled"] == 0 and "h9" in host.actions
    assert ledger.entries()["natural.review"].status == "dismissed"  # the plan coming back will not recreate it
    reconcile(redis_conn, ledger, host, [action()])
    assert host.creates == 0
