"""Salesforce OAuth 2.0 web-server flow with PKCE (through authlib), login hosts and org ids.

Flow: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_web_server_flow.htm
Refresh: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_refresh_token_flow.htm
Revoke: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_revoke_token.htm
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Literal
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from connectors.errors import (HostAuthError, HostConsentRequired, HostError, HostRateLimited, HostUnavailable,
                               HostValidationError)
from connectors.http import retry_after_seconds

log = logging.getLogger(__name__)

HOST = "salesforce"
SCOPE = "api refresh_token"
AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
REVOKE_PATH = "/services/oauth2/revoke"
LOGIN_HOSTS = {"production": "https://login.salesforce.com", "sandbox": "https://test.salesforce.com"}
_LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_MY_DOMAIN_HOST = re.compile(
    rf"{_LABEL}(?:--{_LABEL})?(?:\.(?:sandbox|develop|scratch|demo|patch|trailblaze))?\.my\.salesforce\.com\Z")
_MY_DOMAIN_NAME = re.compile(rf"({_LABEL})(--{_LABEL})?\Z")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# where an org's API may live [INF]: My Domains, instances, Government Cloud, Hyperforce and the China partner
INSTANCE_DOMAINS = ("salesforce.com", "force.com", "cloudforce.com", "salesforce.mil", "crmforce.mil",
                    "sfcrmproducts.cn")
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?\Z")
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_AUTH_ERRORS = {"invalid_client", "unauthorized_client", "access_denied", "inactive_user", "inactive_org"}


class ConsentRequired(HostConsentRequired):
    """invalid_grant: the code or refresh token is dead (expired, revoked, rotated); the tenant must connect again."""


@dataclass(frozen=True)
class TokenSet:
    """One token answer. `refresh_token` is None when the answer carried none (rotation off):
    the caller must then keep the refresh token it already has; when rotation is on it must
    store the new one at once, the old one is dead."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    instance_url: str
    org_id: str  # 18 chars
    user_id: str  # 18 chars
    issued_at: datetime
    scope: str

    @classmethod
    def from_response(cls, body: dict) -> TokenSet:
        """Parse `{access_token, refresh_token?, instance_url, id, issued_at, scope, …}`."""
        try:
            access_token, instance_url, identity = body["access_token"], body["instance_url"], body["id"]
        except KeyError as missing:
            raise HostError(f"token answer lacks {missing}", host=HOST) from None
        org_id, user_id = _identity_ids(identity)
        return cls(access_token=access_token, refresh_token=body.get("refresh_token") or None,
                   instance_url=checked_instance_url(instance_url), org_id=org_id, user_id=user_id,
                   issued_at=_issued_at(body.get("issued_at")), scope=body.get("scope") or "")


# --- login hosts -------------------------------------------------------------------------------
def login_host(kind: Literal["production", "sandbox", "mydomain"], my_domain: str | None = None, *,
               login_url: str | None = None) -> str:
    """The base URL to log in at: login/test.salesforce.com, a My Domain, or a loopback override (tests)."""
    if login_url:
        return loopback_url(login_url)
    if kind in LOGIN_HOSTS:
        return LOGIN_HOSTS[kind]
    if kind != "mydomain":
        raise ValueError(f"login kind is production, sandbox or mydomain, not {kind!r}")
    return "https://" + my_domain_host(my_domain or "")


def my_domain_host(value: str) -> str:
    """`acme` → acme.my.salesforce.com; `acme--uat` → acme--uat.sandbox.my.salesforce.com; full hosts checked."""
    name = value.strip().lower().removeprefix("https://").rstrip("/")
    if "." in name:
        if _MY_DOMAIN_HOST.match(name) and all(len(label) <= 63 for label in name.split(".")):
            return name
        raise ValueError(f"not a My Domain host (…my.salesforce.com): {value!r}")
    found = _MY_DOMAIN_NAME.match(name)
    if not found or len(name) > 63:
        raise ValueError(f"a My Domain name has letters, digits and hyphens (name--sandbox): {value!r}")
    return f"{name}.sandbox.my.salesforce.com" if found.group(2) else f"{name}.my.salesforce.com"


