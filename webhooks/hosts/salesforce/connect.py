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
from config import tenants
from connectors.salesforce import org_binding
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
from connectors.salesforce.settings import salesforce_settings

bp = Blueprint("salesforce_connect", __name__)
log = logging.getLogger(__name__)
LINK_MAX_AGE = 7 * 24 * 3600
DISCONNECT_MAX_AGE = 900
STATE_TTL = 600
RELEASE_TTL = 600

PAGE = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Intermission</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.ok{color:#176a2f}.ko{color:#a11}input{display:block;padding:.4rem;margin:.2rem 0 .8rem}</style>
</head><body><h1 class="{{ 'ok' if ok else 'ko' }}">{{ title }}</h1><p id="message">{{ message }}</p>
{% if detail %}<details><summary>{{ details }}</summary><p>{{ detail }}</p></details>{% endif %}
{% if error %}<p class="ko" id="error">{{ error }}</p>{% endif %}
{% if form %}<form method="post" action="{{ form.action }}">{% for k, v in form.fields.items() %}
<input type="hidden" name="{{ k }}" value="{{ v }}">{% endfor %}{% if form.password %}
<label for="password">{{ form.password }}</label>
<input id="password" name="password" type="password" autocomplete="current-password">{% endif %}
<button id="confirm">{{ form.button }}</button></form>{% endif %}
{% if next_step %}<p id="next-step">{{ next_step }}</p>{% endif %}
{% if admin_url %}<p><a id="admin-link" href="{{ admin_url }}">{{ admin_text }}</a></p>{% endif %}
</body></html>"""

# Every page of the connection in French and English (issue #27): (title, what happened, the next step), with
# {values} filled in; a page says the next step in words, never a command to run.
WORDS = {
    "bad_link": (("Lien non valable", "Ce lien de connexion est inconnu, modifié ou expiré.",
                  "Étape suivante : ouvrez la page d'administration d'Intermission et cliquez « Connecter "
                  "Salesforce », ou demandez un nouveau lien à la personne qui l'administre."),
                 ("Link not valid", "This connection link is unknown, altered or expired.",
                  "Next step: open the Intermission admin page and click “Connect Salesforce”, or ask whoever "
                  "administers it for a new link.")),
    "no_password": (("Connexion impossible pour l'instant", "Connecter l'org Salesforce à l'espace Intermission "
                     "« {name} » ? Cet espace n'a pas encore de mot de passe d'administration.",
                     "Étape suivante : demandez à votre opérateur Intermission de le définir, puis rouvrez ce lien."),
                    ("Cannot connect yet", "Connect your Salesforce org to the Intermission workspace “{name}”? "
                     "This workspace has no admin password yet.",
                     "Next step: ask your Intermission operator to set one, then open this link again.")),
    "confirm": (("Connecter Salesforce", "Connecter l'org Salesforce à l'espace Intermission « {name} » ?",
                 "Étape suivante : saisissez le mot de passe d'administration de cet espace, puis connectez-vous "
                 "à Salesforce."),
                ("Connect Salesforce", "Connect your Salesforce org to the Intermission workspace “{name}”?",
                 "Next step: type this workspace's admin password, then sign in to Salesforce.")),
    "form_refused": (("Formulaire refusé", "Ce formulaire a expiré ou a été ouvert dans un autre navigateur.",
                      "Étape suivante : rouvrez le lien de connexion, ou la page d'administration, dans ce "
                      "navigateur."),
                     ("Form refused", "This form expired or was opened in another browser.",
                      "Next step: open the connect link, or the admin page, again in this browser.")),
    "too_many": (("Trop d'essais", "Trop de mots de passe incorrects pour cet espace.",
                  "Étape suivante : attendez 15 minutes, puis rouvrez le lien de connexion."),
                 ("Too many attempts", "Too many wrong passwords for this workspace.",
                  "Next step: wait 15 minutes, then open the connect link again.")),
    "not_salesforce": (("Pas un espace Salesforce", "Cet espace Intermission ne se connecte pas à Salesforce.",
                        "Étape suivante : revenez à la page d'administration."),
                       ("Not a Salesforce workspace", "This Intermission workspace does not connect to Salesforce.",
                        "Next step: go back to the admin page.")),
    "expired": (("Connexion expirée", "Cette connexion a pris trop de temps, ou a déjà servi.",
                 "Étape suivante : recommencez depuis la page d'administration (« Connecter Salesforce ») ou le "
                 "lien de connexion."),
                ("Connection expired", "This sign-in took too long, or was already used.",
                 "Next step: start again from the admin page (“Connect Salesforce”) or the connect link.")),
    "other_browser": (("Connexion refusée", "Cette connexion n'a pas été commencée dans ce navigateur.",
                       "Étape suivante : ouvrez vous-même le lien de connexion, dans ce navigateur, et "
                       "connectez-vous à nouveau."),
                      ("Connection refused", "This sign-in was not started in this browser.",
                       "Next step: open the connect link yourself, in this browser, and sign in again.")),
    "refused": (("Salesforce a refusé la connexion", "Salesforce n'a pas accordé l'accès à Intermission.",
                 "Étape suivante : recommencez la connexion depuis la page d'administration, en acceptant "
                 "l'accès demandé."),
                ("Salesforce refused the connection", "Salesforce did not grant Intermission access.",
                 "Next step: connect again from the admin page, and allow the access asked for.")),
    "removed": (("Espace supprimé", "Cet espace Intermission n'existe plus.",
                 "Étape suivante : demandez à votre opérateur Intermission de le recréer."),
                ("Workspace removed", "This Intermission workspace no longer exists.",
                 "Next step: ask your Intermission operator to create it again.")),
    "session_ended": (("Session terminée", "Votre session d'administration a pris fin pendant la connexion.",
                       "Étape suivante : ouvrez à nouveau la page d'administration, puis recommencez la connexion."),
                      ("Session ended", "Your admin session ended during the sign-in.",
                       "Next step: open the admin page again, then start the connection again.")),
    "not_an_org": (("Pas une org Salesforce", "La réponse de Salesforce ne nomme aucune org valable.",
                    "Étape suivante : recommencez la connexion depuis la page d'administration."),
                   ("Not a Salesforce org", "Salesforce's answer names no valid org.",
                    "Next step: connect again from the admin page.")),
    "wrong_org": (("Mauvaise org Salesforce", "Cet espace est lié à l'org {bound} ; vous vous êtes connecté à "
                   "l'org {got}.", "Étape suivante : recommencez la connexion en vous connectant à l'org {bound}."),
                  ("Wrong Salesforce org", "This workspace is bound to org {bound}; you signed in to org {got}.",
                   "Next step: connect again, signing in to org {bound}.")),
    "taken": (("Org déjà connectée", "L'org {org} est connectée à un autre espace Intermission. Si c'est une "
               "erreur, vous venez de prouver que vous l'administrez.",
               "Étape suivante : libérez-la et connectez-la ici."),
              ("Org already connected", "Org {org} is connected to another Intermission workspace. If that is a "
               "mistake, you have just proved you administer it.", "Next step: release it and connect it here.")),
    "taken_again": (("Org déjà connectée", "L'org vient d'être connectée à un autre espace.",
                     "Étape suivante : recommencez la connexion depuis la page d'administration."),
                    ("Org already connected", "The org was just connected to another workspace.",
                     "Next step: connect again from the admin page.")),
    "connected": (("Salesforce est connecté", "L'org {org} est connectée à Intermission. {n} mission(s) en attente "
                   "reprise(s).", ""),
                  ("Salesforce connected", "Org {org} is connected to Intermission. {n} waiting mission(s) resumed.",
                   "")),
    "disconnected": (("Salesforce est déconnecté", "Intermission n'a plus accès à cette org ; ce qu'il y a écrit "
                      "reste.", "Étape suivante : reconnectez Salesforce depuis la page d'administration quand vous "
                      "le voudrez."),
                     ("Salesforce disconnected", "Intermission no longer has access to this org; what it wrote "
                      "there stays.", "Next step: connect Salesforce again from the admin page whenever you want.")),
    "address_refused": (("Adresse refusée", "{reason}",
                         "Étape suivante : demandez à votre opérateur Intermission de corriger l'adresse de connexion "
                         "Salesforce de cet espace, puis recommencez depuis la page d'administration."),
                        ("Address refused", "{reason}",
                         "Next step: ask your Intermission operator to correct this workspace's Salesforce login "
                         "address, then start again from the admin page.")),
    "disconnect_link": (("Lien non valable", "Ce lien de déconnexion est inconnu, modifié ou expiré.",
                         "Étape suivante : déconnectez depuis la page d'administration."),
                        ("Link not valid", "This disconnect link is unknown, altered or expired.",
                         "Next step: disconnect from the Intermission admin page.")),
    "disconnect_form": (("Formulaire refusé", "Ce formulaire a expiré.",
                         "Étape suivante : rechargez la page d'administration et réessayez."),
                        ("Form refused", "This form expired.", "Next step: reload the admin page and try again.")),
}
SMALL = {  # the pages' other words
    "admin": ("Ouvrir l'administration d'Intermission", "Open the Intermission admin"),
    "setup": ("Étape suivante : la mise en route d'Intermission", "Next step: Intermission's set-up"),
    "password": ("Mot de passe d'administration de cet espace", "This workspace's admin password"),
    "sign_in": ("Se connecter et continuer vers Salesforce", "Sign in and continue to Salesforce"),
    "wrong_password": ("Mot de passe incorrect.", "Wrong password."),
    "release": ("Libérer l'org et la connecter ici", "Release the org and connect it here"),
    "details": ("détails", "details"), "salesforce_said": ("Salesforce a répondu : {text}", "Salesforce answered: {text}"),
}


def _lang(tenant: tenants.Tenant | None = None) -> str:
    """The page's language: ?lang=, else the tenant's, else the browser's (French by default)."""
    wanted = request.values.get("lang")
    if wanted in ("fr", "en"):
        return wanted
    if tenant is not None:
        return "en" if tenant.language.lower().startswith("en") else "fr"
    return request.accept_languages.best_match(["fr", "en"]) or "fr"


def _small(key: str, lang: str, **values) -> str:
    return SMALL[key][lang == "en"].format(**values)


def _admin_url(tenant: tenants.Tenant, lang: str, view: str = "admin.overview") -> str:
    """The admin page to go on from, for an admin this flow already checked (never on a page anyone may reach)."""
    from webhooks.admin.auth import admin_token

    return url_for(view, a=admin_token(tenant.id, "salesforce-connect"), lang=lang)


def _page(status: int, key: str, lang: str, *, ok: bool = False, admin_url: str | None = None,
          admin_text: str | None = None, detail: str | None = None, form: dict | None = None,
          error: str | None = None, **values) -> Response:
    """One connection page in `lang`: its title, what happened, the next step, a link to go on when there is one."""
    title, message, next_step = (text.format(**values) for text in WORDS[key][lang == "en"])
    body = render_template_string(PAGE, lang=lang, title=title, message=message, next_step=next_step, ok=ok,
                                  admin_url=admin_url, admin_text=admin_text or _small("admin", lang), detail=detail,
                                  details=_small("details", lang), form=form, error=error)
    response = make_response(body, status)
    return set_browser_cookie(response) if form else response  # a form's token is bound to this browser


def callback_url() -> str:
    """Where Salesforce sends the admin back: INTERMISSION_PUBLIC_BASE_URL only, never the request's Host header."""
    return get_settings().public_base_url.rstrip("/") + "/salesforce/callback"


def _secure_cookie() -> bool:
    return get_settings().public_base_url.startswith("https://")


def _cookie_name() -> str:
    """`__Host-` (https, no Domain, Path=/) in production; a plain name on a loopback http base (the sandbox)."""
    return "__Host-intermission-sf" if _secure_cookie() else "intermission-sf"


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


@bp.get("/salesforce/connect")
def connect():
    """The connect link: show the workspace's name and ask its admin to sign in here; never a redirect by itself."""
    tenant = _tenant_from_link(request.args.get("t"))
    if tenant is None:
        return _page(404, "bad_link", _lang())
    lang = _lang(tenant)
    if not tenant.admin_password_hash:
        return _page(403, "no_password", lang, name=tenant.name or tenant.id)
    return _page(200, "confirm", lang, ok=True, form=_confirm_form(request.args.get("t", ""), lang),
                 name=tenant.name or tenant.id)


def _confirm_form(link: str, lang: str) -> dict:
    return {"action": url_for("salesforce_connect.start"), "password": _small("password", lang),
            "button": _small("sign_in", lang),
            "fields": {"t": link, "csrf": browser_form_token("sf-connect"), "lang": lang}}


@bp.post("/salesforce/connect")
def start():
    """Start a flow for a signed-in admin: the admin page's button (`a` + CSRF), or the link's form (`t`, this
    browser's form token and the workspace's admin password)."""
    if request.form.get("a"):
        from webhooks.admin.auth import current_admin

        tenant = current_admin().tenant  # 401 / 403 unless a valid admin token and its CSRF token
        if tenant.host != "salesforce":
            return _page(404, "not_salesforce", _lang(tenant), admin_url=_admin_url(tenant, _lang(tenant)))
        return _start_flow(tenant)
    link = request.form.get("t", "")
    tenant = _tenant_from_link(link)
    if tenant is None or not tenant.admin_password_hash:
        return _page(404, "bad_link", _lang())
    lang = _lang(tenant)
    if not browser_form_ok("sf-connect", request.form.get("csrf", "")):
        return _page(403, "form_refused", lang)
    if login_refused(tenant, tenant.id):
        return _page(429, "too_many", lang)
    from werkzeug.security import check_password_hash

    if not check_password_hash(tenant.admin_password_hash, request.form.get("password", "")[:1024]):
        login_failed(tenant, tenant.id)
        return _page(401, "confirm", lang, ok=True, form=_confirm_form(link, lang),
                     error=_small("wrong_password", lang), name=tenant.name or tenant.id)
    return _start_flow(tenant)


def _session_mark(tenant: tenants.Tenant) -> str:
    """What the admin's session rests on (`auth_marks`: epoch, creation, password); a change ends the flow."""
    return _digest(json.dumps(auth_marks(tenant), sort_keys=True))


def _start_flow(tenant: tenants.Tenant):
    """Remember state and PKCE verifier, bind them to this browser and session, send the admin to Salesforce."""
    from config.infra.urls import BadHostUrl

    try:  # the code and the client secret would go there next: refused before the admin is sent (urls.py)
        oauth.checked_login_url(salesforce_settings(tenant).login_url)
    except HostError as exc:
        if not isinstance(exc.__cause__, BadHostUrl):
            raise
        lang = _lang(tenant)
        return _page(400, "address_refused", lang, reason=exc.__cause__.say(lang))
    state, verifier, browser = secrets.token_urlsafe(24), oauth.new_code_verifier(), secrets.token_urlsafe(24)
    redirect_uri = callback_url()
    flow = json.dumps({"tenant": tenant.id, "verifier": verifier, "redirect_uri": redirect_uri,
                       "browser": _digest(browser), "session": _session_mark(tenant)}).encode()
    get_redis().set(_state_key(state), crypto.encrypt(flow), ex=STATE_TTL)  # the PKCE verifier is a secret
    cfg = salesforce_settings(tenant)
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
    key = _state_key(request.args.get("state", ""))
    raw = get_redis().get(key)
    if raw is None:
        return _page(400, "expired", _lang())
    flow = json.loads(crypto.decrypt(raw))
    tenant = tenants.get(flow["tenant"])
    lang = _lang(tenant)
    if not _same_browser(flow):  # checked before the state is consumed: another browser cannot spend it
        log.warning("salesforce callback refused for %s: not the browser that opened the connect link", flow["tenant"])
        return _page(400, "other_browser", lang)
    if get_redis().getdel(key) is None:  # spent meanwhile by this same browser (a double submit)
        return _page(400, "expired", lang)
    if tenant is None:
        return _page(404, "removed", lang)
    if flow.get("session") != _session_mark(tenant):  # the admin's session ended meanwhile (password, uninstall)
        return _page(401, "session_ended", lang)
    if request.args.get("error"):  # the admin declined in Salesforce (or Salesforce refused): said, and what next
        said = (request.args.get("error_description") or request.args["error"])[:300]
        return _page(400, "refused", lang, admin_url=_admin_url(tenant, lang),
                     detail=_small("salesforce_said", lang, text=said))
    return _connect(tenant, flow)


def _connect(tenant: tenants.Tenant, flow: dict):
    cfg, lang = salesforce_settings(tenant), _lang(tenant)
    try:
        token_set = oauth.exchange_code(cfg.login_url, cfg.client_id, cfg.client_secret,
                                        redirect_uri=flow["redirect_uri"], code=request.args.get("code", ""),
                                        code_verifier=flow["verifier"])
    except HostError as exc:
        log.warning("salesforce code exchange failed for %s: %s", tenant.id, exc)
        return _page(400, "refused", lang, admin_url=_admin_url(tenant, lang),
                     detail=_small("salesforce_said", lang, text=str(exc)[:300]))
    try:
        ids.org_id(token_set.org_id)
    except ids.BadId as exc:
        log.warning("salesforce connect of %s answered a bad org id: %s", tenant.id, exc)
        return _page(400, "not_an_org", lang, admin_url=_admin_url(tenant, lang))
    if cfg.org_id and not oauth.same_org(cfg.org_id, token_set.org_id):
        return _page(400, "wrong_org", lang, admin_url=_admin_url(tenant, lang), bound=cfg.org_id,
                     got=token_set.org_id)
    owner = org_binding.bind(org_binding.org_key(token_set.org_id, token_set.instance_url), tenant.id)
    if owner != tenant.id:
        log.warning("salesforce org %s refused for %s: bound to another tenant", token_set.org_id, tenant.id)
        return _offer_release(tenant, token_set)
    return _bound(tenant, token_set)


def _bound(tenant: tenants.Tenant, token_set: oauth.TokenSet):
    """The org is this tenant's: store its tokens, learn its key prefix, resume held work, plan what exists."""
    cfg = salesforce_settings(tenant)
    tenant.host_settings = cfg.model_copy(update={"org_id": token_set.org_id, "instance_url": token_set.instance_url})
    tenants.save(tenant)
    tokens_for(tenant, get_redis()).store(token_set)
    _learn_key_prefix(tenant)
    resumed = holds.resume(tenant.id)
    if tenant.setup_complete:  # else the set-up flow's end starts it (handlers/setup.finish, issue #27)
        backfill.start_quietly(get_redis(), tenant.id, "install")  # issue #17: plan the missions the org already has
    # the next step, in the tenant's language (issue #27): the set-up flow while it is not finished, else the admin
    lang = _lang(tenant)
    next_view = "admin.overview" if tenant.setup_complete else "admin.setup_page"
    return _page(200, "connected", lang, ok=True, admin_url=_admin_url(tenant, lang, next_view),
                 admin_text=_small("admin" if tenant.setup_complete else "setup", lang), org=token_set.org_id,
                 n=len(resumed))


def _release_key(nonce: str) -> str:
    return keys.oauth_state(_digest("release:" + nonce))


def _offer_release(tenant: tenants.Tenant, token_set: oauth.TokenSet):
    """409, and to the person who just consented in that org (proof they administer it), the offer to take it back
    from the workspace it is bound to. The fresh tokens wait encrypted, for minutes, under a one-time nonce."""
    nonce = secrets.token_urlsafe(24)
    offer = {"tenant": tenant.id, "token_set": {**asdict(token_set), "issued_at": token_set.issued_at.isoformat()}}
    get_redis().set(_release_key(nonce), crypto.encrypt(json.dumps(offer).encode()), ex=RELEASE_TTL)
    lang = _lang(tenant)
    form = {"action": url_for("salesforce_connect.release"), "password": None, "button": _small("release", lang),
            "fields": {"r": nonce, "csrf": browser_form_token("sf-release"), "lang": lang}}
    return _page(409, "taken", lang, form=form, org=token_set.org_id)


@bp.post("/salesforce/release")
def release():
    """Take an org back from the workspace it was bound to: only in the browser that just consented in that org."""
    if not browser_form_ok("sf-release", request.form.get("csrf", "")):
        return _page(403, "form_refused", _lang())
    raw = get_redis().getdel(_release_key(request.form.get("r", "")))
    tenant = None
    if raw is not None:
        offer = json.loads(crypto.decrypt(raw))
        tenant = tenants.get(offer["tenant"])
    if tenant is None:
        return _page(400, "expired", _lang())
    fields = offer["token_set"]
    token_set = oauth.TokenSet(**{**fields, "issued_at": datetime.fromisoformat(fields["issued_at"])})
    org = org_binding.org_key(token_set.org_id, token_set.instance_url)
    holder = tenants.get(org_binding.owner(org) or "")
    if holder is not None and holder.id != tenant.id:
        disconnect_tenant(holder)  # its tokens revoked and forgotten: it no longer reads this org
        holder.host_settings = salesforce_settings(holder).model_copy(update={"org_id": None, "instance_url": None})
        tenants.save(holder)
        log.warning("salesforce org %s released from %s by its admin, for %s", token_set.org_id, holder.id, tenant.id)
    if org_binding.bind(org, tenant.id) != tenant.id:
        return _page(409, "taken_again", _lang(tenant), admin_url=_admin_url(tenant, _lang(tenant)))
    return _bound(tenant, token_set)


def _learn_key_prefix(tenant: tenants.Tenant) -> None:
    """Read the mission object's key prefix once (describe), so Flow callouts' record ids can be checked."""
    from handlers.hosts.salesforce.adapter import make_client

    prefixes.learn(make_client(tenant, get_redis()), get_redis(), tenant.id, sobject=salesforce_settings(tenant).mapping.object)


@bp.post("/salesforce/disconnect")
def disconnect():
    """Revoke the refresh token and forget the tokens (what was written in Salesforce stays).

    Needs the admin page's short-lived disconnect token and its CSRF token: the connect link cannot disconnect."""
    token = request.form.get("d", "")
    tenant = _tenant_from_link(token, "sf-disconnect", DISCONNECT_MAX_AGE)
    if tenant is None:
        return _page(404, "disconnect_link", _lang())
    from webhooks.admin.auth import csrf_ok

    if not csrf_ok(token, request.form.get("csrf", "")):
        return _page(403, "disconnect_form", _lang(tenant))
    disconnect_tenant(tenant)
    return _page(200, "disconnected", _lang(tenant), ok=True, admin_url=_admin_url(tenant, _lang(tenant)))


def disconnect_tenant(tenant: tenants.Tenant) -> None:
    """Revoke and forget a tenant's tokens; the org may then be connected to another workspace."""
    store = tokens_for(tenant, get_redis())
    record = store.forget()
    if org_binding.tenant_org(tenant):
        org_binding.release(org_binding.tenant_org(tenant), tenant.id)
    if record and record.get("refresh_token"):
        oauth.revoke(salesforce_settings(tenant).login_url, record["refresh_token"])
