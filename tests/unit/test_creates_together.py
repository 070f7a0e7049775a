"""A round's calls sent together from a few threads (handlers/sync/reconcile.py::sent_together): each create after
its intent, each update and delete after its in-flight mark, every answer recorded before an error ends the round,
and a limiter that several threads share."""
from __future__ import annotations

import threading
import time

import pytest

from connectors.errors import HostUnavailable
from connectors.ratelimit import PAUSE_FRESH, RateLimiter
from handlers.sync import reconcile
from handlers.sync.reconcile import PARALLEL_WRITES
from tests.unit.test_reconcile import FakeHost, action
from tests.unit.test_reconcile import reconcile as run_round

KEYS = [f"natural.step{n}" for n in range(8)]


class SlowHost(FakeHost):
    """Each create takes `delay` seconds (the one of `failing` fails after `fails_after`); counts creates in flight."""

    def __init__(self, ledger, *, delay: float, failing: str | None = None, fails_after: float = 0.0):
        super().__init__(ledger)
        self.delay, self.failing, self.fails_after = delay, failing, fails_after
        self.in_flight = self.most_at_once = 0
        self.lock = threading.Lock()
        self.marks_at_update: list[str] = []
        self.statuses_at_delete: list[str] = []

    def create(self, mission_id, a):
        return self._slowly(a.key, super().create, mission_id, a)

    def update(self, host_id, mission_id, a):
        self.marks_at_update.append(self.ledger.entries()[a.key].pending)
        return self._slowly(a.key, super().update, host_id, mission_id, a)

    def delete(self, host_id):
        self.statuses_at_delete.append({e.host_id: e.status for e in self.ledger.entries().values()}[host_id])
        return self._slowly(self.actions[host_id][1].key, super().delete, host_id)

    def fingerprint(self, mission_id, a):  # what the host will show once written: the pending mark of an update
        return f"{a.due} {a.title}"

    def _slowly(self, key, call, *args):
        with self.lock:
            self.in_flight += 1
            self.most_at_once = max(self.most_at_once, self.in_flight)
        try:
            if key == self.failing:
                time.sleep(self.fails_after)
                raise HostUnavailable("server error on the host", host="fake", status=500)
            time.sleep(self.delay)
            return call(*args)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.fixture
def ledger(redis_conn):
    from handlers.state.ledger import Ledger

    return Ledger(redis_conn, "acme", "100")


def test_a_rounds_creates_are_in_flight_together_each_after_its_intent(redis_conn, ledger):
    host = SlowHost(ledger, delay=0.2)
    began = time.monotonic()
    counts = run_round(redis_conn, ledger, host, [action(k) for k in KEYS])
    assert host.most_at_once == PARALLEL_WRITES  # one after the other, it would be 1
    assert time.monotonic() - began < 8 * 0.2
    assert host.ledger_status_at_create == ["intent"] * 8  # each create saw its intent in Redis
    assert counts["created"] == 8
    entries = ledger.entries()
    assert {e.status for e in entries.values()} == {"written"}
    assert {e.host_id for e in entries.values()} == set(host.actions) and len(host.actions) == 8


def test_a_failed_create_ends_the_round_once_the_answers_of_the_others_are_recorded(redis_conn, ledger, monkeypatch):
    waits = []
    monkeypatch.setattr(reconcile, "await_in_flight", waits.append)  # the read-back's wait for a dead worker's create
    host = SlowHost(ledger, delay=0.4, failing=KEYS[2], fails_after=0.2)
    with pytest.raises(HostUnavailable):
        run_round(redis_conn, ledger, host, [action(k) for k in KEYS])
    # the first four went out together; the third failed while the others were in flight: their answers are
    # recorded, and no create was started after the failure
    made = {a.key: host_id for host_id, (_, a) in host.actions.items()}
    assert set(made) == {KEYS[0], KEYS[1], KEYS[3]}
    entries = ledger.entries()
    assert {k: (e.status, e.host_id) for k, e in entries.items() if e.status == "written"} == {
        k: ("written", h) for k, h in made.items()}
    assert {k for k, e in entries.items() if e.status == "intent"} == set(KEYS) - set(made)

    host.failing = None
    counts = run_round(redis_conn, ledger, host, [action(k) for k in KEYS])
    assert counts["created"] == 5 and len(waits) == 5  # the five intents read back (nothing found), then made
    assert sorted(a.key for _, a in host.actions.values()) == sorted(KEYS)  # each once: nothing made twice
    assert {e.status for e in ledger.entries().values()} == {"written"}


