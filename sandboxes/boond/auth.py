"""Verification of Boond's HS256 JWT headers (X-Jwt-App-Boondmanager, X-Jwt-Client-Boondmanager)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from . import app_tokens
from .envelope import BoondError
from .state import APPS, CLIENTS, USERS, SandboxState

APP_HEADER = "X-Jwt-App-Boondmanager"
CLIENT_HEADER = "X-Jwt-Client-Boondmanager"
SIGNATURE_FAILED = "Signature verification failed"


@dataclass(frozen=True)
class Identity:
    """Who is calling: the user (and its resource) and the tenant's clientToken."""

    user_token: str
    resource_id: str
    client_token: str
    mode: str  # "app" or "client"


def b64url_decode(part: str) -> bytes:
    """Decode base64url with or without padding."""
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64url(raw: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unverified_claims(token: str) -> dict | None:
    """The payload of a JWT without checking it (for rate-limit accounting only)."""
    try:
        claims = json.loads(b64url_decode(token.split(".")[1]))
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def signature_ok(token: str, key: str) -> bool:
    """True when the token is header.payload.signature, HS256, signed with key."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    header_part, payload_part, signature = parts
    try:
        header = json.loads(b64url_decode(header_part))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return False
    expected = b64url(hmac.new(key.encode(), f"{header_part}.{payload_part}".encode(),
                               hashlib.sha256).digest())
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def _tenant_of(claims: dict, mode: str) -> tuple[str, str] | None:
    """(signing key, clientToken) for the token named in the claims, or None."""
    if mode == "app":
        app = APPS.get(str(claims.get("appToken")))
        return app if app else None
    key = CLIENTS.get(str(claims.get("clientToken")))
    return (key, str(claims.get("clientToken"))) if key else None


def _fresh(claims: dict, max_age: int | None) -> bool:
    """True when the `time` claim is within max_age seconds of now (or unchecked)."""
    if max_age is None:
        return True
    stamp = claims.get("time")
    if not isinstance(stamp, (int, float)) or isinstance(stamp, bool):
        return False
    return abs(time.time() - stamp) <= max_age


def verify(token: str, mode: str, state: SandboxState) -> Identity:
    """Check one JWT; raise the 422 Boond answers for any problem."""
    parameter = "xJwtApp" if mode == "app" else "xJwtClient"
    failed = BoondError(422, SIGNATURE_FAILED, code="0", parameter=parameter)
    claims = unverified_claims(token)
    tenant = _tenant_of(claims, mode) if claims else None
    issued = app_tokens.lookup(state, str(claims.get("appToken"))) if claims and mode == "app" else None
    if tenant is None and issued is not None:  # a token issued by a marketplace install
        tenant = (state.config.marketplace_app_key, issued["client_token"])
    if tenant is None or not signature_ok(token, tenant[0]):
        raise failed
    if issued is not None:
        app_tokens.check_live(issued)
    resource_id = USERS.get(str(claims.get("userToken")))
    if resource_id is None or not _fresh(claims, state.config.jwt_max_age_seconds):
        raise failed
    return Identity(str(claims["userToken"]), resource_id, tenant[1], mode)


def authenticate(headers, state: SandboxState) -> Identity:
    """The caller's identity, or the BoondError Boond would answer."""
    if headers.get(APP_HEADER):
        return verify(headers[APP_HEADER].strip(), "app", state)
    if headers.get(CLIENT_HEADER):
        return verify(headers[CLIENT_HEADER].strip(), "client", state)
    if headers.get("Authorization", "").lower().startswith("bearer"):
        raise BoondError(422, SIGNATURE_FAILED, code="0", parameter="xJwtClient")
    raise BoondError(401, "Not logged in")


def rate_key(headers, remote_addr: str | None) -> str:
    """The clientToken a request is billed to (from the unverified JWT), else the caller's address."""
    for header, mode in ((APP_HEADER, "app"), (CLIENT_HEADER, "client")):
        claims = unverified_claims(headers.get(header, "")) if headers.get(header) else None
        if claims:
            tenant = _tenant_of(claims, mode)
            if tenant:
                return tenant[1]
            token = claims.get("appToken" if mode == "app" else "clientToken")
            return f"unknown:{token}"
    return f"anonymous:{remote_addr}"
