"""The connectors' HTTP session reads proxy and CA settings from the environment once, at construction."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
from responses import matchers

from connectors import http
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
def test_a_redirect_is_followed_and_the_clients_response_hooks_see_every_answer():
    responses.get("https://host.example/api/old", status=307, headers={"Location": "https://host.example/api/new"})
    responses.get("https://host.example/api/new", json={"here": True})
    client, seen = HttpClient("https://host.example/api"), []
    client.hooks.append(lambda response, **_: seen.append(response.status_code))
    answer = client.request("GET", "/old")
    assert answer.json() == {"here": True} and [r.status_code for r in answer.history] == [307]
    assert seen == [307, 200]


class _Counting(BaseHTTPRequestHandler):
    """Answers every GET 200 with a small JSON body over kept-alive HTTP/1.1; counts the connections it accepted."""

    protocol_version = "HTTP/1.1"
    connections = 0

    def setup(self):
        type(self).connections += 1
        super().setup()

    def do_GET(self):  # noqa: N802 - http.server's name
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def host():
    """A real local HTTP server; its URL."""
    _Counting.connections = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


def test_clients_made_one_after_the_other_reuse_the_hosts_connection_and_an_idle_one_is_not_reused(host,
                                                                                                  monkeypatch):
    """A job's client is made anew each job: its calls go on the connection the last job's client left open, so a
    job costs no new TCP (and TLS) handshake; after KEEP_ALIVE seconds without a call, a fresh one is made."""
    now = [1000.0]
    monkeypatch.setattr(http, "monotonic", lambda: now[0])
    for _ in range(3):  # three jobs, two calls each
        client = HttpClient(host)
        client.request("GET", "/a")
        client.request("GET", "/b")
        now[0] += 0.5
    assert _Counting.connections == 1
    now[0] += http.KEEP_ALIVE + 0.1
    HttpClient(host).request("GET", "/c")
    assert _Counting.connections == 2


def test_a_changed_proxy_setting_gives_a_session_of_its_own_and_hooks_stay_with_their_client(host, monkeypatch):
    first = HttpClient(host)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    second = HttpClient(host)
    assert second.session is not first.session and HttpClient(host).session is second.session
    seen: list[str] = []
    second.hooks.append(lambda response, **_: seen.append("second"))
    HttpClient(host).request("GET", "/a")
    second.request("GET", "/a")
    assert seen == ["second"]
