"""A third-party client as the judge of the sandbox: `pyboondmanager` (PyPI, written against the real API by
someone else) drives the sandbox with its own JWT (`time`, `mode`), URL forms and PUT updates, on both dialects."""
from __future__ import annotations

import json

import pytest
from boondmanager.api import (Actions, ApplicationCurrentUser, ApplicationDictionary, Deliveries,
                              DeliveriesGroupments, Resources, Webhooks)
from boondmanager.auth import get_jwt
from boondmanager.exceptions import BoondManagerUnprocessableEntity, PageNotFoundError

from sandboxes.boond import SandboxConfig, create_app
from sandboxes.serving import ThreadedServer

CLIENT_TOKEN, CLIENT_KEY, USER = "sbx-client", "sbx-client-key-0123456789", "sbx-user-admin"


@pytest.fixture(params=["documented", "observed"])
def sandbox(request):
    """(the sandbox's /api URL, its dialect), fresh for each test."""
    server = ThreadedServer(create_app(SandboxConfig(dialect=request.param))).start()
    yield server.url + "/api", request.param
    server.stop()


def client(kind, domain: str, *, key: str = CLIENT_KEY):
    """A pyboondmanager endpoint client signed the way it signs (X-Jwt-Client, compact JSON, time, mode)."""
    endpoint = kind(jwt_client=get_jwt(USER, CLIENT_TOKEN, key), domain=domain)
    endpoint.headers = {}  # pyboondmanager keeps headers on the class: one set per client here
    return endpoint


def _post(domain: str, body: dict):
    actions = client(Actions, domain)
    return actions.post(data=json.dumps(body))


def _action(title: str = "Fin de mission J-30", **attributes) -> dict:
    return {"data": {"type": "action", "attributes": {"typeOf": 5, "title": title, "text": "<p>x</p>",
                                                     "startDate": "2026-05-31T09:00:00+0200", **attributes},
                     "relationships": {"dependsOn": {"data": {"id": "7", "type": "resource"}}}}}


def _delivery(sandbox_url: str) -> str:
    import requests

    root = sandbox_url.removesuffix("/api")
    made = requests.post(f"{root}/_control/deliveries", json={"resource": "7", "project": "45",
                                                              "startDate": "2025-11-03", "endDate": "2026-04-16"},
                         timeout=10)
    return made.json()["data"]["id"]


def test_its_jwt_is_accepted_and_names_the_user(sandbox):
    me = client(ApplicationCurrentUser, sandbox[0]).all()
    assert (me.attributes["firstName"], me.attributes["lastName"]) == ("Alex", "Admin")


def test_a_wrong_key_is_refused_as_boond_does(sandbox):
    with pytest.raises(BoondManagerUnprocessableEntity, match="Signature verification failed"):
        client(ApplicationCurrentUser, sandbox[0], key="not-the-key").all()


def test_the_dictionary_has_the_dialects_shape(sandbox):
    domain, dialect = sandbox
    endpoint = client(ApplicationDictionary, domain)
    data = endpoint.all()
    action = data.payload["setting"]["action"]
    assert isinstance(action, list if dialect == "observed" else dict)
    assert (endpoint.meta is None) == (dialect == "observed")  # §10: no meta on this route


def test_a_delivery_reads_with_its_included_records(sandbox):
    domain, dialect = sandbox
    delivery_id = _delivery(domain)
    endpoint = client(Deliveries, domain)
    delivery = endpoint.get(delivery_id)
    assert delivery.relationships["project"]["data"] == {"id": "45", "type": "project"}
    project = next(i for i in endpoint.included if i.type == "project")
    assert ("mainManager" in project.relationships) == (dialect == "documented")  # observed: thin (§10)


def test_actions_are_created_updated_with_put_and_read_back(sandbox):
    domain, _ = sandbox
    created = _post(domain, _action())
    actions = client(Actions, domain)
    actions.add_header("content-type", "application/json")
    actions.put(created.id, data=json.dumps({"data": {"id": created.id, "type": "action",
                                                      "attributes": {"title": "Fin de mission J-15"}}}))
    assert client(Actions, domain).get(created.id).attributes["title"] == "Fin de mission J-15"


def test_a_body_boond_refuses_is_a_422_it_understands(sandbox):
    body = _action()
    del body["data"]["attributes"]["typeOf"]
    with pytest.raises(BoondManagerUnprocessableEntity, match="Missing required attribute"):
        _post(sandbox[0], body)


def test_actions_pages_follow_the_dialect(sandbox):
    domain, dialect = sandbox
    for n in range(35):
        _post(domain, _action(title=f"Note {n}"))
    endpoint = client(Actions, domain)
    rows = endpoint.all(params={"maxResults": 100})
    assert endpoint.meta["totals"]["rows"] == 35
    assert len(rows) == (30 if dialect == "observed" else 35)  # observed: 30 whatever maxResults asks (§10)


def test_optional_tabs_and_searches_answer_as_the_dialect_says(sandbox):
    domain, dialect = sandbox
    _delivery(domain)
    resources, searches = client(Resources, domain), client(DeliveriesGroupments, domain)
    if dialect == "observed":
        with pytest.raises(PageNotFoundError):
            resources.get_tab("7", "deliveries-inactivities")
        with pytest.raises(PageNotFoundError):
            searches.all(params={"period": "updated"})
    else:
        assert [d.type for d in resources.get_tab("7", "deliveries-inactivities")] == ["delivery"]
        assert len(searches.all(params={"period": "running"})) == 1


def test_the_resource_detail_lacks_what_only_the_list_has_when_observed(sandbox):
    domain, dialect = sandbox
    attributes = client(Resources, domain).get("7").attributes
    assert ("email1" in attributes) == (dialect == "documented")


def test_webhooks_list_and_create(sandbox):
    domain, _ = sandbox
    hooks = client(Webhooks, domain)
    hooks.add_header("content-type", "application/json")
    hooks.post(data=json.dumps({"data": {"type": "webhook", "attributes": {
        "name": "t", "url": "https://app.example/hook", "events": [{"type": "update", "entity": "delivery"}]}}}))
    assert [h.attributes["url"] for h in client(Webhooks, domain).all()] == ["https://app.example/hook"]
