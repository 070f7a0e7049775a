"""Prometheus metrics, computed at scrape time: totals every process added in Redis, plus gauges read now.

Labels stay bounded: hosts, HTTP statuses, host error codes, job functions and outcomes, action ops.
Only the Salesforce API budget is per tenant, by design (one series per Salesforce tenant).
"""
from __future__ import annotations

from collections import defaultdict

import redis
from prometheus_client import PLATFORM_COLLECTOR, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from config.infra import metrics
from config.infra.redis_conn import get_redis
from handlers.hosts.registry import HOSTS
from handlers.ops import health
from handlers.intake.queues import QUEUE_NAME

COUNTERS = {
    "intermission_webhooks": ("Webhook requests answered, by host and HTTP status.", ("host", "status")),
    "intermission_host_calls": ("Host API calls, by host, HTTP status ('none': no answer) and error code.",
                                ("host", "status", "code")),
    "intermission_actions": ("Host actions written by reconciliations, by host and op "
                             "(created, rescheduled, cancelled, recovered).", ("host", "op")),
    "intermission_cdc_events": ("Change events read by `intermission subscribe`, by outcome: queued, coalesced, "
                                "duplicate (already admitted), ignored (no watched field changed), sweep (a gap).",
                                ("outcome",)),
}
HISTOGRAMS = {
    "intermission_job_duration_seconds": ("Job run time, by job function and outcome "
                                          "(success, failure, held, skipped).", ("function", "outcome"),
                                          metrics.DURATION_BUCKETS),
    "intermission_http_request_duration_seconds": ("Web request latency, by route template and method "
                                                   "(every web process).", ("route", "method"),
                                                   metrics.REQUEST_BUCKETS),
}


def counters() -> dict[str, tuple[str, tuple[str, ...]]]:
    """The generic counters and each registered host's own (its registry line's `metrics.counters`)."""
    found = dict(COUNTERS)
    for host in HOSTS.values():
        found.update(host.metrics.counters)
    return found


def _counter_families(rows) -> list:
    known = counters()
    families = {name: CounterMetricFamily(name, doc, labels=labels) for name, (doc, labels) in known.items()}
    for name, labels, value in rows:
        if name in families:
            families[name].add_metric([labels.get(k, "") for k in known[name][1]], value)
    return list(families.values())


def _histogram_families(rows) -> list:
    found = []
    for name, (doc, label_names, buckets) in HISTOGRAMS.items():
        les = [metrics.le_label(bound) for bound in buckets]
        series: dict[tuple, dict] = defaultdict(lambda: {"buckets": {}, "hits": defaultdict(float), "sum": 0.0})
        for row_name, labels, value in rows:
            key = tuple(labels.get(k, "") for k in label_names)
            if row_name == f"{name}_bucket":  # stored cumulative (one HINCRBY per bucket)
                series[key]["buckets"][labels["le"]] = value
            elif row_name == f"{name}_hit":  # stored in its one bucket: cumulated here
                series[key]["hits"][labels["le"]] += value
            elif row_name == f"{name}_sum":
                series[key]["sum"] = value
        family = HistogramMetricFamily(name, doc, labels=label_names)
        for key, data in sorted(series.items()):
            family.add_metric(list(key), _cumulative(les, data), sum_value=data["sum"])
        found.append(family)
    return found


def _cumulative(les: list[str], data: dict) -> list[tuple[str, float]]:
    if not data["hits"]:
        return [(le, data["buckets"].get(le, 0.0)) for le in les]
    total, out = 0.0, []
    for le in les:
        total += data["hits"].get(le, 0.0)
        out.append((le, total))
    return out


def _gauge(name: str, doc: str, value: float | None, **labels) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    family.add_metric(list(labels.values()), float(value or 0))
    return family


def _queue_families(conn: redis.Redis) -> list:
    info = health.queue_info(conn)
    q = QUEUE_NAME
    return [
        _gauge("intermission_queue_depth", "Jobs waiting in the queue.", info["depth"], queue=q),
        _gauge("intermission_queue_oldest_job_age_seconds", "How long the next job has waited (0: empty).",
               info["oldest_age_seconds"], queue=q),
        _gauge("intermission_jobs_running", "Jobs being run by a worker.", info["running"], queue=q),
        _gauge("intermission_jobs_scheduled", "Jobs scheduled for later (retries, ticks, resumes).",
               info["scheduled"], queue=q),
        _gauge("intermission_dead_letters", "Jobs whose retries are exhausted (see `intermission replay`).",
               info["dead_letters"], queue=q),
    ]


def _process_families(conn: redis.Redis) -> list:
    workers = health.workers_info(conn)
    waiting = health.tenants_waiting(conn)
    return [
        _gauge("intermission_workers", "rq workers registered (alive within their heartbeat TTL).", len(workers)),
        _gauge("intermission_scheduler_up", "1 when a worker holds the rq scheduler lock.",
               health.scheduler_info(conn)["alive"]),
        _gauge("intermission_tenants_needing_reconsent", "Tenants whose admin must connect their host again.",
               sum(1 for t in waiting if t["needs_reconsent"])),
        _gauge("intermission_held_missions", "Missions held (re-consent, API budget), resumed later.",
               sum(t["held"] for t in waiting)),
    ]


def _stream_families(conn: redis.Redis) -> list:
    found = health.streams(conn)
    states = GaugeMetricFamily("intermission_cdc_streams", "Change-event streams of `intermission subscribe`, by state.",
                               labels=["state"])
    for state in ("streaming", "connecting", "reconnecting", "recovering", "needs re-consent", "stopped"):
        states.add_metric([state], sum(1 for s in found if s["state"] == state))
    live = [s["silence_seconds"] for s in found if s["state"] not in ("needs re-consent", "stopped")]
    return [states, _gauge("intermission_cdc_stream_silence_seconds", "The longest any running change stream has "
                           "heard nothing from the host (events or keepalives): its lag bound.", max(live, default=0))]


class IntermissionCollector(Collector):
    """Reads Redis at each scrape; the same answer whichever web process is asked."""

    def collect(self):
        conn = get_redis()
        rows = metrics.read_all(conn)
        yield from _counter_families(rows)
        yield from _histogram_families(rows)
        yield from _queue_families(conn)
        yield from _process_families(conn)
        for host in HOSTS.values():  # a host's own gauges (an API budget per tenant)
            yield from host.metrics.gauges(conn)
        yield from _stream_families(conn)


def make_registry() -> CollectorRegistry:
    """Our collector (totals from Redis), plus the `process_*` and `python_info` of the process answering."""
    # behind gunicorn each scrape is answered by one of the web processes: these describe that process (CPU,
    # memory, file descriptors; a restart shows in process_start_time_seconds), the totals above are global
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IntermissionCollector())
    registry.register(ProcessCollector(registry=None))
    registry.register(PLATFORM_COLLECTOR)
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of the registry."""
    return generate_latest(registry)
