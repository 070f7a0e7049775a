"""Signed, expiring links (connect Salesforce, admin pages, surveys) made with itsdangerous."""
from __future__ import annotations

from typing import NamedTuple

import hashlib

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from config.settings import get_settings

__all__ = ["sign", "unsign", "sign_at", "signed_with", "BadSignature", "SignatureExpired"]


def _secrets() -> list[str]:
    """The signing secrets, oldest first (the last one signs)."""
    keys = (get_settings().secret_keys or "").split(",")
    from config.infra.crypto import _key_file_keys  # the same source of truth as encryption at rest

    material = [k.strip().encode() for k in keys if k.strip()] or _key_file_keys()
    return [hashlib.sha256(b"intermission-signing:" + k).hexdigest() for k in reversed(material)]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_secrets(), salt=purpose)  # last key signs, every key verifies


def _key_id(secret: str) -> str:
    """A short name of one signing secret (what a stored token seed keeps instead of the token)."""
    return hashlib.sha256(b"key-id:" + secret.encode()).hexdigest()[:6]


def sign(purpose: str, payload: dict) -> str:
    """A URL-safe token carrying `payload`, bound to `purpose`."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, *, max_age: int) -> dict:
    """The payload of a token made for `purpose` within `max_age` seconds (raises BadSignature otherwise)."""
    return _serializer(purpose).loads(token, max_age=max_age)


def sign_at(purpose: str, payload: dict, timestamp: int, *, key_id: str = "") -> str:
    """The token `sign` made at `timestamp` with the key named `key_id` (the newest key when it is gone)."""
    secrets = _secrets()
    secret = next((s for s in secrets if _key_id(s) == key_id), secrets[-1])
    signer = type("_SignedAt", (TimestampSigner,), {"get_timestamp": lambda self: timestamp})
    return URLSafeTimedSerializer(secret, salt=purpose, signer=signer).dumps(payload)


class Signed(NamedTuple):
    """What a token of ours carries: its payload, when it was signed (epoch seconds) and with which key."""

    payload: dict
    stamp: int
    key_id: str


def signed_with(purpose: str, token: str) -> Signed | None:
    """(payload, timestamp, key id) of a token of ours that `sign_at` makes again byte for byte, else None."""
    for secret in reversed(_secrets()):
        try:
            payload, when = URLSafeTimedSerializer(secret, salt=purpose).loads(token, return_timestamp=True)
        except BadSignature:
            continue
        stamp = int(when.timestamp())
        if sign_at(purpose, payload, stamp, key_id=_key_id(secret)) == token:
            return Signed(payload, stamp, _key_id(secret))
        return None
    return None
