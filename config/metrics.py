"""Counters and histograms kept in Redis, so every web and worker process adds to the same totals.

gunicorn runs several processes and rq forks one work horse per job: in-process counters would be
split or lost. Each event is one HINCRBY (a pipeline for a histogram) on one hash; the web process
turns the hash into Prometheus metrics at scrape time (`handlers/metrics.py`).
"""
from __future__ import annotations

import atexit
import json
import logging
import math
import os
import threading
import time

import redis
from config import keys

KEY = keys.METRICS
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, math.inf)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf)  # webhooks answer in ms
REQUEST_HISTOGRAM = "intermission_http_request_duration_seconds"
log = logging.getLogger(__name__)


def field(name: str, labels: dict[str, str]) -> str:
    """The hash field of one series: JSON [name, [[label, value], …]] with sorted labels."""
    return json.dumps([name, sorted((k, str(v)) for k, v in labels.items())], separators=(",", ":"))


def parse_field(raw: bytes | str) -> tuple[str, dict[str, str]]:
    """(name, labels) back from a hash field."""
    name, labels = json.loads(raw)
    return name, dict(labels)


def _conn(conn: redis.Redis | None) -> redis.Redis:
    if conn is not None:
        return conn
    from config.redis_conn import get_redis

    return get_redis()


def incr(name: str, labels: dict[str, str], amount: int = 1, *, conn: redis.Redis | None = None) -> None:
    """Add to a counter; a Redis failure is logged, never raised (metrics must not break the work)."""
    if amount <= 0:
        return
    try:
        _conn(conn).hincrby(KEY, field(name, labels), amount)
    except redis.RedisError as exc:
        log.warning("metric %s not recorded: %s", name, exc)


def observe(name: str, labels: dict[str, str], value: float, *, conn: redis.Redis | None = None,
            buckets: tuple[float, ...] = DURATION_BUCKETS) -> None:
    """Record one observation in a histogram: cumulative bucket counts, sum and count."""
    try:
        pipe = _conn(conn).pipeline(transaction=False)
        _observe_on(pipe, name, labels, value, buckets)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("metric %s not recorded: %s", name, exc)


def _observe_on(pipe, name: str, labels: dict[str, str], value: float, buckets: tuple[float, ...]) -> None:
    for bound in buckets:
        if value <= bound:
            pipe.hincrby(KEY, field(f"{name}_bucket", {**labels, "le": le_label(bound)}), 1)
    pipe.hincrbyfloat(KEY, field(f"{name}_sum", labels), value)
    pipe.hincrby(KEY, field(f"{name}_count", labels), 1)


def record_request(route: str, method: str, status: int, seconds: float, *, conn: redis.Redis | None = None) -> None:
    """One answered HTTP request: the webhook counter and its latency per route template.

    Added up in the process and sent in one pipeline at most every `metrics_flush_seconds` (by the request that
    finds the interval passed, else by a flusher thread), and before the process reads the totals or exits: a
    webhook then costs no round trip of its own, and the totals lag by at most that interval.
    """
    # the latency goes to its one bucket (`_hit`), cumulated at scrape time: three fields per request, not 15
    labels = {"route": route, "method": method}
    bound = next(b for b in REQUEST_BUCKETS if seconds <= b)
    counts = [(field(f"{REQUEST_HISTOGRAM}_hit", {**labels, "le": le_label(bound)}), 1)]
    if route.startswith("/webhooks/"):
        counts.append((field("intermission_webhooks", {"host": route.split("/")[2], "status": str(status)}), 1))
    _BUFFER.add(counts, [(field(f"{REQUEST_HISTOGRAM}_sum", labels), seconds)], conn)


class _Buffer:
    """Counter increments and sums of one process, waiting for their pipeline (thread- and fork-safe)."""

    def __init__(self):
        self.lock, self.pid, self.flusher = threading.Lock(), os.getpid(), None
        self.counts: dict[str, int] = {}
        self.sums: dict[str, float] = {}
        self.last = time.monotonic()

    def add(self, counts: list[tuple[str, int]], sums: list[tuple[str, float]], conn: redis.Redis | None) -> None:
        """Add one request's fields; send them all when the interval has passed."""
        from config.settings import get_settings

        interval = get_settings().metrics_flush_seconds
        with self.lock:
            self._own()
            for name, amount in counts:
                self.counts[name] = self.counts.get(name, 0) + amount
            for name, value in sums:
                self.sums[name] = self.sums.get(name, 0.0) + value
            due = interval <= 0 or time.monotonic() - self.last >= interval
            if not due and self.flusher is None:
                self.flusher = threading.Thread(target=self._run, daemon=True, name="metrics-flusher")
                self.flusher.start()
        if due:
            self.flush(conn)

    def flush(self, conn: redis.Redis | None = None) -> None:
        """Send what this process added up (nothing when empty); a Redis failure is logged and the counts dropped."""
        with self.lock:
            self._own()
            counts, sums, self.counts, self.sums = self.counts, self.sums, {}, {}
            self.last = time.monotonic()
        if not (counts or sums):
            return
        try:
            pipe = _conn(conn).pipeline(transaction=False)
            for name, amount in counts.items():
                pipe.hincrby(KEY, name, amount)
            for name, value in sums.items():
                pipe.hincrbyfloat(KEY, name, value)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("request metrics not recorded: %s", exc)

    def _own(self) -> None:
        """A forked child starts empty (its parent sends what it had) and with no flusher of its own yet."""
        if self.pid != os.getpid():
            self.pid, self.flusher, self.counts, self.sums = os.getpid(), None, {}, {}

    def _run(self) -> None:
        """Send what waits once the interval passed with no request to send it (checked four times a second)."""
        from config.settings import get_settings

        while True:
            time.sleep(0.25)
            if (self.counts or self.sums) and time.monotonic() - self.last >= get_settings().metrics_flush_seconds:
                self.flush()


_BUFFER = _Buffer()
atexit.register(_BUFFER.flush)


def flush() -> None:
    """Send this process's pending request metrics now (before reading the totals, at shutdown)."""
    _BUFFER.flush()


def discard() -> None:
    """Forget this process's pending request metrics (a test emptying Redis starts from nothing)."""
    with _BUFFER.lock:
        _BUFFER.counts, _BUFFER.sums = {}, {}


def le_label(bound: float) -> str:
    """The `le` label of a histogram bucket."""
    return "+Inf" if math.isinf(bound) else repr(bound)


def read_all(conn: redis.Redis | None = None) -> list[tuple[str, dict[str, str], float]]:
    """Every stored series as (name, labels, value), this process's pending request metrics included."""
    _BUFFER.flush(conn)
    rows = []
    for raw, value in _conn(conn).hgetall(KEY).items():
        name, labels = parse_field(raw)
        rows.append((name, labels, float(value)))
    return rows
