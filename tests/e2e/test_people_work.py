"""People's work is kept: what a person ticked done or edited in the host is never deleted, rewritten or recreated.

Each story writes the plan, lets a person act in the host through its API (over real HTTP), then changes the
mission (extension, end date cleared, restaffing, revert) and reads what the host holds.
"""
from __future__ import annotations

from datetime import date

import pytest

from config import tenants
from config.infra.redis_conn import get_redis
from sandboxes.stack_salesforce import SalesforceStack
from config.infra import clock
from handlers.hosts.boond.adapter import make_client as boond_client
from handlers.hosts.salesforce.adapter import make_client as sf_client
from handlers.sync.jobs import tick
from handlers.state.ledger import ActivityLog, Ledger
from tests.e2e.helpers import by_step, due, markers, settle
from tests.e2e.sf_helpers import by_step as sf_steps, duplicates
from connectors.boond.settings import boond_settings

T0 = date(2026, 3, 2)
DONE_TYPE = 6  # "Fait / Done" in the sandbox tenant's dictionary, mapped by the admin as a done type
DONE_TYPES = {"documented": DONE_TYPE, "observed": 9}  # observed: its flat list has no "done" type; 9 stands in


def _steps(stack, mission: str) -> dict[str, dict]:
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def _boond_person_edits(stack, action_id: str, **attributes) -> None:
    """A manager changes an action in Boond (PUT /actions/{id}, as Boond's UI does)."""
    client = boond_client(tenants.get(stack.tenant_id), get_redis())
    client.update_action(action_id, {"data": {"id": action_id, "type": "action", "attributes": attributes}})


def _map_done_type(stack) -> int:
    tenant = tenants.get(stack.tenant_id)
    boond_settings(tenant).done_action_types = [DONE_TYPES[stack.dialect]]
    tenants.save(tenant)
    return DONE_TYPES[stack.dialect]


def _activity(stack, mission: str) -> list[dict]:
    return ActivityLog(get_redis(), stack.tenant_id).recent(mission=mission)


@pytest.fixture(params=["documented", "observed"])
def dialect_stack(redis_conn, request):
    """The Boond stack on each sandbox dialect: observed refuses the actions tab and its keyword search is blind to
    our actions, so every read-back goes by id or by the whole /actions listing (docs/SANDBOXES.md)."""
    from sandboxes.stack import Stack

    with Stack("acme", dialect=request.param) as running:
        yield running


def test_boond_done_and_edited_actions_survive_extension_clearing_and_revert(dialect_stack):
    stack = dialect_stack
    clock.pin(T0)
    done_type = _map_done_type(stack)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    first = _steps(stack, mission)
    handover, review = first["natural.handover"], first["natural.review"]
    _boond_person_edits(stack, handover["id"], typeOf=done_type)  # ticked done
    _boond_person_edits(stack, review["id"], title="Bilan à trois — date vue avec le client")  # reworded

    stack.move_end(mission, date(2026, 5, 7))  # extension: everything else is rescheduled
    settle()
    moved = _steps(stack, mission)
    assert due(moved["natural.handover"]) == due(handover) and moved["natural.handover"]["attributes"]["typeOf"] == done_type
    assert due(moved["natural.review"]) == due(review)  # not moved: someone edited it
    assert moved["natural.review"]["attributes"]["title"] == "Bilan à trois — date vue avec le client"
    assert due(moved["natural.recommendations"]) == "2026-05-07"

    stack.control("POST", f"/_control/deliveries/{mission}/clear-end", json={})
    settle()
    cleared = _steps(stack, mission)
    assert sorted(cleared) == ["natural.handover", "natural.review"]  # the untouched ones are gone
    assert cleared["natural.handover"]["attributes"]["typeOf"] == done_type
    note = cleared["natural.review"]["attributes"]
    assert "n'est plus prévue" in note["text"] and note["typeOf"] == done_type  # closed with a note, not deleted
    assert note["title"] == "Bilan à trois — date vue avec le client"

    stack.move_end(mission, date(2026, 5, 7))  # the plan comes back
    settle()
    back = _steps(stack, mission)
    assert len(back) == 8 and max(markers(stack.actions()).values()) == 1  # nothing the person kept is made twice
    assert back["natural.handover"]["id"] == handover["id"] and back["natural.review"]["id"] == review["id"]
    kept = [r for r in _activity(stack, mission) if r["op"] == "kept"]
    assert {r["key"] for r in kept} == {"natural.handover", "natural.review"}
    assert all(r["why"] for r in kept)
    statuses = {k: e.status for k, e in Ledger(get_redis(), stack.tenant_id, mission).entries().items()}
    assert statuses["natural.handover"] == "done" and statuses["natural.review"] == "closed"


