"""The Boond sandbox's marketplace side over real HTTP: signed lifecycle calls, app tokens, refresh, /api/webhooks."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from flask import Flask, request

from sandboxes.boond import create_app
from sandboxes.serving import ThreadedServer
from tests.sandbox.test_boond_sandbox import make_jwt

KEY = "sbx-app-key-0123456789"
USER = "sbx-user-admin"
REFRESH_HEADER = "X-Jwt-App-Refresh-Boondmanager"


def verify(signed: str, key: str = KEY) -> dict:
    """Decode a signedRequest like Boond's sample app (test-only, independent of production code)."""
    signature, payload = signed.split(".", 1)
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    expected = hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert base64.urlsafe_b64decode(pad(signature)).decode() == expected
    return json.loads(base64.urlsafe_b64decode(pad(payload)))


class App:
    """A marketplace app served over real HTTP: records each call, answers {"result": <answer>}."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []
        self.answers: list[bool] = []
        app = Flask("app")

        @app.post("/boond/<call>")
        def lifecycle(call):
            self.calls.append((call, verify(request.form["signedRequest"])))
            return {"result": self.answers.pop(0) if self.answers else True}

        self.server = ThreadedServer(app).start()
        self.url = f"{self.server.url}/boond"


@pytest.fixture(scope="module")
def servers():
    """The sandbox and an app, each on its own loopback port."""
    sandbox, app = ThreadedServer(create_app()).start(), App()
    yield sandbox, app
    sandbox.stop()
    app.server.stop()


@pytest.fixture()
def base(servers) -> str:
    """A freshly reset sandbox."""
    requests.post(f"{servers[0].url}/_control/reset", timeout=5).raise_for_status()
    servers[1].calls.clear()
    servers[1].answers.clear()
    return servers[0].url


@pytest.fixture()
def app(servers) -> App:
    """The app the sandbox installs."""
    return servers[1]


def market(base: str, call: str, app: App, **body) -> dict:
    """One /_control/marketplace call towards the app."""
    resp = requests.post(f"{base}/_control/marketplace/{call}", json={"app_url": app.url, **body}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def as_app(token: str, key: str = KEY) -> dict:
    """X-Jwt-App-Boondmanager headers for an app token."""
    claims = {"userToken": USER, "appToken": token, "time": int(time.time()), "mode": "normal"}
    return {"X-Jwt-App-Boondmanager": make_jwt(claims, key)}


def current_user(base: str, token: str) -> requests.Response:
    return requests.get(f"{base}/api/application/current-user", headers=as_app(token), timeout=5)


def refresh(base: str, token: str, refresh_token: str, key: str = KEY) -> requests.Response:
    claims = {"appToken": token, "refreshToken": refresh_token, "time": int(time.time()), "mode": "normal"}
    return requests.post(f"{base}/api/marketplace/refresh-token", headers={REFRESH_HEADER: make_jwt(claims, key)},
                         timeout=5)


def test_install_sends_two_signed_form_calls_and_the_token_works(base, app):
    answer = market(base, "install", app, installation_code="code-1")
    assert answer["installed"] is True and "refreshToken" not in answer  # permanent by default
    assert [c for c, _ in app.calls] == ["install", "install"]
    first, second = app.calls[0][1], app.calls[1][1]
    assert first["installationCode"] == "code-1" and isinstance(first["issued_at"], int)
    assert {k: second[k] for k in ("appToken", "clientToken", "clientName")} == {
        "appToken": answer["appToken"], "clientToken": "sbx-client", "clientName": "ESN Sandbox"}
    assert current_user(base, answer["appToken"]).json()["data"]["id"] == "1"
    assert current_user(base, answer["appToken"].replace("sbx", "xbs")).status_code == 422


def test_an_app_refusing_a_call_stops_the_install_and_its_token_dies(base, app):
    app.answers = [False]
    refused = market(base, "install", app)
    assert refused["installed"] is False and len(refused["calls"]) == 1
    app.answers = [True, False]
    half = market(base, "install", app)
    assert half["installed"] is False and current_user(base, half["appToken"]).status_code == 422


def test_temporary_tokens_expire_and_refresh_into_a_new_pair(base, app):
    requests.post(f"{base}/_control/config", json={"app_token_ttl_seconds": 600}, timeout=5).raise_for_status()
    issued = market(base, "install", app)
    assert issued["expiresIn"] == 600 and issued["refreshToken"] and issued["createdAt"]
    assert app.calls[1][1]["refreshToken"] == issued["refreshToken"]
    assert requests.post(f"{base}/_control/marketplace/expire-tokens", timeout=5).json() == {"expired": 1}
    expired = current_user(base, issued["appToken"])
    assert expired.status_code == 401 and expired.json()["errors"][0]["detail"] == "Expired token"
    fresh = refresh(base, issued["appToken"], issued["refreshToken"])
    attrs = fresh.json()["data"]["attributes"]
    assert fresh.status_code == 200 and attrs["expiresIn"] == 600 and attrs["appToken"] != issued["appToken"]
    assert current_user(base, attrs["appToken"]).status_code == 200
    assert current_user(base, issued["appToken"]).status_code == 422  # the old token is gone
    assert refresh(base, issued["appToken"], issued["refreshToken"]).status_code == 401  # and its refresh token


def test_refresh_needs_its_own_signed_header(base, app):
    requests.post(f"{base}/_control/config", json={"app_token_ttl_seconds": 600}, timeout=5).raise_for_status()
    issued = market(base, "install", app)
    assert requests.post(f"{base}/api/marketplace/refresh-token", headers=as_app(issued["appToken"]),
                         timeout=5).status_code == 401
    bad = refresh(base, issued["appToken"], issued["refreshToken"], key="wrong-key")
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"] == {"parameter": "xJwtAppRefresh"}


def test_uninstall_and_validate_are_signed_and_kill_the_old_tokens(base, app):
    first = market(base, "install", app)
    validated = market(base, "validate", app)
    assert app.calls[-1] == ("validate", {**app.calls[-1][1], "clientToken": "sbx-client",
                                          "appToken": validated["appToken"]})
    assert current_user(base, first["appToken"]).status_code == 422
    assert current_user(base, validated["appToken"]).status_code == 200
    gone = market(base, "uninstall", app)
    assert gone == {**gone, "uninstalled": True, "revoked": 1}
    assert app.calls[-1][0] == "uninstall" and app.calls[-1][1]["clientToken"] == "sbx-client"
    assert current_user(base, validated["appToken"]).status_code == 422


def test_the_iframe_url_carries_a_signed_user_client_and_callback(base, app):
    url = market(base, "iframe", app, user_token="sbx-user-claire", page="configure")["url"]
    assert url.startswith(f"{app.url}/configure?signedRequest=")
    payload = verify(parse_qs(urlparse(url).query)["signedRequest"][0])
    assert payload["userToken"] == "sbx-user-claire" and payload["clientToken"] == "sbx-client"
    assert payload["urlCallback"].startswith(base)
    bad = requests.post(f"{base}/_control/marketplace/iframe", json={"app_url": app.url, "user_token": "x"}, timeout=5)
    assert bad.status_code == 400
    ftp = requests.post(f"{base}/_control/marketplace/install", json={"app_url": "ftp://x"}, timeout=5)
    assert ftp.status_code == 400


def webhook_body(url: str, events: list[tuple[str, str]]) -> dict:
    return {"data": {"type": "webhook", "attributes": {"name": "test", "description": "d", "url": url,
                                                       "events": [{"type": t, "entity": e} for t, e in events]}}}


def test_api_webhooks_need_a_jwt_and_validate_the_body(base, app):
    token = market(base, "install", app)["appToken"]
    hooks = f"{base}/api/webhooks"
    assert requests.post(hooks, json=webhook_body("http://x/h", [("update", "delivery")]), timeout=5).status_code == 401
    for body, code, parameter in ((webhook_body("http://x/h", []), "1002", "events"),
                                  ({"data": {"type": "webhook", "attributes": {"events": []}}}, "1017", "url"),
                                  (webhook_body("nope", [("update", "delivery")]), "1002", "url"),
                                  (webhook_body("http://x/h", [("touch", "delivery")]), "1002", "events")):
        error = requests.post(hooks, json=body, headers=as_app(token), timeout=5).json()["errors"][0]
        assert (error["code"], error["source"]["parameter"]) == (code, parameter)
    with_action = requests.post(hooks, json=webhook_body("http://x/h", [("create", "action")]), headers=as_app(token),
                                timeout=5)
    assert with_action.status_code == 200  # accepted: not asking for it is the product's job
    requests.post(f"{base}/_control/config", json={"webhooks_api_allowed": False}, timeout=5).raise_for_status()
    assert requests.post(hooks, json=webhook_body("http://x/h", [("update", "delivery")]), headers=as_app(token),
                         timeout=5).status_code == 403


def test_an_api_webhook_receives_only_its_events_until_deleted(base, app):
    token = market(base, "install", app)["appToken"]
    target = app.url.replace("/boond", "/boond/hook")
    made = requests.post(f"{base}/api/webhooks", json=webhook_body(target, [("update", "delivery")]),
                         headers=as_app(token), timeout=5).json()["data"]
    assert made["attributes"]["events"] == [{"type": "update", "entity": "delivery"}]
    listed = requests.get(f"{base}/api/webhooks", headers=as_app(token), timeout=5).json()
    assert [h["id"] for h in listed["data"]] == [made["id"]] and listed["meta"]["totals"]["rows"] == 1
    body = {"resource": "7", "project": "45", "startDate": "2026-01-05", "endDate": "2026-06-30"}
    delivery = requests.post(f"{base}/_control/deliveries", json=body, timeout=5).json()
    assert delivery["deliveries"] == []  # a create: not subscribed
    moved = requests.post(f"{base}/_control/deliveries/{delivery['data']['id']}/move", json={"endDate": "2026-07-31"},
                          timeout=5).json()
    assert [d["url"] for d in moved["deliveries"]] == [target]
    assert requests.delete(f"{base}/api/webhooks/{made['id']}", headers=as_app(token), timeout=5).status_code == 200
    assert requests.get(f"{base}/api/webhooks/{made['id']}", headers=as_app(token), timeout=5).status_code == 404
    again = requests.post(f"{base}/_control/deliveries/{delivery['data']['id']}/move", json={"endDate": "2026-08-31"},
                          timeout=5).json()
    assert again["deliveries"] == []
