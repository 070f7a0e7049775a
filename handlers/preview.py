"""Dry-run: what a mission would get if it were reconciled now, without writing anything."""
from __future__ import annotations

from config import tenants
from config.redis_conn import get_redis
from handlers import clock
from handlers.classify import classify
from handlers.jobs import ADAPTERS, _carry_notice, playbook_for, survey_inputs
from handlers.ledger import Ledger
from handlers.plan import plan
from handlers.reconcile import diff
from handlers.rules import Rules
from handlers.store import SnapshotStore


def _planned(conn, tenant: tenants.Tenant, snap, found, today) -> list:
    """The plan as the worker would make it, surveys included (read-only: no survey is created)."""
    options = {"language": tenant.language, "rules": Rules.of(tenant)}
    base = plan(snap, found, playbook_for(tenant), today, **options)
    asked = survey_inputs(conn, tenant, snap, base, today, create=False)
    return plan(snap, found, playbook_for(tenant), today, surveys=asked, **options)


def preview(tenant_id: str, mission_id: str) -> dict:
    """The case, the reason and each desired action with the operation it would need (read-only)."""
    tenant = tenants.require(tenant_id)
    conn = get_redis()
    adapter = ADAPTERS[tenant.host](tenant, conn)
    prev = SnapshotStore(conn, tenant_id).get(mission_id)
    current, _ = adapter.read_mission(mission_id)
    if current is None:
        if prev is None:
            raise tenants.TenantError(f"mission {mission_id} is not in {tenant.host} and was never seen")
        current = prev.model_copy(update={"status": "deleted"})
    today = clock.today(tenant.timezone)
    current = _carry_notice(prev, current, today)
    found = classify(prev, current, today, rules=Rules.of(tenant))
    desired = _planned(conn, tenant, current, found, today)
    ops = {op.key: op.kind for op in diff(desired, Ledger(conn, tenant_id, mission_id).entries())}
    actions = [{"op": ops.get(a.key, "unchanged"), "key": a.key, "step_id": a.step_id, "due": a.due,
                "nominal_due": a.nominal_due, "late": a.late, "assignee_role": a.assignee_role,
                "assignee": a.assignee.name if a.assignee else None, "title": a.title} for a in desired]
    cancels = [{"op": "cancel", "key": k, "step_id": k, "due": None, "nominal_due": None, "late": False,
                "assignee_role": "", "assignee": None, "title": ""} for k, kind in ops.items() if kind == "cancel"]
    return {"tenant": tenant_id, "mission": mission_id, "today": today, "case": found.case,
            "reason": found.reason, "unsure": found.unsure, "end_date": current.end_date,
            "actions": actions + cancels}


def preview_stored(tenant: tenants.Tenant, mission_id: str) -> dict | None:
    """The same dry run from the last snapshot (no host call): for the admin page's preview."""
    conn = get_redis()
    snap = SnapshotStore(conn, tenant.id).get(mission_id)
    if snap is None:
        return None
    today = clock.today(tenant.timezone)
    found = classify(None, snap, today, rules=Rules.of(tenant))
    desired = _planned(conn, tenant, snap, found, today)
    ops = {op.key: op.kind for op in diff(desired, Ledger(conn, tenant.id, mission_id).entries())}
    actions = [{"op": ops.get(a.key, "unchanged"), "key": a.key, "due": a.due, "late": a.late, "title": a.title,
                "assignee_role": a.assignee_role, "assignee": a.assignee.name if a.assignee else None}
               for a in desired]
    actions += [{"op": "cancel", "key": k, "due": None, "late": False, "title": "", "assignee_role": "",
                 "assignee": None} for k, kind in ops.items() if kind == "cancel"]
    return {"case": found.case, "reason": found.reason, "end_date": snap.end_date, "actions": actions}


def known_missions(tenant_id: str, limit: int = 300) -> list:
    """The tenant's missions seen so far (id, title, end date), for pickers."""
    conn, out = get_redis(), []
    store = SnapshotStore(conn, tenant_id)
    for key in conn.scan_iter(match=f"im:t:{tenant_id}:mission:*", count=500):
        snap = store.get(key.decode().rsplit(":", 1)[1])
        if snap:
            out.append(snap)
        if len(out) >= limit:
            break
    return sorted(out, key=lambda s: (s.end_date is None, s.end_date, s.mission_id))
