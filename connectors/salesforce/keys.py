"""A Salesforce tenant's own Redis keys, each under the tenant's `sf:` segment (config.keys.host_key builds them; the
stored key strings are those of 0.1.0). Each docstring says which module owns the key and how long it lives."""

from __future__ import annotations

from config import keys

SEGMENT = "sf"  # the segment of the keys below, after the tenant's prefix (a stored format: do not change)


def usage(tenant: str) -> str:
    """connectors.salesforce (via handlers.hosts.salesforce.adapter): the org's API usage "used/limit" (a day)."""
    return keys.host_key(tenant, SEGMENT, "usage")


def tokens(tenant: str) -> str:
    """connectors.salesforce.tokens: the org's OAuth tokens, encrypted (until disconnect; `keys rotate` covers them)."""
    return keys.host_tokens(tenant, SEGMENT)


def refresh_lock(tenant: str) -> str:
    """connectors.salesforce.tokens: one token refresh at a time (seconds)."""
    return keys.host_refresh_lock(tenant, SEGMENT)


def cdc_replay(tenant: str) -> str:
    """webhooks.hosts.salesforce.cdc: per change-event topic, the last admitted event's replay id and when (kept)."""
    return keys.host_key(tenant, SEGMENT, "cdc:replay")


def cdc_lock(tenant: str) -> str:
    """webhooks.hosts.salesforce.cdc: the subscriber streaming this tenant (seconds, renewed while it streams)."""
    return keys.host_key(tenant, SEGMENT, "cdc:lock")


def key_prefix(tenant: str, sobject: str) -> str:
    """connectors.salesforce.prefixes: an object's id prefix in this org (forever)."""
    return keys.host_key(tenant, SEGMENT, f"key-prefix:{sobject.lower()}")


def describe(tenant: str, sobject: str) -> str:
    """webhooks.hosts.salesforce.admin_mapping: an object's describe (field and relationship names) for the mapping
    page (an hour)."""
    return keys.host_key(tenant, SEGMENT, f"describe:{sobject.lower()}")


def invitation(tenant: str, mission_id: str, action_key: str) -> str:
    """handlers.hosts.salesforce.adapter: a survey invitation link made for one action (the survey's life)."""
    return keys.host_key(tenant, SEGMENT, f"invitation:{mission_id}/{action_key}")
