"""Slow clients, the options side by side: gunicorn alone (gthread, gevent when installed) vs nginx in front.

    REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python -m tests.bench.slow_clients

For each set-up and each count of trickling connections (half stalled in headers, half in a body, one byte per
second): 5 fresh /healthz probes and 3 webhooks, each with a 5 s client timeout. Prints one JSON object; the
figures are in docs/RELIABILITY.md ("Security"). Not part of the test suite.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from connectors.boond.settings import BoondConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

COUNTS = (8, 200)


def measure(base: str, port: int, webhook: str, count: int) -> dict:
    """Probe /healthz and post webhooks while `count` connections trickle."""
    from tests.reliability.slow_clients import Tricklers, timed_get, timed_post
    from tests.reliability.webhook_load import boond_event

    with Tricklers(port, count, every=1.0) as slow:
        probes = [timed_get(base + "/healthz") for _ in range(5)]
        posts = [timed_post(webhook, boond_event(f"bench-{port}-{count}-{i}", str(900 + i))) for i in range(3)]
        held = slow.held()
    return {"trickling": count, "held": held, "refused": slow.refused,
            "healthz_ok_under_1s": sum(s == 200 and t < 1 for s, t in probes),
            "healthz_max_ms": round(max(t for _, t in probes) * 1000), "webhooks": [s for s, _ in posts]}


def main() -> int:
    from tests.bench.procs import prepare_environment, redis_for_bench

    work = prepare_environment()
    from config import tenants
    from tests.e2e.proc_helpers import child_env
    from tests.reliability.slow_clients import free_ports, start_gunicorn, start_nginx

    _, url = redis_for_bench()
    setups = [("gunicorn gthread 2x4", None, False), ("nginx + gunicorn gthread 2x4", None, True)]
    if importlib.util.find_spec("gevent"):
        setups.insert(1, ("gunicorn gevent 2 processes", "gevent", False))
    results = []
    for name, worker_class, fronted in setups:
        front, back = free_ports(2)
        tenant = tenants.Tenant(id="bench-slow", host="boond", host_settings=BoondConfig(
            base_url="http://127.0.0.1:9/api", app_token="t", app_key="k", user_token="u"))
        tenants.save(tenant)
        web = start_gunicorn(child_env(url), back, work / f"web-{back}.log", worker_class=worker_class)
        nginx = start_nginx(work / f"nginx-{front}", listen=front, upstream=back) if fronted else None
        port = front if fronted else back
        try:
            for count in COUNTS:
                row = measure(f"http://127.0.0.1:{port}", port, tenant.webhook_url(f"http://127.0.0.1:{port}"), count)
                results.append({"setup": name, **row})
                print(json.dumps(results[-1]), file=sys.stderr)
        finally:
            for proc in (nginx, web):
                if proc:
                    proc.stop()
    print(json.dumps({"slow_clients": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
