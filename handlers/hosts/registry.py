"""The one list of hosts: what the pipeline, the sweep, the preview, the backfill and the admin pages ask of a host.

A host declares itself once as a `Host` (its name, how to build its adapter, its API budget, whether its writes
batch) and is listed by `register`; generic code asks `host_of(tenant)` or `adapter_for(tenant, conn)` and never
compares `tenant.host` with a name. See docs/ARCHITECTURE.md, "Adding a host".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import redis

from config import tenants
from config.tenants import Tenant
from handlers.model import MissionSnapshot


class HostAdapter(Protocol):
    """What generic code calls on a host's adapter; writes are `write_all` or one call per record (see reconcile)."""

    def read_mission(self, mission_id: str) -> tuple[MissionSnapshot | None, Any]:
        """The mission as the host has it now (None: gone) and the consultant's timeline, in the host's terms."""
        ...

    def placed(self, snap: MissionSnapshot, timeline: Any) -> MissionSnapshot:
        """The snapshot with the consultant's other missions after its end (`others`, `next_start`)."""
        ...

    def changed_since(self, since: datetime) -> list[str]:
        """Ids of the missions the host changed since `since` (the sweep's safety net)."""
        ...

    def missions_ending(self, start_day: date, end_day: date) -> list[str]:
        """Ids of the host's missions whose end date falls between two days (the install backfill)."""
        ...

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """Our records on a mission, by marker key (the reconciler's read-back after a crash)."""
        ...


def _always(tenant: Tenant, conn: redis.Redis) -> bool:
    return True


@dataclass(frozen=True)
class Host:
    """One host, declared once."""

    name: str  # the tenant's `host`, the webhook path segment and the metrics label
    label: str  # shown to admins
    adapter: Callable[[Tenant, redis.Redis], HostAdapter]
    budget_left: Callable[[Tenant, redis.Redis], bool] = _always  # False: hold the tenant's jobs for a while
    batches_writes: bool = False  # True: changes mark the tenant dirty and one batch job reads and writes them
    api_docs: str = ""  # where the host's API is documented (docs/ cites the sources and their confidence)


HOSTS: dict[str, Host] = {}


def register(host: Host) -> Host:
    """List a host (the built-in ones below; a test host from tests/); its name becomes a valid tenant host."""
    HOSTS[host.name] = host
    tenants.HOST_NAMES.add(host.name)
    return host


def unregister(name: str) -> None:
    """Forget a host registered by a test."""
    HOSTS.pop(name, None)
    tenants.HOST_NAMES.discard(name)


def host_of(tenant: Tenant | str) -> Host:
    """The host of a tenant (or of a host name); a TenantError naming the known hosts when it is not listed."""
    name = tenant if isinstance(tenant, str) else tenant.host
    try:
        return HOSTS[name]
    except KeyError:
        raise tenants.TenantError(f"unknown host {name!r} (known: {', '.join(sorted(HOSTS))})") from None


def adapter_for(tenant: Tenant, conn: redis.Redis) -> Any:
    """The tenant's adapter with its credentials (typed `Any`: each host's adapter also has host-only helpers)."""
    return host_of(tenant).adapter(tenant, conn)


def _builtin() -> None:
    from handlers.hosts.boond import BoondAdapter
    from handlers.hosts.salesforce import SalesforceAdapter, budget_left

    boond_docs = "https://doc.boondmanager.com/api-externe/raml-build/api-externe.raml"
    salesforce_docs = "https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/"
    register(Host(name="boond", label="BoondManager", adapter=BoondAdapter, api_docs=boond_docs))
    register(
        Host(
            name="salesforce",
            label="Salesforce",
            adapter=SalesforceAdapter,
            budget_left=budget_left,
            batches_writes=True,
            api_docs=salesforce_docs,
        )
    )


_builtin()
