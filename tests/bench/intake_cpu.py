"""`intake_cpu`: the CPU time of one webhook in the web app itself, WSGI call after WSGI call, product vs bare.

No HTTP server and no load generator: what the web process spends of its own per webhook, with the JSON log line
written (to /dev/null) as in production, against the bare 202 endpoint of `ingest`. Each round calls each app
`REQUESTS` times with a fresh event (a new event id and delivery, so every call takes the whole path); the figures
are the minimum and the median over the rounds (the minimum is the least disturbed by other work on the machine).
"""
from __future__ import annotations

import io
import json
import logging
import statistics
import sys
import time

from tests.bench.ingest import fresh_tenant
from tests.bench.procs import redis_for_bench
from tests.bench.report import note

ROUNDS, REQUESTS = 6, 1500


def _environ(path: str, i: str) -> dict:
    body = json.dumps({"data": {"id": f"ev-{i}", "type": "webhookevent", "attributes": {"type": "update"},
                                "relationships": {"dependsOn": {"data": {"id": f"d-{i}", "type": "delivery"}}}}})
    raw = body.encode()
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)), "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000", "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0)}


def _round(app, path: str, prefix: str) -> tuple[float, set[str]]:
    """CPU µs a call, and the statuses answered."""
    statuses: set[str] = set()

    def start_response(status, _headers, _exc=None):
        statuses.add(status.split()[0])

    environs = [_environ(path, f"{prefix}{i}") for i in range(REQUESTS)]
    started = time.process_time()
    for environ in environs:
        for _ in app(environ, start_response):
            pass
    return (time.process_time() - started) / REQUESTS * 1e6, statuses


def run(work) -> dict:
    from config.infra.logs import make_handler
    from tests.bench.hosts import _bare
    from webhooks.app import create_app

    conn, _ = redis_for_bench()
    tenant = fresh_tenant(conn)
    path = f"/webhooks/boond/{tenant.id}/{tenant.webhook_secret}"
    product, bare = create_app(), _bare()
    root, sink = logging.getLogger(), open("/dev/null", "w")
    handler, level = make_handler(sink), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        _round(product, path, "warm-")
        times: dict[str, list[float]] = {"bare": [], "product": []}
        for r in range(ROUNDS):
            for name, app in (("bare", bare), ("product", product)):
                spent, statuses = _round(app, path, f"{name[0]}{r}-")
                if statuses != {"202"}:
                    raise RuntimeError(f"{name} answered {sorted(statuses)}, expected 202 only")
                times[name].append(spent)
            note(f"round {r}: bare {times['bare'][-1]:.0f} µs, product {times['product'][-1]:.0f} µs a webhook")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        sink.close()
    bare_min, product_min = min(times["bare"]), min(times["product"])
    return {"bare_cpu_us": round(bare_min, 1), "product_cpu_us": round(product_min, 1),
            "bare_cpu_us_median": round(statistics.median(times["bare"]), 1),
            "product_cpu_us_median": round(statistics.median(times["product"]), 1),
            "product_over_bare_us": round(product_min - bare_min, 1)}
