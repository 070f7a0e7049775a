"""Slow clients cannot stop the web tier: 200 connections trickle bytes while /healthz and webhooks keep answering.

The set-up is the shipped one, for real on loopback: Debian's nginx running deploy/nginx.conf in front of the
Procfile's gunicorn (deploy/gunicorn.conf.py: 2 processes x 4 threads). Half the connections stall in their
headers, half in a declared body, one byte per second each. Without nginx, 8 of them are enough
(tests/bench/slow_clients.py measures both; docs/RELIABILITY.md, "Security", has the figures).
"""
from __future__ import annotations

import pytest

from config import tenants
from tests.e2e.proc_helpers import child_env
from tests.reliability.slow_clients import Tricklers, free_ports, start_gunicorn, start_nginx, timed_get, timed_post
from tests.reliability.webhook_load import boond_event

TRICKLING = 200
PROBES = 5


@pytest.fixture
def fronted(redis_conn, tmp_path):
    """nginx (deploy/nginx.conf) on one free port, proxying to gunicorn (the Procfile's web) on another."""
    from config.infra.redis_conn import redis_url_for_children

    tenant = tenants.Tenant(id="slow-acme", host="boond", boond=tenants.BoondConfig(
        base_url="http://127.0.0.1:9/api", app_token="t", app_key="k", user_token="u"))
    tenants.save(tenant)
    front, back = free_ports(2)
    web = start_gunicorn(child_env(redis_url_for_children()), back, tmp_path / "web.log")
    try:
        nginx = start_nginx(tmp_path / "nginx", listen=front, upstream=back)
        try:
            yield f"http://127.0.0.1:{front}", front, tenant.webhook_url(f"http://127.0.0.1:{front}")
        finally:
            nginx.stop()
    finally:
        web.stop()


def test_200_trickling_connections_leave_healthz_under_a_second_and_webhooks_accepted(fronted):
    base, port, webhook = fronted
    with Tricklers(port, TRICKLING, every=1.0) as slow:
        assert slow.refused == 0
        probes = [timed_get(base + "/healthz") for _ in range(PROBES)]
        accepted = [timed_post(webhook, boond_event(f"slow-{i}", str(700 + i))) for i in range(3)]
        held = slow.held()
    assert all(status == 200 and took < 1.0 for status, took in probes), probes
    assert [status for status, _ in accepted] == [202, 202, 202], accepted
    assert held == TRICKLING  # every slow connection was still open, waiting: held by nginx, not refused
    print(f"\n{held} trickling connections held; /healthz max {max(t for _, t in probes) * 1000:.0f} ms; "
          f"webhooks {[s for s, _ in accepted]}")
