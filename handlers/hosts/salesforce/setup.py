"""Salesforce's part of a tenant's set-up: the org's connection, its active users, its time zone and locale."""
from __future__ import annotations

import redis

from config.tenants import Tenant
from connectors.salesforce.soql import escape_soql


def missing(tenant: Tenant) -> list[str]:
    """`connection` until the org is connected (its tokens stored, no re-consent asked)."""
    from config.infra.redis_conn import get_redis
    from handlers.hosts.salesforce.adapter import tokens_for

    store = tokens_for(tenant, get_redis())
    return [] if store.load() is not None and not store.needs_reconsent() else ["connection"]


def proposals(tenant: Tenant, conn: redis.Redis) -> Tenant:
    """The mapping comes from the preset the tenant was added with: nothing to read here."""
    return tenant


def people(tenant: Tenant, conn: redis.Redis, query: str) -> list[tuple[str, str]]:
    """The org's active users whose name contains `query`: (Id, Name), at most 30."""
    from handlers.hosts.salesforce.adapter import make_client

    where = "IsActive = true" + (f" AND Name LIKE '%{escape_soql(query)}%'" if query.strip() else "")
    rows = make_client(tenant, conn).query_all(f"SELECT Id, Name FROM User WHERE {where} ORDER BY Name LIMIT 30")
    return [(str(r["Id"]), str(r.get("Name") or r["Id"])) for r in rows]


def place(tenant: Tenant, conn: redis.Redis) -> dict:
    """The Organization's time zone and the country of its default locale (`fr_FR` → FR), as proposals."""
    from handlers.hosts.salesforce.adapter import make_client

    rows = make_client(tenant, conn).query_all("SELECT TimeZoneSidKey, DefaultLocaleSidKey FROM Organization LIMIT 1")
    if not rows:
        return {}
    out = {"timezone": rows[0].get("TimeZoneSidKey")}
    locale = str(rows[0].get("DefaultLocaleSidKey") or "")
    country = locale.split("_")[1] if locale.count("_") >= 1 else ""
    if len(country) == 2 and country.isalpha():
        out["country"] = country.upper()
    return {k: v for k, v in out.items() if v}
