"""A per-tenant token bucket kept in Redis, shared by every worker process."""
from __future__ import annotations

import time

import redis

_BUCKET = """
local key, rate, burst, now = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
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


class RateLimiter:
    """Blocks until the tenant's bucket allows one more host call."""

    def __init__(self, conn: redis.Redis, key: str, *, rate: float, burst: int):
        self.conn = conn
        self.key = key
        self.rate = rate
        self.burst = burst
        self._script = conn.register_script(_BUCKET)

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            wait = float(self._script(keys=[self.key], args=[self.rate, self.burst, time.time()]))
            if wait <= 0:
                return waited
            time.sleep(wait)
            waited += wait