def loopback_url(url: str) -> str:
    """Accept `http(s)://127.0.0.1:port` (or localhost) as a login base, for tests and the sandbox only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or parts.hostname not in _LOOPBACK or parts.path.strip("/"):
        raise ValueError(f"a login_url override must be a loopback base like http://127.0.0.1:8001: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def checked_instance_url(value) -> str:
    """The token answer's `instance_url`, accepted only as https on Salesforce's own domains: the access token goes there.

    A loopback http URL (the local sandbox) only with INTERMISSION_ALLOW_SANDBOX_HOSTS=true."""
    from config.settings import get_settings

    try:
        parts = urlsplit(value.strip()) if isinstance(value, str) else None
        host = (parts.hostname or "") if parts else ""
    except ValueError:
        parts, host = None, ""
    if parts and not parts.path.strip("/") and not parts.query and not parts.username and not parts.password:
        if parts.scheme == "https" and any(host.endswith("." + d) for d in INSTANCE_DOMAINS):
            return checked_login_url(f"https://{parts.netloc.lower()}")  # and where the name resolves
        if get_settings().allow_sandbox_hosts and parts.scheme in ("http", "https") and host in _LOOPBACK:
            return f"{parts.scheme}://{parts.netloc}"
    raise HostError(f"the token answer's instance_url {str(value)[:120]!r} is not an https URL on a Salesforce "
                    f"domain ({', '.join(INSTANCE_DOMAINS)}); nothing was stored. For the local sandbox, set "
                    "INTERMISSION_ALLOW_SANDBOX_HOSTS=true", host=HOST)


# --- the flow ----------------------------------------------------------------------------------
def new_code_verifier() -> str:
    """A fresh PKCE code verifier (64 random characters)."""
    return generate_token(64)


def authorization_url(login_url: str, client_id: str, redirect_uri: str, *, state: str, code_verifier: str) -> str:
    """The URL to send the admin to: response_type=code, S256 code_challenge, state, scope "api refresh_token"."""
    if not state or not 43 <= len(code_verifier) <= 128:
        raise ValueError("authorization needs a state and a 43–128 character code verifier")
    with _session(client_id, redirect_uri=redirect_uri) as session:
        url, _ = session.create_authorization_url(login_url + AUTHORIZE_PATH, state=state,
                                                  code_verifier=code_verifier, scope=SCOPE)
    return url


def exchange_code(login_url: str, client_id: str, client_secret: str, *, redirect_uri: str, code: str,
                  code_verifier: str, timeout: float = 10.0) -> TokenSet:
    """POST /services/oauth2/token grant_type=authorization_code with the PKCE code_verifier."""
    def fetch(session: OAuth2Session, url: str) -> None:
        session.fetch_token(url, grant_type="authorization_code", code=code, code_verifier=code_verifier,
                            redirect_uri=redirect_uri)
    return TokenSet.from_response(_token_call(login_url, client_id, client_secret, fetch, timeout=timeout))


def refresh(login_url: str, client_id: str, client_secret: str, *, refresh_token: str,
            timeout: float = 10.0) -> TokenSet:
    """POST /services/oauth2/token grant_type=refresh_token; `.refresh_token` is set only when rotated."""
    def fetch(session: OAuth2Session, url: str) -> None:
        session.refresh_token(url, refresh_token=refresh_token)
    return TokenSet.from_response(_token_call(login_url, client_id, client_secret, fetch, timeout=timeout))


def revoke(login_url: str, token: str, *, timeout: float = 10.0) -> None:
    """POST /services/oauth2/revoke token=…; a refresh token takes its access tokens with it.

    A token Salesforce already considers invalid counts as revoked (disconnect is idempotent)."""
    login_url = checked_login_url(login_url)
    with OAuth2Session(default_timeout=timeout) as session:
        try:
            response = session.revoke_token(login_url + REVOKE_PATH, token=token, auth=_no_client_auth)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise HostUnavailable(f"{type(exc).__name__} on revoke", host=HOST) from None
    if response.status_code == 400 and _json(response).get("error") in ("invalid_token", "unsupported_token_type"):
        log.info("salesforce revoke: token already invalid")
        return
    _raise_for_token_error(response)


# --- org ids -----------------------------------------------------------------------------------
def org_id_18(value: str) -> str:
    """The 18-character case-safe form of a 15- or 18-character Salesforce id (any record id works).

    An 18-character id is returned as given: its suffix is only checked to be in the checksum alphabet."""
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"a Salesforce id is 15 or 18 letters and digits: {value!r}")
    if len(value) == 18:
        if any(ch not in _CHECKSUM for ch in value[15:]):
            raise ValueError(f"the last 3 characters of an 18-character id are A-Z or 0-5: {value!r}")
        return value
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(value[start:start + 5]) if "A" <= ch <= "Z")
        suffix += _CHECKSUM[bits]
    return value + suffix


def same_org(a: str, b: str) -> bool:
    """True when two org ids (15 or 18 chars) name the same org; anything malformed is not the same."""
    try:
        return org_id_18(a)[:15] == org_id_18(b)[:15]
    except ValueError:
        return False


# --- helpers -----------------------------------------------------------------------------------
def checked_login_url(login_url: str) -> str:
    """The tenant's login address, or a HostError saying why no secret is sent there (config/infra/urls.py)."""
    from config.infra.urls import BadHostUrl, checked_host_url

    try:
        return checked_host_url(login_url, ("the Salesforce login address", "l'adresse de connexion Salesforce"))
    except BadHostUrl as exc:
        raise HostError(str(exc), host=HOST) from exc  # the cause says it in the admin's language


