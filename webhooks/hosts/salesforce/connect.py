"""Connecting a tenant's Salesforce org: OAuth web-server flow with PKCE, callback, disconnect."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets

from flask import Blueprint, Response, make_response, redirect, render_template_string, request, url_for

from config import keys
from config import org_binding, tenants
from config.infra import crypto
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from config.infra.signing import BadSignature, unsign
from connectors.errors import HostError
from connectors.salesforce import ids, oauth, prefixes
from handlers.sync import backfill, holds
from handlers.hosts.salesforce.adapter import tokens_for
from webhooks.hosts.salesforce.links import connect_link, disconnect_token  # noqa: F401 (the names callers import)

bp = Blueprint("salesforce_connect", __name__)
log = logging.getLogger(__name__)
LINK_MAX_AGE = 7 * 24 * 3600
DISCONNECT_MAX_AGE = 900
STATE_TTL = 600

PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Intermission</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#176a2f}.ko{color:#a11}</style></head>
<body><h1 class="{{ 'ok' if ok else 'ko' }}">{{ title }}</h1><p>{{ message }}</p>
{% if admin_url %}<p><a id="admin-link" href="{{ admin_url }}">Open the Intermission admin page / Ouvrir l'administration</a></p>{% endif %}
</body></html>"""


def callback_url() -> str:
    """Where Salesforce sends the admin back: INTERMISSION_PUBLIC_BASE_URL only, never the request's Host header."""
    return get_settings().public_base_url.rstrip("/") + "/salesforce/callback"


def _secure_cookie() -> bool:
    return get_settings().public_base_url.startswith("https://")


def _cookie_name() -> str:
    """`__Host-` (https, no Domain, Path=/) in production; a plain name on a loopback http base (the sandbox)."""
    return "__Host-intermission-sf" if _secure_cookie() else "intermission-sf"


def _page(status: int, title: str, message: str, ok: bool = False, admin_url: str | None = None):
    return render_template_string(PAGE, title=title, message=message, ok=ok, lang="en", admin_url=admin_url), status


def _tenant_from_link(token: str | None, purpose: str = "sf-connect", max_age: int = LINK_MAX_AGE):
    """The Salesforce tenant a link opens, or None (altered, expired, or revoked by an uninstall's epoch)."""
    try:
        payload = unsign(purpose, token or "", max_age=max_age)
        tenant_id = payload["tenant"]
    except (BadSignature, KeyError, TypeError):
        return None
    tenant = tenants.get(tenant_id) if isinstance(tenant_id, str) else None
    if tenant is None or tenant.host != "salesforce" or payload.get("e", 0) != tenant.auth_epoch:
        return None
    return tenant


def _state_key(state: str) -> str:
    """Where a flow under way waits for its callback: keyed by a digest, so Redis holds no usable state."""
    return keys.oauth_state(hashlib.sha256(state.encode()).hexdigest())


@bp.get("/salesforce/connect")
def connect():
    """Start the flow: remember state and PKCE verifier, bind it to this browser, send the admin to Salesforce."""
    tenant = _tenant_from_link(request.args.get("t"))
    if tenant is None:
        return _page(404, "Link not valid", "This connection link is unknown, altered or expired. "
                                            "Ask for a new one (`intermission tenant connect-url ID`).")
    state, verifier, browser = secrets.token_urlsafe(24), oauth.new_code_verifier(), secrets.token_urlsafe(24)
    redirect_uri = callback_url()
    flow = json.dumps({"tenant": tenant.id, "verifier": verifier, "redirect_uri": redirect_uri,
                       "browser": _digest(browser)}).encode()
    get_redis().set(_state_key(state), crypto.encrypt(flow), ex=STATE_TTL)  # the PKCE verifier is a secret
    cfg = tenant.salesforce
    response = redirect(oauth.authorization_url(cfg.login_url, cfg.client_id, redirect_uri, state=state,
                                                code_verifier=verifier))
    response.set_cookie(_cookie_name(), browser, max_age=STATE_TTL, path="/", secure=_secure_cookie(),
                        httponly=True, samesite="Lax")
    return response


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _same_browser(flow: dict) -> bool:
    """The callback comes from the browser that opened the connect link (its cookie matches the flow's nonce)."""
    given = request.cookies.get(_cookie_name(), "")
    return bool(given) and hmac.compare_digest(_digest(given), str(flow.get("browser", "")))


@bp.get("/salesforce/callback")
def callback():
    """Finish the flow: same browser, exchange the code, check the org, store tokens, resume held work."""
    response = _finish()
    response.delete_cookie(_cookie_name(), path="/", secure=_secure_cookie(), httponly=True, samesite="Lax")
    return response


