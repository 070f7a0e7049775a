"""The Boond client over `responses`: JWT headers, retries, Boond's error envelope, paging."""
from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from types import SimpleNamespace

import pytest
import responses
from responses import matchers

from connectors import http
from connectors.boond import auth
from connectors.boond.auth import BoondCredentials
from connectors.boond.client import BoondClient
from connectors.errors import HostAuthError, HostNotFound, HostRateLimited, HostUnavailable, HostValidationError

BASE = "https://boond.test/api"
APP = BoondCredentials("app", "app-token-123", "app-key-very-secret", "user-token-456")
CLIENT = BoondCredentials("client", "client-token-789", "client-key-very-secret", "user-token-456")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verified_claims(token: str, key: str) -> dict:
    """The claims of an HS256 JWT whose signature checks out with `key` (checked here, not by the code under test)."""
    header, payload, signature = token.split(".")
    expected = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_unb64(signature), expected), "bad signature"
    assert json.loads(_unb64(header)) == {"typ": "JWT", "alg": "HS256"}
    return json.loads(_unb64(payload))


@pytest.fixture
def waits(monkeypatch):
    """Every sleep the HTTP layer asks for, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(http, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


@pytest.fixture
def clock(monkeypatch):
    """JWT `time` claims come from this clock: 1 700 000 000, then +60 s per request."""
    ticks = itertools.count(1_700_000_000, 60)
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: next(ticks)))


def client(credentials=APP) -> BoondClient:
    return BoondClient(BASE, credentials, max_attempts=3, max_retry_after=60)


def envelope(code: str, detail: str, parameter: str | None = None) -> dict:
    error = {"status": "422", "code": code, "detail": detail}
    if parameter:
        error["source"] = {"parameter": parameter}
    return {"errors": [error]}


@responses.activate
def test_app_mode_signs_each_request_with_a_fresh_app_jwt_and_no_authorization_header(clock):
    responses.get(f"{BASE}/application/current-user", json={"data": {"id": "1"}})
    client().current_user()
    client().current_user()
    sent = [call.request.headers for call in responses.calls]
    assert all("Authorization" not in h and "X-Jwt-Client-Boondmanager" not in h for h in sent)
    claims = [verified_claims(h["X-Jwt-App-Boondmanager"], APP.key) for h in sent]
    assert claims == [{"userToken": "user-token-456", "appToken": "app-token-123", "time": t, "mode": "normal"}
                      for t in (1_700_000_000, 1_700_000_060)]


@responses.activate
def test_client_mode_uses_the_client_header_and_client_token():
    responses.get(f"{BASE}/application/current-user", json={"data": {"id": "1"}})
    client(CLIENT).current_user()
    headers = responses.calls[0].request.headers
    assert "X-Jwt-App-Boondmanager" not in headers and "Authorization" not in headers
    claims = verified_claims(headers["X-Jwt-Client-Boondmanager"], CLIENT.key)
    assert claims["clientToken"] == "client-token-789" and "appToken" not in claims
    assert claims["userToken"] == "user-token-456" and claims["mode"] == "normal"


def test_credentials_never_print_their_key_or_user_token():
    for creds in (APP, CLIENT):
        shown = repr(creds) + str(creds) + f"{creds}"
        assert creds.key not in shown and creds.user_token not in shown


def test_the_jwt_is_compact_json_signed_hs256_as_boond_and_pyboondmanager_make_it():
    token = auth.encode_jwt({"userToken": "u", "appToken": "a", "time": 1, "mode": "normal"}, "k" * 20)
    header, payload, _ = token.split(".")
    assert _unb64(header) == b'{"typ":"JWT","alg":"HS256"}'
    assert _unb64(payload) == b'{"userToken":"u","appToken":"a","time":1,"mode":"normal"}'
    assert verified_claims(token, "k" * 20)["appToken"] == "a"


def test_calls_within_one_second_share_one_signature_and_the_next_second_signs_anew():
    """The claims carry the second, so a round's creates sent within it carry the same token, signed once."""
    first, same, later = APP.headers(now=1000.1), APP.headers(now=1000.9), APP.headers(now=1001.0)
    assert first == same and first != later
    token = first[auth.APP_HEADER]
    assert token == auth.encode_jwt({"userToken": APP.user_token, "appToken": APP.token, "time": 1000,
                                     "mode": "normal"}, APP.key)
    assert verified_claims(later[auth.APP_HEADER], APP.key)["time"] == 1001
    assert CLIENT.headers(now=1000.1) != first  # the cache is per credentials