def test_a_moved_missions_updates_and_dropped_steps_are_in_flight_together_each_after_its_mark(redis_conn, ledger):
    host = SlowHost(ledger, delay=0.0)
    run_round(redis_conn, ledger, host, [action(k) for k in KEYS])  # eight written, quickly
    host.delay = 0.2
    began = time.monotonic()
    counts = run_round(redis_conn, ledger, host, [action(k, due="2026-06-26") for k in KEYS[:6]])  # moved; two dropped
    assert host.most_at_once == PARALLEL_WRITES  # one after the other, it would be 1
    assert time.monotonic() - began < 8 * 0.2
    assert all(host.marks_at_update) and len(host.marks_at_update) == 6  # each update saw its pending mark in Redis
    assert host.statuses_at_delete == ["cancelling"] * 2  # each delete saw its cancelling mark
    assert (counts["rescheduled"], counts["cancelled"]) == (6, 2)
    assert {a.key: str(a.due) for _, a in host.actions.values()} == {k: "2026-06-26" for k in KEYS[:6]}
    assert {k: (e.status, e.pending) for k, e in ledger.entries().items()} == {k: ("written", "") for k in KEYS[:6]}


def test_a_failed_update_ends_the_round_once_the_others_answers_are_recorded(redis_conn, ledger):
    host = SlowHost(ledger, delay=0.0)
    run_round(redis_conn, ledger, host, [action(k) for k in KEYS])
    host.delay, host.failing, host.fails_after = 0.4, KEYS[2], 0.2
    with pytest.raises(HostUnavailable):
        run_round(redis_conn, ledger, host, [action(k, due="2026-06-26") for k in KEYS])
    moved = {a.key for _, a in host.actions.values() if str(a.due) == "2026-06-26"}
    assert moved == {KEYS[0], KEYS[1], KEYS[3]}  # in flight with the failed one; none started after it
    entries = ledger.entries()
    assert {k for k, e in entries.items() if str(e.due) == "2026-06-26" and not e.pending} == moved
    assert all(entries[k].pending for k in set(KEYS) - moved)  # still marked: read back before the retry
    host.failing = None
    run_round(redis_conn, ledger, host, [action(k, due="2026-06-26") for k in KEYS])
    assert {str(a.due) for _, a in host.actions.values()} == {"2026-06-26"} and len(host.actions) == 8


def test_threads_sharing_a_limiter_each_spend_a_token_of_their_own(redis_conn):
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=0.001, burst=40)
    start = threading.Barrier(8)

    def calls() -> None:
        start.wait()
        for _ in range(2):
            limiter.acquire()

    threads = [threading.Thread(target=calls) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = 40 - round(float(redis_conn.hget("im:t:x:ratelimit:boond", "tokens")))
    assert limiter._ahead >= 0 and taken - limiter._ahead == 16  # 16 calls, 16 tokens: none spent twice


def test_a_429_seen_by_one_thread_holds_the_tokens_the_others_took_ahead(redis_conn):
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000)
    limiter.acquire()  # a full bucket: tokens taken ahead for this worker's threads
    refused = threading.Thread(target=limiter.pause, args=(0.3,))  # one thread's create answered 429
    refused.start()
    refused.join()
    waited = []
    other = threading.Thread(target=lambda: waited.append(limiter.acquire()))
    began = time.monotonic()
    other.start()
    other.join()
    assert time.monotonic() - began >= 0.29 and waited[0] > 0


def test_threads_on_tokens_taken_ahead_read_the_pause_side_by_side_and_still_honour_it(redis_conn):
    """A call on a token taken ahead reads the pause another worker's 429 may have set (unless "no pause" was read
    less than PAUSE_FRESH ago); four threads sending a round's creates make those reads together, not one after
    another under the limiter's lock."""
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000)
    limiter.acquire()  # a full bucket: tokens taken ahead
    time.sleep(PAUSE_FRESH)  # "no pause" no longer fresh: the next calls read it
    real_get, state = limiter.conn.get, {"now": 0, "most": 0}
    guard = threading.Lock()

    def slow_get(key):
        with guard:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)  # a reply that waits for an fsync
        try:
            return real_get(key)
        finally:
            with guard:
                state["now"] -= 1

    limiter.conn = type("Conn", (), {"get": staticmethod(slow_get)})()
    start = threading.Barrier(4)
    threads = [threading.Thread(target=lambda: (start.wait(), limiter.acquire())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert state["most"] >= 2
    limiter.conn = redis_conn
    RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000).pause(0.5)  # another worker's 429
    time.sleep(PAUSE_FRESH)
    began = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - began >= 0.4  # its tokens taken ahead wait for the pause
