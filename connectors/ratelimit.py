"""A per-tenant token bucket kept in Redis, shared by every worker process.

Taking a token is a write (the bucket's state), and under `appendfsync always` every write waits for the disk
(docs/PERFORMANCE.md). So a limiter takes a few tokens at once while the bucket is more than half full (`AHEAD`,
never bringing it below half: a bucket near its limit still gives one token per call) and spends them within
`LEASE` seconds; a call on a token taken ahead first reads the pause a host's 429 set (a read, no disk wait) unless
this limiter learnt less than `PAUSE_FRESH` seconds ago that there was none, so another worker's Retry-After holds
this worker's calls within `PAUSE_FRESH` (a Boond job's calls, ~20 ms apart in all, read it once or twice, not once a
call).

One limiter may serve several threads of a worker (a round's creates sent together, handlers/sync/reconcile.py):
taking a token from the bucket is done under a lock (one script at a time, never a sleep); the pause read before a
call on a token taken ahead is made outside it, so the threads do not queue on each other's read; a 429 seen by any thread
holds the process's next calls at once, those on tokens already taken ahead included, before its pause even
reaches Redis.
"""
from __future__ import annotations

import threading
import time

import redis

from connectors.errors import HostRateLimited

AHEAD = 8  # tokens taken at most in one round trip
LEASE = 1.0  # seconds within which tokens taken ahead are spent (else left unused)
PAUSE_FRESH = 0.05  # seconds for which "no pause" stays known (a 429 seen by another worker reaches us within it)

# {wait, tokens granted}: wait > 0 grants none; otherwise 1, plus up to ARGV[4] - 1 while the bucket stays half full
_BUCKET = """
local key, rate, burst, now, want = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0') - now
if paused > 0 then return {tostring(paused), 0} end
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate)
local wait, granted = 0, 0
if tokens >= 1 then
  granted = 1 + math.max(0, math.min(want - 1, math.floor(tokens - 1 - burst / 2)))
  tokens = tokens - granted
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
return {tostring(wait), granted}
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
        self._lock = threading.Lock()  # the state below is shared by the threads that call through this limiter
        self._ahead, self._ahead_until = 0, 0.0  # tokens taken ahead, and until when (monotonic) they are spent
        self._held_until = 0.0  # monotonic: a 429 this process saw holds every thread's next call until then
        self._unpaused_at = float("-inf")  # monotonic: when a read (sent then) last found no pause in Redis

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited.

        Raises HostRateLimited, without sleeping, when the host asked for a pause longer than `max_wait`.
        """
        waited = 0.0
        while True:
            wait = self._take()
            if wait <= 0:
                return waited
            if self.max_wait is not None and wait > self.max_wait:
                raise HostRateLimited(f"host asked to wait {wait:.0f}s", host="ratelimit", retry_after=wait)
            time.sleep(wait)  # never under the lock: another thread's 429 must be able to set its pause meanwhile
            waited += wait

    def _take(self) -> float:
        """One token taken (0), else the seconds to wait before asking again (a pause, or an empty bucket)."""
        while True:
            with self._lock:
                held = self._held_until - time.monotonic()
                if held > 0:
                    return held
                ahead = self._has_ahead()
                if ahead and time.monotonic() - self._unpaused_at < PAUSE_FRESH:  # no pause, known a moment ago
                    self._ahead -= 1
                    return 0.0
            paused = False
            if ahead:  # the pause read outside the lock: a round's threads read it side by side, not in turn
                sent = time.monotonic()
                stamp = self.conn.get(self.key + ":paused-until")
                paused = stamp is not None and float(stamp) > time.time()
                if not paused:
                    with self._lock:
                        self._unpaused_at = max(self._unpaused_at, sent)
            with self._lock:
                held = self._held_until - time.monotonic()
                if held > 0:
                    return held
                if not paused and self._has_ahead():
                    if ahead:
                        self._ahead -= 1
                        return 0.0
                    continue  # another thread took tokens ahead meanwhile: read the pause for one of them
                self._ahead = 0  # spent, too old, or a pause: the bucket decides
                sent = time.monotonic()
                wait, granted = self._script(keys=[self.key, self.key + ":paused-until"],
                                             args=[self.rate, self.burst, time.time(), AHEAD])
                wait = float(wait)
                if wait <= 0:  # granted: the script found no pause either
                    self._ahead, self._ahead_until = int(granted) - 1, time.monotonic() + LEASE
                    self._unpaused_at = max(self._unpaused_at, sent)
                return wait

    def _has_ahead(self) -> bool:
        return self._ahead > 0 and time.monotonic() < self._ahead_until

    def pause(self, seconds: float) -> None:
        """Hold every worker's calls on this bucket for `seconds` (a 429's Retry-After), never shortening a pause:
        this process's threads at once (tokens taken ahead dropped), the other workers through Redis."""
        with self._lock:
            self._ahead, self._unpaused_at = 0, float("-inf")
            self._held_until = max(self._held_until, time.monotonic() + seconds)
        self.conn.eval(_PAUSE, 1, self.key + ":paused-until", time.time() + seconds, int(seconds) + 60)
