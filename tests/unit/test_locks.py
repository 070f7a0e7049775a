"""The consultant lock (`handlers.sync.locks.held`) with the reads sent in its own round trip: what it yields was
always read while holding the lock."""
from __future__ import annotations

import threading
import time

import pytest

from handlers.sync import locks
from tests.unit.test_ingest_admit import conversation


def _reading(pipe):
    pipe.get("acme:note")
    return lambda answers: answers[0]


def test_a_free_lock_is_taken_with_the_reads_in_one_round_trip_and_released_after(redis_conn):
    redis_conn.set("acme:note", "kept")
    with conversation() as trips:
        with locks.held(redis_conn, "acme:lock", ttl=30, reading=_reading) as read:
            assert read == b"kept"
            assert redis_conn.get("acme:lock") is not None
    assert trips[0] == ["SET", "GET"]
    assert redis_conn.get("acme:lock") is None


def test_reads_made_while_another_worker_held_the_lock_are_dropped_and_made_again_once_it_is_ours(redis_conn):
    redis_conn.set("acme:note", "before")
    holding, done = threading.Event(), threading.Event()

    def other_worker() -> None:  # a live holder (this process: not taken over) that writes, then lets go
        with locks.held(redis_conn, "acme:lock", ttl=30):
            holding.set()
            time.sleep(0.3)
            redis_conn.set("acme:note", "written by the holder")
            done.set()  # still holding: the waiter's block cannot have started yet

    thread = threading.Thread(target=other_worker)
    thread.start()
    holding.wait(5)
    with locks.held(redis_conn, "acme:lock", ttl=30, reading=_reading) as read:
        assert done.is_set()
        assert read == b"written by the holder"
    thread.join(5)


def test_a_lock_kept_too_long_by_a_live_holder_ends_in_a_timeout_and_nothing_is_read(redis_conn):
    redis_conn.set("acme:lock", "elsewhere:1:abc")  # another machine's holder: never taken over
    with pytest.raises(locks.LockTimeout):
        with locks.held(redis_conn, "acme:lock", ttl=30, wait=0.2, reading=_reading):
            pytest.fail("the block ran without the lock")
    assert redis_conn.get("acme:lock") == b"elsewhere:1:abc"


def test_a_read_that_fails_in_the_locks_round_trip_leaves_the_lock_free(redis_conn):
    import redis

    redis_conn.set("acme:note", "a string, not a hash")

    def wrong(pipe):
        pipe.hgetall("acme:note")
        return lambda answers: answers[0]

    with pytest.raises(redis.ResponseError):
        with locks.held(redis_conn, "acme:lock", ttl=30, reading=wrong):
            pytest.fail("the block ran on a failed read")
    assert redis_conn.get("acme:lock") is None
