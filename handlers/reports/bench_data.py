"""Read the bench dashboard's inputs from Redis (snapshots, the bench steps done) and build its report."""
from __future__ import annotations

from datetime import date

import redis

from config import keys
from config.tenants import Tenant
from handlers.state import store
from handlers.reports.bench_report import BenchReport, Money, report
from handlers.hosts.registry import host_of
from handlers.state.ledger import Ledger, entries_of
from handlers.domain.model import MissionSnapshot
from handlers.reports.forecast import Forecast, forecast

BATCH = 500


def snapshots(conn: redis.Redis, tenant_id: str) -> list[MissionSnapshot]:
    """Every mission snapshot of the tenant (SCAN then MGET in batches)."""
    names = list(conn.scan_iter(match=keys.missions_pattern(tenant_id), count=1000))
    prefix, out = len(keys.mission_prefix(tenant_id)), []
    for i in range(0, len(names), BATCH):
        for name, raw in zip(names[i:i + BATCH], conn.mget(names[i:i + BATCH])):
            if raw:
                out.append(store.decode(raw, tenant_id, name.decode()[prefix:]))
    return out


def bench_steps_done(conn: redis.Redis, tenant_id: str, mission_ids: list[str]) -> dict[str, set[str]]:
    """Mission → the bench step ids a person ticked done in the host (ledger status "done")."""
    pipe = conn.pipeline(transaction=False)
    for mission_id in mission_ids:
        pipe.hgetall(Ledger(conn, tenant_id, mission_id).key)
    out: dict[str, set[str]] = {}
    for mission_id, raw in zip(mission_ids, pipe.execute()):
        done = {k: v for k, v in raw.items() if v.startswith(b"x|") or v.startswith(b"{")}  # "x": done, or JSON
        steps = {e.step_id for key, e in entries_of(done).items() if key.startswith("bench.") and e.status == "done"}
        if steps:
            out[mission_id] = steps
    return out


def money_of(tenant: Tenant) -> Money:
    """The tenant's bench money settings."""
    bench = tenant.bench
    return Money(bench.default_daily_cost, bench.daily_margin, bench.gross_daily_salary)


def bench_report(conn: redis.Redis, tenant: Tenant, today: date) -> BenchReport:
    """The dashboard of one tenant on `today`."""
    snaps = snapshots(conn, tenant.id)
    ended = [s.mission_id for s in snaps if s.end_date is not None and s.end_date < today]
    return report(snaps, bench_steps_done(conn, tenant.id, ended), money_of(tenant), today=today, country=tenant.country,
                  inactivity_map=host_of(tenant).inactivity_activities(tenant))


def forecast_report(conn: redis.Redis, tenant: Tenant, today: date) -> Forecast:
    """The 13-week forecast of one tenant from `today`."""
    return forecast(snapshots(conn, tenant.id), money_of(tenant), today, country=tenant.country)
