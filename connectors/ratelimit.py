"""A per-tenant token bucket kept in Redis, shared by every worker process."""
from __future__ import annotations

import time

import redis

from connectors.errors import HostRateLimited

_BUCKET = """
local key, rate, burst, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0') - now
if paused > 0 then return tostring(paused) end
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
return tostring(wait)
"""

_PAUSE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
"""


class RateLimiter:
    """Blocks until the tenant's bucket allows one more host call; a host's 429 pauses every worker's calls."""

    def __init__(self, conn: redis.Redis, key: str, *, rate: float, burst: int, max_wait: float | None = None):
        self.conn = conn
        self.key = key
        self.rate = rate
        self.burst = burst
        self.max_wait = max_wait
        self._script = conn.register_script(_BUCKET)

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited.

        Raises HostRateLimited, without sleeping, when the host asked for a pause longer than `max_wait`.
        """
        waited = 0.0
        while True:
            wait = float(self._script(keys=[self.key, self.key + ":paused-until"],
                                      args=[self.rate, self.burst, time.time()]))
            if wait <= 0:
                return waited
            if self.max_wait is not None and wait > self.max_wait:
                raise HostRateLimited(f"host asked to wait {wait:.0f}s", host="ratelimit", retry_after=wait)
            time.sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Hold every worker's calls on this bucket for `seconds` (a 429's Retry-After), never shortening a pause."""
        self.conn.eval(_PAUSE, 1, self.key + ":paused-until", time.time() + seconds, int(seconds) + 60)
