"""Bodies Boond's own schemas accept: every request body the connector sends, and every route it calls, checked
against Boond's published RAML build (boondmanager-client's data); the sandbox refuses what those schemas refuse.

Quirks of the RAML conversion relaxed here (sandboxes/boond/schemas.py RELAXED):
- `oneOf` is read as `anyOf`: webhooksBody-post's `entity` is "one of" an enum string and any string, so a strict
  validator refuses every listed entity (test_the_oneof_quirk_is_real_and_relaxed proves it);
- draft 7, so the build's `id` document names and its `database`/`links` annotations constrain nothing.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
import requests

from config.infra.redis_conn import get_redis
from sandboxes.stack import Stack
from connectors.boond.client import BoondClient
from sandboxes.boond.schemas import body_schema_name, refusals, relaxed, routes
from config.infra import clock
from handlers.hosts.boond.adapter import BoondAdapter
from handlers.hosts.boond.marketplace import register_webhook, webhook_document
from tests.boond_spec import boond_spec  # noqa: F401  (module-scoped fixture)
from tests.e2e.helpers import settle
from tests.sandbox.test_boond_sandbox import action_body, app_headers


def _template(spec_routes: dict, method: str, path: str) -> str | None:
    """The RAML route a concrete path is an instance of (`/actions/1001` → `/actions/{id}`), for that method."""
    for route, methods in spec_routes.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(route)) + "$"
        if method in methods and re.match(pattern, path):
            return route
    return None


@pytest.fixture
def recorded(monkeypatch):
    """Every (method, path, JSON body) the Boond client sends."""
    sent: list[tuple[str, str, object]] = []
    original = BoondClient.request

    def record(self, method, path, **kwargs):
        sent.append((method, path.split("?")[0], kwargs.get("json")))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(BoondClient, "request", record)
    return sent


@pytest.mark.parametrize("dialect", ["documented", "observed"])
def test_every_body_and_route_of_the_story_is_one_boond_publishes(redis_conn, boond_spec, recorded, dialect):
    path, spec = boond_spec
    with Stack("acme", dialect=dialect) as stack:
        stack.control("POST", "/_control/config", json={"schema_path": path})  # the sandbox judges with them too
        clock.pin(date(2026, 3, 2))
        mission = stack.new_mission(date(2025, 11, 3), date(2026, 4, 16))
        settle()
        stack.move_end(mission, date(2026, 5, 7))  # PUTs
        settle()
        stack.end_early(mission, date(2026, 3, 12), "client")  # DELETEs and POSTs
        settle()
        client = BoondAdapter(stack.tenant, get_redis()).client
        register_webhook(client, stack.tenant.webhook_url(stack.web.url))
        list(client.actions_of("resource", "7"))
        statuses = stack.control("GET", "/_control/calls")["by_status"]
    spec_routes = routes(spec)
    assert {m for m, _, _ in recorded} >= {"GET", "POST", "PUT", "DELETE"}
    for method, where, body in recorded:
        route = _template(spec_routes, method, where)
        assert route, f"{method} {where} is no route of Boond's RAML"
        name = body_schema_name(spec, method, route)
        if body is not None:
            assert name, f"{method} {route} takes no body in Boond's RAML"
            assert refusals(spec, name, body) == [], f"{method} {where}: {refusals(spec, name, body)[:3]}"
    assert "422" not in statuses


def test_the_webhook_registration_body_passes_once_oneof_is_read_as_anyof(boond_spec):
    _, spec = boond_spec
    assert refusals(spec, "webhooksBody-post", webhook_document("https://app.example/webhooks/boond/t/s")) == []


def test_the_oneof_quirk_is_real_and_relaxed(boond_spec):
    from jsonschema import Draft7Validator

    _, spec = boond_spec
    body = webhook_document("https://app.example/hook")
    strict = list(Draft7Validator(spec["schemas"]["webhooksBody-post"]).iter_errors(body))
    assert strict and all(e.validator == "oneOf" for e in strict)  # "delivery" matches both branches
    assert not list(Draft7Validator(relaxed(spec["schemas"]["webhooksBody-post"])).iter_errors(body))


def test_the_spec_is_the_published_build(boond_spec):
    _, spec = boond_spec
    assert len(spec["endpoints"]) == 598 and len(spec["schemas"]) == 198
    assert routes(spec)["/actions/{id}"] == {"GET", "PUT", "DELETE"}


REFUSED = [
    ("an unknown attribute", {"attributes": {"colour": "red"}}, "1002", "/data/attributes/colour"),
    ("a description over 1,000 characters", {"attributes": {"description": "x" * 1001}}, "1002",
     "/data/attributes/description"),
    ("an id that is not ^[1-9][0-9]*$", {"depends_on": {"id": "07", "type": "resource"}}, "1002",
     "/data/relationships/dependsOn"),
    ("a missing typeOf", {"drop": "typeOf"}, "1017", "/data/attributes/typeOf"),
]


@pytest.fixture
def judged_sandbox(boond_spec):
    """The sandbox with Boond's schemas loaded."""
    from sandboxes.boond import SandboxConfig, create_app
    from sandboxes.serving import ThreadedServer

    server = ThreadedServer(create_app(SandboxConfig(schema_path=boond_spec[0]))).start()
    yield server.url
    server.stop()


@pytest.mark.parametrize("what, change, code, parameter", REFUSED, ids=[r[0] for r in REFUSED])
def test_the_sandbox_refuses_with_boonds_422_what_the_schema_refuses(judged_sandbox, what, change, code, parameter):
    body = action_body(attributes=change.get("attributes"), depends_on=change.get("depends_on"))
    if "drop" in change:
        del body["data"]["attributes"][change["drop"]]
    answer = requests.post(f"{judged_sandbox}/api/actions", json=body, headers=app_headers(), timeout=10)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["code"] == code
    assert error["source"]["parameter"].startswith(parameter)


def test_the_sandbox_refuses_a_missing_depends_on_with_2303(judged_sandbox):
    body = action_body()
    del body["data"]["relationships"]["dependsOn"]
    answer = requests.post(f"{judged_sandbox}/api/actions", json=body, headers=app_headers(), timeout=10)
    assert answer.status_code == 422 and answer.json()["errors"][0]["code"] == "2303"


def test_the_sandbox_accepts_what_the_schema_accepts(judged_sandbox):
    answer = requests.post(f"{judged_sandbox}/api/actions", json=action_body(), headers=app_headers(), timeout=10)
    assert answer.status_code == 200 and answer.json()["data"]["attributes"]["typeOf"] == 5
