"""Signed, expiring links (connect Salesforce, admin pages, surveys) made with itsdangerous."""
from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from config.settings import get_settings

__all__ = ["sign", "unsign", "BadSignature", "SignatureExpired"]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    keys = (get_settings().secret_keys or "").split(",")
    from config.crypto import _key_file_keys  # the same source of truth as encryption at rest

    material = [k.strip().encode() for k in keys if k.strip()] or _key_file_keys()
    secrets = [hashlib.sha256(b"intermission-signing:" + k).hexdigest() for k in reversed(material)]
    return URLSafeTimedSerializer(secrets, salt=purpose)  # last key signs, every key verifies


def sign(purpose: str, payload: dict) -> str:
    """A URL-safe token carrying `payload`, bound to `purpose`."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, *, max_age: int) -> dict:
    """The payload of a token made for `purpose` within `max_age` seconds (raises BadSignature otherwise)."""
    return _serializer(purpose).loads(token, max_age=max_age)
