"""Salesforce's part of the admin pages: the org's connection and API usage, disconnect, the test call, the mapping."""

from __future__ import annotations

from flask import url_for

from config import keys
from config.infra.redis_conn import get_redis
from webhooks.hosts.salesforce import admin_mapping as salesforce_mapping
from webhooks.admin.host_pages import HostPages, MappingCheck, MappingUpdate
from webhooks.admin.i18n import say, word
from connectors.salesforce.settings import salesforce_settings


class SalesforcePages(HostPages):
    """A Salesforce tenant runs once its org is connected (the connect flow, webhooks/hosts/salesforce/connect.py)."""

    def frame_origins(self, tenant) -> tuple[str, ...]:
        """The tenant's own org: its My Domain address and that domain's Lightning pages; none before it connects."""
        from webhooks.admin.render import origin_of

        found = origin_of(salesforce_settings(tenant).instance_url) if salesforce_settings(tenant) else None
        if not found:
            return ()
        lightning = found.replace(".my.salesforce.com", ".lightning.force.com")
        return tuple(dict.fromkeys((found, lightning)))

    def status(self, tenant) -> dict:
        """Connected while the org's tokens are stored and no re-consent is asked; the org and its API usage."""
        from handlers.hosts.salesforce.adapter import tokens_for

        store = tokens_for(tenant, get_redis())
        reason = store.needs_reconsent()
        ok = store.load() is not None and not reason
        usage = get_redis().get(keys.sf_usage(tenant.id))
        detail = f"org {salesforce_settings(tenant).org_id or '?'}" + (f", API usage {usage.decode()}" if usage else "")
        detail += _trigger_detail(tenant)
        return {"connected": ok, "label": "connected" if ok else "needs_connecting", "detail": detail + (f" — {reason}" if reason else "")}

    def delivery_card(self, tenant) -> dict | None:
        """A Flow: the path-free URL and its `Authorization: Bearer` header (the secret in no request line); an
        Outbound Message: the URL with its secret (Salesforce takes nothing else there); Change Data Capture: none."""
        from config.infra.urls import public_base_url

        base, trigger = public_base_url(), salesforce_settings(tenant).trigger
        if trigger == "flow":
            return {"message": "delivery_flow", "lines": [tenant.webhook_endpoint(base), f"Authorization: Bearer {tenant.webhook_secret}"]}
        if trigger == "outbound_message":
            return {"message": "delivery_outbound", "lines": [tenant.webhook_url(base)]}
        return None

    def disconnect_form(self, tenant) -> dict | None:
        """A connected org's disconnect button: its own 15-minute token and the CSRF token bound to it."""
        if not salesforce_settings(tenant) or not salesforce_settings(tenant).org_id:
            return None
        from webhooks.admin.auth import csrf_token
        from webhooks.hosts.salesforce.links import disconnect_token

        token = disconnect_token(tenant)
        return {"action": url_for("salesforce_connect.disconnect"), "token": token, "csrf": csrf_token(token)}

    def connect_form(self, tenant) -> dict | None:
        """Connect (or reconnect) the org, whatever its state."""
        return {"action": url_for("salesforce_connect.start"), "id": "connect-salesforce", "label": "connect_salesforce"}

    def test_call(self, tenant, adapter, lang: str) -> str:
        """One query, and the org's API usage it reports; with Change Data Capture, whether it is on (GetTopic)."""
        adapter.client.query_all("SELECT Id FROM User LIMIT 1")
        used = adapter.client.api_usage  # (calls used, daily limit): said in words, never as a tuple (issue #27)
        usage = say("sf_usage", lang, used=used[0], limit=used[1]) if used else word("sf_usage_unknown", lang)
        answer = say("test_ok_salesforce", lang, usage=usage)
        if salesforce_settings(tenant).trigger == "cdc":
            from webhooks.hosts.salesforce.cdc import check_topic

            answer += " " + check_topic(tenant)["message_fr" if lang == "fr" else "message_en"]
        return answer

    def check_mapping(self, tenant, adapter, lang: str) -> MappingCheck:
        """The mapped object and fields answer a query (a HostError names what the org refused)."""
        mapping = salesforce_settings(tenant).mapping
        adapter.client.query_all(f"SELECT {', '.join(mapping.fields())} FROM {mapping.object} LIMIT 1")
        fields = len(mapping.fields()) - 1
        return MappingCheck(
            [],
            (f"{mapping.object} et ses {fields} champs répondent" if lang == "fr" else f"{mapping.object} and its {fields} fields answer"),
        )

    def record_url(self, tenant, host_id: str) -> str | None:
        """The Task's Lightning record page."""
        if salesforce_settings(tenant) and salesforce_settings(tenant).instance_url:
            return f"{salesforce_settings(tenant).instance_url.rstrip('/')}/lightning/r/Task/{host_id}/view"
        return None

    def mapping_fields(self, tenant) -> list[dict]:
        """The mission object, its fields, status and end-reason values."""
        return salesforce_mapping.fields(tenant)

    def mapping_choices(self, tenant, fields: list[dict]) -> dict[str, list[tuple]]:
        """The object's field names in the org."""
        return salesforce_mapping.choices(tenant, fields)

    def mapping_update(self, tenant, form) -> MappingUpdate:
        """The form checked against the org's describe."""
        return salesforce_mapping.update(tenant, form)


def _trigger_detail(tenant) -> str:
    """The tenant's trigger in the page's words, and for Change Data Capture its stream's state as `intermission
    subscribe` reports it."""
    from webhooks.admin.render import lang_for

    trigger = salesforce_settings(tenant).trigger
    if trigger != "cdc":
        return ", " + word(f"sf_trigger_{trigger}", lang_for(tenant))
    from handlers.ops.health import streams

    mine = [s for s in streams(get_redis()) if s["tenant"] == tenant.id]
    states = ", ".join(f"{s['topic']} {s['state']}" for s in mine) or "no stream yet (is `intermission subscribe` running?)"
    return f", trigger Change Data Capture: {states}"


PAGES = SalesforcePages()
