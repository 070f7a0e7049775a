"""Boond's signedRequest: Boond's own format read exactly, every alteration refused with a readable reason."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from connectors.boond import marketplace
from connectors.boond.marketplace import (BadSignedRequest, decode_signed_request, encode_signed_request,
                                          expires_at_from)

KEY = "app-key-0123456789"
PAYLOAD = {"appToken": "a1", "clientToken": "c1", "clientName": "Acme Conseil é"}


def php_signed(payload: dict, key: str, *, padded: bool) -> str:
    """What Boond's sample app PHP produces (tools.php keeps '=' padding, boondmanager.php strips it)."""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode() if padded else \
        base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    part = b64(json.dumps(payload).encode())
    return b64(hmac.new(key.encode(), part.encode(), hashlib.sha256).hexdigest().encode()) + "." + part


@pytest.mark.parametrize("padded", [True, False])
def test_boonds_own_format_is_read(padded):
    assert decode_signed_request(php_signed(PAYLOAD, KEY, padded=padded), KEY) == PAYLOAD


def test_what_we_encode_boond_would_read():
    signed = encode_signed_request(PAYLOAD, KEY, stamp=False)
    signature, part = signed.split(".")
    hex_digest = hmac.new(KEY.encode(), part.encode(), hashlib.sha256).hexdigest()
    assert base64.urlsafe_b64decode(signature + "==").decode() == hex_digest
    assert decode_signed_request(signed, KEY) == PAYLOAD


def test_every_single_character_change_is_refused():
    signed = encode_signed_request(PAYLOAD, KEY)
    for at, char in enumerate(signed):
        if char == ".":
            continue
        altered = signed[:at] + ("B" if char != "B" else "C") + signed[at + 1:]
        with pytest.raises(BadSignedRequest):
            decode_signed_request(altered, KEY)


def test_another_key_is_refused_with_a_message_an_admin_can_act_on():
    with pytest.raises(BadSignedRequest, match="INTERMISSION_BOOND_APP_KEY"):
        decode_signed_request(encode_signed_request(PAYLOAD, "someone-else"), KEY)


@pytest.mark.parametrize("value, reason", [
    (None, "no signedRequest"), ("", "no signedRequest"), (42, "no signedRequest"),
    ("nodot", "<signature>.<payload>"), ("a.b.c", "<signature>.<payload>"), (".abc", "<signature>.<payload>"),
    ("ab!c.def", "base64url"), ("x" * 20000 + ".y", "longer than"),
])
def test_malformed_values_are_refused(value, reason):
    with pytest.raises(BadSignedRequest, match=reason):
        decode_signed_request(value, KEY)


@pytest.mark.parametrize("raw, reason", [(b"not json", "not JSON"), (b"[1, 2]", "not a JSON object"),
                                         (b"\xff\xfe", "not JSON")])
def test_a_correctly_signed_payload_must_still_be_a_json_object(raw, reason):
    part = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    signature = base64.urlsafe_b64encode(hmac.new(KEY.encode(), part.encode(), hashlib.sha256)
                                         .hexdigest().encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignedRequest, match=reason):
        decode_signed_request(f"{signature}.{part}", KEY)


def test_issued_at_bounds_the_age_only_when_asked():
    now = time.time()
    old = encode_signed_request({**PAYLOAD, "issued_at": int(now) - 7200}, KEY)
    assert decode_signed_request(old, KEY)["appToken"] == "a1"  # no max_age: not checked
    with pytest.raises(BadSignedRequest, match="too old"):
        decode_signed_request(old, KEY, max_age=3600, now=now)
    fresh = encode_signed_request({**PAYLOAD, "issued_at": int(now) - 60}, KEY)
    assert decode_signed_request(fresh, KEY, max_age=3600, now=now)["clientToken"] == "c1"
    assert decode_signed_request(encode_signed_request(PAYLOAD, KEY), KEY, max_age=1)["appToken"] == "a1"  # stamped
    undated = encode_signed_request(PAYLOAD, KEY, stamp=False)  # no time carried: accepted (claim_once: once a day)
    assert decode_signed_request(undated, KEY, max_age=3600)["appToken"] == "a1"
    pyboond = encode_signed_request({**PAYLOAD, "issuedAt": int(now) - 60}, KEY)  # pyboondmanager's spelling
    assert decode_signed_request(pyboond, KEY, max_age=3600, now=now)["clientToken"] == "c1"
    with pytest.raises(BadSignedRequest, match="future"):
        decode_signed_request(encode_signed_request({"issued_at": now + 3600}, KEY), KEY, max_age=60, now=now)
    with pytest.raises(BadSignedRequest, match="Unix time nor an ISO date"):
        decode_signed_request(encode_signed_request({"issued_at": "yesterday"}, KEY), KEY, max_age=60)


@pytest.mark.parametrize("form", ["seconds", "milliseconds", "digits", "iso-offset", "iso-z", "iso-paris"])
def test_issued_at_is_read_in_seconds_milliseconds_or_iso_text(form):
    now = 1_796_000_000.0  # 2026-11-30T00:53:20Z
    ago = now - 120
    given = {"seconds": int(ago), "milliseconds": int(ago * 1000), "digits": str(int(ago)),
             "iso-offset": "2026-11-30T01:51:20+01:00", "iso-z": "2026-11-30T00:51:20Z",
             "iso-paris": "2026-11-30 01:51:20"}[form]  # naive text: Boond's zone
    signed = encode_signed_request({**PAYLOAD, "issued_at": given}, KEY)
    assert decode_signed_request(signed, KEY, max_age=300, now=now)["appToken"] == "a1"
    with pytest.raises(BadSignedRequest, match="too old"):
        decode_signed_request(signed, KEY, max_age=60, now=now)


def test_the_signature_is_compared_in_constant_time(monkeypatch):
    seen = []
    real = hmac.compare_digest
    monkeypatch.setattr(marketplace.hmac, "compare_digest", lambda a, b: seen.append((a, b)) or real(a, b))
    decode_signed_request(encode_signed_request(PAYLOAD, KEY), KEY)
    assert len(seen) == 1


def test_no_key_is_a_configuration_error_not_a_bad_request():
    with pytest.raises(ValueError, match="INTERMISSION_BOOND_APP_KEY") as caught:
        decode_signed_request(encode_signed_request(PAYLOAD, KEY), "")
    assert not isinstance(caught.value, BadSignedRequest)
    assert issubclass(BadSignedRequest, ValueError)


@pytest.mark.parametrize("given, expected", [(3600, 4600.0), ("3600", 4600.0), (None, None), ("", None),
                                             ("soon", None), (True, None), (0, None)])
def test_expires_in_becomes_an_absolute_time(given, expected):
    assert expires_at_from(given, 1000.0) == expected
