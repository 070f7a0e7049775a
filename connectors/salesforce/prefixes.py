"""The mission object's key prefix (first 3 characters of its record ids), learnt from describe at connect time.

Standard objects have fixed prefixes (Opportunity 006); a custom object's (Mission__c, pse__Assignment__c) is
chosen by each org, so it is read once from `GET /sobjects/{object}/describe` → `keyPrefix` when the tenant
connects and kept in Redis; the web process then checks a Flow callout's record ids without any host call.
"""
from __future__ import annotations

import logging

import redis

from connectors.errors import HostError
from connectors.salesforce import keys as org_keys
from connectors.salesforce.ids import STANDARD_PREFIXES

log = logging.getLogger(__name__)


def _key(tenant_id: str, sobject: str) -> str:
    return org_keys.key_prefix(tenant_id, sobject)


def known(conn: redis.Redis, tenant_id: str, sobject: str) -> str | None:
    """The object's key prefix: fixed for a standard object, else the one learnt at connect; None when unknown."""
    if sobject in STANDARD_PREFIXES:
        return STANDARD_PREFIXES[sobject]
    raw = conn.get(_key(tenant_id, sobject))
    return raw.decode() if raw else None


def learn(client, conn: redis.Redis, tenant_id: str, *, sobject: str) -> str | None:
    """Read the object's keyPrefix from describe and keep it; None (logged) when the org does not say."""
    try:
        prefix = client.describe(sobject).get("keyPrefix")
    except (HostError, ValueError) as exc:
        log.warning("salesforce describe of %s failed for %s: %s (Flow record ids will not be checked)",
                    sobject, tenant_id, exc)
        return None
    if not isinstance(prefix, str) or len(prefix) != 3 or not prefix.isalnum():
        log.warning("salesforce describe of %s for %s gave no keyPrefix (%r)", sobject, tenant_id, prefix)
        return None
    conn.set(_key(tenant_id, sobject), prefix)
    return prefix


def standard_object_of(record_id: str) -> str | None:
    """The standard object a record id surely belongs to (from its fixed prefix), else None."""
    return next((name for name, prefix in STANDARD_PREFIXES.items() if record_id[:3] == prefix), None)
