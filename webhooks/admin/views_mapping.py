"""The mapping page: Boond action types and delivery states, or Salesforce object, fields and values → cases."""
from __future__ import annotations

import json

from flask import redirect, request, url_for
from pydantic import ValidationError

from config import keys
from config import tenants
from config.redis_conn import get_redis
from config.sf_mapping import SalesforceMapping
from connectors.errors import HostError
from handlers.hosts.boond_dictionary import Dictionary
from webhooks.admin import bp, host_choices
from webhooks.admin.auth import current_admin
from webhooks.admin.render import page

KINDS = ("task", "reminder", "survey", "bench", "note")
STATE_CASES = {"delivery": "active, natural, client, consultant, cancelled", "resource": "active, bench, left"}
STATE_LABELS = {"delivery": "États de prestation → cas / delivery states → case",
                "resource": "États de ressource → situation / resource states → situation"}
SF_FIELDS = ("object", "name", "start_date", "end_date", "consultant_contact", "consultant_user", "manager_user",
             "business_engineer_user", "hr_user", "account", "client_contact", "status", "end_reason",
             "consultant_manager_user", "consultant_left", "contract_end", "occupation")


@bp.route("/mapping", methods=["GET", "POST"])
def mapping():
    """Show and save the tenant's mapping, with errors next to their field."""
    admin = current_admin()
    tenant, errors = admin.tenant, {}
    if request.method == "POST":
        updated, errors = (_boond_update if tenant.host == "boond" else _salesforce_update)(tenant, request.form)
        if not errors:
            tenants.save(updated)
            return redirect(url_for(".mapping", a=admin.token, lang=request.form.get("lang"), flash="saved"))
    fields = _with_choices(tenant, _boond_fields(tenant) if tenant.host == "boond" else _salesforce_fields(tenant))
    if errors:
        fields = [{**f, "value": request.form.get(f["name"], f["value"])} for f in fields]
    states, proposed = _state_rows(tenant) if tenant.host == "boond" else ([], False)
    return page("mapping.html", fields=fields, errors=errors, flash=request.args.get("flash"), states=states,
                proposed=proposed,
                problem="Corrigez les champs signalés. — Please fix the fields marked below." if errors else None), \
        400 if errors else 200


def _with_choices(tenant, fields: list[dict]) -> list[dict]:
    """The fields with what the host offers for each (Boond action types, Salesforce field names), when it answers."""
    try:
        if tenant.host == "boond":
            types = sorted(host_choices.boond_action_types(tenant).items())
            named = {f["name"] for f in fields if f["name"].startswith("type_") or f["name"] == "done_types"}
        else:
            names = host_choices.salesforce_names(tenant, tenant.salesforce.mapping.object) or set()
            types = [(n, n) for n in sorted(names)]
            named = {f for f in SF_FIELDS if f != "object"}
    except host_choices.HostUnreadable:
        return fields
    return [{**f, "choices": types if f["name"] in named else None} for f in fields]


def _pairs(text: str) -> dict[str, str]:
    """'2=client, 3=consultant' → {'2': 'client', '3': 'consultant'}."""
    out = {}
    for part in (p.strip() for p in text.replace("\n", ",").split(",")):
        if part:
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"'{part}': write value=case")
            out[key.strip()] = value.strip()
    return out


def _format(pairs: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs.items())


def _boond_fields(tenant) -> list[dict]:
    cfg = tenant.boond
    help_types = _dictionary_help(tenant.id)
    fields = [{"name": f"type_{k}", "label": f"typeOf — {k}", "value": cfg.action_types.get(k, ""),
               "help": help_types if k == "task" else ""} for k in KINDS]
    fields.append({"name": "done_types", "label": "typeOf « fait » / \"done\" types",
                   "value": ", ".join(str(t) for t in cfg.done_action_types),
                   "help": "types d'action qui veulent dire « fait » : une action passée à l'un d'eux est conservée telle "
                           "quelle — action types meaning done: an action moved to one of them is kept as it is"})
    for kind, cases in STATE_CASES.items():
        fields.append({"name": f"{kind}_states", "label": STATE_LABELS[kind], "value": _format(_in_form(cfg, kind)),
                       "help": f"{cases} — " + _labels_text(cfg.state_labels.get(kind) or {})})
    return fields


def _not_in_dictionary(tenant, types: dict[str, int], done: list[int]) -> dict[str, str]:
    """Field errors for action type ids the tenant's Boond dictionary does not have (read only when there are some)."""
    if not types and not done:
        return {}
    try:
        known = host_choices.boond_action_types(tenant)
    except host_choices.HostUnreadable as exc:
        return {"_": f"Impossible de vérifier auprès de Boond, rien n'est enregistré — could not check with Boond, "
                     f"nothing was saved: {exc}"}
    listed = ", ".join(f"{i} = {label}" for i, label in sorted(known.items()))
    errors = {f"type_{kind}": f"{ident} n'est pas un type d'action de votre Boond — {ident} is not an action type of "
                              f"your Boond ({listed})" for kind, ident in types.items() if ident not in known}
    missing = [str(i) for i in done if i not in known]
    if missing:
        errors["done_types"] = (f"{', '.join(missing)} : absent de votre Boond — not in your Boond ({listed})")
    return errors


