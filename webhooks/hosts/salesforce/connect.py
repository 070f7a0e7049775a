"""Connecting a tenant's Salesforce org: OAuth web-server flow with PKCE, callback, disconnect.

A flow starts only from a signed-in admin (issue #30): the admin page's button (its admin token and CSRF token), or
the connect link, which first shows the workspace's name and asks for the workspace's admin password in this
browser. Opening a link never sends anyone to Salesforce by itself, so a link forwarded to a stranger cannot bind
the stranger's org. An org bound to another workspace by mistake is released by whoever just proved, through a fresh
consent in that org, that they administer it."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import asdict
from datetime import datetime

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
from webhooks.admin.auth import (auth_marks, browser_form_ok, browser_form_token, login_failed, login_refused,
                                  marks_match, set_browser_cookie)
from webhooks.hosts.salesforce.links import connect_link, disconnect_token  # noqa: F401 (the names callers import)

bp = Blueprint("salesforce_connect", __name__)
log = logging.getLogger(__name__)
LINK_MAX_AGE = 7 * 24 * 3600
DISCONNECT_MAX_AGE = 900
STATE_TTL = 600
RELEASE_TTL = 600

PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Intermission</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#176a2f}.ko{color:#a11}</style></head>
<body><h1 class="{{ 'ok' if ok else 'ko' }}">{{ title }}</h1><p>{{ message }}</p>
{% if admin_url %}<p><a id="admin-link" href="{{ admin_url }}">Open the Intermission admin page / Ouvrir l'administration</a></p>{% endif %}
</body></html>"""


ADMIN_LINK = "Open the Intermission admin page / Ouvrir l'administration"
CONNECTED = {"fr": ("Salesforce est connecté", "L'org {org} est connectée à Intermission. {n} mission(s) en attente "
                                                "reprise(s)."),
             "en": ("Salesforce connected", "Org {org} is connected to Intermission. {n} waiting mission(s) resumed.")}
NEXT_STEP = {"fr": ("Ouvrir l'administration d'Intermission", "Étape suivante : la mise en route d'Intermission"),
             "en": ("Open the Intermission admin", "Next step: Intermission's set-up")}


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
    if tenant is None or tenant.host != "salesforce" or not marks_match(payload, tenant):
        return None
    return tenant


def _state_key(state: str) -> str:
    """Where a flow under way waits for its callback: keyed by a digest, so Redis holds no usable state."""
    return keys.oauth_state(hashlib.sha256(state.encode()).hexdigest())


CONFIRM = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Intermission</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ko{color:#a11}input{display:block;padding:.4rem;margin:.2rem 0 .8rem}</style></head>
<body><h1>{{ title }}</h1><p id="workspace">{{ message }}</p>{% if error %}<p class="ko" id="error">{{ error }}</p>{% endif %}
{% if form %}<form method="post" action="{{ form.action }}">{% for k, v in form.fields.items() %}
<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}{% if form.password %}
<label for="password">Mot de passe d'administration de cet espace / This workspace's admin password</label>
<input id="password" name="password" type="password" autocomplete="current-password">{% endif %}
<button id="confirm">{{ form.button }}</button></form>{% endif %}
</body></html>"""


def _confirm_page(status: int, title: str, message: str, form: dict | None = None, error: str | None = None):
    body = render_template_string(CONFIRM, title=title, message=message, form=form, error=error)
    return set_browser_cookie(make_response(body, status))


def _workspace_words(tenant: tenants.Tenant) -> str:
    name = tenant.name or tenant.id
    return (f"Connecter l'org Salesforce à l'espace Intermission « {name} » ({tenant.id}) ? — Connect your "
            f"Salesforce org to the Intermission workspace “{name}” ({tenant.id})?")


@bp.get("/salesforce/connect")
def connect():
    """The connect link: show the workspace's name and ask its admin to sign in here; never a redirect by itself."""
    tenant = _tenant_from_link(request.args.get("t"))
    if tenant is None:
        return _page(404, "Link not valid", "This connection link is unknown, altered or expired. "
                                            "Ask for a new one (`intermission tenant connect-url ID`).")
    if not tenant.admin_password_hash:
        return _confirm_page(403, "Connexion impossible / Cannot connect yet", _workspace_words(tenant) + " — "
                             "Cet espace n'a pas encore de mot de passe d'administration : demandez-le à votre "
                             "opérateur Intermission. — This workspace has no admin password yet: ask your "
                             "Intermission operator to set one (`intermission tenant admin-password ID`).")
    return _confirm_page(200, "Connecter Salesforce / Connect Salesforce", _workspace_words(tenant),
                         _confirm_form(request.args.get("t", "")))


