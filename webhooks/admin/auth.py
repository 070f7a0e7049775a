"""Who may see a tenant's admin pages: a signed, expiring admin token carried in links and forms.

No cookie is used, so the pages work inside the host's iframe (third-party cookies are blocked there) and a
cross-site form post carries no ambient credential; every form also carries a CSRF token bound to the admin token.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from flask import abort, g, request

from config import tenants
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
    return sign("admin", {"tenant": tenant_id, "via": via, "e": tenant.auth_epoch if tenant else 0})


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
    if tenant is None or tenant.status == "uninstalled" or payload.get("e", 0) != tenant.auth_epoch:
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
