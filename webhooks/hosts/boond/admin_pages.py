"""Boond's part of the admin pages: the iframe's entry, the technical user's set-up, the test call, the mapping."""

from __future__ import annotations

import secrets

from flask import Blueprint, redirect, request, url_for

from config import keys
from config.infra import crypto
from config.infra.redis_conn import get_redis
from webhooks.hosts.boond import admin_mapping as boond_mapping
from webhooks.admin.auth import admin_token
from webhooks.admin.host_pages import HostPages, MappingCheck, MappingUpdate, StateRows
from webhooks.admin.i18n import say, word
from webhooks.admin.render import error_page, error_words, lang_for
from connectors.boond.settings import boond_env, boond_settings

entry = Blueprint("admin_entry", __name__)


class BoondPages(HostPages):
    """A Boond tenant runs once a technical user is set (from the marketplace iframe)."""

    def frame_origins(self, tenant) -> tuple[str, ...]:
        """The tenant's own Boond: the origin of its API address (no wildcard shared by every customer)."""
        from webhooks.admin.render import origin_of

        found = origin_of(boond_settings(tenant).base_url) if boond_settings(tenant) else None
        return (found,) if found else ()

    def status(self, tenant) -> dict:
        """Connected once a technical user and an app or client token are set."""
        cfg = boond_settings(tenant)
        ok = bool(cfg and cfg.user_token and (cfg.app_token or cfg.client_token))
        return {"connected": ok, "label": "connected" if ok else "not_configured", "detail": cfg.base_url if cfg else ""}

    def ready(self, tenant) -> bool:
        """Background writes need the technical user's rights."""
        return bool(boond_settings(tenant) and boond_settings(tenant).user_token)

    def configure_card(self, tenant) -> dict | None:
        """Until a technical user is set: use the admin who opened the iframe, or open it from Boond."""
        if self.ready(tenant):
            return None
        nonce = request.values.get("u")  # kept across the language switch, the connection test and the kill switch
        if nonce and get_redis().exists(keys.pending_user(tenant.id, nonce)):
            return {"message": "choose_user", "form": True, "user_token": nonce, "user_label": "you", "button": "use_me"}
        return {"message": "open_from_boond", "form": False}

    def configure(self, admin):
        """Use the admin who opened the iframe as the technical user, and register the webhook."""
        raw = get_redis().getdel(keys.pending_user(admin.tenant.id, request.form.get("user_token", "")))
        if raw is None:
            return error_words(400, "config_expired")
        from handlers.hosts.boond.marketplace import CONFIGURED, configure_boond_tenant
        from handlers.sync import setup

        result = configure_boond_tenant(admin.tenant.id, crypto.decrypt(raw).decode(), base_url=_public_base())
        if result["configured"]:
            setup.connected(get_redis(), admin.tenant.id, CONFIGURED)
        lang = lang_for(admin.tenant)
        if request.form.get("next") == "setup":  # the set-up flow's first screen: back to it, its check says how
            return redirect(url_for("admin.setup_page", a=admin.token, lang=lang, step="connection"))
        if not result.get("configured"):
            message = say("flash_not_configured", lang, reason=result.get("reason", ""))
        elif result.get("registered"):
            message = say("flash_configured", lang, user=result.get("user") or word("you", lang))
        else:
            message = say("flash_configured_paste", lang, url=result.get("url")) + f" ({result.get('reason', '')})"
        return redirect(url_for("admin.overview", a=admin.token, lang=lang, flash=message))

    def test_call(self, tenant, adapter, lang: str) -> str:
        """Who the technical user is, as Boond says."""
        who = adapter.client.current_user().get("data", {}).get("attributes", {})
        name = f"{who.get('firstName', '')} {who.get('lastName', '')}".strip() or "?"
        return say("test_ok_boond", lang, who=name)

    def check_mapping(self, tenant, adapter, lang: str) -> MappingCheck:
        """Every mapped action type is in the tenant's dictionary."""
        setting = (adapter.client.dictionary().get("data") or {}).get("setting") or {}
        actions = setting.get("action") or {}
        known = {entity: {str(t.get("id")) for t in types or []} for entity, types in actions.items()}
        wanted = [("resource", kind, v) for kind, v in boond_settings(tenant).action_types.items()]
        wanted += [("contact", kind, v) for kind, v in boond_settings(tenant).contact_action_types.items()]
        wanted += [("resource", "done", v) for v in boond_settings(tenant).done_action_types]
        bad = [f"{kind} → {value}" for entity, kind, value in wanted if str(value) not in known.get(entity, set())]
        missing = (
            "le type d'action {v} n'existe pas dans le dictionnaire Boond"
            if lang == "fr"
            else "action type {v} is not in Boond's dictionary"
        )
        done = (
            f"{len(wanted)} type(s) d'action trouvés dans le dictionnaire"
            if lang == "fr"
            else f"{len(wanted)} action type(s) found in the dictionary"
        )
        if not wanted:
            done = "types d'action détectés depuis le dictionnaire" if lang == "fr" else "action types detected from the dictionary"
        return MappingCheck([missing.format(v=b) for b in bad], done)

    def record_url(self, tenant, host_id: str) -> str | None:
        """Boond's action page [INF]."""
        return f"{boond_settings(tenant).base_url.removesuffix('/api')}/actions/{host_id}" if boond_settings(tenant) else None

    def mapping_fields(self, tenant) -> list[dict]:
        """Action types, done types, delivery and resource states."""
        return boond_mapping.fields(tenant)

    def mapping_choices(self, tenant, fields: list[dict]) -> dict[str, list[tuple]]:
        """The dictionary's action types."""
        return boond_mapping.choices(tenant, fields)

    def mapping_update(self, tenant, form) -> MappingUpdate:
        """The form checked against the dictionary."""
        return boond_mapping.update(tenant, form)

    def mapping_states(self, tenant) -> StateRows:
        """The tenant's own states and the proposal made from their labels."""
        return boond_mapping.state_rows(tenant)

    def restated(self, tenant, snapshot):
        """The delivery's state read again with `tenant`'s mapping (a deleted delivery stays deleted)."""
        from handlers.hosts.boond.adapter import delivery_status

        if snapshot.status == "deleted":
            return snapshot
        status, note = delivery_status(tenant, snapshot.raw_state)
        return snapshot.model_copy(update={"status": status, "state_note": note})

    def setup_states(self, tenant) -> list[dict] | None:
        """The tenant's own delivery and resource states, the proposal (or the mapping in use) pre-selected."""
        return boond_mapping.setup_rows(tenant)

    def setup_states_save(self, tenant, form):
        """The states chosen, confirmed (an unknown case is ignored: the select offers only cases)."""
        return boond_mapping.setup_save(tenant, form)


