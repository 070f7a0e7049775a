"""Boond marketplace: the `signedRequest` of /install, /uninstall, /validate and the iframe; the token refresh.

Format (Boond's sample app, wishgroupe/app_hello `boondmanager.php::signedRequestDecode` and
`app/hello/lib/tools.php::signedRequest_encode`; same in tominardi/pyboondmanager
`boondmanager/auth.py::decode_boondmanager_payload`):

    signedRequest = base64url(hex(HMAC-SHA256(key=appKey, msg=<payload part as sent>))) + "." + <payload part>
    <payload part> = base64url(json)

The HMAC covers the base64url payload *string* (not the decoded JSON), and the signature is the base64url
of the lower-case *hex* digest. Boond's PHP keeps or strips base64 padding depending on the helper, so both
are accepted. `tools.php` adds an `issued_at` (Unix seconds) to what it signs (`issuedAt` in pyboondmanager); whether
Boond's servers send it, and in which unit, no public source says. Seconds, milliseconds and ISO text bound the age,
and within that age each signedRequest is accepted once (`claim_once`); without it, once in 24 hours.
"""
from __future__ import annotations

from typing import NamedTuple

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from config import keys
from connectors.boond.auth import encode_jwt
from connectors.boond.client import BoondClient
from connectors.errors import HostError

MAX_SIGNED_REQUEST = 16_384
FUTURE_SKEW = 300  # seconds an `issued_at` may be ahead of our clock
UNDATED_REPLAY_WINDOW = 24 * 3600  # a signedRequest without `issued_at` is accepted once in this many seconds
MILLISECONDS_FROM = 100_000_000_000  # an `issued_at` above this is in milliseconds (in seconds: the year 5138)
BOOND_ZONE = ZoneInfo("Europe/Paris")
REFRESH_PATH = "/marketplace/refresh-token"
REFRESH_HEADER = "X-Jwt-App-Refresh-Boondmanager"
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class BadSignedRequest(ValueError):
    """A signedRequest that is missing, malformed, altered, signed with another key, or too old."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(part: str) -> bytes:
    bare = part.rstrip("=")
    try:
        return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except (binascii.Error, ValueError):
        raise BadSignedRequest("the payload part of the signedRequest is not base64url") from None


def _hex_signature(payload_part: str, app_key: str) -> str:
    return hmac.new(app_key.encode(), payload_part.encode("ascii"), hashlib.sha256).hexdigest()


def encode_signed_request(payload: dict, app_key: str, *, stamp: bool = True) -> str:
    """Sign `payload` the way Boond does, adding `issued_at` (now) unless it has one (tests, iframe links)."""
    if not app_key:
        raise ValueError("an app key is needed to sign a signedRequest")
    if stamp and "issued_at" not in payload and "issuedAt" not in payload:
        payload = {**payload, "issued_at": int(time.time())}
    payload_part = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    return f"{_b64url(_hex_signature(payload_part, app_key).encode())}.{payload_part}"


def decode_signed_request(value: str, app_key: str, *, max_age: int | None = None, now: float | None = None) -> dict:
    """The verified payload of a signedRequest; BadSignedRequest (admin-readable) otherwise."""
    if not app_key:
        raise ValueError("no Boond app key configured (INTERMISSION_BOOND_APP_KEY)")
    signature_part, payload_part = _split(value)
    expected = _b64url(_hex_signature(payload_part, app_key).encode())  # compared as text: any change counts
    if not hmac.compare_digest(expected.encode(), signature_part.rstrip("=").encode("ascii")):
        raise BadSignedRequest("the signature does not match: the request was altered, or this server's "
                               "INTERMISSION_BOOND_APP_KEY is not the Key shown on the app's page in Boond")
    payload = _json_object(_b64url_decode(payload_part))
    _check_age(payload, max_age, time.time() if now is None else now)
    return payload


def _split(value) -> tuple[str, str]:
    if not isinstance(value, str) or not value.strip():
        raise BadSignedRequest("no signedRequest was sent (form field or JSON member 'signedRequest')")
    if len(value) > MAX_SIGNED_REQUEST:
        raise BadSignedRequest(f"the signedRequest is longer than {MAX_SIGNED_REQUEST} characters")
    signature_part, dot, payload_part = value.strip().partition(".")
    if not dot or not signature_part or not payload_part or "." in payload_part:
        raise BadSignedRequest("the signedRequest is not of the form <signature>.<payload>")
    if not (_B64URL.fullmatch(signature_part) and _B64URL.fullmatch(payload_part)):
        raise BadSignedRequest("the signedRequest is not base64url text")
    return signature_part, payload_part


def _json_object(raw: bytes) -> dict:
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadSignedRequest("the signedRequest payload is not JSON") from None
    if not isinstance(payload, dict):
        raise BadSignedRequest("the signedRequest payload is not a JSON object")
    return payload


def claim_once(value: str, max_age: int) -> None:
    """Accept a (verified) signedRequest once: a second use within its max age (24 h when it carries no time, as no
    age bounds it then) is a replay (BadSignedRequest). Only a hash of its signature is kept."""
    from config.infra.redis_conn import get_redis

    signature_part, _, payload_part = value.strip().partition(".")
    undated = issued_at(_json_object(_b64url_decode(payload_part))) is None
    key = keys.signed_request_seen("boond", hashlib.sha256(signature_part.rstrip("=").encode()).hexdigest())
    if not get_redis().set(key, 1, nx=True, ex=UNDATED_REPLAY_WINDOW if undated else max_age + FUTURE_SKEW):
        raise BadSignedRequest("this signedRequest was already used: open Intermission from Boond again")


def issued_at(payload: dict) -> float | None:
    """When the signedRequest was signed, as Unix seconds: `issued_at` (`issuedAt` in pyboondmanager) in seconds,
    milliseconds, digits or ISO text (no offset: Europe/Paris, Boond's zone). None when absent (BadSignedRequest when
    unreadable): Boond's sample app adds it, no public source says Boond's own servers do, nor in which unit."""
    value = payload.get("issued_at", payload.get("issuedAt"))
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value):
        value = float(value)
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadSignedRequest("the signedRequest's issued_at is not a Unix time nor an ISO date") from None
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=BOOND_ZONE)).timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadSignedRequest("the signedRequest's issued_at is not a Unix time nor an ISO date")
    return value / 1000 if value > MILLISECONDS_FROM else float(value)


def _check_age(payload: dict, max_age: int | None, now: float) -> None:
    if max_age is None:
        return
    issued = issued_at(payload)
    if issued is None:  # accepted; `claim_once` refuses its replay for UNDATED_REPLAY_WINDOW
        return
    if issued > now + FUTURE_SKEW:
        raise BadSignedRequest("the signedRequest is dated in the future: check this server's clock")
    if now - issued > max_age:
        raise BadSignedRequest(f"the signedRequest is too old ({int(now - issued)} s, the limit is {max_age} s): "
                               "open the page from Boond again")


class _RefreshClient(BoondClient):
    """A BoondClient whose only header is the refresh JWT given per call."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(base_url, credentials=None, **kwargs)

    def auth_headers(self) -> dict[str, str]:
        return {}


