"""The connectors' HTTP session reads proxy and CA settings from the environment once, at construction."""
from __future__ import annotations

import responses
from responses import matchers

from connectors.http import HttpClient


def test_proxies_and_ca_bundle_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.esn.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/esn-ca.pem")
    client = HttpClient("https://acme.my.salesforce.com")
    assert client.session.proxies.get("https") == "http://proxy.esn.example:3128"
    assert client.session.verify == "/etc/ssl/esn-ca.pem"
    assert client.session.trust_env is False  # not re-read at every call


def test_no_proxy_hosts_get_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.esn.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    assert HttpClient("https://boond.internal.example/api").session.proxies == {}


@responses.activate
def test_a_call_is_sent_with_the_sessions_proxy_ca_and_timeout_its_params_json_and_headers(monkeypatch):
    """A host call is prepared once and handed to the session's adapter (no per-call merging): what the session
    was made with still reaches the wire."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.esn.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/esn-ca.pem")
    responses.post("https://host.example/api/things", json={"made": 1},
                   match=[matchers.json_params_matcher({"name": "é"}), matchers.query_param_matcher({"q": "a b"})])
    client = HttpClient("https://host.example/api", timeout=7)
    assert client.request("POST", "/things", params={"q": "a b"}, json={"name": "é"}).json() == {"made": 1}
    sent = responses.calls[0].request
    assert sent.req_kwargs["proxies"] == {"https": "http://proxy.esn.example:3128"}
    assert sent.req_kwargs["verify"] == "/etc/ssl/esn-ca.pem" and sent.req_kwargs["timeout"] == 7
    assert sent.headers["Accept"] == "application/json" and sent.headers["User-Agent"].startswith("python-requests")
    assert "Cookie" not in sent.headers


@responses.activate
def test_a_redirect_is_followed_and_the_sessions_response_hooks_see_every_answer():
    responses.get("https://host.example/api/old", status=307, headers={"Location": "https://host.example/api/new"})
    responses.get("https://host.example/api/new", json={"here": True})
    client, seen = HttpClient("https://host.example/api"), []
    client.session.hooks["response"].append(lambda response, **_: seen.append(response.status_code))
    answer = client.request("GET", "/old")
    assert answer.json() == {"here": True} and [r.status_code for r in answer.history] == [307]
    assert seen == [307, 200]
