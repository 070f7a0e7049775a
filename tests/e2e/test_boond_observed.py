"""Boond as a real instance answered (reference §10), end to end: the sandbox's observed dialect against the worker."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from config import tenants
from config.infra.redis_conn import get_redis
from sandboxes.stack import Stack
from config.infra import clock
from handlers.hosts.boond.adapter import BoondAdapter
from handlers.state.ledger import ActivityLog
from handlers.sync.sweep import sweep_job
from tests.e2e.helpers import by_step, markers, owner, settle
from connectors.boond.settings import boond_settings

T0 = date(2026, 3, 2)
FOREIGN = 68  # someone else's notes on the consultant: with our 8, 76 actions, ours past the first 30-row pages


@pytest.fixture
def observed(redis_conn):
    """The stack on the observed dialect."""
    with Stack("acme", dialect="observed") as running:
        yield running


def _reasons(mission: str) -> list[str]:
    return [r.get("reason") or "" for r in ActivityLog(get_redis(), "acme").recent(mission=mission)]


def _steps(stack, mission: str) -> dict[str, dict]:
    return {k.split("/", 1)[1]: v for k, v in by_step(stack.actions()).items() if k.startswith(mission + "/")}


def _foreign_notes(stack) -> None:
    client = BoondAdapter(stack.tenant, get_redis()).client
    for n in range(FOREIGN):
        client.create_action({"data": {"type": "action", "attributes": {"typeOf": 4, "title": f"Note {n}",
                                                                       "text": "<p>Point RH</p>"},
                                       "relationships": {"dependsOn": {"data": {"id": "7", "type": "resource"}}}}})


@pytest.mark.parametrize("dialect", ["documented", "observed"])
def test_76_actions_and_a_lost_answer_never_duplicate_when_the_story_is_replayed(redis_conn, dialect):
    with Stack("acme", dialect=dialect) as stack:
        stack.control("POST", "/_control/config", json={"actions_max_page": 50})  # documented too: 30-row pages
        clock.pin(T0)
        _foreign_notes(stack)
        stack.control("POST", "/_control/faults", json={"kind": "drop", "when": "after", "times": 1,
                                                        "method": "POST", "path": "/api/actions"})
        made = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16))
        settle()  # the first POST's answer is lost: the retry must find that action on the third page
        assert len(stack.actions()) == FOREIGN + 8
        for n in range(3):  # the story's webhook replayed as new events
            event = dict(made["events"][0])
            event["data"] = {**event["data"], "id": f"replayed-{n}"}
            assert stack.post_webhook(event).status_code == 202
        settle()
        ours = [a for a in stack.actions() if "intermission:" in (a["attributes"].get("text") or "")]
        assert len(ours) == 8 and max(markers(ours).values()) == 1


def test_a_thin_delivery_is_planned_with_people_read_from_project_resource_and_opportunity(observed):
    clock.pin(T0)
    observed.control("POST", "/_control/calls/reset")
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    steps = _steps(observed, mission)
    assert owner(steps["natural.satisfaction"]) == "2"  # the project's manager, from GET /projects/45
    assert owner(steps["natural.prospect"]) == "3"  # the opportunity's business engineer, from GET /opportunities/50
    assert owner(steps["natural.handover"]) == "7"
    assert "Acme Industrie" in steps["natural.handover"]["attributes"]["text"]  # the company, read with the project
    routes = observed.control("GET", "/_control/calls")["by_route"]
    for route in ("GET /api/projects/<id>", "GET /api/opportunities/<id>"):
        assert routes.get(route) == 1, routes  # one read per record per job
    assert routes.get("GET /api/resources/<id>") == 2, routes  # the consultant, and the HR no record in hand names
    snap, _ = BoondAdapter(tenants.get("acme"), get_redis()).read_mission(mission)
    assert (snap.manager.id, snap.hr.id, snap.business_engineer.id, snap.client_contact.id) == ("2", "4", "3", "11")
    assert snap.consultant_manager.id == "2"
    assert (snap.manager.name, snap.hr.name, snap.consultant_manager.name) == ("Claire Martin", "Inès Moreau",
                                                                               "Claire Martin")


def test_completed_state_is_a_natural_end_never_a_client_end(observed):
    clock.pin(date(2026, 5, 4))
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    observed.control("POST", f"/_control/deliveries/{mission}/complete", json={})  # "2 Completed" in this tenant
    settle()
    keys = set(_steps(observed, mission))
    assert keys and all(k.startswith(("natural.", "bench.")) for k in keys)
    assert not any(k.startswith("client.") for k in keys)


def test_an_unmapped_state_is_natural_and_the_provenance_names_it(observed):
    tenant = tenants.get("acme")
    tenants.save(tenant.model_copy(update={"host_settings": boond_settings(tenant).model_copy(update={"delivery_states": {},
                                                                                   "states_confirmed": False})}))
    clock.pin(T0)
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    assert all(k.startswith("natural.") for k in _steps(observed, mission))
    assert any("state 1 (In progress) not mapped" in r for r in _reasons(mission))


def test_a_refused_timeline_tab_plans_the_mission_and_says_next_mission_unknown(observed):
    clock.pin(T0)
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    assert len(_steps(observed, mission)) == 8
    assert any("next mission unknown" in r for r in _reasons(mission))


def test_a_refused_deliveries_search_rereads_the_known_missions_and_says_why(observed):
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    clock.pin(T0)
    known = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    result = sweep_job("acme", since)
    assert "404" in result["refused"] and (result["changed"], result["queued"]) == (1, 1)  # the known one, by id
    assert any(r.get("op") == "sweep_skipped" for r in ActivityLog(get_redis(), "acme").recent())
    assert known


def test_a_soft_deleted_delivery_cancels_its_steps(observed):
    clock.pin(T0)
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    settle()
    assert _steps(observed, mission)
    observed.control("DELETE", f"/_control/deliveries/{mission}", json={})
    settle()
    assert observed.control("GET", "/_control/deliveries")["data"][0]["attributes"]["isDeleted"] is True
    assert _steps(observed, mission) == {}


def test_a_consultant_whose_state_maps_to_left_is_marked_left(observed):
    clock.pin(T0)
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16))["data"]["id"]
    observed.control("POST", "/_control/resources/7/state", json={"state": 0, "deliver": False})  # 0 "Sortie"
    snap, _ = BoondAdapter(tenants.get("acme"), get_redis()).read_mission(mission)
    assert snap.consultant_left is True


def test_intermission_plan_names_the_people_read_for_a_thin_delivery(observed):
    from handlers.sync.preview import preview

    clock.pin(T0)
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]
    planned = {a["step_id"]: a["assignee"] for a in preview("acme", mission)["actions"]}
    assert planned["natural.satisfaction"] == "Claire Martin"  # the project's manager (GET /projects/45)
    assert planned["natural.prospect"] == "Hugo Bernard"  # the business engineer (GET /opportunities/50)
    assert planned["natural.handover"] == "Jean Dupont"


def test_a_consultant_who_left_the_firm_is_never_on_the_bench(observed):
    clock.pin(T0)
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 3, 12))["data"]["id"]
    settle()
    observed.control("POST", "/_control/resources/7/state", json={"state": 0})  # 0 "Sortie", webhook on the resource
    settle()
    clock.pin(date(2026, 3, 16))
    observed.move_end(mission, date(2026, 3, 13))  # a re-read after the end: no bench for someone gone
    settle()
    keys = set(_steps(observed, mission))
    assert keys and not any(k.startswith("bench.") for k in keys)


def test_every_owner_has_a_name_and_a_step_without_one_says_why(observed):
    from handlers.domain.model import Person
    from handlers.sync.preview import preview, preview_stored
    from handlers.state.store import SnapshotStore

    clock.pin(date(2026, 3, 16))  # four days after the end: the bench steps, HR's among them
    mission = observed.create_delivery(date(2025, 11, 3), date(2026, 3, 12), deliver=False)["data"]["id"]
    rows = preview("acme", mission)["actions"]
    assert {"hr", "manager", "consultant"} <= {a["assignee_role"] for a in rows}
    assert all(a["assignee"] and not a["assignee_why"] for a in rows), rows  # HR too: GET /resources/4
    assert {a["assignee"] for a in rows if a["assignee_role"] == "hr"} == {"Inès Moreau"}

    snap, _ = BoondAdapter(tenants.get("acme"), get_redis()).read_mission(mission)
    SnapshotStore(get_redis(), "acme").save(snap.model_copy(update={"hr": Person(id="4", name="")}))
    hr = [a for a in preview_stored(tenants.get("acme"), mission)["actions"] if a["assignee_role"] == "hr"]
    assert hr and all(a["assignee"] is None and a["assignee_why"].startswith("nom inconnu : l'outil ne donne pas")
                      for a in hr)
