"""Boond's part of a tenant's set-up: what is still missing, the state mapping proposed from its labels, its people."""
from __future__ import annotations

from typing import NamedTuple

import redis

from config.tenants import Tenant
from handlers.hosts.boond.dictionary import labels_and_proposals
from connectors.boond.settings import boond_settings


def missing(tenant: Tenant) -> list[str]:
    """`connection` until a technical user is set; `states` until a delivery state mapping is in use."""
    cfg = boond_settings(tenant)
    out = [] if cfg and cfg.user_token else ["connection"]
    if not (cfg and (cfg.states_confirmed or cfg.delivery_states)):
        out.append("states")
    return out


def proposals(tenant: Tenant, conn: redis.Redis) -> Tenant:
    """The tenant with its state labels and the mapping proposed from them, read from its dictionary (HostError);
    the proposal is put in use when no mapping is (an admin's mapping is never replaced)."""
    from handlers.hosts.boond.adapter import BoondAdapter

    labels, proposed = labels_and_proposals(BoondAdapter(tenant, conn).dictionary())
    boond = boond_settings(tenant).model_copy(update={"state_labels": labels, "proposed_states": proposed})
    tenant = tenant.model_copy(update={"host_settings": boond})
    if not (boond.states_confirmed or boond.delivery_states):
        tenant = apply_states(tenant, proposed.get("delivery") or {}, proposed.get("resource") or {})
    return tenant


def inactivity_activities(tenant: Tenant) -> dict[str, str]:
    """Inactivity type → bench activity in use: the one proposed from the dictionary's labels, then the admin's own
    entries over it (`inactivity_activities`)."""
    cfg = boond_settings(tenant)
    if cfg is None:
        return {}
    return {**(cfg.proposed_states.get("inactivity") or {}), **cfg.inactivity_activities}


def apply_states(tenant: Tenant, delivery: dict[str, str], resource: dict[str, str]) -> Tenant:
    """The tenant with this state mapping in use (confirmed), and the resource types proposed as external people
    (subcontractors, freelances: never on the bench) when none are listed yet."""
    boond = boond_settings(tenant).model_copy(update={"delivery_states": delivery, "resource_states": resource,
                                            "states_confirmed": True,
                                            "external_resource_types": external_types(tenant)})
    return tenant.model_copy(update={"host_settings": boond})


def external_types(tenant: Tenant) -> list[str]:
    """The resource types listed as external, else those the labels proposed as external."""
    cfg = boond_settings(tenant)
    proposed = cfg.proposed_states.get("resource_type") or {}
    return list(cfg.external_resource_types) or sorted(t for t, meaning in proposed.items() if meaning == "external")


class ProposedStates(NamedTuple):
    """The delivery and resource states' cases to show the admin (proposed, else confirmed)."""

    delivery: dict[str, str]
    resource: dict[str, str]


def proposed_states(tenant: Tenant) -> ProposedStates:
    """(delivery, resource) proposals: the mapping in use once confirmed, else the one made from the labels."""
    cfg = boond_settings(tenant)
    if cfg.states_confirmed or cfg.delivery_states:
        return ProposedStates(dict(cfg.delivery_states), dict(cfg.resource_states))
    return ProposedStates(dict(cfg.proposed_states.get("delivery") or {}), dict(cfg.proposed_states.get("resource") or {}))


def people(tenant: Tenant, conn: redis.Redis, query: str) -> list[tuple[str, str]]:
    """Boond resources whose name matches `query`: (id, "First Last"), at most 30."""
    from handlers.hosts.boond.adapter import BoondAdapter

    rows = BoondAdapter(tenant, conn).client.resources_matching(query)
    out = []
    for row in rows:
        attrs = row.get("attributes") or {}
        name = " ".join(x for x in (attrs.get("firstName"), attrs.get("lastName")) if x).strip()
        out.append((str(row.get("id")), name or str(row.get("id"))))
    return out


def place(tenant: Tenant, conn: redis.Redis) -> dict:
    """Boond exposes no time zone or holiday country an app can read (reference §10): nothing proposed."""
    return {}
