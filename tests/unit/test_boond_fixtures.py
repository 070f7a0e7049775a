"""The Boond connector and snapshot against payloads the sandbox did not write: tests/fixtures/boond, built from the
shapes the reference quotes (§4, §5, §10), served over `responses`."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import responses

from config.tenants import BoondConfig, Tenant
from connectors.boond.auth import BoondCredentials
from connectors.boond.client import BoondClient
from connectors.errors import (HostAuthError, HostError, HostNotFound, HostRateLimited, HostValidationError)
from handlers.domain.classify import classify
from handlers.hosts.boond.adapter import BoondAdapter
from handlers.hosts.boond.dictionary import Dictionary, propose
from handlers.domain.model import DesiredAction, Person

BASE = "https://boond.test/api"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boond"
OBSERVED = {"1": "active", "2": "natural", "5": "client"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def tenant(**boond) -> Tenant:
    return Tenant(id="acme", boond=BoondConfig(base_url=BASE, app_token="t", app_key="k", user_token="u", **boond))


def adapter(conn, **boond) -> BoondAdapter:
    client = BoondClient(BASE, BoondCredentials("app", "t", "k", "u"), max_attempts=1, max_retry_after=1)
    return BoondAdapter(tenant(**boond), conn, client=client)


def serve(route: str, name: str, status: int = 200) -> None:
    responses.add(responses.GET, re.compile(re.escape(BASE + route) + r"(\?.*)?$"), json=fixture(name), status=status)


def thin_delivery() -> None:
    serve("/deliveries/123", "deliveries_id__thin")
    serve("/projects/45", "projects_id__detail")
    serve("/resources/7", "resources_id__detail")
    serve("/opportunities/50", "opportunities_id__detail")
    serve("/resources/7/deliveries-inactivities", "errors__404", 404)
    serve("/application/dictionary", "application_dictionary__flat")


def calls_to(path: str) -> int:
    return sum(1 for c in responses.calls if c.request.url.split("?")[0] == BASE + path)


@responses.activate
def test_a_thin_delivery_gets_its_people_from_project_resource_and_opportunity_once_per_job(redis_conn):
    thin_delivery()
    boond = adapter(redis_conn, delivery_states=OBSERVED)
    snap, _ = boond.read_mission("123")
    assert (snap.manager.id, snap.manager.name) == ("2", "Claire Martin")
    assert snap.hr.id == "4" and snap.consultant_manager.id == "2"
    assert snap.business_engineer.id == "3"
    assert snap.client_contact.id == "11"  # the project names none: the opportunity's
    assert snap.client_name == "Acme Industrie"
    boond.read_mission("123")  # the same job reads the mission again (its neighbour's sync)
    assert [calls_to(p) for p in ("/projects/45", "/resources/7", "/opportunities/50")] == [1, 1, 1]


@responses.activate
def test_a_full_delivery_needs_no_other_read(redis_conn):
    serve("/deliveries/123", "deliveries_id__full")
    serve("/resources/7/deliveries-inactivities", "resources__list")  # any list: no delivery in it
    snap, _ = adapter(redis_conn, delivery_states={"0": "active"}).read_mission("123")
    assert (snap.manager.id, snap.hr.id, snap.business_engineer.id, snap.client_contact.id) == ("2", "4", "3", "11")
    assert len(responses.calls) == 2


@responses.activate
def test_no_business_engineer_on_the_opportunity_falls_back_to_the_projects_owner(redis_conn):
    thin_delivery()
    responses.replace(responses.GET, re.compile(re.escape(BASE + "/opportunities/50") + r"(\?.*)?$"),
                      json=fixture("opportunities_id__no_manager"))
    snap, _ = adapter(redis_conn, delivery_states=OBSERVED).read_mission("123")
    assert snap.business_engineer.id == "2"


@responses.activate
def test_completed_in_a_tenant_where_2_means_completed_is_a_natural_end(redis_conn):
    thin_delivery()
    snap, _ = adapter(redis_conn, delivery_states=OBSERVED).read_mission("123")
    found = classify(None, snap, date(2026, 4, 2))
    assert snap.status == "active" and found.end_case == "natural" and found.case != "client"


@responses.activate
def test_an_unmapped_state_is_natural_and_named_with_its_label(redis_conn):
    thin_delivery()
    snap, _ = adapter(redis_conn).read_mission("123")
    found = classify(None, snap, date(2026, 3, 2))
    assert snap.state_note == "state 2 (Completed) not mapped"
    assert found.end_case == "natural" and "state 2 (Completed) not mapped" in found.reason


@responses.activate
def test_a_refused_timeline_tab_degrades_and_says_next_mission_unknown(redis_conn):
    thin_delivery()
    snap, timeline = adapter(redis_conn, delivery_states=OBSERVED).read_mission("123")
    assert snap.next_start is None and [t["id"] for t in timeline] == ["123"]
    assert any(note.startswith("next mission unknown") for note in snap.degraded)
    assert "next mission unknown" in classify(None, snap, date(2026, 3, 2)).reason


@responses.activate
def test_a_consultant_whose_state_maps_to_left_is_marked_left(redis_conn):
    thin_delivery()
    responses.replace(responses.GET, re.compile(re.escape(BASE + "/resources/7") + r"(\?.*)?$"),
                      json=fixture("resources_id__left"))
    snap, _ = adapter(redis_conn, delivery_states=OBSERVED, resource_states={"0": "left"}).read_mission("123")
    assert snap.consultant_left is True


@responses.activate
def test_a_soft_deleted_delivery_is_a_cancellation(redis_conn):
    serve("/deliveries/123", "deliveries_id__soft_deleted")
    serve("/projects/45", "projects_id__detail")
    serve("/resources/7", "resources_id__detail")
    serve("/opportunities/50", "opportunities_id__detail")
    serve("/resources/7/deliveries-inactivities", "errors__404", 404)
    snap, _ = adapter(redis_conn, delivery_states={"0": "active"}).read_mission("123")
    assert snap.status == "deleted" and classify(None, snap, date(2026, 3, 2)).case == "cancellation"


@pytest.mark.parametrize("shape", ["per_entity", "flat"])
def test_both_dictionary_shapes_give_the_reminder_type(redis_conn, shape):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, BASE + "/application/dictionary", json=fixture(f"application_dictionary__{shape}"))
        boond = adapter(redis_conn)
        action = DesiredAction(key="k", step_id="s", kind="task", assignee_role="manager", assignee=None,
                               target=Person(id="7"), nominal_due=date(2026, 3, 2), due=date(2026, 3, 2),
                               title="t", text="x")
        assert boond.type_of(action) == 5


def test_any_other_dictionary_shape_is_a_clear_error_naming_the_tenant():
    broken = Dictionary("acme", fixture("application_dictionary__unknown"))
    with pytest.raises(HostError, match=r"tenant acme: .*data\.setting\.action.*expected a list of \{id, value\}"):
        broken.action_types("resource")
    with pytest.raises(HostError, match=r"tenant acme: .*data\.setting\.state\.delivery"):
        broken.states("delivery")
    with pytest.raises(HostError, match="tenant acme"):
        Dictionary("acme", {"data": []})


def test_a_mapping_is_proposed_from_the_tenants_labels():
    flat = Dictionary("acme", fixture("application_dictionary__flat"))
    assert propose(flat.states("delivery"), "delivery") == {"1": "active", "2": "natural"}
    assert propose(flat.states("resource"), "resource") == {"1": "active", "2": "bench", "0": "left"}
    assert propose({"2": "Arrêtée par le client", "3": "Arrêtée par le consultant", "4": "Annulée",
                    "7": "Terminée", "8": "Bizarre"}, "delivery") == {"2": "client", "3": "consultant",
                                                                     "4": "cancelled", "7": "natural"}


@pytest.mark.parametrize("name, error", [("errors__401", HostAuthError), ("errors__404", HostNotFound),
                                         ("errors__405", HostValidationError), ("errors__422", HostValidationError),
                                         ("errors__422_signature", HostAuthError), ("errors__429", HostRateLimited)])
@responses.activate
def test_error_envelopes_map_to_one_error_each(name, error):
    status = int(fixture(name)["errors"][0]["status"])
    responses.add(responses.GET, BASE + "/deliveries/1", json=fixture(name), status=status,
                  headers={"Retry-After": "120"} if status == 429 else {})
    client = BoondClient(BASE, BoondCredentials("app", "t", "k", "u"), max_attempts=1, max_retry_after=1)
    with pytest.raises(error):
        client.delivery("1")


def _action(n: int, parent: str = "7") -> dict:
    return {"id": str(n), "type": "action", "attributes": {"text": f"<p>{n}</p>"},
            "relationships": {"dependsOn": {"data": {"id": parent, "type": "resource"}}}}


def _thirty_a_page(request):
    page = int(re.search(r"page=(\d+)", request.url).group(1))
    rows = [_action(n) for n in range(1, 77)][(page - 1) * 30: page * 30]  # maxResults ignored (§10)
    return 200, {}, json.dumps({"meta": {"totals": {"rows": 76}}, "data": rows})


@responses.activate
def test_every_page_is_read_whatever_page_size_the_server_chose():
    responses.add_callback(responses.GET, re.compile(re.escape(BASE + "/resources/7/actions")), _thirty_a_page)
    client = BoondClient(BASE, BoondCredentials("app", "t", "k", "u"), max_attempts=1)
    assert [r["id"] for r in client.actions_of("resource", "7")] == [str(n) for n in range(1, 77)]
    assert len(responses.calls) == 3


@responses.activate
def test_a_refused_actions_tab_falls_back_to_the_actions_search_filtered_on_the_parent():
    serve("/resources/7/actions", "errors__404", 404)

    def search(request):
        assert "keywords=COMP7" in request.url
        page = int(re.search(r"page=(\d+)", request.url).group(1))
        rows = ([_action(n) for n in range(1, 40)] + [_action(99, parent="8")])[(page - 1) * 30: page * 30]
        return 200, {}, json.dumps({"meta": {"totals": {"rows": 40}}, "data": rows})

    responses.add_callback(responses.GET, re.compile(re.escape(BASE + "/actions") + r"\?"), search)
    client = BoondClient(BASE, BoondCredentials("app", "t", "k", "u"), max_attempts=1)
    assert [r["id"] for r in client.actions_of("resource", "7")] == [str(n) for n in range(1, 40)]
