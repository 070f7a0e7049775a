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
from connectors.boond.settings import BoondConfig

TRICKLING = 200
PROBES = 5


@pytest.fixture
def fronted(redis_conn, tmp_path):
    """nginx (deploy/nginx.conf) on one free port, proxying to gunicorn (the Procfile's web) on another."""
    from config.infra.redis_conn import redis_url_for_children

    tenant = tenants.Tenant(id="slow-acme", host="boond", host_settings=BoondConfig(
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


SIDECAR_MEMORY_MIB = 64  # deploy/k8s/web.yaml: the nginx container's memory limit


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (nginx's master and workers), in MiB."""
    from tests.e2e.proc_helpers import descendants

    total = 0
    for each in [pid, *descendants(pid)]:
        for line in open(f"/proc/{each}/status"):
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def test_100_slow_bodies_of_almost_a_mebibyte_stay_under_the_sidecars_memory_limit(tmp_path):
    """Issue #30: nginx held each slow body in a 1 MiB memory buffer (100 of them: 115 MiB against a 64 MiB limit);
    past a small buffer a body now waits in nginx's temp directory (the pod's emptyDir)."""
    import socket

    import yaml

    from tests.e2e.proc_helpers import DEPLOY

    pod = next(d for d in yaml.safe_load_all((DEPLOY / "k8s" / "web.yaml").read_text()) if d["kind"] == "Deployment")
    proxy = next(c for c in pod["spec"]["template"]["spec"]["containers"] if c["name"] == "proxy")
    assert proxy["resources"]["limits"]["memory"] == f"{SIDECAR_MEMORY_MIB}Mi"
    front, nobody = free_ports(2)
    nginx = start_nginx(tmp_path / "nginx", listen=front, upstream=nobody, wait=False)
    sockets = []
    try:
        body = b"x" * (1024 * 1024 - 4096)
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", front), timeout=10)
            s.sendall(b"POST /webhooks/boond/t/s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1048576\r\n\r\n" + body)  # all but the last 4 KiB: nginx waits for them
            sockets.append(s)
        import time

        time.sleep(1)  # let nginx read what was sent
        rss = _rss_mib(nginx.pid)
        print({"test": "nginx-slow-bodies", "bodies": len(sockets), "nginx_rss_mib": round(rss, 1)})
        assert rss < SIDECAR_MEMORY_MIB / 2, rss
    finally:
        for s in sockets:
            s.close()
        nginx.stop()
