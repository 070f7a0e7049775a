"""OAuth 2.0 web-server flow with PKCE (auto-consent), refresh with rotation, revoke, identity URL."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, current_app, jsonify, redirect, request

from .errors import OAuthError, invalid_session
from .pipeline import bearer_token, session_user
from .state import CLIENT_ID, CLIENT_SECRET, INTEGRATION_USER, ORG_ID, ORG_ID_15, SandboxState

bp = Blueprint("salesforce_oauth", __name__)

CODE_TTL_SECONDS = 600
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}\Z")
SCOPES = {"api", "refresh_token", "offline_access", "id", "openid", "profile", "email", "web", "full"}
LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
DEAD_TOKEN = "expired access/refresh token"


def sandbox() -> SandboxState:
    """The sandbox state of the running app."""
    return current_app.extensions["salesforce_sandbox"]


def base_url() -> str:
    """This sandbox's base URL (instance URL and login host at once)."""
    return request.url_root.rstrip("/")


def _loopback(uri: str) -> bool:
    """True for an http URL on 127.0.0.1 or localhost (any port, any path)."""
    try:
        parts = urlsplit(uri)
        return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and parts.port != 0
    except ValueError:
        return False


def _page(message: str) -> Response:
    """The 400 page Salesforce shows instead of redirecting (bad client or redirect URI)."""
    html = f"<html><body><h1>OAuth Error</h1><p>{message}</p></body></html>"
    return Response(html, status=400, mimetype="text/html")


def _bounce(redirect_uri: str, state: str | None, **params) -> Response:
    """302 back to the client with query parameters (code, or error and error_description)."""
    if state is not None:
        params["state"] = state
    joiner = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{joiner}{urlencode(params)}", code=302)


def _authorize_error(args) -> tuple[str, str] | None:
    """(error, description) for a bad authorize request, or None."""
    if args.get("response_type") != "code":
        return "unsupported_response_type", "response type not supported"
    if not args.get("code_challenge"):
        return "invalid_request", "missing required code challenge"
    if args.get("code_challenge_method") != "S256":
        return "invalid_request", "code_challenge_method must be S256"
    if not CHALLENGE.match(args["code_challenge"]):
        return "invalid_request", "invalid code challenge"
    if not set(args.get("scope", "api refresh_token").split()) <= SCOPES:
        return "invalid_scope", "the requested scope is not allowed"
    return None


@bp.get("/services/oauth2/authorize")
def authorize():
    """Validate the request, then consent at once: 302 to redirect_uri with a one-time code."""
    args, uri = request.args, request.args.get("redirect_uri", "")
    if args.get("client_id") != CLIENT_ID:
        return _page("error=invalid_client_id&error_description=client identifier invalid")
    if not _loopback(uri):
        return _page("error=redirect_uri_mismatch&error_description=redirect_uri must match configuration")
    problem = _authorize_error(args)
    if problem:
        return _bounce(uri, args.get("state"), error=problem[0], error_description=problem[1])
    code = "aPrx" + secrets.token_urlsafe(48)
    with sandbox().lock:
        sandbox().codes[code] = {"redirect_uri": uri, "challenge": args["code_challenge"], "used": False,
                                 "scope": args.get("scope", "api refresh_token"),
                                 "expires_at": time.time() + CODE_TTL_SECONDS}
    return _bounce(uri, args.get("state"), code=code)


def _client() -> None:
    """Check client_id and client_secret (form fields or HTTP Basic)."""
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if request.authorization and request.authorization.type == "basic":
        client_id, secret = request.authorization.username, request.authorization.password
    if client_id != CLIENT_ID:
        raise OAuthError("invalid_client_id", "client identifier invalid")
    if not secret or not hmac.compare_digest(secret, CLIENT_SECRET):
        raise OAuthError("invalid_client", "invalid client credentials")


def _issue(state: SandboxState, grant: str, scope: str, refresh: str | None) -> dict:
    """A token response; stores the new access token (and refresh token when given)."""
    access = f"{ORG_ID_15}!AQ" + secrets.token_urlsafe(72)
    issued_at = str(int(time.time() * 1000))
    identity = f"{base_url()}/id/{ORG_ID}/{INTEGRATION_USER}"
    signature = base64.b64encode(hmac.new(CLIENT_SECRET.encode(), (identity + issued_at).encode(),
                                          hashlib.sha256).digest()).decode()
    with state.lock:
        state.access_tokens[access] = {"grant": grant, "user": INTEGRATION_USER, "revoked": False,
                                       "expires_at": time.time() + state.config.access_token_ttl_seconds}
        if refresh:
            state.refresh_tokens[refresh] = {"grant": grant, "active": True, "scope": scope}
    body = {"access_token": access, "refresh_token": refresh, "signature": signature, "scope": scope,
            "instance_url": base_url(), "id": identity, "token_type": "Bearer", "issued_at": issued_at}
    return {k: v for k, v in body.items() if v is not None}


