"""Boond's mapping form: action types per kind, the types that mean done, the tenant's delivery and resource states."""

from __future__ import annotations


from pydantic import ValidationError

from config import tenants
from config.infra.redis_conn import get_redis
from connectors.errors import HostError
from webhooks.admin import host_choices
from webhooks.admin.host_pages import MappingUpdate, StateRows
from webhooks.admin.host_choices import HostUnreadable
from webhooks.admin.mapping_form import message, pairs, written
from connectors.boond.settings import BoondConfig, boond_settings

KINDS = ("task", "reminder", "survey", "bench", "note")
STATE_CASES = {"delivery": "active, natural, client, consultant, cancelled", "resource": "active, bench, staffed, leaving, left"}


def fields(tenant) -> list[dict]:
    """The form's fields with the tenant's values."""
    from webhooks.admin.i18n import label, word
    from webhooks.admin.render import lang_for

    cfg, lang = boond_settings(tenant), lang_for(tenant)
    out = [
        {
            "name": f"type_{k}",
            "label": word("boond_action_type", lang) + " — " + label("kind", k, lang),
            "value": cfg.action_types.get(k, ""),
            "help": word("boond_action_type_help", lang) if k == "task" else "",
        }
        for k in KINDS
    ]
    out.append(
        {
            "name": "done_types",
            "label": word("boond_done_types", lang),
            "value": ", ".join(str(t) for t in cfg.done_action_types),
            "help": word("boond_done_types_help", lang),
        }
    )
    for kind in STATE_CASES:
        out.append(
            {
                "name": f"{kind}_states",
                "label": word(f"boond_{kind}_states", lang),
                "value": written(_in_form(cfg, kind)),
                "help": word(f"boond_{kind}_states_help", lang),
            }
        )
    return out


def choices(tenant, form_fields: list[dict]) -> dict[str, list[tuple]]:
    """The dictionary's action types, offered for every type field."""
    types = sorted(boond_action_types(tenant).items())
    return {f["name"]: types for f in form_fields if f["name"].startswith("type_") or f["name"] == "done_types"}


def update(tenant, form) -> MappingUpdate:
    """(the tenant with the form's types and states, errors by field)."""
    errors, types = {}, {}
    for kind in KINDS:
        raw = (form.get(f"type_{kind}") or "")[:200].strip()
        if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
            errors[f"type_{kind}"] = "a numeric action type id from your Boond dictionary"
        elif raw:
            types[kind] = int(raw)
    done = _done_types(form.get("done_types", ", ".join(str(t) for t in boond_settings(tenant).done_action_types)))
    if done is None:
        errors["done_types"] = "numeric action type ids from your Boond dictionary, separated by commas"
    errors.update(_not_in_dictionary(tenant, types, done or []))
    boond = boond_settings(tenant).model_copy(update={"action_types": types, "done_action_types": done or []})
    for kind in STATE_CASES:
        try:
            states = pairs(form.get(f"{kind}_states", written(_in_form(boond_settings(tenant), kind))))
            boond = BoondConfig.model_validate({**boond.model_dump(), f"{kind}_states": states})
        except (ValueError, ValidationError) as exc:
            errors[f"{kind}_states"] = message(exc)
    if errors:
        return MappingUpdate(tenant, errors)
    from handlers.hosts.boond.setup import external_types

    confirmed = {"states_confirmed": True, "external_resource_types": external_types(tenant)}
    return MappingUpdate(tenant.model_copy(update={"host_settings": boond.model_copy(update=confirmed)}), errors)


def state_rows(tenant) -> StateRows:
    """One row per state of the tenant's dictionary: its own label, the proposal, the meaning in use (in words)."""
    from webhooks.admin.i18n import word
    from webhooks.admin.render import lang_for

    if boond_settings(tenant) is None:  # installed, not configured yet: no dictionary read, nothing to map
        return StateRows([], False)

    cfg, rows, lang = boond_settings(tenant), [], lang_for(tenant)
    for kind in STATE_CASES:
        in_use = cfg.delivery_states if kind == "delivery" else cfg.resource_states
        for state_id, label in (cfg.state_labels.get(kind) or {}).items():
            proposed, used = cfg.proposed_states.get(kind, {}).get(state_id), in_use.get(state_id)
            rows.append(
                {
                    "kind": word(f"setup_states_{kind}", lang),
                    "id": state_id,
                    "label": label,
                    "proposed": word(f"setup_{kind}_{proposed}", lang) if proposed else "—",
                    "in_use": word(f"setup_{kind}_{used}", lang) if used else word("setup_not_mapped", lang),
                }
            )
    return StateRows(rows, bool(rows) and not cfg.states_confirmed)


def _not_in_dictionary(tenant, types: dict[str, int], done: list[int]) -> dict[str, str]:
    """Field errors for action type ids the tenant's Boond dictionary does not have (read only when there are some)."""
    if not types and not done:
        return {}
    try:
        known = boond_action_types(tenant)
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


CASES = {"delivery": ("active", "natural", "client", "consultant", "cancelled"), "resource": ("active", "bench", "leaving", "left")}


def setup_rows(tenant) -> list[dict]:
    """One row per state of the tenant's dictionary, with the case proposed (or in use) selected."""
    from handlers.hosts.boond.setup import proposed_states

    chosen = dict(zip(("delivery", "resource"), proposed_states(tenant)))
    return [
        {"kind": kind, "id": state_id, "label": label, "cases": CASES[kind], "selected": chosen[kind].get(state_id, "")}
        for kind in CASES
        for state_id, label in (boond_settings(tenant).state_labels.get(kind) or {}).items()
    ]


def setup_save(tenant, form):
    """The tenant with the states chosen on the set-up screen, in use and confirmed."""
    from handlers.hosts.boond.setup import apply_states

    chosen = {kind: {} for kind in CASES}
    for row in setup_rows(tenant):
        value = form.get(f"state_{row['kind']}_{row['id']}", "")
        if value in CASES[row["kind"]]:
            chosen[row["kind"]][row["id"]] = value
    return apply_states(tenant, chosen["delivery"], chosen["resource"])


def boond_action_types(tenant: tenants.Tenant) -> dict[int, str]:
    """Every action type of the tenant's dictionary (resources and contacts), id → label."""
    from handlers.hosts.boond.adapter import BoondAdapter

    try:
        book = BoondAdapter(tenant, get_redis()).dictionary()
        found = {}
        for entity in ("resource", "contact"):
            for item in book.action_types(entity):
                found.setdefault(int(item["id"]), str(item.get("value") or item["id"]))
        return found
    except (HostError, ValueError, KeyError, TypeError) as exc:
        raise HostUnreadable(f"Boond's dictionary could not be read: {exc}") from exc
