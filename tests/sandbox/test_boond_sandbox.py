"""The Boond sandbox over real HTTP: auth, validation, paging, rate limit, faults, webhooks."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import pytest
import requests
from flask import Flask, request

from sandboxes.boond import create_app
from sandboxes.serving import ThreadedServer

APP_TOKEN, APP_KEY = "sbx-app-token", "sbx-app-key-0123456789"
CLIENT_TOKEN, CLIENT_KEY = "sbx-client", "sbx-client-key-0123456789"
USER = "sbx-user-admin"
SIGNATURE_FAILED = "Signature verification failed"


def b64url(raw: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_jwt(claims: dict, key: str) -> str:
    """A Boond HS256 JWT (test-only helper, independent of production code)."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def app_headers(*, key: str = APP_KEY, user: str = USER, stamp: float | None = None) -> dict:
    """X-Jwt-App-Boondmanager headers."""
    claims = {"userToken": user, "appToken": APP_TOKEN,
              "time": int(time.time() if stamp is None else stamp), "mode": "normal"}
    return {"X-Jwt-App-Boondmanager": make_jwt(claims, key)}


def client_headers(*, key: str = CLIENT_KEY) -> dict:
    """X-Jwt-Client-Boondmanager headers."""
    claims = {"userToken": USER, "clientToken": CLIENT_TOKEN, "time": int(time.time()), "mode": "normal"}
    return {"X-Jwt-Client-Boondmanager": make_jwt(claims, key)}


def action_body(*, attributes: dict | None = None, depends_on: dict | None = None, **overrides) -> dict:
    """A valid POST /api/actions body, with overrides."""
    attrs = {"typeOf": 5, "title": "Fin de mission J-30 : Jean Dupont", "text": "<p>Anticiper.</p>",
             "startDate": "2026-05-31T09:00:00+0200"}
    attrs.update(attributes or {})
    rels = {"dependsOn": {"data": depends_on or {"id": "7", "type": "resource"}},
            "mainManager": {"data": {"id": "2", "type": "resource"}}}
    data = {"type": "action", "attributes": attrs, "relationships": rels}
    data.update(overrides)
    return {"data": data}


def first_error(resp: requests.Response) -> dict:
    """The first Boond error object of an answer."""
    body = resp.json()
    assert set(body) == {"meta", "errors"}
    return body["errors"][0]


class Receiver:
    """A tiny webhook receiver served over real HTTP."""

    def __init__(self):
        self.received: list[dict] = []
        app = Flask("receiver")

        @app.post("/hook")
        def hook():
            self.received.append({"content_type": request.content_type, "json": request.get_json()})
            return "", 200

        self.server = ThreadedServer(app).start()
        self.url = f"{self.server.url}/hook"


@pytest.fixture(scope="module")
def servers():
    """The sandbox and a webhook receiver, each on its own loopback port."""
    app = create_app()
    sandbox = ThreadedServer(app).start()
    receiver = Receiver()
    yield sandbox, receiver
    sandbox.stop()
    receiver.server.stop()


@pytest.fixture()
def base(servers) -> str:
    """Base URL of a freshly reset sandbox."""
    sandbox, receiver = servers
    requests.post(f"{sandbox.url}/_control/reset", timeout=5).raise_for_status()
    receiver.received.clear()
    return sandbox.url


@pytest.fixture()
def receiver(servers) -> Receiver:
    """The webhook receiver."""
    return servers[1]


def control(base: str, method: str, path: str, body: dict | None = None) -> dict:
    """Call the control API and return its JSON."""
    resp = requests.request(method, f"{base}/_control{path}", json=body, timeout=10)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def new_delivery(base: str, **fields) -> str:
    """Create a delivery for Jean Dupont on project 45 through the control API."""
    body = {"resource": "7", "project": "45", "startDate": "2026-01-05", "endDate": "2026-06-30",
            "state": 0, "title": "Data platform"}
    body.update(fields)
    return control(base, "POST", "/deliveries", body)["data"]["id"]


# Authentication -----------------------------------------------------------------------------

