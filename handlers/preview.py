"""Dry-run: what a mission would get if it were reconciled now, without writing anything."""
from __future__ import annotations

from config import tenants
from config.redis_conn import get_redis
from handlers import clock
from handlers.classify import classify
from handlers.jobs import ADAPTERS, _carry_notice, playbook_for
from handlers.ledger import Ledger
from handlers.plan import plan
from handlers.reconcile import diff
from handlers.store import SnapshotStore


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
    found = classify(prev, current, today, tenant.country)
    desired = plan(current, found, playbook_for(tenant), today, language=tenant.language, country=tenant.country)
    ops = {op.key: op.kind for op in diff(desired, Ledger(conn, tenant_id, mission_id).entries())}
    actions = [{"op": ops.get(a.key, "unchanged"), "key": a.key, "step_id": a.step_id, "due": a.due,
                "nominal_due": a.nominal_due, "late": a.late, "assignee_role": a.assignee_role,
                "assignee": a.assignee.name if a.assignee else None, "title": a.title} for a in desired]
    cancels = [{"op": "cancel", "key": k, "step_id": k, "due": None, "nominal_due": None, "late": False,
                "assignee_role": "", "assignee": None, "title": ""} for k, kind in ops.items() if kind == "cancel"]
    return {"tenant": tenant_id, "mission": mission_id, "today": today, "case": found.case,
            "reason": found.reason, "unsure": found.unsure, "end_date": current.end_date,
            "actions": actions + cancels}
