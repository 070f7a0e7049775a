"""Salesforce OAuth over `responses`: PKCE authorization URL, code exchange, refresh with and without
rotation, revoke, error meanings, login hosts and 18-character org ids."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from connectors.errors import HostAuthError, HostUnavailable
from connectors.salesforce import oauth
from connectors.salesforce.oauth import ConsentRequired, TokenSet, org_id_18, same_org

LOGIN = "https://login.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ORG = "00D5e000000AbCdEAK"
USER = "0055e000001XyZaAAK"


def token_answer(**extra) -> dict:
    return {"access_token": "00D5e!AQ-access", "instance_url": "https://acme.my.salesforce.com",
            "id": f"{LOGIN}/id/{ORG}/{USER}", "token_type": "Bearer", "issued_at": "1782897300000",
            "signature": "sig=", "scope": "refresh_token api", **extra}


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def test_the_authorization_url_carries_an_s256_challenge_of_the_verifier_the_state_and_the_scope():
    verifier = oauth.new_code_verifier()
    url = oauth.authorization_url(LOGIN, "client-id", "https://app.example/cb", state="st-42", code_verifier=verifier)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{LOGIN}/services/oauth2/authorize"
    assert query == {"response_type": "code", "client_id": "client-id", "redirect_uri": "https://app.example/cb",
                     "scope": "api refresh_token", "state": "st-42", "code_challenge": challenge,
                     "code_challenge_method": "S256"}
    assert len(verifier) == 64 and verifier != oauth.new_code_verifier()


@responses.activate
def test_the_code_exchange_sends_the_verifier_and_reads_instance_and_org():
    responses.post(TOKEN_URL, json=token_answer(refresh_token="5Aep-refresh"))
    tokens = oauth.exchange_code(LOGIN, "client-id", "client-secret", redirect_uri="https://app.example/cb",
                                 code="aPrx-code", code_verifier="v" * 64)
    assert form(responses.calls[0]) == {"grant_type": "authorization_code", "code": "aPrx-code",
                                        "code_verifier": "v" * 64, "redirect_uri": "https://app.example/cb",
                                        "client_id": "client-id", "client_secret": "client-secret"}
    assert (tokens.access_token, tokens.refresh_token) == ("00D5e!AQ-access", "5Aep-refresh")
    assert (tokens.instance_url, tokens.org_id, tokens.user_id) == ("https://acme.my.salesforce.com", ORG, USER)
    assert tokens.issued_at == datetime(2026, 7, 1, 9, 15, tzinfo=timezone.utc)


@responses.activate
def test_an_identity_url_with_15_character_ids_gives_18_character_ids():
    responses.post(TOKEN_URL, json=token_answer(id=f"{LOGIN}/id/{ORG[:15]}/{USER[:15]}"))
    tokens = oauth.exchange_code(LOGIN, "c", "s", redirect_uri="https://x/cb", code="c", code_verifier="v" * 64)
    assert (tokens.org_id, tokens.user_id) == (ORG, USER)


@responses.activate
def test_a_refresh_with_rotation_returns_the_new_refresh_token():
    responses.post(TOKEN_URL, json=token_answer(access_token="new-access", refresh_token="rotated-refresh"))
    tokens = oauth.refresh(LOGIN, "client-id", "client-secret", refresh_token="old-refresh")
    assert form(responses.calls[0]) == {"grant_type": "refresh_token", "refresh_token": "old-refresh",
                                        "client_id": "client-id", "client_secret": "client-secret"}
    assert (tokens.access_token, tokens.refresh_token) == ("new-access", "rotated-refresh")


@responses.activate
def test_a_refresh_without_rotation_returns_no_refresh_token_so_the_old_one_is_kept():
    responses.post(TOKEN_URL, json=token_answer(access_token="new-access"))
    tokens = oauth.refresh(LOGIN, "client-id", "client-secret", refresh_token="old-refresh")
    assert tokens.access_token == "new-access" and tokens.refresh_token is None


@pytest.mark.parametrize("description", ["expired access/refresh token", "invalid code verifier"])
@responses.activate
def test_invalid_grant_means_the_tenant_must_consent_again(description):
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": description})
    with pytest.raises(ConsentRequired) as info:
        oauth.refresh(LOGIN, "client-id", "client-secret", refresh_token="dead")
    assert isinstance(info.value, HostAuthError)
    assert (info.value.status, info.value.code, info.value.args[0]) == (400, "invalid_grant", description)


@responses.activate
def test_a_bad_client_is_an_auth_error_not_a_consent_problem():
    responses.post(TOKEN_URL, status=400,
                   json={"error": "invalid_client", "error_description": "invalid client credentials"})
    with pytest.raises(HostAuthError) as info:
        oauth.refresh(LOGIN, "client-id", "wrong", refresh_token="r")
    assert not isinstance(info.value, ConsentRequired) and info.value.code == "invalid_client"


@pytest.mark.parametrize("answer", [dict(status=503, body="down"), dict(body=requests.ConnectionError("refused"))])
@responses.activate
def test_a_token_endpoint_down_or_unreachable_is_unavailable(answer):
    responses.post(TOKEN_URL, **answer)
    with pytest.raises(HostUnavailable):
        oauth.refresh(LOGIN, "client-id", "client-secret", refresh_token="r")


@responses.activate
def test_revoke_sends_only_the_token_and_an_already_dead_token_counts_as_revoked():
    responses.post(f"{LOGIN}/services/oauth2/revoke", status=200)
    responses.post(f"{LOGIN}/services/oauth2/revoke", status=400,
                   json={"error": "invalid_token", "error_description": "invalid token"})
    oauth.revoke(LOGIN, "5Aep-refresh")
    oauth.revoke(LOGIN, "5Aep-refresh")
    assert form(responses.calls[0]) == {"token": "5Aep-refresh"} and len(responses.calls) == 2


def test_a_token_set_never_prints_its_tokens():
    tokens = TokenSet.from_response(token_answer(refresh_token="5Aep-refresh"))
    shown = repr(tokens) + str(tokens)
    assert "00D5e!AQ-access" not in shown and "5Aep-refresh" not in shown and ORG in shown


# --- login hosts ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,domain,expected", [
    ("production", None, "https://login.salesforce.com"),
    ("sandbox", None, "https://test.salesforce.com"),
    ("mydomain", "acme", "https://acme.my.salesforce.com"),
    ("mydomain", "Acme-Corp", "https://acme-corp.my.salesforce.com"),
    ("mydomain", "acme--uat", "https://acme--uat.sandbox.my.salesforce.com"),
    ("mydomain", "acme--uat.sandbox.my.salesforce.com", "https://acme--uat.sandbox.my.salesforce.com"),
    ("mydomain", "https://acme.my.salesforce.com/", "https://acme.my.salesforce.com"),
])
def test_login_hosts(kind, domain, expected):
    assert oauth.login_host(kind, domain) == expected


@pytest.mark.parametrize("domain", ["", "acme.evil.com", "acme.my.salesforce.com.evil.com", "-acme", "acme-",
                                    "ac me", "acme---uat", "acme/../x", "evil.com/.my.salesforce.com"])
def test_a_malformed_my_domain_is_refused(domain):
    with pytest.raises(ValueError):
        oauth.login_host("mydomain", domain)


def test_a_login_url_override_is_only_for_loopback():
    assert oauth.login_host("production", login_url="http://127.0.0.1:8011/") == "http://127.0.0.1:8011"
    assert oauth.login_host("sandbox", login_url="http://localhost:9000") == "http://localhost:9000"
    for bad in ("http://login.evil.com", "https://10.0.0.1:8011", "http://127.0.0.1:8011/path", "ftp://127.0.0.1"):
        with pytest.raises(ValueError):
            oauth.login_host("production", login_url=bad)
    with pytest.raises(ValueError):
        oauth.login_host("staging")


# --- org ids -------------------------------------------------------------------------------------
def test_org_id_18_known_vectors():
    # '001A0000006Vm9r' in chunks '001A0' (A at 3 -> 8 -> I), '00000' (0 -> A), '6Vm9r' (V at 1 -> 2 -> C)
    assert org_id_18("001A0000006Vm9r") == "001A0000006Vm9rIAC"
    # '00D000000000001': '00D00' has D at 2 -> 4 -> E; the other chunks have no capitals -> A, A
    assert org_id_18("00D000000000001") == "00D000000000001EAA"
    assert org_id_18("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC"  # 18 characters pass through


@pytest.mark.parametrize("bad", ["", "00D00000000001", "00D0000000000012", "00D000000000001-AA", "00D000000000001aaa",
                                 "00D00000000000é"])
def test_org_id_18_refuses_malformed_ids(bad):
    with pytest.raises(ValueError):
        org_id_18(bad)


def test_same_org_compares_15_and_18_character_forms_case_sensitively():
    assert same_org("00D5e000000AbCd", ORG) and same_org(ORG, ORG)
    assert not same_org("00D5e000000abcd", ORG)  # another org: ids are case-sensitive
    assert not same_org("garbage", ORG)