def _session(client_id: str | None = None, client_secret: str | None = None, *, redirect_uri: str | None = None,
             timeout: float = 10.0) -> OAuth2Session:
    return OAuth2Session(client_id, client_secret, token_endpoint_auth_method="client_secret_post",
                         redirect_uri=redirect_uri, code_challenge_method="S256", default_timeout=timeout)


def _token_call(login_url: str, client_id: str, client_secret: str,
                fetch: Callable[[OAuth2Session, str], None], *, timeout: float) -> dict:
    """Run one token-endpoint call; returns the raw JSON answer (authlib fills in fields we must not trust)."""
    login_url = checked_login_url(login_url)  # the client secret and the code go there
    raw: dict = {}

    def check(response: requests.Response) -> requests.Response:
        _raise_for_token_error(response)
        raw.update(_json(response))
        if not raw:
            raise HostError("token answer is not a JSON object", host=HOST, status=response.status_code)
        return response

    with _session(client_id, client_secret, timeout=timeout) as session:
        session.register_compliance_hook("access_token_response", check)
        session.register_compliance_hook("refresh_token_response", check)
        try:
            fetch(session, login_url + TOKEN_PATH)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise HostUnavailable(f"{type(exc).__name__} on token", host=HOST) from None
    return raw


def _raise_for_token_error(response: requests.Response) -> None:
    """Map a token/revoke answer to the hierarchy; returns quietly on success."""
    status = response.status_code
    if status >= 500:
        raise HostUnavailable(f"server error on {urlsplit(response.url).path}", host=HOST, status=status)
    if status == 429:
        raise HostRateLimited("rate limited", host=HOST, status=429, retry_after=retry_after_seconds(response))
    if status < 400:
        return
    body = _json(response)
    error = body.get("error") or None
    kwargs = dict(host=HOST, status=status, code=error)
    message = body.get("error_description") or error or response.reason or "error"
    if error == "invalid_grant":
        raise ConsentRequired(message, **kwargs)
    if error in _AUTH_ERRORS or status in (401, 403):
        raise HostAuthError(message, **kwargs)
    raise HostValidationError(message, **kwargs)


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _no_client_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request  # Salesforce's revoke wants only `token=`


def _identity_ids(identity: str) -> tuple[str, str]:
    """`https://login.salesforce.com/id/<orgId>/<userId>` → both ids in 18 characters."""
    parts = urlsplit(identity).path.rstrip("/").split("/")
    try:
        if len(parts) < 3 or parts[-3] != "id":
            raise ValueError(identity)
        return org_id_18(parts[-2]), org_id_18(parts[-1])
    except ValueError:
        raise HostError(f"unexpected identity URL {identity!r}", host=HOST) from None


def _issued_at(value) -> datetime:
    """Salesforce's `issued_at` (epoch milliseconds, as a string) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(timezone.utc)
