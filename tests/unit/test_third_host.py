"""The core story on a third host registered from tests/: everything generic code asks of it is in its registry line.

The webhook route, the admission (one job per mission, or the tenant's batch), the job, the pipeline, the holds on a
spent budget or a lost consent, the default owners' type, the preview, the sweep, the survey e-mail's address and the
admin pages (status, test, links, frame origin) all run on a host that only tests/memo_host.py knows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from config import tenants
from config.infra import clock
from handlers.sync import holds, jobs, sweep
from handlers.sync import preview
from handlers.surveys import mail as survey_mail
from handlers.hosts import registry
from handlers.intake.queues import run_burst
from tests import memo_host
from webhooks.admin.auth import admin_token, csrf_token

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


# --- the whole story through the registry's fields: webhook, admission, job or batch, holds, owners, admin pages


@pytest.fixture(params=[memo_host.MEMO, memo_host.MEMO_BATCH], ids=["record-by-record", "batches"])
def web_memo(request, redis_conn):
    """A memo host (writing record by record, or in batches) registered before the app is made, one tenant on it."""
    host = registry.register(request.param)
    tenant = tenants.Tenant(
        id=f"{host.name}-co",
        host=host.name,
        name="Memo Co",
        language="en",
        planning=tenants.PlanningSettings(default_owners={"manager": "u9"}),
    )
    tenants.save(tenant)
    clock.pin(T0)
    org = memo_host.org_of(tenant)
    from webhooks.app import create_app

    yield host, tenant, org, create_app().test_client()
    tenants.remove(tenant.id)
    memo_host.ORGS.pop(tenant.id, None)
    registry.unregister(host.name)


def _post(client, tenant, mission: str, event: str):
    return client.post(f"/webhooks/{tenant.host}/{tenant.id}/{tenant.webhook_secret}", json={"mission": mission, "event": event})


def test_a_webhook_on_the_host_s_own_route_is_admitted_planned_and_written_as_the_registry_says(web_memo, redis_conn):
    host, tenant, org, client = web_memo
    org.put_mission("m1", title="Refonte", start=date(2025, 9, 1), end=date(2026, 4, 30), consultant="c1")

    assert _post(client, tenant, "m1", "e1").get_json() == {"status": "queued"}
    assert _post(client, tenant, "m1", "e1").status_code == 204  # the same event again: a duplicate
    assert client.post(f"/webhooks/{tenant.host}/{tenant.id}/wrong", json={"mission": "m1", "event": "e2"}).status_code == 404
    run_burst(conn=redis_conn)

    tasks = org.open_tasks("m1")
    assert tasks and all("intermission:m1/" in t["text"] for t in tasks)
    assert org.batches == (1 if host.batches_writes else 0)  # a batching host got the round in one write_all
    owners = {t["owner"] for t in tasks if t["owner"]}
    assert ("memo-user", "u9") in owners  # no manager on the mission: the tenant's default, a person of the host's type


def test_a_spent_budget_and_a_lost_consent_hold_the_work_until_it_resumes(web_memo, redis_conn):
    host, tenant, org, client = web_memo
    org.put_mission("m2", title="Audit", start=date(2025, 9, 1), end=date(2026, 4, 30), consultant="c2")

    org.budget_spent = True
    _post(client, tenant, "m2", "e1")
    run_burst(conn=redis_conn)
    assert holds.held(redis_conn, tenant.id)["m2"]["reason"] == holds.BUDGET_SPENT and org.tasks == {}

    org.budget_spent, org.consent = False, False
    holds.resume(tenant.id, redis_conn)
    run_burst(conn=redis_conn)
    assert holds.held(redis_conn, tenant.id)["m2"]["reason"].startswith("needs re-consent: ") and org.tasks == {}

    org.consent, org.limit_hit = True, True
    holds.resume(tenant.id, redis_conn)
    run_burst(conn=redis_conn)
    assert holds.held(redis_conn, tenant.id)["m2"]["reason"] == holds.LIMIT_EXCEEDED and org.tasks == {}

    org.limit_hit = False
    holds.resume(tenant.id, redis_conn)
    run_burst(conn=redis_conn)
    assert holds.held(redis_conn, tenant.id) == {} and org.open_tasks("m2")


def test_the_admin_pages_show_the_host_s_status_test_links_and_frame_origin(web_memo, redis_conn):
    host, tenant, org, client = web_memo
    org.put_mission("m3", title="Run", start=date(2025, 9, 1), end=date(2026, 4, 30), consultant="c3")
    _post(client, tenant, "m3", "e1")
    run_burst(conn=redis_conn)
    token = admin_token(tenant.id, "test")

    overview = client.get(f"/admin/?a={token}")
    assert "memo org, 1 mission(s)" in overview.get_data(as_text=True)
    assert memo_host.ORIGIN in overview.headers["Content-Security-Policy"]
    tested = client.post("/admin/test", data={"a": token, "csrf": csrf_token(token)})
    assert "The connection works: Memo answers." in tested.get_data(as_text=True)
    timeline = client.get(f"/admin/timeline?a={token}&mission=m3").get_data(as_text=True)
    assert f"{memo_host.ORIGIN}/tasks/memo-" in timeline


def test_survey_emails_go_to_the_address_the_host_holds(web_memo, redis_conn):
    host, tenant, org, client = web_memo
    tenant = tenant.model_copy(
        update={"surveys": tenants.SurveySettings(email=tenants.SurveyEmail(host="smtp.example", sender="hr@example.com"))}
    )
    org.emails["c4"] = "ada@example.com"
    state = SimpleNamespace(person_type="resource", person_id="c4", person_name="Ada", language="fr")

    assert survey_mail.uses_email(tenant)  # the memo host has no survey tool of its own
    assert survey_mail.respondent_address(redis_conn, tenant, state) == ("ada@example.com", "en")


def test_a_host_whose_adapter_lacks_the_protocol_is_refused():
    with pytest.raises(TypeError, match="lacks read_missions, write_all"):
        registry.register(registry.Host(name="half", label="Half", adapter=memo_host.MemoAdapter, batches_writes=True))
    assert "half" not in registry.HOSTS