def test_app_and_client_jwt_are_accepted(base):
    for headers in (app_headers(), client_headers()):
        resp = requests.get(f"{base}/api/application/current-user", headers=headers, timeout=5)
        assert resp.status_code == 200
        assert resp.json()["data"]["id"] == "1"
        assert resp.json()["meta"] == {"version": "9.1.78.1", "isLogged": True, "language": "fr"}


def test_bearer_token_is_refused_with_signature_failed(base):
    token = app_headers()["X-Jwt-App-Boondmanager"]
    resp = requests.get(f"{base}/api/application/current-user",
                        headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert resp.status_code == 422
    assert first_error(resp)["detail"] == SIGNATURE_FAILED


@pytest.mark.parametrize("headers, parameter", [
    (lambda: app_headers(key="wrong-key"), "xJwtApp"),
    (lambda: client_headers(key="wrong-key"), "xJwtClient"),
    (lambda: app_headers(user="nobody"), "xJwtApp"),
    (lambda: {"X-Jwt-App-Boondmanager": "not.a-jwt"}, "xJwtApp"),
])
def test_bad_jwt_is_422_signature_failed(base, headers, parameter):
    resp = requests.get(f"{base}/api/application/dictionary", headers=headers(), timeout=5)
    assert resp.status_code == 422
    error = first_error(resp)
    assert error == {"status": "422", "code": "0", "detail": SIGNATURE_FAILED,
                     "source": {"parameter": parameter}}
    assert resp.json()["meta"]["isLogged"] is False


def test_stale_jwt_time_is_refused_only_when_configured(base):
    stale = app_headers(stamp=time.time() - 3600)
    assert requests.get(f"{base}/api/application/dictionary", headers=stale, timeout=5).status_code == 200
    control(base, "POST", "/config", {"jwt_max_age_seconds": 60})
    resp = requests.get(f"{base}/api/application/dictionary", headers=stale, timeout=5)
    assert resp.status_code == 422 and first_error(resp)["detail"] == SIGNATURE_FAILED
    assert requests.get(f"{base}/api/application/dictionary", headers=app_headers(), timeout=5).ok


def test_no_credentials_is_401(base):
    resp = requests.get(f"{base}/api/application/current-user", timeout=5)
    assert resp.status_code == 401
    assert first_error(resp)["detail"] == "Not logged in"


# Routing ------------------------------------------------------------------------------------

def test_patch_is_405_everywhere(base):
    for path in ("/api/actions/1", "/api/deliveries/100", "/api/no-such-route"):
        resp = requests.patch(f"{base}{path}", headers=app_headers(), json={}, timeout=5)
        assert resp.status_code == 405
        assert first_error(resp)["status"] == "405"


def test_deliveries_collection_is_405_and_unknown_routes_404(base):
    assert requests.get(f"{base}/api/deliveries", headers=app_headers(), timeout=5).status_code == 405
    resp = requests.get(f"{base}/api/no-such-route", headers=app_headers(), timeout=5)
    assert resp.status_code == 404 and first_error(resp)["status"] == "404"
    resp = requests.get(f"{base}/api/deliveries/999", headers=app_headers(), timeout=5)
    assert resp.status_code == 404 and resp.json()["meta"]["isLogged"] is True


# Deliveries ---------------------------------------------------------------------------------

def test_delivery_profile_includes_project_client_consultant_and_managers(base):
    delivery_id = new_delivery(base)
    body = requests.get(f"{base}/api/deliveries/{delivery_id}", headers=app_headers(), timeout=5).json()
    data = body["data"]
    assert data["type"] == "delivery" and data["id"] == delivery_id
    assert data["attributes"]["endDate"] == "2026-06-30"
    assert data["relationships"]["dependsOn"] == {"data": {"id": "7", "type": "resource"}}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", data["attributes"]["updateDate"])
    included = {(item["type"], item["id"]): item for item in body["included"]}
    assert {("project", "45"), ("company", "10"), ("contact", "11"), ("opportunity", "50"),
            ("resource", "7"), ("resource", "2"), ("resource", "3"), ("resource", "4")} <= set(included)
    assert included[("resource", "7")]["attributes"]["email1"]
    assert included[("project", "45")]["relationships"]["mainManager"]["data"]["id"] == "2"


def test_put_delivery_rejects_end_before_start(base):
    delivery_id = new_delivery(base)
    body = {"data": {"type": "delivery", "attributes": {"endDate": "2025-12-31"}}}
    resp = requests.put(f"{base}/api/deliveries/{delivery_id}", json=body, headers=app_headers(), timeout=5)
    assert resp.status_code == 422
    assert first_error(resp)["code"] == "1002"
    assert first_error(resp)["source"] == {"parameter": "endDate"}


def test_deliveries_groupments_filters_by_period(base):
    early = new_delivery(base, endDate="2026-03-31")
    late = new_delivery(base, startDate="2026-04-01", endDate="2026-09-30")
    url = f"{base}/api/deliveries-groupments"
    stopped = requests.get(url, params={"period": "stopped", "startDate": "2026-03-01",
                                        "endDate": "2026-03-31"}, headers=app_headers(), timeout=5).json()
    assert [d["id"] for d in stopped["data"]] == [early] and stopped["meta"]["totals"]["rows"] == 1
    running = requests.get(url, params={"period": "running", "startDate": "2026-08-01",
                                        "endDate": "2026-08-31"}, headers=app_headers(), timeout=5).json()
    assert [d["id"] for d in running["data"]] == [late]
    listed = requests.get(f"{base}/api/resources/7/deliveries-inactivities", headers=app_headers(),
                          timeout=5).json()
    assert [d["id"] for d in listed["data"]] == [early, late]


# Actions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, code, parameter", [
    (action_body(attributes={"typeOf": None}), "1017", "typeOf"),
    (action_body(relationships={}), "2303", None),
    (action_body(depends_on={"id": "100", "type": "delivery"}), "1002", "/data/relationships/dependsOn"),
    (action_body(depends_on={"id": "404", "type": "resource"}), "1002", "/data/relationships/dependsOn"),
    (action_body(attributes={"typeOf": 31}), "1002", "typeOf"),
    (action_body(attributes={"subject": "x"}), "1002", "subject"),
    (action_body(attributes={"content": "x"}), "1002", "content"),
    (action_body(attributes={"title": "x" * 8193}), "1002", "title"),
    (action_body(attributes={"text": "x" * 65001}), "1002", "text"),
])
def test_post_action_validation_errors(base, body, code, parameter):
    resp = requests.post(f"{base}/api/actions", json=body, headers=app_headers(), timeout=5)
    assert resp.status_code == 422
    error = first_error(resp)
    assert error["code"] == code
    assert error.get("source", {}).get("parameter") == parameter
    if code == "2303":
        assert error["detail"].startswith("2303 - One of the following must be set: candidate, contact")


