"""People's work: the judge of a host record against what we wrote, and the reconciler keeping what people did."""
from __future__ import annotations

import pytest

from handlers.state.ledger import ActivityLog, Ledger, LedgerEntry
from handlers.hosts.marks import fingerprint
from handlers.hosts.protocol import CannotVerify, HostState, Outcome, WriteResult
from handlers.sync.people_work import judge
from handlers.sync.reconcile import PartialFailure, Reconciler, diff
from tests.unit.test_reconcile import action


def _entry(fp: str = "abc") -> LedgerEntry:
    return LedgerEntry.of(action(), "written", "h1", fingerprint=fp)


@pytest.mark.parametrize("state, verdict", [
    (None, "gone"),
    (HostState("h1", "abc"), "untouched"),
    (HostState("h1", "xyz"), "edited"),
    (HostState("h1", "xyz", closed=True), "done"),
    (HostState.unverified("h1"), "unverified"),
])
def test_the_judge_tells_what_a_person_did(state, verdict):
    assert judge(_entry(), state) == verdict


def test_an_entry_written_before_fingerprints_is_only_judged_on_closing():
    assert judge(_entry(""), HostState("h1", "anything")) == "untouched"
    assert judge(_entry(""), HostState("h1", "anything", closed=True)) == "done"


def test_fingerprints_ignore_markup_and_white_space_but_not_words():
    assert fingerprint("<p>Faire le point</p>\n<p>avec  Alice</p>") == fingerprint("Faire le point avec Alice")
    assert fingerprint("Faire le point") != fingerprint("Faire le bilan")


def test_a_fingerprint_kept_in_a_ledger_is_still_what_the_same_action_gives():
    """Ledgers keep the fingerprints of what we wrote: the same fields must give the same digest forever (this
    one was made by the earlier, regex-based white space rule), or every action would look edited by a person."""
    text = "<p>Préparer l&#x27;entretien\u00a0 avec\tle client.</p>\n<p><small>intermission:12/natural.handover</small></p>\u2003"
    assert fingerprint(4, "Point de fin de mission", text, "2026-03-25") == "42fb6575eb3b"


def test_settled_entries_give_no_operation_whatever_the_plan():
    for status in ("done", "kept", "dismissed"):
        entries = {"natural.review": LedgerEntry.of(action(), status, "h1")}
        assert diff([action(title="Reworded")], entries) == []
        assert diff([], entries) == []


class PersonHost:
    """A host whose records a person can tick or edit; serves the write protocol with per-record results."""

    def __init__(self):
        self.records: dict[str, dict] = {}
        self.deleted: list[str] = []
        self.closed: list[tuple[str, str]] = []

    def fingerprint(self, mission_id, a):
        return fingerprint(a.title, a.due, False)  # written open

    def host_states(self, entries):
        return {m: {e.host_id: HostState(e.host_id, fingerprint(r["title"], r["due"], r["closed"]),
                                    r["closed"], raw=r)
                    for e in rows if (r := self.records.get(e.host_id))} for m, rows in entries.items()}

    def write_all(self, creates, updates, deletes, *, closes=(), before_create=None):
        for n, create in enumerate(creates):
            before_create([n])
            host_id, a = f"h{len(self.records) + len(self.deleted) + 1}", create.action
            self.records[host_id] = {"title": a.title, "due": a.due, "closed": False}
            yield Outcome("create", n, WriteResult(host_id=host_id))
        for n, update in enumerate(updates):
            self.records[update.host_id].update(title=update.action.title, due=update.action.due)
            yield Outcome("update", n, WriteResult(host_id=update.host_id))
        for n, close in enumerate(closes):
            self.closed.append((close.host_id, close.note))
            self.records[close.host_id]["closed"] = True
            yield Outcome("close", n, WriteResult(host_id=close.host_id))
        for n, host_id in enumerate(deletes):
            self.deleted.append(host_id)
            self.records.pop(host_id, None)
            yield Outcome("delete", n, WriteResult(host_id=host_id))

    def find_marked(self, mission_id, target_type, target_id):
        return {}


