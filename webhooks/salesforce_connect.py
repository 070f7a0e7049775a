"""Connecting a tenant's Salesforce org: OAuth web-server flow with PKCE, callback, disconnect."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets

from flask import Blueprint, redirect, render_template_string, request, url_for

from config import crypto, tenants
from config.redis_conn import get_redis
from config.signing import BadSignature, sign, unsign
from connectors.errors import HostError
from connectors.salesforce import ids, oauth, prefixes
from handlers import backfill, holds
from handlers.hosts.salesforce import tokens_for

bp = Blueprint("salesforce_connect", __name__)
log = logging.getLogger(__name__)
LINK_MAX_AGE = 7 * 24 * 3600
STATE_TTL = 600

PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Intermission</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#176a2f}.ko{color:#a11}</style></head>
<body><h1 class="{{ 'ok' if ok else 'ko' }}">{{ title }}</h1><p>{{ message }}</p>
{% if admin_url %}<p><a id="admin-link" href="{{ admin_url }}">Open the Intermission admin page / Ouvrir l'administration</a></p>{% endif %}
</body></html>"""


def connect_link(tenant_id: str, base_url: str) -> str:
    """The signed link an admin opens to connect (or reconnect) the tenant's org."""
    return f"{base_url.rstrip('/')}/salesforce/connect?t={sign('sf-connect', {'tenant': tenant_id})}"


def _page(status: int, title: str, message: str, ok: bool = False, admin_url: str | None = None):
    return render_template_string(PAGE, title=title, message=message, ok=ok, lang="en", admin_url=admin_url), status


def _tenant_from_link(token: str | None) -> tenants.Tenant | None:
    try:
        tenant_id = unsign("sf-connect", token or "", max_age=LINK_MAX_AGE)["tenant"]
    except (BadSignature, KeyError, TypeError):
        return None
    tenant = tenants.get(tenant_id)
    return tenant if tenant and tenant.host == "salesforce" else None


def _state_key(state: str) -> str:
    """Where a flow under way waits for its callback: keyed by a digest, so Redis holds no usable state."""
    return "im:oauth:state:" + hashlib.sha256(state.encode()).hexdigest()


@bp.get("/salesforce/connect")
def connect():
    """Start the flow: remember state and PKCE verifier, send the admin to Salesforce's consent page."""
    tenant = _tenant_from_link(request.args.get("t"))
    if tenant is None:
        return _page(404, "Link not valid", "This connection link is unknown, altered or expired. "
                                            "Ask for a new one (`intermission tenant connect-url ID`).")
    state, verifier = secrets.token_urlsafe(24), oauth.new_code_verifier()
    redirect_uri = url_for(".callback", _external=True)
    flow = json.dumps({"tenant": tenant.id, "verifier": verifier, "redirect_uri": redirect_uri}).encode()
    get_redis().set(_state_key(state), crypto.encrypt(flow), ex=STATE_TTL)  # the PKCE verifier is a secret
    cfg = tenant.salesforce
    return redirect(oauth.authorization_url(cfg.login_url, cfg.client_id, redirect_uri, state=state,
                                            code_verifier=verifier))


@bp.get("/salesforce/callback")
def callback():
    """Finish the flow: exchange the code, check the org, store tokens, resume held work."""
    raw = get_redis().getdel(_state_key(request.args.get("state", "")))
    if raw is None:
        return _page(400, "Connection expired", "This sign-in took too long or was already used. Start again from the connect link.")
    if request.args.get("error"):
        return _page(400, "Salesforce refused the connection", request.args.get("error_description") or request.args["error"])
    flow = json.loads(crypto.decrypt(raw))
    tenant = tenants.get(flow["tenant"])
    if tenant is None:
        return _page(404, "Tenant removed", "This tenant no longer exists.")
    cfg = tenant.salesforce
    try:
        token_set = oauth.exchange_code(cfg.login_url, cfg.client_id, cfg.client_secret,
                                        redirect_uri=flow["redirect_uri"], code=request.args.get("code", ""),
                                        code_verifier=flow["verifier"])
    except HostError as exc:
        log.warning("salesforce code exchange failed for %s: %s", tenant.id, exc)
        return _page(400, "Salesforce refused the connection", str(exc))
    try:
        ids.org_id(token_set.org_id)
    except ids.BadId as exc:
        log.warning("salesforce connect of %s answered a bad org id: %s", tenant.id, exc)
        return _page(400, "Not a Salesforce org", f"Salesforce's answer names no valid org: {exc}")
    if cfg.org_id and not oauth.same_org(cfg.org_id, token_set.org_id):
        return _page(400, "Wrong Salesforce org", f"This tenant is bound to org {cfg.org_id}; you signed in to "
                                                  f"{token_set.org_id}. Sign in to the right org.")
    tenant.salesforce = cfg.model_copy(update={"org_id": token_set.org_id, "instance_url": token_set.instance_url})
    tenants.save(tenant)
    tokens_for(tenant, get_redis()).store(token_set)
    _learn_key_prefix(tenant)
    resumed = holds.resume(tenant.id)
    backfill.start_quietly(get_redis(), tenant.id, "install")  # issue #17: plan the missions the org already has
    from webhooks.admin.auth import admin_token

    admin_url = url_for("admin.overview", a=admin_token(tenant.id, "salesforce-connect"))
    return _page(200, "Salesforce connected", f"Org {token_set.org_id} is connected to Intermission. "
                                              f"{len(resumed)} waiting mission(s) resumed.", ok=True, admin_url=admin_url)


def _learn_key_prefix(tenant: tenants.Tenant) -> None:
    """Read the mission object's key prefix once (describe), so Flow callouts' record ids can be checked."""
    from handlers.hosts.salesforce import make_client

    prefixes.learn(make_client(tenant, get_redis()), get_redis(), tenant.id, tenant.salesforce.mapping.object)


@bp.post("/salesforce/disconnect")
def disconnect():
    """Revoke the refresh token and forget the tokens (what was written in Salesforce stays)."""
    tenant = _tenant_from_link(request.args.get("t") or request.form.get("t"))
    if tenant is None:
        return _page(404, "Link not valid", "This link is unknown, altered or expired.")
    disconnect_tenant(tenant)
    return _page(200, "Salesforce disconnected", "Intermission no longer has access to this org.", ok=True)


def disconnect_tenant(tenant: tenants.Tenant) -> None:
    """Revoke and forget a tenant's tokens."""
    store = tokens_for(tenant, get_redis())
    record = store.forget()
    if record and record.get("refresh_token"):
        oauth.revoke(tenant.salesforce.login_url, record["refresh_token"])
