"""The signed links of the Salesforce connect flow: the connect link an admin opens, the disconnect button's token."""

from __future__ import annotations

from config import tenants
from config.infra.signing import sign


def connect_link(tenant_id: str, base_url: str) -> str:
    """The signed link an admin opens to connect (or reconnect) the tenant's org."""
    payload = {"tenant": tenant_id, **tenants.auth_marks(tenants.get(tenant_id))}
    return f"{base_url.rstrip('/')}/salesforce/connect?t={sign('sf-connect', payload)}"


def disconnect_token(tenant: tenants.Tenant) -> str:
    """A short-lived token for the admin page's disconnect button (the connect link cannot disconnect)."""
    return sign("sf-disconnect", {"tenant": tenant.id, **tenants.auth_marks(tenant)})
