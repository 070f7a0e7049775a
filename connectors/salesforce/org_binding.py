"""One Salesforce org, one tenant: which workspace an org is connected to (the shared key `im:sf-org:<org>`)."""
from __future__ import annotations

from urllib.parse import urlsplit

from config import keys
from config import tenants
from config.infra.redis_conn import get_redis
from connectors.salesforce.settings import salesforce_settings

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def org_key(org_id: str, instance_url: str | None) -> str:
    """The org's identity: its 15-character id (the last 3 of 18 are a checksum).

    A loopback sandbox plays every org under one fixed id, so there its address is part of the identity."""
    parts = urlsplit(instance_url or "")
    return org_id[:15] + (f"@{parts.netloc}" if parts.hostname in _LOOPBACK else "")


def bind(org: str, tenant_id: str) -> str:
    """Bind the org (an `org_key`) to this tenant unless another live tenant holds it; returns who holds it now."""
    conn, key = get_redis(), keys.org_binding(org)
    if conn.set(key, tenant_id, nx=True):
        return tenant_id
    owner = (conn.get(key) or b"").decode()
    if owner != tenant_id and _holds(owner, org):
        return owner
    conn.set(key, tenant_id)  # ours already, or left by a removed tenant / one connected to another org since
    return tenant_id


def release(org: str, tenant_id: str) -> None:
    """Forget the binding if this tenant holds it (disconnect)."""
    get_redis().eval(_RELEASE, 1, keys.org_binding(org), tenant_id)


def tenant_org(tenant: tenants.Tenant) -> str | None:
    """The `org_key` a Salesforce tenant is connected to, or None."""
    cfg = salesforce_settings(tenant) if tenant.host == "salesforce" else None
    return org_key(cfg.org_id, cfg.instance_url) if cfg and cfg.org_id else None


def _holds(tenant_id: str, org: str) -> bool:
    tenant = tenants.get(tenant_id) if tenant_id else None
    return bool(tenant and tenant_org(tenant) == org)


def owner(org: str) -> str | None:
    """The tenant an org (an `org_key`) is bound to now, or None."""
    found = get_redis().get(keys.org_binding(org))
    return found.decode() if found else None