def _done_types(raw: str) -> list[int] | None:
    """'6, 12' → [6, 12]; None when a value is not an action type id."""
    values = [v.strip() for v in (raw or "")[:200].split(",") if v.strip()]
    if not all(v.isascii() and v.isdigit() and len(v) <= 9 for v in values):
        return None
    return [int(v) for v in values]


def _in_form(cfg, kind: str) -> dict:
    """What the form shows: the mapping in use once confirmed or set, else the proposal from the labels."""
    in_use = cfg.delivery_states if kind == "delivery" else cfg.resource_states
    return in_use if cfg.states_confirmed or in_use else cfg.proposed_states.get(kind, {})


def _labels_text(labels: dict) -> str:
    if not labels:
        return "vos libellés apparaissent ici après la configuration — your labels appear here once configured"
    return ", ".join(f"{k} = {v}" for k, v in labels.items())


def _state_rows(tenant) -> tuple[list[dict], bool]:
    """One row per state of the tenant's dictionary: its own label, the proposal, the case in use."""
    cfg, rows = tenant.boond, []
    for kind in STATE_CASES:
        in_use = cfg.delivery_states if kind == "delivery" else cfg.resource_states
        for state_id, label in (cfg.state_labels.get(kind) or {}).items():
            rows.append({"kind": kind, "id": state_id, "label": label,
                         "proposed": cfg.proposed_states.get(kind, {}).get(state_id, "—"),
                         "in_use": in_use.get(state_id) or "non associé / not mapped"})
    return rows, bool(rows) and not cfg.states_confirmed


def _boond_update(tenant, form) -> tuple:
    errors, types = {}, {}
    for kind in KINDS:
        raw = (form.get(f"type_{kind}") or "")[:200].strip()
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
            errors[f"type_{kind}"] = "a numeric action type id from your Boond dictionary"
        elif raw:
            types[kind] = int(raw)
    done = _done_types(form.get("done_types", ", ".join(str(t) for t in tenant.boond.done_action_types)))
    if done is None:
        errors["done_types"] = "numeric action type ids from your Boond dictionary, separated by commas"
    errors.update(_not_in_dictionary(tenant, types, done or []))
    boond = tenant.boond.model_copy(update={"action_types": types, "done_action_types": done or []})
    for kind in STATE_CASES:
        try:
            states = _pairs(form.get(f"{kind}_states", _format(_in_form(tenant.boond, kind))))
            boond = tenants.BoondConfig.model_validate({**boond.model_dump(), f"{kind}_states": states})
        except (ValueError, ValidationError) as exc:
            errors[f"{kind}_states"] = _message(exc)
    if errors:
        return tenant, errors
    return tenant.model_copy(update={"boond": boond.model_copy(update={"states_confirmed": True})}), errors


def _salesforce_fields(tenant) -> list[dict]:
    m = tenant.salesforce.mapping
    fields = [{"name": f, "label": f, "value": getattr(m, f) or "", "help": ""} for f in SF_FIELDS]
    fields.append({"name": "status_values", "label": "status values → case", "value": _format(m.status_values),
                   "help": "e.g. Cancelled=cancelled"})
    fields.append({"name": "reason_values", "label": "end reasons → case", "value": _format(m.reason_values),
                   "help": "e.g. Client=client, Consultant=consultant"})
    return fields


def _salesforce_update(tenant, form) -> tuple:
    data = {f: (form.get(f) or "").strip() or None for f in SF_FIELDS}
    errors = {}
    try:
        data["status_values"] = _pairs(form.get("status_values", ""))
        data["reason_values"] = _pairs(form.get("reason_values", ""))
        mapping = SalesforceMapping.model_validate({k: v for k, v in data.items() if v is not None or k != "object"})
    except ValidationError as exc:
        for error in exc.errors():
            errors.setdefault(str(error["loc"][0]) if error["loc"] else "_", error["msg"])
        return tenant, errors
    except ValueError as exc:
        return tenant, {"status_values": str(exc)}
    errors = _not_in_org(tenant, mapping)
    if errors:
        return tenant, errors
    return tenant.model_copy(update={"salesforce": tenant.salesforce.model_copy(update={"mapping": mapping})}), errors


def _not_in_org(tenant, mapping: SalesforceMapping) -> dict[str, str]:
    """Field errors for an object or fields the org does not have (its describe, cached for an hour)."""
    try:
        names = host_choices.salesforce_names(tenant, mapping.object)
    except host_choices.HostUnreadable as exc:
        return {"_": f"Impossible de vérifier auprès de Salesforce, rien n'est enregistré — could not check with "
                     f"Salesforce, nothing was saved: {exc}"}
    if names is None:
        return {"object": f"aucun objet {mapping.object} dans votre org — no object {mapping.object} in your org"}
    mapped = {f: getattr(mapping, f) for f in SF_FIELDS if f != "object"}
    return {f: f"{mapping.object} n'a pas de champ {value} — {mapping.object} has no field {value}"
            for f, value in host_choices.unknown_fields(names, mapped).items()}


def _dictionary_help(tenant_id: str) -> str:
    raw = get_redis().get(keys.boond_dictionary(tenant_id))
    if not raw:
        return "The tenant's types appear here once Intermission has read its dictionary."
    try:
        types = Dictionary(tenant_id, json.loads(raw)).action_types("resource")
    except HostError as exc:
        return str(exc)
    return "resource: " + ", ".join(f"{t.get('id')}={t.get('value')}" for t in types)


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(e["msg"] for e in exc.errors())
    return str(exc)