PAGES = BoondPages()


@entry.route("/boond/configure", methods=["GET", "POST"])
@entry.route("/boond/configuration", methods=["GET", "POST"])  # the name Boond's sample app and pyboondmanager use
def boond_configure():
    """The Boond iframe: verify the signedRequest (query or form), open the tenant's admin pages (and offer
    configuration)."""
    from connectors.boond.marketplace import BadSignedRequest, claim_once, decode_signed_request
    from webhooks.hosts.boond.marketplace import DEFAULT_MAX_AGE

    key = boond_env().boond_app_key
    if not key:
        return error_page(503, "Marketplace not configured", "INTERMISSION_BOOND_APP_KEY is not set on this server.")
    max_age = boond_env().boond_signed_request_max_age or DEFAULT_MAX_AGE
    try:
        value = request.values.get("signedRequest", "")
        payload = decode_signed_request(value, key, max_age=max_age)
        claim_once(value, max_age)
    except BadSignedRequest as exc:
        return error_page(401, "Requête refusée / Request refused", f"signedRequest: {exc}")
    from handlers.hosts.boond.marketplace import tenant_for_client_token

    tenant = tenant_for_client_token(str(payload.get("clientToken", "")))
    if tenant is None or tenant.status == "uninstalled":
        return error_page(404, "Application non installée / App not installed", "Install Intermission from the Boond marketplace first.")
    view = "admin.overview" if tenant.setup_complete else "admin.setup_page"  # a new install opens its set-up flow
    if payload.get("userToken"):
        nonce = secrets.token_urlsafe(16)
        get_redis().set(keys.pending_user(tenant.id, nonce), crypto.encrypt(str(payload["userToken"]).encode()), ex=3600)
        return redirect(url_for(view, a=admin_token(tenant.id, "boond-iframe"), u=nonce))
    return redirect(url_for(view, a=admin_token(tenant.id, "boond-iframe")))


def _public_base() -> str:
    """Where hosts reach us: INTERMISSION_PUBLIC_BASE_URL when set, else the address this page was opened at."""
    from config.settings import get_settings

    settings = get_settings()
    return settings.public_base_url if "public_base_url" in settings.model_fields_set else request.host_url.rstrip("/")
