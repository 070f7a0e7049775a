"""The shared token bucket: a host's Retry-After pauses every caller of the tenant, never shortened."""
from __future__ import annotations

import time

import pytest

from connectors.errors import HostRateLimited
from connectors.ratelimit import PAUSE_FRESH, RateLimiter
from tests.unit.test_ingest_admit import conversation


def test_a_pause_holds_the_next_call_for_retry_after(redis_conn):
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000)
    limiter.pause(0.3)
    other_worker = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000)
    began = time.monotonic()
    other_worker.acquire()
    assert time.monotonic() - began >= 0.29


def test_a_shorter_pause_never_cuts_a_longer_one(redis_conn):
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000, max_wait=5)
    limiter.pause(30)
    limiter.pause(0.1)
    with pytest.raises(HostRateLimited) as raised:
        limiter.acquire()  # longer than max_wait: fail the job now, retry later, without calling the host
    assert raised.value.retry_after > 29


def test_tokens_taken_ahead_never_outrun_another_workers_pause_by_more_than_a_moment(redis_conn):
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000)
    limiter.acquire()  # a full bucket: a few tokens taken in one round trip
    assert float(redis_conn.hget("im:t:x:ratelimit:boond", "tokens")) < 999
    RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000).pause(0.5)  # another worker's 429
    time.sleep(PAUSE_FRESH)  # what this worker last read of the pause ("none") is that old now
    began = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - began >= 0.4


def test_calls_a_moment_apart_read_the_pause_once(redis_conn, monkeypatch):
    from connectors import ratelimit

    monkeypatch.setattr(ratelimit, "PAUSE_FRESH", 5.0)  # "a moment", longer than any round trip on a busy machine
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=1000, burst=1000)
    limiter.acquire()  # tokens taken ahead, and the bucket's script saw no pause
    with conversation() as trips:
        for _ in range(3):
            limiter.acquire()
    assert trips == []  # spent on tokens taken ahead, "no pause" known for less than PAUSE_FRESH
    monkeypatch.setattr(ratelimit, "PAUSE_FRESH", 0.0)  # what it knew is stale now
    with conversation() as trips:
        limiter.acquire()
    assert trips == [["GET"]]  # read again
    monkeypatch.setattr(ratelimit, "PAUSE_FRESH", 5.0)
    with conversation() as trips:
        limiter.acquire()
    assert trips == []  # then known for a moment


def test_a_bucket_half_empty_gives_one_token_a_call(redis_conn):
    limiter = RateLimiter(redis_conn, "im:t:x:ratelimit:boond", rate=0.001, burst=10)
    for _ in range(6):
        limiter.acquire()
    assert round(float(redis_conn.hget("im:t:x:ratelimit:boond", "tokens"))) == 4  # 6 calls, 6 tokens: none wasted
