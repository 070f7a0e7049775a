"""Dry-run: what a mission would get if it were reconciled now, without writing anything."""
from __future__ import annotations

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from config.infra import clock
from handlers.sync import pipeline
from handlers.hosts.registry import adapter_for
from handlers.state.store import SnapshotStore


def preview(tenant_id: str, mission_id: str) -> dict:
    """The case, the reason and each desired action with the operation it would need (read-only)."""
    tenant = tenants.require(tenant_id)
    conn = get_redis()
    adapter = adapter_for(tenant, conn)
    current, _ = adapter.read_mission(mission_id)
    prev = SnapshotStore(conn, tenant_id).get(mission_id)
    found = pipeline.prepare(conn, tenant, prev, current=current, trigger={"kind": "preview"}, today=clock.today(tenant.timezone),
                             write=False)
    if found is None:
        raise tenants.TenantError(f"mission {mission_id} is not in {tenant.host} and was never seen")
    return _answer(conn, found)


def preview_stored(tenant: tenants.Tenant, mission_id: str) -> dict | None:
    """The same dry run from the last snapshot (no host call): for the admin page's preview."""
    conn = get_redis()
    snap = SnapshotStore(conn, tenant.id).get(mission_id)
    if snap is None:
        return None
    # the snapshot was saved after the worker's read, so it is both the previous and the current state: the
    # case and reason are the ones the worker decided (the snapshot carries what the classification needs)
    found = pipeline.prepare(conn, tenant, snap, current=snap, trigger={"kind": "preview"}, today=clock.today(tenant.timezone),
                             write=False)
    return _answer(conn, found)


def _answer(conn, found: pipeline.MissionPlan) -> dict:
    return {"tenant": found.tenant.id, "mission": found.mission_id, "today": found.today, "case": found.found.case,
            "reason": found.found.reason, "unsure": found.found.unsure, "end_date": found.current.end_date,
            "actions": pipeline.dry_run(conn, found)}


def known_missions(tenant_id: str, limit: int = 300) -> list:
    """The tenant's missions seen so far (id, title, end date), for pickers."""
    conn, out = get_redis(), []
    store = SnapshotStore(conn, tenant_id)
    for key in conn.scan_iter(match=keys.missions_pattern(tenant_id), count=500):
        snap = store.get(key.decode().rsplit(":", 1)[1])
        if snap:
            out.append(snap)
        if len(out) >= limit:
            break
    return sorted(out, key=lambda s: (s.end_date is None, s.end_date, s.mission_id))
