"""Boond marketplace lifecycle: install, validate, uninstall, and the admin's configure (technical user + webhook).

The web endpoints (webhooks/hosts/boond/marketplace.py) verify the signedRequest and call the `handle_*`
functions, which never call Boond. `configure_boond_tenant` does (current user, webhooks): the admin page
calls it on the admin's explicit action, then `handlers.sync.setup.connected` catches up (a host adapter's package
starts no job itself: the sync layer does).
"""
from __future__ import annotations

import hmac
import hashlib
import logging
import secrets
import time

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from connectors.boond.client import BoondClient
from connectors.boond.marketplace import expires_at_from
from connectors.errors import HostError, HostForbidden
from handlers.hosts.boond.adapter import app_tokens_for, make_client
from handlers.hosts.boond.dictionary import Dictionary, labels_and_proposals
from handlers.state.ledger import ActivityLog
from connectors.boond.settings import BoondConfig, boond_env, boond_settings

log = logging.getLogger(__name__)

WEBHOOK_ENTITIES = ("delivery", "resource", "opportunity")  # never "action": our own writes would come back
WEBHOOK_CHANGES = ("create", "update", "delete")
WEBHOOK_NAME = "Intermission"
WEBHOOK_DESCRIPTION = "Mission end dates → end-of-mission and bench reminders (Intermission)"


class MarketplaceError(ValueError):
    """A lifecycle call we refuse; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# --- calls from Boond (no Boond call back) ---------------------------------------------------------


def boond_tenant_id(client_token: str) -> str:
    """The tenant id of a Boond marketplace install: stable across reinstalls of the same customer."""
    return "boond-" + hashlib.sha256(client_token.encode()).hexdigest()[:16]


def tenant_for_client_token(client_token: str) -> tenants.Tenant | None:
    """The Boond tenant installed for this clientToken (any status), or None."""
    if not isinstance(client_token, str) or not client_token:
        return None
    tenant = tenants.get(boond_tenant_id(client_token))
    cfg = boond_settings(tenant) if tenant is not None else None
    return tenant if cfg is not None and cfg.client_token == client_token else None

def handle_install(payload: dict) -> dict:
    """Call 1 (`installationCode`) checks the code; call 2 (`appToken`, `clientToken`…) creates or re-enables."""
    if "appToken" in payload:
        return _install_tokens(payload)
    if "installationCode" in payload:
        return _check_installation_code(payload.get("installationCode"))
    raise MarketplaceError("expected {installationCode} (first install call) or {appToken, clientToken, clientName}")


def _check_installation_code(given) -> dict:
    expected = boond_env().boond_installation_code
    if expected and not hmac.compare_digest(str(given or "").encode(), expected.encode()):
        raise MarketplaceError("wrong installation code: enter the code Intermission gave you", 403)
    return {"step": "installation code accepted"}


def _install_tokens(payload: dict) -> dict:
    app_token, client_token = _required(payload, "appToken", "clientToken")
    conn = get_redis()
    tenant = _installed_tenant(client_token, str(payload.get("clientName") or ""))
    app_tokens_for(tenant, conn).store(app_token, _text(payload.get("refreshToken")),
                                       expires_at_from(payload.get("expiresIn"), time.time()))
    tenants.save(tenant)
    _log(conn, tenant.id, "installed", f"installed from the Boond marketplace ({tenant.status})")
    return {"tenant": tenant.id, "status": tenant.status}


def _installed_tenant(client_token: str, client_name: str) -> tenants.Tenant:
    """A new tenant waiting for its technical user, or the existing one with the server's app key."""
    settings = get_settings()
    tenant_id = boond_tenant_id(client_token)
    existing = tenants.get(tenant_id)
    if existing is None:
        return tenants.Tenant(id=tenant_id, host="boond", name=client_name, language=settings.default_language,
                              timezone=settings.default_timezone, enabled=False, status="needs_configuration",
                              setup_complete=False,  # the set-up flow ends it (issue #27)
                              host_settings=BoondConfig(base_url=boond_env().boond_base_url, auth_mode="app",
                                                        app_key=boond_env().boond_app_key, client_token=client_token))
    if existing.host != "boond" or not boond_settings(existing) or boond_settings(existing).client_token != client_token:
        raise MarketplaceError(f"tenant {tenant_id} exists and is not this Boond customer's", 409)
    configured = existing.status == "active" and bool(boond_settings(existing).user_token)
    boond = boond_settings(existing).model_copy(update={"auth_mode": "app", "app_token": None,
                                              "app_key": boond_env().boond_app_key})
    return existing.model_copy(update={"host_settings": boond, "name": client_name or existing.name,
                                       "status": "active" if configured else "needs_configuration",
                                       "enabled": existing.enabled and configured})


