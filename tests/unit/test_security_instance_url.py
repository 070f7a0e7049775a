"""The token answer's instance_url is where the access token goes: https on Salesforce's domains only (issue #13)."""
from __future__ import annotations

import pytest

from config.settings import get_settings
from connectors.errors import HostError
from connectors.salesforce.oauth import TokenSet

IDENTITY = "https://login.salesforce.com/id/00D5e000000AbCdEAK/0055e000001XyZaAAK"


def _answer(instance_url: str) -> dict:
    return {"access_token": "00D5e!AQ-access", "instance_url": instance_url, "id": IDENTITY,
            "issued_at": "1767225600000", "scope": "api refresh_token"}


@pytest.mark.parametrize("url", ["https://acme.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com/",
                                 "https://eu45.salesforce.com", "https://acme.my.salesforce.mil",
                                 "https://acme.lightning.force.com"])
def test_salesforce_hosts_over_https_are_accepted(url):
    assert TokenSet.from_response(_answer(url)).instance_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://acme.my.salesforce.com", "https://evil.example.com",
                                 "https://acme.my.salesforce.com.evil.io", "https://evil.io/acme.salesforce.com",
                                 "https://user@acme.my.salesforce.com", "https://salesforce.com.evil.io",
                                 "http://127.0.0.1:8001", "ftp://acme.my.salesforce.com", "", "not a url"])
def test_anything_else_is_refused_with_a_message(monkeypatch, url):
    monkeypatch.setattr(get_settings(), "allow_sandbox_hosts", False)
    with pytest.raises(HostError, match="not an https URL on a Salesforce domain"):
        TokenSet.from_response(_answer(url))


def test_loopback_only_when_the_sandbox_is_allowed(monkeypatch):
    monkeypatch.setattr(get_settings(), "allow_sandbox_hosts", True)
    assert TokenSet.from_response(_answer("http://127.0.0.1:8001")).instance_url == "http://127.0.0.1:8001"
    with pytest.raises(HostError):
        TokenSet.from_response(_answer("http://10.0.0.8:8001"))  # the sandbox setting opens loopback, nothing else
