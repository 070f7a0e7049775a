"""Salesforce's own metrics: its 403 REQUEST_LIMIT_EXCEEDED answers, and each tenant's API budget (one series per
Salesforce tenant, by design). Named in its registry line (handlers/hosts/salesforce/host.py, `metrics`)."""

from __future__ import annotations

import redis
from prometheus_client.core import GaugeMetricFamily

from config import keys, tenants
from config.infra import metrics
from connectors.salesforce import client as salesforce_client
from handlers.hosts.registry import Metrics

COUNTERS = {
    "intermission_salesforce_limit_refusals": (
        "Salesforce 403 REQUEST_LIMIT_EXCEEDED answers, by kind: daily (missions held) or concurrency (retried within seconds).",
        ("kind",),
    ),
}


def count_limit_refusal(kind: str) -> None:
    """One REQUEST_LIMIT_EXCEEDED, by kind: "daily" (held for hours) or "concurrency" (retried in seconds)."""
    metrics.incr("intermission_salesforce_limit_refusals", {"kind": kind})


def install() -> None:
    """Count the client's limit refusals (once per process; forked work horses inherit it)."""
    salesforce_client.observe_limits(count_limit_refusal)


def budget_gauges(conn: redis.Redis) -> list:
    """Each tenant's API budget, as the last answer of its org said it."""
    remaining = GaugeMetricFamily(
        "intermission_salesforce_api_remaining",
        "Salesforce API calls left in the org's rolling 24 h window, per tenant.",
        labels=["tenant"],
    )
    limit = GaugeMetricFamily(
        "intermission_salesforce_api_limit", "The org's API calls allowed per rolling 24 h, per tenant.", labels=["tenant"]
    )
    ids = tenants.list_ids()
    for tenant_id, raw in zip(ids, conn.mget([keys.sf_usage(t) for t in ids]) if ids else []):
        if raw:
            used, _, allowed = raw.decode().partition("/")
            remaining.add_metric([tenant_id], max(0, int(allowed) - int(used)))
            limit.add_metric([tenant_id], int(allowed))
    return [remaining, limit]


METRICS = Metrics(counters=COUNTERS, gauges=budget_gauges, install=install)
