"""The core story on a third host registered from tests/: the job, the pipeline, the preview and the sweep are generic."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from config import tenants
from handlers import clock, jobs, preview, sweep
from handlers.hosts import registry
from tests import memo_host

T0 = date(2026, 3, 2)  # a Monday


@pytest.fixture
def memo(redis_conn):
    """The memo host registered, one tenant on it and its (empty) org; unregistered afterwards."""
    registry.register(memo_host.MEMO)
    tenant = tenants.Tenant(id="memo-co", host="memo", name="Memo Co")
    tenants.save(tenant)
    clock.pin(T0)
    org = memo_host.ORGS.setdefault(tenant.id, memo_host.MemoOrg())
    yield tenant, org
    tenants.remove(tenant.id)
    memo_host.ORGS.pop(tenant.id, None)
    registry.unregister("memo")


def test_a_mission_ending_gets_its_playbook_once_and_follows_its_end_date(memo):
    tenant, org = memo
    org.put_mission("m1", title="Refonte", start=date(2025, 9, 1), end=date(2026, 4, 30), consultant="c1", manager="u1")

    first = jobs.sync_mission(tenant.id, "m1", {"kind": "test"})
    tasks = org.open_tasks("m1")
    assert first["m1"]["case"] == "natural" and tasks, first
    assert len({t["key"] for t in tasks}) == len(tasks)  # one task per step, no duplicates
    assert all("intermission:m1/" in t["text"] for t in tasks)

    jobs.sync_mission(tenant.id, "m1", {"kind": "test"})  # nothing changed: nothing written again
    assert org.open_tasks("m1") == tasks

    org.put_mission("m1", end=date(2026, 5, 29))  # extended by a month: the same tasks, later
    jobs.sync_mission(tenant.id, "m1", {"kind": "test"})
    moved = org.open_tasks("m1")
    assert [t["key"] for t in moved] == [t["key"] for t in tasks]
    assert max(t["due"] for t in moved) > max(t["due"] for t in tasks)


def test_the_preview_and_the_sweep_ask_the_registry(memo, redis_conn):
    tenant, org = memo
    org.put_mission("m2", title="Audit", start=date(2025, 9, 1), end=date(2026, 4, 30), consultant="c2")

    shown = preview.preview(tenant.id, "m2")
    assert shown["case"] == "natural" and shown["actions"] and {a["op"] for a in shown["actions"]} == {"create"}
    assert org.tasks == {}  # a preview writes nothing

    swept = sweep.sweep(tenant, datetime.now().astimezone() - timedelta(minutes=5), conn=redis_conn)
    assert (swept["changed"], swept["queued"]) == (1, 1)


def test_a_deleted_mission_loses_its_open_tasks(memo):
    tenant, org = memo
    org.put_mission("m3", title="Run", start=date(2025, 9, 1), end=date(2026, 4, 30), consultant="c3")
    jobs.sync_mission(tenant.id, "m3", {"kind": "test"})
    assert org.open_tasks("m3")

    del org.missions["m3"]
    result = jobs.sync_mission(tenant.id, "m3", {"kind": "test"})
    assert result["m3"]["case"] == "cancellation" and org.open_tasks("m3") == []


def test_an_unknown_host_is_a_clear_error():
    with pytest.raises(ValidationError, match="unknown host 'nope'"):
        tenants.Tenant(id="nope-co", host="nope")
    with pytest.raises(tenants.TenantError, match="known: boond, salesforce"):
        registry.host_of("nope")