def _finish():
    raw = get_redis().getdel(_state_key(request.args.get("state", "")))
    if raw is None:
        return _response(400, "Connection expired", "This sign-in took too long or was already used. "
                                                    "Start again from the connect link.")
    flow = json.loads(crypto.decrypt(raw))
    if not _same_browser(flow):
        log.warning("salesforce callback refused for %s: not the browser that opened the connect link", flow["tenant"])
        return _response(400, "Connexion refusée / Connection refused",
                         "Cette connexion n'a pas été commencée dans ce navigateur : ouvrez vous-même le lien de "
                         "connexion, dans ce navigateur. — This sign-in was not started in this browser. Open the "
                         "connect link yourself, in this browser, and sign in again.")
    if request.args.get("error"):
        return _response(400, "Salesforce refused the connection",
                         request.args.get("error_description") or request.args["error"])
    tenant = tenants.get(flow["tenant"])
    if tenant is None:
        return _response(404, "Tenant removed", "This tenant no longer exists.")
    return _connect(tenant, flow)


def _connect(tenant: tenants.Tenant, flow: dict):
    cfg = tenant.salesforce
    try:
        token_set = oauth.exchange_code(cfg.login_url, cfg.client_id, cfg.client_secret,
                                        redirect_uri=flow["redirect_uri"], code=request.args.get("code", ""),
                                        code_verifier=flow["verifier"])
    except HostError as exc:
        log.warning("salesforce code exchange failed for %s: %s", tenant.id, exc)
        return _response(400, "Salesforce refused the connection", str(exc))
    try:
        ids.org_id(token_set.org_id)
    except ids.BadId as exc:
        log.warning("salesforce connect of %s answered a bad org id: %s", tenant.id, exc)
        return _response(400, "Not a Salesforce org", f"Salesforce's answer names no valid org: {exc}")
    if cfg.org_id and not oauth.same_org(cfg.org_id, token_set.org_id):
        return _response(400, "Wrong Salesforce org", f"This tenant is bound to org {cfg.org_id}; you signed in "
                                                      f"to {token_set.org_id}. Sign in to the right org.")
    owner = org_binding.bind(org_binding.org_key(token_set.org_id, token_set.instance_url), tenant.id)
    if owner != tenant.id:
        log.warning("salesforce org %s refused for %s: bound to another tenant", token_set.org_id, tenant.id)
        return _response(409, "Org déjà connectée / Org already connected",
                         f"L'org {token_set.org_id} est connectée à un autre espace Intermission : déconnectez-la "
                         f"d'abord là-bas. — Org {token_set.org_id} is connected to another Intermission workspace. "
                         "Disconnect it there first.")
    tenant.salesforce = cfg.model_copy(update={"org_id": token_set.org_id, "instance_url": token_set.instance_url})
    tenants.save(tenant)
    tokens_for(tenant, get_redis()).store(token_set)
    _learn_key_prefix(tenant)
    resumed = holds.resume(tenant.id)
    backfill.start_quietly(get_redis(), tenant.id, "install")  # issue #17: plan the missions the org already has
    from webhooks.admin.auth import admin_token

    admin_url = url_for("admin.overview", a=admin_token(tenant.id, "salesforce-connect"))
    return _response(200, "Salesforce connected", f"Org {token_set.org_id} is connected to Intermission. "
                                                  f"{len(resumed)} waiting mission(s) resumed.", ok=True,
                     admin_url=admin_url)


def _response(status: int, title: str, message: str, **kwargs) -> Response:
    body, code = _page(status, title, message, **kwargs)
    return make_response(body, code)


def _learn_key_prefix(tenant: tenants.Tenant) -> None:
    """Read the mission object's key prefix once (describe), so Flow callouts' record ids can be checked."""
    from handlers.hosts.salesforce.adapter import make_client

    prefixes.learn(make_client(tenant, get_redis()), get_redis(), tenant.id, tenant.salesforce.mapping.object)


@bp.post("/salesforce/disconnect")
def disconnect():
    """Revoke the refresh token and forget the tokens (what was written in Salesforce stays).

    Needs the admin page's short-lived disconnect token and its CSRF token: the connect link cannot disconnect."""
    token = request.form.get("d", "")
    tenant = _tenant_from_link(token, "sf-disconnect", DISCONNECT_MAX_AGE)
    if tenant is None:
        return _page(404, "Lien non valide / Link not valid",
                     "Ce lien est inconnu, modifié ou expiré : déconnectez depuis la page d'administration. — "
                     "This link is unknown, altered or expired. Disconnect from the Intermission admin page.")
    from webhooks.admin.auth import csrf_ok

    if not csrf_ok(token, request.form.get("csrf", "")):
        return _page(403, "Formulaire refusé / Form refused",
                     "Rechargez la page d'administration et réessayez. — Reload the Intermission admin page and "
                     "try again.")
    disconnect_tenant(tenant)
    return _page(200, "Salesforce disconnected", "Intermission no longer has access to this org.", ok=True)


def disconnect_tenant(tenant: tenants.Tenant) -> None:
    """Revoke and forget a tenant's tokens; the org may then be connected to another workspace."""
    store = tokens_for(tenant, get_redis())
    record = store.forget()
    if org_binding.tenant_org(tenant):
        org_binding.release(org_binding.tenant_org(tenant), tenant.id)
    if record and record.get("refresh_token"):
        oauth.revoke(tenant.salesforce.login_url, record["refresh_token"])
