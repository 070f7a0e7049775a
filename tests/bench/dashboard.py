"""`dashboard`: the bench dashboard of a generated tenant (300 consultants over a year) rendered by the admin app:
the report alone (Redis reads + figures) and the whole page, median and worst of several renders. Target < 1 s."""
from __future__ import annotations

import statistics
import time
from datetime import date

from tests.bench.procs import redis_for_bench
from tests.bench.report import note

CONSULTANTS = 300
ROUNDS = 7
TODAY = date(2026, 5, 20)


def run(work) -> dict:
    """Write the tenant through the real stores, then time the report and the page through Flask's test client."""
    conn, _ = redis_for_bench()
    from config.infra import clock
    from handlers.reports.bench_data import bench_report
    from tests.bench_tenant import generate, write
    from webhooks.admin.auth import admin_token
    from webhooks.app import create_app

    people = generate(CONSULTANTS, TODAY)
    tenant = write(conn, "bench-300", people)
    missions = sum(len(p.missions) for p in people)
    clock.pin(TODAY)
    client = create_app().test_client()
    url = f"/admin/bench?a={admin_token(tenant.id, 'bench')}"
    assert client.get(url).status_code == 200  # warm: templates, holiday calendars
    reports, pages = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        bench_report(conn, tenant, TODAY)
        reports.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer = client.get(url)
        pages.append(time.perf_counter() - started)
        assert answer.status_code == 200
    note(f"{CONSULTANTS} consultants, {missions} missions; page {len(answer.data):,} bytes")
    return {"consultants": CONSULTANTS, "missions": missions,
            "report_ms_p50": round(statistics.median(reports) * 1000, 1), "report_ms_max": round(max(reports) * 1000, 1),
            "page_ms_p50": round(statistics.median(pages) * 1000, 1), "page_ms_max": round(max(pages) * 1000, 1),
            "target_ms": 1000}
