"""The matching story's Boond calls are routes, parameters and shapes of Boond's published RAML (boondmanager-client's
data): the opportunity search and its criteria filters, the information and technical-data tabs, the actions on
an opportunity; what the sandbox answers for an opportunity or a consultant's technical data is the RAML's."""
from __future__ import annotations

from sandboxes.boond.schemas import body_schema_name, refusals, routes
from sandboxes.stack import Stack
from tests.boond_spec import boond_spec  # noqa: F401  (module-scoped fixture)
from tests.e2e.helpers import settle
from tests.e2e.test_matching_boond import _story, _turn_on
from tests.sandbox.test_boond_schemas import _template, recorded  # noqa: F401  (fixture)


def _properties(spec: dict, schema: str) -> set[str]:
    return set(spec["schemas"][schema]["properties"]["data"]["properties"]["attributes"]["properties"])


def test_every_call_of_the_matching_story_is_a_boond_route_with_a_valid_body(redis_conn, boond_spec, recorded):
    path, spec = boond_spec
    with Stack("acme") as stack:
        stack.control("POST", "/_control/config", json={"schema_path": path})
        ids = _story(stack)
        _turn_on(stack, per_consultant=2, positionings=True)
        stack.control("POST", f"/_control/opportunities/{ids['java']}", json={"title": "Back end Java (2)"})  # PUTs
        settle()
        stack.control("POST", f"/_control/opportunities/{ids['java']}", json={"state": 1})  # won: DELETEs
        settle()
    spec_routes = routes(spec)
    called = {(m, _template(spec_routes, m, where)) for m, where, _ in recorded}
    assert {("GET", "/opportunities"), ("GET", "/resources/{id}/technical-data"), ("GET", "/resources/{id}/information"),
            ("POST", "/actions"), ("PUT", "/actions/{id}"), ("POST", "/positionings"), ("DELETE", "/positionings/{id}"),
            ("GET", "/opportunities/{id}/positionings"), ("DELETE", "/actions/{id}")} <= called
    for method, where, body in recorded:
        route = _template(spec_routes, method, where)
        assert route, f"{method} {where} is no route of Boond's RAML"
        if body is not None:
            assert refusals(spec, body_schema_name(spec, method, route), body) == []


def test_the_search_filters_and_the_answered_fields_are_the_ramls(boond_spec):
    _, spec = boond_spec
    search = next(e for e in spec["endpoints"] if e["path"] == "/opportunities")["methods"]["get"]["params"]
    assert {"opportunityStates", "tools", "expertiseAreas", "places", "page", "maxResults"} <= {p["name"] for p in search}
    from sandboxes.boond.api_opportunities import CRITERIA, TECHNICAL

    assert set(CRITERIA) - {"creationDate", "updateDate"} <= _properties(spec, "opportunitiesInformationBody-put")
    assert set(TECHNICAL) <= _properties(spec, "resourcesTechnicalDataBody-put")
    assert {"mobilityAreas"} <= _properties(spec, "resourcesInformationBody-put")
    positioning = _properties(spec, "positioningsBody-post")
    assert {"state", "startDate", "endDate", "informationComments"} <= positioning