def _run(conn, host, desired, **options):
    rec = Reconciler(Ledger(conn, "acme", "100"), host, ActivityLog(conn, "acme"), "100",
                     {"reason": "end date cleared"}, **options)
    return rec.run(desired)


def _dies_after_the_first_write(host: PersonHost, why: str):
    """Make the host's writer die right after it applied the first record (a worker killed there); the real one."""
    real = host.write_all

    def dies(creates, updates, deletes, **kw):
        for _item in real(creates, updates, deletes, **kw):
            raise RuntimeError(why)
        yield from ()

    host.write_all = dies
    return real


def test_a_ticked_step_is_not_rescheduled_and_an_untouched_one_is(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a"), action("b")])
    ticked = next(h for h, r in host.records.items() if r["title"] == "Do a")
    host.records[ticked]["closed"] = True
    counts = _run(redis_conn, host, [action("a", due="2026-06-03"), action("b", due="2026-06-03")])
    assert counts["rescheduled"] == 1 and counts["kept"] == 1
    assert str(host.records[ticked]["due"]) == "2026-05-27"
    why = [r["why"] for r in ActivityLog(redis_conn, "acme").recent(mission="100") if r["op"] == "kept"]
    assert why == ["closed in the host by someone: kept as it is, never rewritten or recreated"]


def test_an_edited_step_that_leaves_the_plan_is_closed_with_a_note_in_the_tenants_language(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    (host_id,) = host.records
    host.records[host_id]["title"] = "Changed by the manager"
    _run(redis_conn, host, [], language="en")
    assert host.deleted == [] and host.closed[0][0] == host_id and "no longer planned" in host.closed[0][1]
    assert "end date cleared" in host.closed[0][1]
    assert _run(redis_conn, host, [action("a")])["created"] == 0  # the plan coming back does not recreate it


def test_an_edited_step_is_left_open_when_the_tenant_says_leave(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    (host_id,) = host.records
    host.records[host_id]["title"] = "Changed"
    _run(redis_conn, host, [], edited_on_cancel="leave")
    assert host.closed == [] and host.deleted == [] and not host.records[host_id]["closed"]
    assert Ledger(redis_conn, "acme", "100").entries()["a"].status == "kept"


def test_an_untouched_step_that_leaves_the_plan_is_deleted_and_may_come_back(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    _run(redis_conn, host, [])
    assert len(host.deleted) == 1 and Ledger(redis_conn, "acme", "100").entries() == {}
    assert _run(redis_conn, host, [action("a")])["created"] == 1


def test_a_step_deleted_by_a_person_while_planned_is_never_recreated(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    host.records.clear()
    _run(redis_conn, host, [action("a", due="2026-06-03")])  # the plan moves it: the record is gone
    assert Ledger(redis_conn, "acme", "100").entries()["a"].status == "dismissed"
    assert _run(redis_conn, host, [action("a", due="2026-06-10")])["created"] == 0


def test_a_step_a_person_deleted_stays_deleted_when_its_plan_goes_away_and_comes_back(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    host.records.clear()  # deleted by someone (a delete of ours is marked "cancelling" first: see the test below)
    _run(redis_conn, host, [])
    assert Ledger(redis_conn, "acme", "100").entries()["a"].status == "dismissed"
    assert _run(redis_conn, host, [action("a")])["created"] == 0


def test_a_delete_cut_short_by_a_crash_leaves_a_mark_and_the_plan_coming_back_recreates_the_step(redis_conn,
                                                                                                  monkeypatch):
    from handlers.sync import reconcile

    monkeypatch.setattr(reconcile.time, "sleep", lambda s: None)  # the in-flight wait, not slept here
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    real = _dies_after_the_first_write(host, "worker killed after the host deleted the record")
    with pytest.raises(RuntimeError):
        _run(redis_conn, host, [])
    assert Ledger(redis_conn, "acme", "100").entries()["a"].status == "cancelling"
    host.write_all = real
    counts = _run(redis_conn, host, [action("a", due="2026-06-03")])  # the plan wants it back, moved
    assert counts["created"] == 1 and Ledger(redis_conn, "acme", "100").entries()["a"].status == "written"


def test_an_update_a_crash_left_unrecorded_is_not_taken_for_a_persons_edit(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a")])
    real = _dies_after_the_first_write(host, "worker killed after the host applied the update")
    with pytest.raises(RuntimeError):
        _run(redis_conn, host, [action("a", due="2026-06-03")])
    assert Ledger(redis_conn, "acme", "100").entries()["a"].pending  # the mark the crash left
    host.write_all = real
    counts = _run(redis_conn, host, [action("a", due="2026-06-10")])  # the next change moves it again
    (record,) = host.records.values()
    assert counts["rescheduled"] == 1 and counts["kept"] == 0 and str(record["due"]) == "2026-06-10"
    entry = Ledger(redis_conn, "acme", "100").entries()["a"]
    assert entry.status == "written" and not entry.pending
    host.records[next(iter(host.records))]["title"] = "Changed by the manager"  # a real edit is still seen
    assert _run(redis_conn, host, [action("a", due="2026-06-17")])["kept"] == 1


def test_a_pending_mark_survives_the_compact_form():
    entry = LedgerEntry.of(action(), "written", "h1", fingerprint="abc").model_copy(update={"pending": "def"})
    back = LedgerEntry.unpack(entry.key, entry.pack().encode())
    assert (back.fingerprint, back.pending, back.status) == ("abc", "def", "written")
    plain = LedgerEntry.of(action(), "written", "h1", fingerprint="abc")
    assert LedgerEntry.unpack(plain.key, plain.pack().encode()).pending == ""


class BlindHost(PersonHost):
    """A host whose read-backs cannot tell: every state unverified, every marker search incomplete."""

    def host_states(self, entries):
        return {m: {e.host_id: HostState.unverified(e.host_id) for e in rows} for m, rows in entries.items()}

    def find_marked(self, mission_id, target_type, target_id):
        raise CannotVerify("GET /actions answered 404")


def test_a_step_no_read_can_verify_is_held_never_dismissed_and_retried(redis_conn):
    host = PersonHost()
    _run(redis_conn, host, [action("a"), action("b")])
    blind = BlindHost()
    blind.records = host.records
    with pytest.raises(PartialFailure, match="cannot verify"):
        _run(redis_conn, blind, [action("a", due="2026-06-03")])  # a moved, b withdrawn
    entries = Ledger(redis_conn, "acme", "100").entries()
    assert {e.status for e in entries.values()} == {"written"}  # neither dismissed nor dropped
    assert [str(r["due"]) for r in host.records.values()] == ["2026-05-27", "2026-05-27"]  # nor written blind
    held = [r for r in ActivityLog(redis_conn, "acme").recent(mission="100") if r["op"] == "held"]
    assert len(held) == 2 and held[0]["why_code"] == "unverified" and "neither taken for deleted" in held[0]["why"]
    counts = _run(redis_conn, host, [action("a", due="2026-06-03")])  # the retry, once the host answers again
    assert counts["rescheduled"] == 1 and counts["cancelled"] == 1


def test_a_lost_create_no_read_can_verify_is_not_created_again(redis_conn):
    ledger = Ledger(redis_conn, "acme", "100")
    ledger.put(LedgerEntry.of(action("a"), "intent"))  # a create whose answer a crash lost
    blind = BlindHost()
    with pytest.raises(PartialFailure, match="cannot verify"):
        _run(redis_conn, blind, [action("a")])
    assert blind.records == {} and ledger.entries()["a"].status == "intent"