def handle_validate(payload: dict) -> dict:
    """New tokens after the admin clicked Validate in Boond (scopes changed, or a wrong key was used)."""
    client_token, app_token = _required(payload, "clientToken", "appToken")
    tenant = tenant_for_client_token(client_token)
    if tenant is None or tenant.status == "uninstalled":
        raise MarketplaceError("this Boond customer has not installed Intermission: install the app first", 404)
    conn = get_redis()
    app_tokens_for(tenant, conn).store(app_token, _text(payload.get("refreshToken")),
                                       expires_at_from(payload.get("expiresIn"), time.time()))
    key = boond_env().boond_app_key
    if boond_settings(tenant).app_key != key:
        tenants.save(tenant.model_copy(update={"host_settings": boond_settings(tenant).model_copy(update={"app_key": key})}))
    _log(conn, tenant.id, "validated", "app tokens renewed by Validate in Boond")
    return {"tenant": tenant.id}


def handle_uninstall(payload: dict) -> dict:
    """Forget the tenant's secrets and stop its work; keep ledger, snapshots and activity; touch nothing in Boond."""
    (client_token,) = _required(payload, "clientToken")
    tenant = tenant_for_client_token(client_token)
    if tenant is None:
        return {"tenant": None}
    conn = get_redis()
    app_tokens_for(tenant, conn).forget()
    boond = boond_settings(tenant).model_copy(update={"user_token": None, "app_token": None, "app_key": None,
                                            "client_key": None})
    # a new epoch revokes every admin token and link made so far; an uninstalled tenant never runs a job
    tenants.save(tenant.model_copy(update={"host_settings": boond, "enabled": False, "status": "uninstalled",
                                           "webhook_secret": secrets.token_urlsafe(32),
                                           "auth_epoch": tenant.auth_epoch + 1}))
    for key in conn.scan_iter(match=keys.pending_users_pattern(tenant.id), count=500):
        conn.delete(key)  # userTokens the admin page kept for a pending configuration
    _log(conn, tenant.id, "uninstalled", "uninstalled in Boond: secrets removed, work stopped, history kept")
    return {"tenant": tenant.id}


def _required(payload: dict, *names: str) -> tuple[str, ...]:
    values = tuple(_text(payload.get(name)) for name in names)
    missing = [name for name, value in zip(names, values) if not value]
    if missing:
        raise MarketplaceError("the signedRequest payload lacks " + ", ".join(missing))
    return values


def _text(value) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def _log(conn, tenant_id: str, op: str, title: str) -> None:
    ActivityLog(conn, tenant_id).add({"mission": "", "op": op, "key": "", "title": title,
                                      "trigger": {"kind": "marketplace", "via": "boond"}})


# --- the admin's configure action (calls Boond) -----------------------------------------------------

def configure_boond_tenant(tenant_id: str, user_token: str, *, base_url: str | None = None) -> dict:
    """Check the technical user's token, register our webhook (or give the URL to paste), enable the tenant."""
    # -> {"configured", "registered", "url", "webhook_id", "reason", "user"}; TenantError when the tenant is
    # unknown, not Boond, or uninstalled. Calls Boond: only on an admin's explicit action. The caller then catches
    # up on what changed while we were not listening (handlers.sync.setup.connected, with CONFIGURED).
    tenant = tenants.require(tenant_id)
    if tenant.host != "boond" or not boond_settings(tenant) or tenant.status == "uninstalled":
        raise tenants.TenantError(f"tenant '{tenant_id}' is not an installed Boond tenant: install the app first")
    if not isinstance(user_token, str) or not user_token.strip():
        raise tenants.TenantError("a technical user's token is needed")
    conn = get_redis()
    candidate = tenant.model_copy(update={"host_settings": boond_settings(tenant).model_copy(update={"user_token": user_token})})
    url = candidate.webhook_url(base_url)
    try:
        client = make_client(candidate, conn)
        who = (client.current_user().get("data") or {}).get("attributes") or {}
    except HostError as exc:
        return {"configured": False, "registered": False, "url": url, "webhook_id": None, "user": None,
                "reason": f"Boond refused this user's token ({exc}); nothing was changed"}
    outcome = register_webhook(client, url)
    _save_configuration(tenant_id, user_token, outcome["webhook_id"], states=proposed_states(client, tenant_id))
    user = " ".join(x for x in (who.get("firstName"), who.get("lastName")) if x)
    _log(conn, tenant_id, "configured", f"technical user {user or '?'}; webhook "
                                         f"{'registered' if outcome['registered'] else 'to paste: ' + url}")
    return {"configured": True, "user": user, **outcome}