def _confirm_form(link: str) -> dict:
    return {"action": url_for("salesforce_connect.start"), "password": True, "button": "Se connecter et continuer "
            "vers Salesforce / Sign in and continue to Salesforce",
            "fields": {"t": link, "csrf": browser_form_token("sf-connect")}}


@bp.post("/salesforce/connect")
def start():
    """Start a flow for a signed-in admin: the admin page's button (`a` + CSRF), or the link's form (`t`, this
    browser's form token and the workspace's admin password)."""
    if request.form.get("a"):
        from webhooks.admin.auth import current_admin

        tenant = current_admin().tenant  # 401 / 403 unless a valid admin token and its CSRF token
        if tenant.host != "salesforce":
            return _page(404, "Not a Salesforce workspace", "This workspace does not connect to Salesforce.")
        return _start_flow(tenant)
    link = request.form.get("t", "")
    tenant = _tenant_from_link(link)
    if tenant is None or not tenant.admin_password_hash:
        return _page(404, "Link not valid", "This connection link is unknown, altered or expired.")
    if not browser_form_ok("sf-connect", request.form.get("csrf", "")):
        return _page(403, "Formulaire refusé / Form refused", "Rouvrez le lien de connexion dans ce navigateur. — "
                                                             "Open the connect link again in this browser.")
    if login_refused(tenant, tenant.id):
        return _page(429, "Trop d'essais / Too many attempts", "Wait 15 minutes before trying again.")
    from werkzeug.security import check_password_hash

    if not check_password_hash(tenant.admin_password_hash, request.form.get("password", "")[:1024]):
        login_failed(tenant, tenant.id)
        return _confirm_page(401, "Connecter Salesforce / Connect Salesforce", _workspace_words(tenant),
                             _confirm_form(link), error="Mot de passe incorrect. / Wrong password.")
    return _start_flow(tenant)


def _session_mark(tenant: tenants.Tenant) -> str:
    """What the admin's session rests on (`auth_marks`: epoch, creation, password); a change ends the flow."""
    return _digest(json.dumps(auth_marks(tenant), sort_keys=True))


def _start_flow(tenant: tenants.Tenant):
    """Remember state and PKCE verifier, bind them to this browser and session, send the admin to Salesforce."""
    from config.infra.urls import BadHostUrl

    try:  # the code and the client secret would go there next: refused before the admin is sent (urls.py)
        oauth.checked_login_url(tenant.salesforce.login_url)
    except HostError as exc:
        if not isinstance(exc.__cause__, BadHostUrl):
            raise
        return _page(400, "Adresse refusée / Address refused", f"{exc.__cause__.fr} — {exc.__cause__.en}")
    state, verifier, browser = secrets.token_urlsafe(24), oauth.new_code_verifier(), secrets.token_urlsafe(24)
    redirect_uri = callback_url()
    flow = json.dumps({"tenant": tenant.id, "verifier": verifier, "redirect_uri": redirect_uri,
                       "browser": _digest(browser), "session": _session_mark(tenant)}).encode()
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
    expired = _response(400, "Connection expired", "This sign-in took too long or was already used. "
                                                   "Start again from the connect link.")
    key = _state_key(request.args.get("state", ""))
    raw = get_redis().get(key)
    if raw is None:
        return expired
    flow = json.loads(crypto.decrypt(raw))
    if not _same_browser(flow):  # checked before the state is consumed: another browser cannot spend it
        log.warning("salesforce callback refused for %s: not the browser that opened the connect link", flow["tenant"])
        return _response(400, "Connexion refusée / Connection refused",
                         "Cette connexion n'a pas été commencée dans ce navigateur : ouvrez vous-même le lien de "
                         "connexion, dans ce navigateur. — This sign-in was not started in this browser. Open the "
                         "connect link yourself, in this browser, and sign in again.")
    if get_redis().getdel(key) is None:  # spent meanwhile by this same browser (a double submit)
        return expired
    if request.args.get("error"):
        return _response(400, "Salesforce refused the connection",
                         request.args.get("error_description") or request.args["error"])
    tenant = tenants.get(flow["tenant"])
    if tenant is None:
        return _response(404, "Tenant removed", "This tenant no longer exists.")
    if flow.get("session") != _session_mark(tenant):  # the admin's session ended meanwhile (password, uninstall)
        return _response(401, "Session terminée / Session ended", "Sign in again and start the connection again.")
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
        return _offer_release(tenant, token_set)
    return _bound(tenant, token_set)


