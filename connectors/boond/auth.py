"""Boond's HS256 JWT headers (X-Jwt-App-Boondmanager / X-Jwt-Client-Boondmanager), built per request.

Docs: https://support.boondmanager.com/hc/en-us/articles/360059475192 (authentication methods).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import OctKey

from connectors.errors import HostAuthError

APP_HEADER = "X-Jwt-App-Boondmanager"
CLIENT_HEADER = "X-Jwt-Client-Boondmanager"


HEADER = {"typ": "JWT", "alg": "HS256"}
# The key is the host's (Boond's app or client key): its length is not ours to choose, so joserfc's advice is muted.
warnings.filterwarnings("ignore", message="Key size should be", category=SecurityWarning)


def encode_jwt(claims: dict, key: str) -> str:
    """HS256-sign `claims` with `key` (joserfc: compact JSON, the header as above)."""
    if not key:
        raise HostAuthError("the Boond key is empty: set the tenant's app or client key (intermission tenant show)",
                            host="boond")
    return jwt.encode(HEADER, claims, _oct_key(key))


@lru_cache(maxsize=256)
def _oct_key(key: str) -> OctKey:
    """The key as joserfc wants it, made once per key and process."""
    return OctKey.import_key(key)


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
        """A fresh JWT header for one request (its claims carry the second it was made in)."""
        name = APP_HEADER if self.mode == "app" else CLIENT_HEADER
        return {name: _signed(self, int(now if now is not None else time.time()))}


@lru_cache(maxsize=64)
def _signed(credentials: BoondCredentials, second: int) -> str:
    """The JWT of `credentials` at `second`, signed once: HS256 over the same claims gives the same token, so the
    calls made within one second (a round's creates) share it instead of each signing it again."""
    claims = {"userToken": credentials.user_token,
              ("appToken" if credentials.mode == "app" else "clientToken"): credentials.token,
              "time": second, "mode": "normal"}
    return encode_jwt(claims, credentials.key)
