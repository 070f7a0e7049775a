"""Salesforce's mapping form: the mission object, its fields, and which status and end-reason values mean which case."""

from __future__ import annotations

import json

from pydantic import ValidationError

from config import keys, tenants
from config.infra.redis_conn import get_redis
from connectors.errors import HostError, HostNotFound
from connectors.salesforce.mapping import SalesforceMapping
from webhooks.admin import host_choices
from webhooks.admin.host_pages import MappingUpdate
from webhooks.admin.host_choices import DESCRIBE_TTL, HostUnreadable
from connectors.salesforce.settings import salesforce_settings
from webhooks.admin.i18n import word
from webhooks.admin.mapping_form import message, pairs, written
from webhooks.admin.render import lang_for
from webhooks.admin.validation import field_errors

SF_FIELDS = (
    "object",
    "name",
    "start_date",
    "end_date",
    "consultant_contact",
    "consultant_user",
    "manager_user",
    "business_engineer_user",
    "hr_user",
    "account",
    "client_contact",
    "status",
    "end_reason",
    "consultant_manager_user",
    "consultant_left",
    "contract_end",
    "occupation",
    "daily_cost",
)


def fields(tenant) -> list[dict]:
    """The form's fields with the tenant's values."""
    from webhooks.admin.i18n import word
    from webhooks.admin.render import lang_for

    m, lang = salesforce_settings(tenant).mapping, lang_for(tenant)
    out = [{"name": f, "label": word(f"sf_{f}", lang), "value": getattr(m, f) or "", "help": ""} for f in SF_FIELDS]
    out.append(
        {
            "name": "status_values",
            "label": word("sf_status_values", lang),
            "value": written(m.status_values),
            "help": word("sf_status_values_help", lang),
        }
    )
    out.append(
        {
            "name": "reason_values",
            "label": word("sf_reason_values", lang),
            "value": written(m.reason_values),
            "help": word("sf_reason_values_help", lang),
        }
    )
    return out


def choices(tenant, form_fields: list[dict]) -> dict[str, list[tuple]]:
    """The mission object's field names, offered for every field but the object itself."""
    names = salesforce_names(tenant, salesforce_settings(tenant).mapping.object) or set()
    offered = [(n, n) for n in sorted(names)]
    return {f: offered for f in SF_FIELDS if f != "object"}


def update(tenant, form) -> MappingUpdate:
    """(the tenant with the form's mapping, errors by field)."""
    data = {f: (form.get(f) or "").strip() or None for f in SF_FIELDS}
    errors = {}
    try:
        data["status_values"] = pairs(form.get("status_values", ""))
        data["reason_values"] = pairs(form.get("reason_values", ""))
        mapping = SalesforceMapping.model_validate({k: v for k, v in data.items() if v is not None or k != "object"})
    except ValidationError as exc:  # in the page's words, each field named by its label
        lang = lang_for(tenant)
        return MappingUpdate(tenant, field_errors(exc, lang, labels={f: word(f"sf_{f}", lang) for f in SF_FIELDS}))
    except ValueError as exc:
        return MappingUpdate(tenant, {"status_values": message(exc, lang_for(tenant))})
    errors = _not_in_org(tenant, mapping)
    if errors:
        return MappingUpdate(tenant, errors)
    settings = salesforce_settings(tenant).model_copy(update={"mapping": mapping})
    return MappingUpdate(tenant.model_copy(update={"host_settings": settings}), errors)


def _not_in_org(tenant, mapping: SalesforceMapping) -> dict[str, str]:
    """Field errors for an object or fields the org does not have (its describe, cached for an hour)."""
    try:
        names = salesforce_names(tenant, mapping.object)
    except host_choices.HostUnreadable as exc:
        return {
            "_": f"Impossible de vérifier auprès de Salesforce, rien n'est enregistré — could not check with "
            f"Salesforce, nothing was saved: {exc}"
        }
    if names is None:
        return {"object": f"aucun objet {mapping.object} dans votre org — no object {mapping.object} in your org"}
    mapped = {f: getattr(mapping, f) for f in SF_FIELDS if f != "object"}
    return {
        f: f"{mapping.object} n'a pas de champ {value} — {mapping.object} has no field {value}"
        for f, value in host_choices.unknown_fields(names, mapped).items()
    }


def salesforce_names(tenant: tenants.Tenant, sobject: str) -> set[str] | None:
    """The object's field and relationship names in the org; None when the org has no such object."""
    conn, key = get_redis(), keys.sf_describe(tenant.id, sobject)
    raw = conn.get(key)
    if raw is None:
        from handlers.hosts.salesforce.adapter import make_client

        try:
            doc = make_client(tenant, conn).describe(sobject)
        except HostNotFound:
            return None
        except HostError as exc:
            raise HostUnreadable(f"Salesforce could not describe {sobject}: {exc}") from exc
        fields = doc.get("fields") or []
        names = sorted({f["name"] for f in fields if f.get("name")} | {f["relationshipName"] for f in fields if f.get("relationshipName")})
        raw = json.dumps(names)
        conn.set(key, raw, ex=DESCRIBE_TTL)
    return set(json.loads(raw))
