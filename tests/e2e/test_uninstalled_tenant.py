"""An uninstalled tenant never runs a job, whatever its `enabled` flag says."""
from __future__ import annotations

from datetime import date

from config import tenants
from config.infra import clock
from handlers.sync.jobs import sync_mission
from tests.e2e.helpers import settle


def test_an_uninstalled_tenant_runs_no_job_even_if_enabled(stack):
    clock.pin(date(2026, 3, 2))
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]
    tenant = tenants.get(stack.tenant_id)
    tenants.save(tenant.model_copy(update={"status": "uninstalled", "enabled": True}))
    assert sync_mission(stack.tenant_id, mission, {"kind": "test"}) == {"skipped": "tenant unknown or disabled"}
    settle()
    assert stack.actions() == []
    tenants.save(tenant.model_copy(update={"status": "active", "enabled": True}))
    sync_mission(stack.tenant_id, mission, {"kind": "test"})
    assert len(stack.actions()) == 8  # the same mission once the tenant is installed again