CONFIGURED = {"kind": "marketplace", "via": "configure"}  # the trigger of the re-reads that follow a configure


def proposed_states(client: BoondClient, tenant_id: str) -> dict:
    """The tenant's state labels and the mapping proposed from them, for the mapping page ({} if unreadable)."""
    try:
        labels, proposals = labels_and_proposals(Dictionary(tenant_id, client.dictionary()))
    except HostError as exc:
        log.warning("dictionary of %s unreadable at configure: %s", tenant_id, exc)
        return {}
    return {"state_labels": labels, "proposed_states": proposals}


def _save_configuration(tenant_id: str, user_token: str, webhook_id: str | None, *, states: dict) -> None:
    """Apply the configuration to the tenant as stored now (an admin may have saved it meanwhile)."""
    fresh = tenants.require(tenant_id)
    webhook_id = webhook_id or boond_settings(fresh).webhook_id
    boond = boond_settings(fresh).model_copy(update={"user_token": user_token, "webhook_id": webhook_id, **states})
    enabled = fresh.enabled if fresh.status == "active" else True
    tenants.save(fresh.model_copy(update={"host_settings": boond, "status": "active", "enabled": enabled}))


def webhook_document(url: str) -> dict:
    """The POST /webhooks body (reference §3.1): deliveries, resources and opportunities (matching), never actions."""
    events = [{"type": change, "entity": entity} for entity in WEBHOOK_ENTITIES for change in WEBHOOK_CHANGES]
    return {"data": {"type": "webhook", "attributes": {"name": WEBHOOK_NAME, "description": WEBHOOK_DESCRIPTION,
                                                       "url": url, "events": events}}}


def register_webhook(client: BoondClient, url: str) -> dict:
    """Keep our current webhook, drop our stale ones (old secret), create it if needed; or say why not."""
    marker = "/webhooks/boond/" + url.rstrip("/").split("/")[-2] + "/"
    wanted = webhook_document(url)["data"]["attributes"]["events"]
    try:
        ours = [h for h in client.webhooks() if marker in str(_attrs(h).get("url", ""))]
        current = next((h for h in ours if _attrs(h).get("url") == url and _same_events(h, wanted)), None)
        for stale in (h for h in ours if h is not current):
            _delete_quietly(client, str(stale.get("id")))
        hook = current or client.create_webhook(webhook_document(url))
    except HostError as exc:
        return {"registered": False, "url": url, "webhook_id": None, "reason": _why_not(exc)}
    return {"registered": True, "url": url, "webhook_id": str(hook.get("id")), "reason": None}


def _attrs(hook: dict) -> dict:
    return hook.get("attributes") or {} if isinstance(hook, dict) else {}


def _same_events(hook: dict, wanted: list[dict]) -> bool:
    given = {(e.get("type"), e.get("entity")) for e in _attrs(hook).get("events") or [] if isinstance(e, dict)}
    return given == {(e["type"], e["entity"]) for e in wanted}


def _delete_quietly(client: BoondClient, webhook_id: str) -> None:
    try:
        client.delete_webhook(webhook_id)
    except HostError:
        pass  # a stale registration we cannot remove only produces 404s on our side


def _why_not(exc: HostError) -> str:
    if isinstance(exc, HostForbidden) or exc.status in (403, 404, 405, 422, 501):
        return (f"Boond did not let the app register its webhook ({exc}): paste the URL in Boond, "
                "Administration > Webhooks, events create/update/delete on deliveries and resources")
    return f"Boond did not answer the webhook registration ({exc}): try again, or paste the URL in Boond"
