"""Boond's mapping form: action types per kind, the types that mean done, the tenant's delivery and resource states."""

from __future__ import annotations

import json

from pydantic import ValidationError

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from connectors.errors import HostError
from handlers.hosts.boond.dictionary import Dictionary
from webhooks.admin import host_choices
from webhooks.admin.mapping_form import message, pairs, written

KINDS = ("task", "reminder", "survey", "bench", "note")
STATE_CASES = {"delivery": "active, natural, client, consultant, cancelled", "resource": "active, bench, staffed, leaving, left"}
STATE_LABELS = {
    "delivery": "États de prestation → cas / delivery states → case",
    "resource": "États de ressource → situation / resource states → situation",
}


def fields(tenant) -> list[dict]:
    """The form's fields with the tenant's values."""
    cfg = tenant.boond
    help_types = _dictionary_help(tenant.id)
    out = [
        {"name": f"type_{k}", "label": f"typeOf — {k}", "value": cfg.action_types.get(k, ""), "help": help_types if k == "task" else ""}
        for k in KINDS
    ]
    out.append(
        {
            "name": "done_types",
            "label": 'typeOf « fait » / "done" types',
            "value": ", ".join(str(t) for t in cfg.done_action_types),
            "help": "types d'action qui veulent dire « fait » : une action passée à l'un d'eux est conservée telle "
            "quelle — action types meaning done: an action moved to one of them is kept as it is",
        }
    )
    for kind, cases in STATE_CASES.items():
        out.append(
            {
                "name": f"{kind}_states",
                "label": STATE_LABELS[kind],
                "value": written(_in_form(cfg, kind)),
                "help": f"{cases} — " + _labels_text(cfg.state_labels.get(kind) or {}),
            }
        )
    return out


def choices(tenant, form_fields: list[dict]) -> dict[str, list[tuple]]:
    """The dictionary's action types, offered for every type field."""
    types = sorted(host_choices.boond_action_types(tenant).items())
    return {f["name"]: types for f in form_fields if f["name"].startswith("type_") or f["name"] == "done_types"}


def update(tenant, form) -> tuple:
    """(the tenant with the form's types and states, errors by field)."""
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
            states = pairs(form.get(f"{kind}_states", written(_in_form(tenant.boond, kind))))
            boond = tenants.BoondConfig.model_validate({**boond.model_dump(), f"{kind}_states": states})
        except (ValueError, ValidationError) as exc:
            errors[f"{kind}_states"] = message(exc)
    if errors:
        return tenant, errors
    return tenant.model_copy(update={"boond": boond.model_copy(update={"states_confirmed": True})}), errors


def state_rows(tenant) -> tuple[list[dict], bool]:
    """One row per state of the tenant's dictionary: its own label, the proposal, the case in use."""
    cfg, rows = tenant.boond, []
    for kind in STATE_CASES:
        in_use = cfg.delivery_states if kind == "delivery" else cfg.resource_states
        for state_id, label in (cfg.state_labels.get(kind) or {}).items():
            rows.append(
                {
                    "kind": kind,
                    "id": state_id,
                    "label": label,
                    "proposed": cfg.proposed_states.get(kind, {}).get(state_id, "—"),
                    "in_use": in_use.get(state_id) or "non associé / not mapped",
                }
            )
    return rows, bool(rows) and not cfg.states_confirmed


def _not_in_dictionary(tenant, types: dict[str, int], done: list[int]) -> dict[str, str]:
    """Field errors for action type ids the tenant's Boond dictionary does not have (read only when there are some)."""
    if not types and not done:
        return {}
    try:
        known = host_choices.boond_action_types(tenant)
    except host_choices.HostUnreadable as exc:
        return {
            "_": f"Impossible de vérifier auprès de Boond, rien n'est enregistré — could not check with Boond, nothing was saved: {exc}"
        }
    listed = ", ".join(f"{i} = {label}" for i, label in sorted(known.items()))
    errors = {
        f"type_{kind}": f"{ident} n'est pas un type d'action de votre Boond — {ident} is not an action type of your Boond ({listed})"
        for kind, ident in types.items()
        if ident not in known
    }
    missing = [str(i) for i in done if i not in known]
    if missing:
        errors["done_types"] = f"{', '.join(missing)} : absent de votre Boond — not in your Boond ({listed})"
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


def _dictionary_help(tenant_id: str) -> str:
    raw = get_redis().get(keys.boond_dictionary(tenant_id))
    if not raw:
        return "The tenant's types appear here once Intermission has read its dictionary."
    try:
        types = Dictionary(tenant_id, json.loads(raw)).action_types("resource")
    except HostError as exc:
        return str(exc)
    return "resource: " + ", ".join(f"{t.get('id')}={t.get('value')}" for t in types)