def _bound(tenant: tenants.Tenant, token_set: oauth.TokenSet):
    """The org is this tenant's: store its tokens, learn its key prefix, resume held work, plan what exists."""
    cfg = tenant.salesforce
    tenant.salesforce = cfg.model_copy(update={"org_id": token_set.org_id, "instance_url": token_set.instance_url})
    tenants.save(tenant)
    tokens_for(tenant, get_redis()).store(token_set)
    _learn_key_prefix(tenant)
    resumed = holds.resume(tenant.id)
    if tenant.setup_complete:  # else the set-up flow's end starts it (handlers/setup.finish, issue #27)
        backfill.start_quietly(get_redis(), tenant.id, "install")  # issue #17: plan the missions the org already has
    from webhooks.admin.auth import admin_token

    # the next step, in the tenant's language (issue #27): the set-up flow while it is not finished, else the admin
    lang, next_view = tenant.language, "admin.overview" if tenant.setup_complete else "admin.setup_page"
    admin_url = url_for(next_view, a=admin_token(tenant.id, "salesforce-connect"), lang=lang)
    title, text = CONNECTED["en" if lang == "en" else "fr"]
    body, code = _page(200, title, text.format(org=token_set.org_id, n=len(resumed)), ok=True, admin_url=admin_url)
    return make_response(body.replace('lang="en"', f'lang="{lang}"', 1).replace(
        ADMIN_LINK, NEXT_STEP[lang if lang == "en" else "fr"][not tenant.setup_complete], 1), code)


def _release_key(nonce: str) -> str:
    return keys.oauth_state(_digest("release:" + nonce))


def _offer_release(tenant: tenants.Tenant, token_set: oauth.TokenSet):
    """409, and to the person who just consented in that org (proof they administer it), the offer to take it back
    from the workspace it is bound to. The fresh tokens wait encrypted, for minutes, under a one-time nonce."""
    nonce = secrets.token_urlsafe(24)
    offer = {"tenant": tenant.id, "token_set": {**asdict(token_set), "issued_at": token_set.issued_at.isoformat()}}
    get_redis().set(_release_key(nonce), crypto.encrypt(json.dumps(offer).encode()), ex=RELEASE_TTL)
    form = {"action": url_for("salesforce_connect.release"), "password": False,
            "button": "Libérer l'org et la connecter ici / Release the org and connect it here",
            "fields": {"r": nonce, "csrf": browser_form_token("sf-release")}}
    return _confirm_page(409, "Org déjà connectée / Org already connected",
                         f"L'org {token_set.org_id} est connectée à un autre espace Intermission. Si c'est une erreur, "
                         "vous venez de prouver que vous l'administrez : libérez-la et connectez-la ici. — Org "
                         f"{token_set.org_id} is connected to another Intermission workspace. If that is a mistake, "
                         "you have just proved you administer it: release it and connect it here.", form)


@bp.post("/salesforce/release")
def release():
    """Take an org back from the workspace it was bound to: only in the browser that just consented in that org."""
    if not browser_form_ok("sf-release", request.form.get("csrf", "")):
        return _page(403, "Formulaire refusé / Form refused", "Connect again from your admin page or link.")
    raw = get_redis().getdel(_release_key(request.form.get("r", "")))
    tenant = None
    if raw is not None:
        offer = json.loads(crypto.decrypt(raw))
        tenant = tenants.get(offer["tenant"])
    if tenant is None:
        return _page(400, "Connection expired", "Start again from the connect link.")
    fields = offer["token_set"]
    token_set = oauth.TokenSet(**{**fields, "issued_at": datetime.fromisoformat(fields["issued_at"])})
    org = org_binding.org_key(token_set.org_id, token_set.instance_url)
    holder = tenants.get(org_binding.owner(org) or "")
    if holder is not None and holder.id != tenant.id:
        disconnect_tenant(holder)  # its tokens revoked and forgotten: it no longer reads this org
        holder.salesforce = holder.salesforce.model_copy(update={"org_id": None, "instance_url": None})
        tenants.save(holder)
        log.warning("salesforce org %s released from %s by its admin, for %s", token_set.org_id, holder.id, tenant.id)
    if org_binding.bind(org, tenant.id) != tenant.id:
        return _response(409, "Org déjà connectée / Org already connected", "Try again.")
    return _bound(tenant, token_set)


def _response(status: int, title: str, message: str, **kwargs) -> Response:
    body, code = _page(status, title, message, **kwargs)
    return make_response(body, code)


def _learn_key_prefix(tenant: tenants.Tenant) -> None:
    """Read the mission object's key prefix once (describe), so Flow callouts' record ids can be checked."""
    from handlers.hosts.salesforce.adapter import make_client

    prefixes.learn(make_client(tenant, get_redis()), get_redis(), tenant.id, sobject=tenant.salesforce.mapping.object)


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
