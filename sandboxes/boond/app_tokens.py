"""Marketplace app tokens the sandbox issues at install and validate (permanent or temporary, with refresh),
and the signedRequests it sends to an app, built like Boond's sample app does.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from .envelope import BoondError
from .state import CLIENT_TOKEN, SandboxState, now_text


def sign_request(payload: dict, key: str) -> str:
    """A signedRequest as wishgroupe/app_hello `tools.php::signedRequest_encode` builds it (padding kept)."""
    # base64url(hex HMAC-SHA256 of the base64url payload text) + "." + base64url(json), with `issued_at` added
    text = json.dumps({**payload, "issued_at": int(time.time())}, ensure_ascii=False)
    part = base64.urlsafe_b64encode(text.encode()).decode("ascii")
    signature = hmac.new(key.encode(), part.encode("ascii"), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(signature.encode()).decode("ascii") + "." + part


def issue(state: SandboxState, client_token: str = CLIENT_TOKEN) -> dict:
    """A fresh appToken (+ refreshToken, createdAt, expiresIn when tokens are temporary), as install sends it."""
    with state.lock:
        ttl = state.config.app_token_ttl_seconds
        token = "sbx-app-" + secrets.token_hex(12)
        record = {"client_token": client_token, "expires_at": time.time() + ttl if ttl else None,
                  "refresh_token": "sbx-refresh-" + secrets.token_hex(12) if ttl else None}
        state.app_tokens[token] = record
        if record["refresh_token"]:
            state.refresh_tokens[record["refresh_token"]] = token
    sent = {"appToken": token}
    if ttl:
        sent.update(refreshToken=record["refresh_token"], createdAt=now_text(), expiresIn=ttl)
    return sent


def revoke(state: SandboxState, app_token: str) -> None:
    """The token (and its refresh token) stop working."""
    with state.lock:
        record = state.app_tokens.pop(app_token, None)
        if record and record["refresh_token"]:
            state.refresh_tokens.pop(record["refresh_token"], None)


def revoke_client(state: SandboxState, client_token: str = CLIENT_TOKEN) -> int:
    """Every marketplace token of a customer stops working (uninstall, validate); how many there were."""
    with state.lock:
        tokens = [t for t, rec in state.app_tokens.items() if rec["client_token"] == client_token]
    for token in tokens:
        revoke(state, token)
    return len(tokens)


def expire_all(state: SandboxState) -> int:
    """Every temporary token expires now (their refresh tokens keep working)."""
    with state.lock:
        live = [rec for rec in state.app_tokens.values() if rec["expires_at"] is not None]
        for rec in live:
            rec["expires_at"] = time.time() - 1
        return len(live)


def lookup(state: SandboxState, app_token: str) -> dict | None:
    """The record of a marketplace token (expired or not), or None."""
    with state.lock:
        record = state.app_tokens.get(app_token)
        return dict(record) if record else None


def check_live(record: dict) -> None:
    """401 when a temporary token has expired (ASSUMPTION: Boond's exact answer is unknown)."""
    if record["expires_at"] is not None and record["expires_at"] <= time.time():
        raise BoondError(401, "Expired token", parameter="xJwtApp")


def refresh(state: SandboxState, app_token: str, refresh_token: str) -> dict:
    """Swap a (token, refresh token) pair for a new one; the old appToken stops working."""
    with state.lock:
        if state.refresh_tokens.get(refresh_token) != app_token:
            raise BoondError(401, "Invalid refresh token", parameter="xJwtAppRefresh")
        client_token = state.app_tokens[app_token]["client_token"]
    revoke(state, app_token)
    return issue(state, client_token)


def live_tokens(state: SandboxState) -> list[dict]:
    """Every marketplace token with its expiry (control inspection)."""
    now = time.time()
    with state.lock:
        return [{"appToken": t, "clientToken": r["client_token"], "temporary": r["expires_at"] is not None,
                 "expired": r["expires_at"] is not None and r["expires_at"] <= now}
                for t, r in state.app_tokens.items()]
