"""The Boond connector and snapshot against payloads the sandbox did not write: tests/fixtures/boond, built from the
shapes the reference quotes (§4, §5, §10), served over `responses`."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import responses

from config.tenants import Tenant
from connectors.boond.auth import BoondCredentials
from connectors.boond.client import BoondClient
from connectors.errors import (HostAuthError, HostError, HostNotFound, HostRateLimited, HostValidationError)
from handlers.domain.classify import classify
from handlers.hosts.boond.adapter import BoondAdapter
from handlers.hosts.boond.dictionary import Dictionary, labels_and_proposals, propose
from handlers.state.ledger import LedgerEntry
from handlers.domain.model import DesiredAction, Person
from handlers.hosts.protocol import CannotVerify
from handlers.sync.people_work import judge
from connectors.boond.settings import BoondConfig, boond_settings

BASE = "https://boond.test/api"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "boond"
OBSERVED = {"1": "active", "2": "natural", "5": "client"}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def tenant(**boond) -> Tenant:
    return Tenant(id="acme", host="boond", host_settings=BoondConfig(base_url=BASE, app_token="t", app_key="k", user_token="u", **boond))


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
    serve("/resources/4", "resources_id__hr")  # read only when no record in hand names them
    serve("/contacts/11", "contacts_id__detail")


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
def test_a_person_included_without_a_name_is_read_once_per_job(redis_conn):
    thin_delivery()
    bare = fixture("resources_id__left")  # the consultant's record, its managers as references only (§10)
    responses.replace(responses.GET, re.compile(re.escape(BASE + "/resources/7") + r"(\?.*)?$"), json=bare)
    boond = adapter(redis_conn, delivery_states=OBSERVED)
    snap, _ = boond.read_mission("123")
    assert (snap.hr.id, snap.hr.name) == ("4", "Inès Moreau")  # from GET /resources/4
    boond.read_mission("123")
    assert calls_to("/resources/4") == 1 and calls_to("/contacts/11") == 0  # the opportunity's included named her


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


@pytest.mark.parametrize("kind, label, case", [
    ("delivery", "In progress", "active"), ("delivery", "Completed", "natural"), ("delivery", "Signée", "active"),
    ("delivery", "Prévisionnelle", "active"), ("delivery", "Stopped by the client", "client"),
    ("delivery", "Stopped by the consultant", "consultant"), ("delivery", "Cancelled", "cancelled"),
    ("delivery", "Abandonnée", "cancelled"), ("delivery", "Clôturée", "natural"),
    ("resource", "LEAVING COMPANY", "leaving"), ("resource", "En préavis", "leaving"),
    ("resource", "Départ prévu", "leaving"), ("resource", "Sortie", "left"), ("resource", "Left the company", "left"),
    ("resource", "Exit", "left"), ("resource", "UN/IC – UNASSIGNED", "bench"), ("resource", "Intercontrat", "bench"),
    ("resource", "Non affecté", "bench"), ("resource", "On bench", "bench"), ("resource", "En mission", "active"),
    ("resource", "Assigned", "active"),
    ("resource_type", "Sous-traitant", "external"), ("resource_type", "Subcontractor", "external"),
    ("resource_type", "Freelance", "external"), ("resource_type", "Indépendant", "external"),
    ("resource_type", "Consultant interne", "employee"), ("resource_type", "Salarié CDI", "employee"),
])
def test_every_label_seen_gets_a_proposal_in_french_or_english(kind, label, case):
    assert propose({"9": label}, kind) == {"9": case}


def test_resource_types_are_proposed_when_the_dictionary_has_them():
    document = {"data": {"setting": {"state": {"resource": [{"id": 3, "value": "LEAVING COMPANY"}]},
                                     "typeOf": {"resource": [{"id": 0, "value": "Consultant interne"},
                                                             {"id": 1, "value": "Sous-traitant"}]}}}}
    labels, proposals = labels_and_proposals(Dictionary("acme", document))
    assert proposals == {"delivery": {}, "resource": {"3": "leaving"},
                         "resource_type": {"0": "employee", "1": "external"}}
    assert labels["resource_type"]["1"] == "Sous-traitant"


@pytest.mark.parametrize("exit_date, left, contract_end", [("2026-03-31", False, date(2026, 3, 31)),
                                                            (None, True, None)])
@responses.activate
def test_a_leaving_consultant_leaves_on_the_date_boond_gives_else_now(redis_conn, exit_date, left, contract_end):
    thin_delivery()
    leaving = fixture("resources_id__left")
    leaving["data"]["attributes"] = {**leaving["data"]["attributes"], "state": 3,
                                     **({"exitDate": exit_date} if exit_date else {})}
    responses.replace(responses.GET, re.compile(re.escape(BASE + "/resources/7") + r"(\?.*)?$"), json=leaving)
    snap, _ = adapter(redis_conn, delivery_states=OBSERVED, resource_states={"3": "leaving"}).read_mission("123")
    assert (snap.consultant_left, snap.contract_end) == (left, contract_end)
    assert classify(None, snap, date(2026, 3, 2)).leaver is (left or snap.end_date >= date(2026, 3, 31))


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


def _entry(host_id: str) -> LedgerEntry:
    from tests.unit.test_reconcile import action

    return LedgerEntry.of(action(f"natural.k{host_id}"), "written", host_id)


@responses.activate
def test_an_action_is_gone_only_when_boond_says_404_for_it_and_unverified_when_every_read_is_refused(redis_conn):
    serve("/resources/7/actions", "errors__404", 404)  # the tab refused (§10)
    responses.add(responses.GET, re.compile(re.escape(BASE + "/actions") + r"\?"), json=fixture("errors__404"),
                  status=404)  # the search and the listing refused too
    responses.add(responses.GET, BASE + "/actions/1", json={"data": _action(1)})
    responses.add(responses.GET, BASE + "/actions/2", json=fixture("errors__404"), status=404)
    responses.add(responses.GET, BASE + "/actions/3", json=fixture("errors__405"), status=405)
    states = adapter(redis_conn).host_states({"m": [_entry("1"), _entry("2"), _entry("3")]})["m"]
    assert states["1"].known and "2" not in states  # read by its id; gone on Boond's own 404
    assert judge(_entry("3"), states["3"]) == "unverified"  # no answer could tell: held, never judged deleted


@responses.activate
def test_a_read_back_whose_listing_stops_short_cannot_verify_what_it_did_not_see(redis_conn):
    serve("/resources/7/actions", "errors__404", 404)

    def short(request):  # totals say 76, the pages stop after 30 (an empty second page)
        page = int(re.search(r"page=(\d+)", request.url).group(1))
        rows = [_action(n) for n in range(1, 31)] if page == 1 else []
        return 200, {}, json.dumps({"meta": {"totals": {"rows": 76}}, "data": rows})

    responses.add_callback(responses.GET, re.compile(re.escape(BASE + "/actions") + r"\?"), short)
    with pytest.raises(CannotVerify):
        adapter(redis_conn).find_marked("100", "resource", "7")


def test_resource_types_proposed_as_external_are_listed_when_the_mapping_is_put_in_use():
    from handlers.hosts.boond.dictionary import Dictionary, labels_and_proposals
    from handlers.hosts.boond.setup import apply_states

    document = {"data": {"setting": {"state": {"delivery": [{"id": 1, "value": "En cours"}],
                                               "resource": [{"id": 1, "value": "En mission"}]},
                                     "typeOf": {"resource": [{"id": 0, "value": "Salarié"},
                                                             {"id": 1, "value": "Sous-traitant"},
                                                             {"id": 2, "value": "Freelance"}]}}}}
    labels, proposed = labels_and_proposals(Dictionary("acme", document))
    assert {k for k, v in proposed["resource_type"].items() if v == "external"} == {"1", "2"}
    ready = tenant(state_labels=labels, proposed_states=proposed)
    used = apply_states(ready, proposed["delivery"], proposed["resource"])
    assert boond_settings(used).external_resource_types == ["1", "2"]  # subcontractors and freelances: never on the bench
    boond_settings(ready).external_resource_types = ["2"]  # what an admin listed is kept
    assert boond_settings(apply_states(ready, {}, {})).external_resource_types == ["2"]


@responses.activate
def test_on_a_large_tenant_the_read_back_pages_no_further_than_the_ids_it_looks_for_then_reads_them_by_id(redis_conn):
    """Boond ignores the search's keyword (§10): the tenant's 3,000 actions come back, 30 a page (100 pages). Three
    ids to read back cost three pages of each search and three reads by id, not 200 pages."""
    serve("/resources/7/actions", "errors__404", 404)
    pages = []

    def everything(request):
        page = int(re.search(r"page=(\d+)", request.url).group(1))
        pages.append(page)
        rows = [_action(n, parent="8") for n in range((page - 1) * 30 + 1000, page * 30 + 1000)]
        return 200, {}, json.dumps({"meta": {"totals": {"rows": 3000}}, "data": rows})

    responses.add_callback(responses.GET, re.compile(re.escape(BASE + "/actions") + r"\?"), everything)
    responses.add(responses.GET, BASE + "/actions/1", json={"data": _action(1)})
    responses.add(responses.GET, BASE + "/actions/2", json={"data": _action(2)})
    responses.add(responses.GET, BASE + "/actions/3", json=fixture("errors__404"), status=404)
    states = adapter(redis_conn).host_states({"m": [_entry("1"), _entry("2"), _entry("3")]})["m"]
    assert states["1"].known and states["2"].known and "3" not in states  # gone on Boond's own 404 for it
    assert len(pages) == 3 + 3  # the keyword search, then the listing, three pages each


@responses.activate
def test_an_action_s_body_is_built_once_a_job_and_a_changed_action_is_sent_as_it_is_now(redis_conn):
    """The fingerprint and the write share one body (built once); a moved step, a new action, never gets the old one."""
    from tests.unit.test_reconcile import action

    responses.add(responses.POST, BASE + "/actions", json={"data": {"id": "900", "type": "action"}})
    responses.add(responses.PUT, BASE + "/actions/900", json={"data": {"id": "900", "type": "action"}})
    boond = adapter(redis_conn, action_types={"task": 3})
    first = action(due="2026-05-27")
    printed = boond.fingerprint("123", first)
    assert boond.create("123", first) == "900"
    sent = json.loads(responses.calls[0].request.body)
    assert sent["data"]["attributes"]["startDate"].startswith("2026-05-27")
    assert printed == boond.fingerprint("123", first)
    moved = action(due="2026-06-10")
    boond.update("900", "123", moved)
    put = json.loads(responses.calls[1].request.body)
    assert put["data"]["attributes"]["startDate"].startswith("2026-06-10")
    assert boond.fingerprint("123", moved) != printed
    assert boond.document("124", first)["data"]["attributes"]["text"] != sent["data"]["attributes"]["text"]  # its marker
