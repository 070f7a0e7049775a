"""Counters and histograms kept in Redis, so every web and worker process adds to the same totals.

gunicorn runs several processes and rq forks one work horse per job: in-process counters would be
split or lost. Each event is one HINCRBY (a pipeline for a histogram) on one hash; the web process
turns the hash into Prometheus metrics at scrape time (`handlers/ops/metrics.py`).
"""
from __future__ import annotations

import json
import logging
import math
from functools import lru_cache
from typing import NamedTuple

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


class Series(NamedTuple):
    """One series of a hash field: its metric name and labels."""

    name: str
    labels: dict[str, str]


def parse_field(raw: bytes | str) -> Series:
    """(name, labels) back from a hash field."""
    name, labels = json.loads(raw)
    return Series(name, dict(labels))


def _conn(conn: redis.Redis | None) -> redis.Redis:
    if conn is not None:
        return conn
    from config.infra.redis_conn import get_redis

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


def add_and_observe(counters: list[tuple[str, dict[str, str], int]], name: str, labels: dict[str, str], *, value: float,
                    conn: redis.Redis | None = None, buckets: tuple[float, ...] = DURATION_BUCKETS) -> None:
    """Add to several counters and record one histogram observation in one round trip (a job's tallies as it ends)."""
    try:
        pipe = _conn(conn).pipeline(transaction=False)
        add_and_observe_on(pipe, counters, name, labels=labels, value=value, buckets=buckets)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("metrics %s not recorded: %s", [c[0] for c in counters] + [name], exc)


def add_and_observe_on(pipe, counters: list[tuple[str, dict[str, str], int]], name: str, *, labels: dict[str, str],
                       value: float, buckets: tuple[float, ...] = DURATION_BUCKETS) -> None:
    """`add_and_observe`'s writes, queued on the caller's pipeline (which the caller sends)."""
    for counter, counter_labels, amount in counters:
        if amount > 0:
            pipe.hincrby(KEY, field(counter, counter_labels), amount)
    _observe_on(pipe, name, labels, value, buckets)


def _observe_on(pipe, name: str, labels: dict[str, str], value: float, buckets: tuple[float, ...]) -> None:
    for bound in buckets:
        if value <= bound:
            pipe.hincrby(KEY, field(f"{name}_bucket", {**labels, "le": le_label(bound)}), 1)
    pipe.hincrbyfloat(KEY, field(f"{name}_sum", labels), value)
    pipe.hincrby(KEY, field(f"{name}_count", labels), 1)


class RequestFields(NamedTuple):
    """The hash fields one answered request adds to: the webhook counter (None off the webhook routes), the
    latency's bucket (+1) and the latency's sum (+seconds)."""

    counter: str | None
    hit: str
    total: str


@lru_cache(maxsize=1024)
def _request_fields(route: str, method: str, status: int, bound: float) -> RequestFields:
    labels = {"route": route, "method": method}
    counter = (field("intermission_webhooks", {"host": route.split("/")[2], "status": str(status)})
               if route.startswith("/webhooks/") else None)
    return RequestFields(counter, field(f"{REQUEST_HISTOGRAM}_hit", {**labels, "le": le_label(bound)}),
                         field(f"{REQUEST_HISTOGRAM}_sum", labels))


def request_fields(route: str, method: str, status: int, *, seconds: float) -> RequestFields:
    """The fields of one answered request (route template, method, status, its latency's one bucket)."""
    # the latency goes to its one bucket (`_hit`), cumulated at scrape time: three commands per request, not 15
    return _request_fields(route, method, status, next(b for b in REQUEST_BUCKETS if seconds <= b))


def record_request(route: str, method: str, status: int, *, seconds: float, conn: redis.Redis | None = None) -> None:
    """One answered HTTP request: the webhook counter and its latency per route template, in one round trip."""
    # a webhook's admit usually counts its own answer in its script (`handlers.intake.ingest.Tally`): this is for the rest
    fields = request_fields(route, method, status, seconds=seconds)
    try:
        pipe = _conn(conn).pipeline(transaction=False)
        if fields.counter is not None:
            pipe.hincrby(KEY, fields.counter, 1)
        pipe.hincrby(KEY, fields.hit, 1)
        pipe.hincrbyfloat(KEY, fields.total, seconds)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("request metrics not recorded: %s", exc)


def recount_request(route: str, counted: int, answered: int, *, conn: redis.Redis | None = None) -> None:
    """Move one webhook from the status its admit counted to the status it was answered with (an error after it)."""
    was, now_ = (request_fields(route, "", status, seconds=0.0).counter for status in (counted, answered))
    if was is None or now_ is None:
        return
    try:
        pipe = _conn(conn).pipeline(transaction=False)
        pipe.hincrby(KEY, was, -1)
        pipe.hincrby(KEY, now_, 1)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("request metrics not corrected: %s", exc)


def le_label(bound: float) -> str:
    """The `le` label of a histogram bucket."""
    return "+Inf" if math.isinf(bound) else repr(bound)


def read_all(conn: redis.Redis | None = None) -> list[tuple[str, dict[str, str], float]]:
    """Every stored series as (name, labels, value)."""
    rows = []
    for raw, value in _conn(conn).hgetall(KEY).items():
        name, labels = parse_field(raw)
        rows.append((name, labels, float(value)))
    return rows