def _new_refresh(scope: str) -> str | None:
    """A refresh token when the scope allows one."""
    wanted = set(scope.split())
    return "5Aep" + secrets.token_urlsafe(64) if wanted & {"refresh_token", "offline_access"} else None


def _verifier_ok(verifier: str, challenge: str) -> bool:
    """PKCE S256: base64url(sha256(verifier)) without padding equals the challenge."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return hmac.compare_digest(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), challenge)


def _code_grant(state: SandboxState) -> dict:
    """grant_type=authorization_code: the code is single-use, bound to redirect_uri and the PKCE challenge."""
    form = request.form
    with state.lock:
        entry = state.codes.get(form.get("code", ""))
        if entry is None or entry["used"]:
            raise OAuthError("invalid_grant", "invalid authorization code")
        entry["used"] = True
    if entry["expires_at"] <= time.time():
        raise OAuthError("invalid_grant", "expired authorization code")
    if form.get("redirect_uri") != entry["redirect_uri"]:
        raise OAuthError("redirect_uri_mismatch", "redirect_uri must match configuration")
    if not _verifier_ok(form.get("code_verifier", ""), entry["challenge"]):
        raise OAuthError("invalid_grant", "invalid code verifier")
    return _issue(state, secrets.token_hex(8), entry["scope"], _new_refresh(entry["scope"]))


def _refresh_grant(state: SandboxState) -> dict:
    """grant_type=refresh_token: with rotation a new refresh token replaces the old one at once."""
    with state.lock:
        entry = state.refresh_tokens.get(request.form.get("refresh_token", ""))
        if entry is None or not entry["active"]:
            raise OAuthError("invalid_grant", DEAD_TOKEN)
        rotate = state.config.rotate_refresh_tokens
        if rotate:
            entry["active"] = False
    return _issue(state, entry["grant"], entry["scope"], _new_refresh(entry["scope"]) if rotate else None)


@bp.post("/services/oauth2/token")
def token():
    """Token endpoint (form-encoded): authorization_code or refresh_token."""
    grant_type, state = request.form.get("grant_type"), sandbox()
    if grant_type not in ("authorization_code", "refresh_token"):
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    with state.lock:
        state.token_grants[grant_type] = state.token_grants.get(grant_type, 0) + 1
    _client()
    body = _code_grant(state) if grant_type == "authorization_code" else _refresh_grant(state)
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def revoke_grant(state: SandboxState, grant: str) -> None:
    """Kill every refresh and access token of one grant."""
    with state.lock:
        for entry in state.refresh_tokens.values():
            if entry["grant"] == grant:
                entry["active"] = False
        for entry in state.access_tokens.values():
            if entry["grant"] == grant:
                entry["revoked"] = True


@bp.post("/services/oauth2/revoke")
def revoke():
    """Revoke a refresh token (and its grant's access tokens) or a single access token."""
    value, state = request.form.get("token", ""), sandbox()
    with state.lock:
        refresh, access = state.refresh_tokens.get(value), state.access_tokens.get(value)
        if refresh is not None and refresh["active"]:
            revoke_grant(state, refresh["grant"])
        elif access is not None and not access["revoked"]:
            access["revoked"] = True
        else:
            raise OAuthError("invalid_token", "invalid token")
    return Response(status=200)


@bp.get("/id/<org_id>/<user_id>")
def identity(org_id, user_id):
    """The identity URL: who the token belongs to (Bearer token required)."""
    user = session_user(sandbox(), bearer_token())
    if user is None or org_id not in (ORG_ID, ORG_ID_15) or user_id[:15] != user[:15]:
        raise invalid_session()
    with sandbox().lock:
        rec = sandbox().table("User")[user]
    return jsonify({"id": f"{base_url()}/id/{ORG_ID}/{user}", "user_id": user, "organization_id": ORG_ID,
                    "username": rec["Username"], "display_name": rec["Name"], "email": rec["Email"],
                    "active": True, "user_type": "STANDARD", "timezone": rec["TimeZoneSidKey"],
                    "urls": {"rest": f"{base_url()}/services/data/v{{version}}/"}})