def test_boond_a_done_bench_step_survives_restaffing(stack):
    clock.pin(T0)
    _map_done_type(stack)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 3, 12))["data"]["id"]
    settle()
    clock.pin(date(2026, 3, 13))  # the first bench day
    tick()
    settle()
    bench = _steps(stack, mission)
    _boond_person_edits(stack, bench["bench.training"]["id"], typeOf=DONE_TYPE)

    stack.create_delivery(date(2026, 3, 16), date(2026, 12, 18))  # restaffed from Monday
    clock.pin(date(2026, 3, 16))
    tick()
    settle()
    after = _steps(stack, mission)
    assert [k for k in after if k.startswith("bench.")] == ["bench.training"]  # the rest of the bench is closed
    assert after["bench.training"]["attributes"]["typeOf"] == DONE_TYPE


def test_boond_an_untouched_cancelled_step_is_removed_as_before(stack):
    clock.pin(T0)
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    stack.control("POST", f"/_control/deliveries/{mission}/clear-end", json={})
    settle()
    assert _steps(stack, mission) == {}


@pytest.fixture
def org(redis_conn):
    with SalesforceStack("acme-sf") as running:
        yield running


def _sf_person_edits(org, task_id: str, **fields) -> None:
    """A user changes a Task in Salesforce (PATCH through the REST API)."""
    client = sf_client(tenants.get(org.tenant_id), get_redis())
    results = client.update_records([{"Id": task_id, **fields}], sobject="Task")
    assert all(r.success for r in results)


def test_salesforce_completed_and_edited_tasks_survive_extension_clearing_and_revert(org):
    clock.pin(T0)
    mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    first = sf_steps(org.tasks(), mission)
    handover, review = first["natural.handover"], first["natural.review"]
    _sf_person_edits(org, handover["Id"], Status="Completed")
    _sf_person_edits(org, review["Id"], ActivityDate="2026-04-20")  # moved by the manager

    org.move_end(mission, date(2026, 5, 7))
    settle()
    moved = sf_steps(org.tasks(), mission)
    assert moved["natural.handover"]["Status"] == "Completed"
    assert moved["natural.handover"]["ActivityDate"] == handover["ActivityDate"]
    assert moved["natural.review"]["ActivityDate"] == "2026-04-20"  # the manager's date wins
    assert moved["natural.recommendations"]["ActivityDate"] == "2026-05-07"

    org.update_mission(mission, End_Date__c=None)
    settle()
    cleared = sf_steps(org.tasks(), mission)
    assert sorted(cleared) == ["natural.handover", "natural.review"]
    assert cleared["natural.review"]["Status"] == "Completed" and "n'est plus prévue" in cleared["natural.review"]["Description"]
    assert cleared["natural.review"]["ActivityDate"] == "2026-04-20"

    org.move_end(mission, date(2026, 5, 7))
    settle()
    back = sf_steps(org.tasks(), mission)
    assert len(back) == 8 and duplicates(org.tasks()) == []
    assert back["natural.handover"]["Id"] == handover["Id"] and back["natural.review"]["Id"] == review["Id"]


def test_salesforce_edited_tasks_are_left_open_when_the_tenant_says_leave(org):
    clock.pin(T0)
    tenant = tenants.get(org.tenant_id)
    tenant.edited_on_cancel = "leave"
    tenants.save(tenant)
    mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
    settle()
    review = sf_steps(org.tasks(), mission)["natural.review"]
    _sf_person_edits(org, review["Id"], Subject="Bilan à trois (avec la DSI)")
    org.update_mission(mission, End_Date__c=None)
    settle()
    left = sf_steps(org.tasks(), mission)
    assert list(left) == ["natural.review"]
    assert left["natural.review"]["Status"] == "Not Started" and "n'est plus prévue" not in left["natural.review"]["Description"]


def test_salesforce_a_completed_bench_task_survives_restaffing(org):
    clock.pin(T0)
    mission = org.create_mission(date(2025, 11, 3), date(2026, 3, 12))["record"]["Id"]
    settle()
    clock.pin(date(2026, 3, 13))  # the first bench day
    tick()
    settle()
    bench = sf_steps(org.tasks(), mission)
    _sf_person_edits(org, bench["bench.training"]["Id"], Status="Completed")

    org.create_mission(date(2026, 3, 16), date(2026, 12, 18))  # restaffed from Monday
    clock.pin(date(2026, 3, 16))
    tick()
    settle()
    after = sf_steps(org.tasks(), mission)
    assert [k for k in after if k.startswith("bench.")] == ["bench.training"]  # the rest of the bench is closed
    assert after["bench.training"]["Status"] == "Completed" and duplicates(org.tasks()) == []