def test_unknown_action_attribute_is_dropped_silently_unless_debug(base):
    body = action_body(attributes={"externalId": "abc"})
    resp = requests.post(f"{base}/api/actions", json=body, headers=app_headers(), timeout=5)
    assert resp.status_code == 200
    assert "externalId" not in resp.json()["data"]["attributes"]
    debug = {**app_headers(), "X-Debug-Boondmanager": "true"}
    resp = requests.post(f"{base}/api/actions", json=body, headers=debug, timeout=5)
    assert resp.status_code == 422 and first_error(resp)["code"] == "1002"


def test_action_lifecycle(base):
    created = requests.post(f"{base}/api/actions", json=action_body(), headers=app_headers(), timeout=5)
    assert created.status_code == 200
    action = created.json()["data"]
    assert action["id"].isdigit() and action["attributes"]["creationDate"]
    url = f"{base}/api/actions/{action['id']}"
    update = {"data": {"type": "action", "attributes": {"startDate": "2026-06-02T09:00:00+0200"}}}
    resp = requests.put(url, json=update, headers=app_headers(), timeout=5)
    assert resp.json()["data"]["attributes"]["startDate"] == "2026-06-02T09:00:00+0200"
    assert resp.json()["data"]["attributes"]["title"] == "Fin de mission J-30 : Jean Dupont"
    deleted = requests.delete(url, headers=app_headers(), timeout=5)
    assert deleted.status_code == 200 and set(deleted.json()) == {"meta"}
    assert requests.get(url, headers=app_headers(), timeout=5).status_code == 404
    assert requests.delete(url, headers=app_headers(), timeout=5).status_code == 404