class RefreshedTokens(NamedTuple):
    """A refreshed marketplace token pair and when the app token expires (None: not said)."""

    app_token: str
    refresh_token: str
    expires_at: float | None


def refresh_app_token(base_url: str, app_token: str, refresh_token: str, *, app_key: str, timeout: float = 10.0,
                      now: float | None = None) -> RefreshedTokens:
    """Exchange a temporary app token for a new one: (app_token, refresh_token, expires_at or None).

    ASSUMPTION (reference/boond-api.md §2.2, [UNK]): Boond only says `POST /marketplace/refresh-token` uses
    the `x-JWT-App-Refresh` scheme. Following the naming of the other schemes (x-JWT-App →
    `X-Jwt-App-Boondmanager`), we send an empty POST with header `X-Jwt-App-Refresh-Boondmanager`: an HS256
    JWT signed with the appKey, claims {"appToken", "refreshToken", "time", "mode": "normal"}; and we read
    `appToken`, `refreshToken`, `expiresIn` (seconds) from `data.attributes` (or `data`, or the top level),
    as /validate sends them. The old appToken stops working. Only this function knows the shape; the
    sandbox implements the same one (docs/SANDBOXES.md).
    """
    stamp = time.time() if now is None else now
    claims = {"appToken": app_token, "refreshToken": refresh_token, "time": int(stamp), "mode": "normal"}
    client = _RefreshClient(base_url, timeout=timeout, max_attempts=1)
    body = client.request("POST", REFRESH_PATH, headers={REFRESH_HEADER: encode_jwt(claims, app_key)}).json()
    fields = _token_fields(body)
    if not fields.get("appToken"):
        raise HostError("refresh-token answer carries no appToken", host="boond", status=200)
    return RefreshedTokens(str(fields["appToken"]), str(fields.get("refreshToken") or refresh_token),
                           expires_at_from(fields.get("expiresIn"), stamp))


def expires_at_from(expires_in, now: float) -> float | None:
    """`expiresIn` seconds (number or digits) as a Unix time; None when absent or unreadable (permanent)."""
    if isinstance(expires_in, bool) or expires_in in (None, ""):
        return None
    try:
        seconds = float(expires_in)
    except (TypeError, ValueError):
        return None
    return now + seconds if seconds > 0 else None


def _token_fields(body) -> dict:
    data = body.get("data") if isinstance(body, dict) else None
    for candidate in ((data or {}).get("attributes") if isinstance(data, dict) else None, data, body):
        if isinstance(candidate, dict) and candidate.get("appToken"):
            return candidate
    return {}
