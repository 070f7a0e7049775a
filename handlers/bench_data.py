"""Read the bench dashboard's inputs from Redis (snapshots, the bench steps done) and build its report."""
from __future__ import annotations

from datetime import date

import redis

from config import keys
from config.tenants import Tenant
from handlers.bench_report import BenchReport, Money, report
from handlers.ledger import Ledger, LedgerEntry
from handlers.model import MissionSnapshot

BATCH = 500


def snapshots(conn: redis.Redis, tenant_id: str) -> list[MissionSnapshot]:
    """Every mission snapshot of the tenant (SCAN then MGET in batches)."""
    names = list(conn.scan_iter(match=keys.missions_pattern(tenant_id), count=1000))
    out = []
    for i in range(0, len(names), BATCH):
        for raw in conn.mget(names[i:i + BATCH]):
            if raw:
                out.append(MissionSnapshot.model_validate_json(raw))
    return out


def bench_steps_done(conn: redis.Redis, tenant_id: str, mission_ids: list[str]) -> dict[str, set[str]]:
    """Mission → the bench step ids a person ticked done in the host (ledger status "done")."""
    pipe = conn.pipeline(transaction=False)
    for mission_id in mission_ids:
        pipe.hgetall(Ledger(conn, tenant_id, mission_id).key)
    out: dict[str, set[str]] = {}
    for mission_id, raw in zip(mission_ids, pipe.execute()):
        steps = {_done_step(k.decode(), v) for k, v in raw.items() if k.startswith(b"bench.")}
        steps.discard(None)
        if steps:
            out[mission_id] = steps
    return out


def _done_step(key: str, value: bytes) -> str | None:
    if not (value.startswith(b"x|") or value.startswith(b"{")):
        return None  # the packed form starts with its status code: only "x" (done) can count
    entry = LedgerEntry.unpack(key, value)
    return entry.step_id if entry.status == "done" else None


def money_of(tenant: Tenant) -> Money:
    """The tenant's bench money settings."""
    bench = tenant.bench
    return Money(bench.default_daily_cost, bench.daily_margin, bench.gross_daily_salary)


def bench_report(conn: redis.Redis, tenant: Tenant, today: date) -> BenchReport:
    """The dashboard of one tenant on `today`."""
    snaps = snapshots(conn, tenant.id)
    ended = [s.mission_id for s in snaps if s.end_date is not None and s.end_date < today]
    return report(snaps, bench_steps_done(conn, tenant.id, ended), money_of(tenant), today, tenant.country)
