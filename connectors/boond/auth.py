"""Boond's HS256 JWT headers (X-Jwt-App-Boondmanager / X-Jwt-Client-Boondmanager), built per request.

Docs: https://support.boondmanager.com/hc/en-us/articles/360059475192 (authentication methods).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Literal

APP_HEADER = "X-Jwt-App-Boondmanager"
CLIENT_HEADER = "X-Jwt-Client-Boondmanager"


def b64url(raw: bytes) -> str:
    """base64url without padding, as JWT wants it."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def encode_jwt(claims: dict, key: str) -> str:
    """HS256-sign `claims` with `key`."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


@dataclass(frozen=True)
class BoondCredentials:
    """What one tenant's calls are signed with; `mode` picks the app or the client scheme."""

    mode: Literal["app", "client"]
    token: str  # appToken or clientToken
    key: str  # appKey or clientKey
    user_token: str

    def __repr__(self) -> str:  # never print keys
        return f"BoondCredentials(mode={self.mode!r}, token={self.token[:3]}…)"

    def headers(self, now: float | None = None) -> dict[str, str]:
        """A fresh JWT header for one request."""
        claims = {"userToken": self.user_token,
                  ("appToken" if self.mode == "app" else "clientToken"): self.token,
                  "time": int(now if now is not None else time.time()), "mode": "normal"}
        name = APP_HEADER if self.mode == "app" else CLIENT_HEADER
        return {name: encode_jwt(claims, self.key)}