def test_actions_max_results_above_100_falls_back_to_30(base):
    for _ in range(35):
        resp = requests.post(f"{base}/api/actions", json=action_body(), headers=app_headers(), timeout=5)
        resp.raise_for_status()
    url = f"{base}/api/resources/7/actions"
    big = requests.get(url, params={"maxResults": 200}, headers=app_headers(), timeout=5).json()
    assert len(big["data"]) == 30 and big["meta"]["totals"]["rows"] == 35
    full = requests.get(url, params={"maxResults": 100}, headers=app_headers(), timeout=5).json()
    ids = [int(a["id"]) for a in full["data"]]
    assert len(ids) == 35 and ids == sorted(ids)
    page2 = requests.get(url, params={"maxResults": 30, "page": 2}, headers=app_headers(), timeout=5).json()
    assert len(page2["data"]) == 5
    assert control(base, "GET", "/actions")["meta"]["totals"]["rows"] == 35


# Rate limit and faults ----------------------------------------------------------------------

def test_rate_limit_answers_429_with_retry_after_and_counts_failed_calls(base):
    control(base, "POST", "/config", {"rate_limit_per_10s": 3})
    url = f"{base}/api/application/dictionary"
    assert requests.get(url, headers=app_headers(key="wrong"), timeout=5).status_code == 422
    assert requests.get(url, headers=client_headers(), timeout=5).status_code == 200
    assert requests.get(url, headers=app_headers(), timeout=5).status_code == 200
    resp = requests.get(url, headers=app_headers(), timeout=5)
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 10
    assert first_error(resp)["detail"] == "Too many requests"


def test_fault_429_and_500_are_consumed_in_order(base):
    control(base, "POST", "/faults", {"kind": "429", "times": 1, "path": "/api/actions", "retry_after": 7})
    control(base, "POST", "/faults", {"kind": "500", "times": 1, "method": "POST"})
    url = f"{base}/api/actions"
    assert requests.get(f"{base}/api/application/dictionary", headers=app_headers(), timeout=5).ok
    first = requests.post(url, json=action_body(), headers=app_headers(), timeout=5)
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    second = requests.post(url, json=action_body(), headers=app_headers(), timeout=5)
    assert second.status_code == 500 and first_error(second)["status"] == "500"
    assert requests.post(url, json=action_body(), headers=app_headers(), timeout=5).status_code == 200
    assert control(base, "GET", "/actions")["meta"]["totals"]["rows"] == 1


def test_fault_slow_delays_the_answer(base):
    control(base, "POST", "/faults", {"kind": "slow", "delay": 0.6})
    started = time.monotonic()
    resp = requests.get(f"{base}/api/application/dictionary", headers=app_headers(), timeout=5)
    assert resp.status_code == 200 and time.monotonic() - started >= 0.6
    with pytest.raises(requests.Timeout):
        control(base, "POST", "/faults", {"kind": "slow", "delay": 1.0})
        requests.get(f"{base}/api/application/dictionary", headers=app_headers(), timeout=0.3)


def test_fault_drop_closes_the_connection_without_answer(base):
    control(base, "POST", "/faults", {"kind": "drop", "path": "/api/actions"})
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}/api/actions", json=action_body(), headers=app_headers(), timeout=5)
    assert control(base, "GET", "/actions")["meta"]["totals"]["rows"] == 0
    assert control(base, "GET", "/calls")["by_status"] == {"dropped": 1}


def test_fault_drop_after_loses_the_answer_but_keeps_the_write(base):
    control(base, "POST", "/faults", {"kind": "drop", "when": "after", "method": "POST"})
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}/api/actions", json=action_body(), headers=app_headers(), timeout=5)
    assert control(base, "GET", "/actions")["meta"]["totals"]["rows"] == 1
    assert control(base, "GET", "/faults") == {"faults": []}


def test_calls_are_counted_by_route_template_and_status(base):
    delivery_id = new_delivery(base)
    for _ in range(2):
        requests.get(f"{base}/api/deliveries/{delivery_id}", headers=app_headers(), timeout=5)
    requests.get(f"{base}/api/deliveries/999", headers=app_headers(), timeout=5)
    calls = control(base, "GET", "/calls")
    assert calls["total"] == 3
    assert calls["by_route"] == {"GET /api/deliveries/<id>": 3}
    assert calls["by_status"] == {"200": 2, "404": 1}
    control(base, "POST", "/calls/reset")
    assert control(base, "GET", "/calls")["total"] == 0


