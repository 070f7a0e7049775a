"""The shared token bucket: a host's Retry-After pauses every caller of the tenant, never shortened."""
from __future__ import annotations

import time

import pytest

from connectors.errors import HostRateLimited
from connectors.ratelimit import RateLimiter


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
