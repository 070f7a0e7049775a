"""The connectors' HTTP session reads proxy and CA settings from the environment once, at construction."""
from __future__ import annotations

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
