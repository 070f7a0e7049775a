"""What the host offers the mapping page: Boond's action types, a Salesforce object's fields (read, then cached).

The mapping form shows these as choices and refuses a value the host does not have, so an impossible mapping is
never saved. When the host cannot be read, the page says so and saves nothing (it would not know what it saves).
"""
from __future__ import annotations

import json

from config import keys, tenants
from config.infra.redis_conn import get_redis
from connectors.errors import HostError, HostNotFound

DESCRIBE_TTL = 3600


class HostUnreadable(RuntimeError):
    """The host could not be asked what it offers."""


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
        names = sorted({f["name"] for f in fields if f.get("name")} |
                       {f["relationshipName"] for f in fields if f.get("relationshipName")})
        raw = json.dumps(names)
        conn.set(key, raw, ex=DESCRIBE_TTL)
    return set(json.loads(raw))


def unknown_fields(names: set[str], mapped: dict[str, str | None]) -> dict[str, str]:
    """form field → the mapped name the object does not have (a dotted path is checked on its first hop)."""
    lower = {n.lower() for n in names}
    return {form: value for form, value in mapped.items()
            if value and value.split(".")[0].lower() not in lower}