def test_an_empty_key_is_refused_in_words_before_any_call():
    with pytest.raises(HostAuthError, match="the Boond key is empty"):
        BoondCredentials("app", "app-token", "", "user-token").headers()


@responses.activate
def test_rate_limit_waits_for_retry_after_then_succeeds(waits):
    responses.get(f"{BASE}/deliveries/100", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/deliveries/100", json={"data": {"id": "100"}})
    assert client().delivery("100") == {"data": {"id": "100"}}
    assert waits == [7.0] and len(responses.calls) == 2


@responses.activate
def test_rate_limit_gives_up_after_the_last_attempt(waits):
    responses.get(f"{BASE}/deliveries/100", status=429, headers={"Retry-After": "2"})
    with pytest.raises(HostRateLimited) as info:
        client().delivery("100")
    assert info.value.retry_after == 2.0 and info.value.status == 429
    assert waits == [2.0, 2.0] and len(responses.calls) == 3


@responses.activate
def test_a_retry_after_longer_than_allowed_is_not_waited_for(waits):
    responses.get(f"{BASE}/deliveries/100", status=429, headers={"Retry-After": "120"})
    with pytest.raises(HostRateLimited) as info:
        client().delivery("100")
    assert info.value.retry_after == 120.0 and waits == [] and len(responses.calls) == 1


@responses.activate
def test_a_server_error_on_a_read_is_retried(waits):
    responses.get(f"{BASE}/deliveries/100", status=500)
    responses.get(f"{BASE}/deliveries/100", json={"data": {"id": "100"}})
    assert client().delivery("100")["data"]["id"] == "100"
    assert len(responses.calls) == 2 and len(waits) == 1


@responses.activate
def test_a_server_error_on_a_create_is_not_retried(waits):
    responses.post(f"{BASE}/actions", status=500)
    with pytest.raises(HostUnavailable) as info:
        client().create_action({"data": {"type": "action"}})
    assert info.value.status == 500 and len(responses.calls) == 1 and waits == []


@responses.activate
def test_a_validation_error_carries_boonds_code_and_parameter():
    responses.post(f"{BASE}/actions", status=422,
                   json=envelope("1017", "Value is not valid", "/data/attributes/startDate"))
    with pytest.raises(HostValidationError) as info:
        client().create_action({"data": {"type": "action"}})
    error = info.value
    assert (error.status, error.code, error.parameter) == (422, "1017", "/data/attributes/startDate")
    assert str(error) == "boond HTTP 422 code 1017: Value is not valid (/data/attributes/startDate)"
    assert len(responses.calls) == 1


@responses.activate
def test_a_bad_signature_is_an_auth_error_even_as_422():
    responses.get(f"{BASE}/application/current-user", status=422, json=envelope("1", "Signature verification failed"))
    with pytest.raises(HostAuthError, match="Signature verification failed"):
        client().current_user()


@responses.activate
def test_a_missing_record_is_not_found():
    responses.delete(f"{BASE}/actions/55", status=404, json={"errors": [{"status": "404", "detail": "Not found"}]})
    with pytest.raises(HostNotFound) as info:
        client().delete_action("55")
    assert info.value.status == 404 and len(responses.calls) == 1


@pytest.mark.parametrize("total,pages", [(150, [100, 50]), (200, [100, 100]), (30, [30])])
@responses.activate
def test_actions_are_read_page_by_page_of_100_until_the_total(total, pages):
    for number, count in enumerate(pages, start=1):
        rows = [{"id": f"{number}-{i}"} for i in range(count)]
        responses.get(f"{BASE}/resources/7/actions", json={"data": rows, "meta": {"totals": {"rows": total}}},
                      match=[matchers.query_param_matcher({"page": str(number), "maxResults": "100"})])
    rows = list(client().actions_of("resource", "7"))
    assert len(rows) == total and len({r["id"] for r in rows}) == total
    assert len(responses.calls) == len(pages)  # no request past the last page