# Webhooks -----------------------------------------------------------------------------------

DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")


def test_control_story_fires_reference_only_webhooks(base, receiver):
    control(base, "POST", "/webhooks", {"url": receiver.url, "events": ["delivery"]})
    delivery_id = new_delivery(base)
    steps = [("POST", f"/deliveries/{delivery_id}/move", {"endDate": "2026-07-31"}),
             ("POST", f"/deliveries/{delivery_id}/end", {"endDate": "2026-05-15", "by": "client"}),
             ("POST", f"/deliveries/{delivery_id}/clear-end", {}),
             ("POST", f"/deliveries/{delivery_id}/cancel", {}),
             ("DELETE", f"/deliveries/{delivery_id}", None)]
    answers = [control(base, method, path, body) for method, path, body in steps]
    assert answers[1]["data"]["attributes"]["state"] == 2
    assert answers[2]["data"]["attributes"]["endDate"] == ""
    assert all(a["deliveries"][0]["status"] == 200 for a in answers)
    kinds = [hit["json"]["data"]["attributes"]["type"] for hit in receiver.received]
    assert kinds == ["create", "update", "update", "update", "update", "delete"]
    for hit in receiver.received:
        assert hit["content_type"] == "application/json"
        event = hit["json"]["data"]
        assert event["type"] == "webhookevent"
        assert event["relationships"]["dependsOn"]["data"] == {"id": delivery_id, "type": "delivery"}
        assert event["relationships"]["webhook"]["data"]["type"] == "webhook"
        assert event["attributes"]["clientToken"] == CLIENT_TOKEN
        assert not DATE_LIKE.search(json.dumps(hit["json"]))
    ids = [hit["json"]["data"]["id"] for hit in receiver.received]
    assert len(set(ids)) == len(ids)
    resp = requests.get(f"{base}/api/deliveries/{delivery_id}", headers=app_headers(), timeout=5)
    assert resp.status_code == 404


def test_undelivered_events_are_recorded_and_can_be_replayed(base, receiver):
    control(base, "POST", "/webhooks", {"url": receiver.url, "events": ["delivery"]})
    answer = control(base, "POST", "/deliveries", {"resource": "7", "project": "45",
                                                   "startDate": "2026-01-05", "deliver": False})
    assert answer["deliveries"] == [] and receiver.received == []
    event_id = answer["events"][0]["data"]["id"]
    assert [e["data"]["id"] for e in control(base, "GET", "/events")["events"]] == [event_id]
    replay = control(base, "POST", f"/events/{event_id}/deliver")
    assert replay["deliveries"][0]["status"] == 200
    assert receiver.received[0]["json"]["data"]["id"] == event_id


def test_api_writes_fire_webhooks_only_to_subscribed_targets(base, receiver):
    control(base, "POST", "/webhooks", {"url": receiver.url, "events": ["delivery"]})
    delivery_id = new_delivery(base)
    requests.post(f"{base}/api/actions", json=action_body(), headers=app_headers(), timeout=5)
    body = {"data": {"type": "delivery", "attributes": {"endDate": "2026-05-29"}}}
    requests.put(f"{base}/api/deliveries/{delivery_id}", json=body, headers=app_headers(), timeout=5)
    entities = [hit["json"]["data"]["relationships"]["dependsOn"]["data"]["type"]
                for hit in receiver.received]
    assert entities == ["delivery", "delivery"]


def test_unreachable_webhook_target_is_recorded_not_retried(base):
    control(base, "POST", "/webhooks", {"url": "http://127.0.0.1:9/nowhere"})
    control(base, "POST", "/config", {"webhook_timeout": 1.0})
    answer = control(base, "POST", "/deliveries",
                     {"resource": "7", "project": "45", "startDate": "2026-01-05"})
    assert answer["deliveries"][0]["status"].startswith("error:")
    assert len(control(base, "GET", "/events")["deliveries"]) == 1
