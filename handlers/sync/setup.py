"""A tenant's set-up: what is still missing, what the host proposes, and finishing it (the held work resumes).

The CLI (`tenant add`, `tenant setup`) and the admin's set-up flow (webhooks/admin/views_setup.py) share these
steps. Until `finish` runs, a tenant whose `setup_complete` is False has its changes queued and held
(`SETUP_INCOMPLETE`, handlers/sync/holds.py), never lost.
"""

from __future__ import annotations

from typing import NamedTuple

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import redis

from config import keys, tenants
from config.tenants import Tenant
from handlers.hosts.registry import host_of
from handlers.intake.ingest import enqueue_sync

ROLES = ("manager", "business_engineer", "hr")
ITEMS = {  # what may be missing, said to an operator (the admin pages have their own words)
    "connection": "the connection to the host (its technical user, or its org connected through the connect link)",
    "states": "the delivery and resource state mapping (from the host's labels)",
    "owner_manager": "a default manager",
    "owner_business_engineer": "a default business engineer",
    "owner_hr": "a default HR person",
}


@dataclass
class Check:
    """What a tenant's set-up still lacks (item codes of ITEMS) and what looks wrong without blocking it."""

    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """For `--json`: the codes, and each in words."""
        return {"missing": self.missing, "missing_text": [ITEMS[m] for m in self.missing], "warnings": self.warnings}


def check(tenant: Tenant) -> Check:
    """The host's missing items, the default owners not set, and a country that disagrees with the time zone."""
    missing = list(host_of(tenant).setup.missing(tenant))
    missing += [f"owner_{role}" for role in ROLES if not tenant.planning.default_owners.get(role)]
    warnings = []
    if not zone_matches_country(tenant.timezone, tenant.country):
        warnings.append(
            f"the time zone {tenant.timezone} is not one of {tenant.country}'s: public holidays are "
            f"{tenant.country}'s (set --country to the country whose holidays apply)"
        )
    return Check(missing, warnings)


class WithProposals(NamedTuple):
    """The tenant with the host's proposals, and why the host could not be read (None: it was)."""

    tenant: Tenant
    unread: str | None


def with_proposals(tenant: Tenant, conn: redis.Redis) -> WithProposals:
    """The tenant with what its host proposes read (Boond: state labels and mapping), or it unchanged and why not."""
    from connectors.errors import HostError

    try:
        return WithProposals(host_of(tenant).setup.proposals(tenant, conn), None)
    except (HostError, ValueError, KeyError, TypeError) as exc:
        return WithProposals(tenant, f"{host_of(tenant).label} could not be read: {exc}")


def proposed_place(tenant: Tenant, conn: redis.Redis) -> dict:
    """{"timezone", "country"} the host proposes (Salesforce's Organization); {} when it says nothing or fails."""
    from connectors.errors import HostError

    try:
        found = host_of(tenant).setup.place(tenant, conn)
    except (HostError, ValueError, KeyError, TypeError):
        return {}
    if "timezone" in found and "country" not in found:
        found["country"] = country_of_zone(found["timezone"]) or tenant.country
    return found


def people(tenant: Tenant, conn: redis.Redis, query: str = "") -> list[tuple[str, str]]:
    """The host's people matching `query`: (id, name)."""
    return host_of(tenant).setup.people(tenant, conn, query.strip()[:80])


def finish(conn: redis.Redis, tenant: Tenant) -> dict:
    """Mark the set-up complete and enable the tenant; resume its held changes; start the install backfill once."""
    from handlers.sync import backfill, holds

    fresh = tenants.require(tenant.id)
    already = fresh.setup_complete
    tenants.save(fresh.model_copy(update={"setup_complete": True, "enabled": True}))
    resumed = holds.resume(tenant.id, conn)
    started = None if already else backfill.start_quietly(conn, tenant.id, "install")
    return {"resumed": resumed, "backfill": bool(started)}


def connected(conn: redis.Redis, tenant_id: str, trigger: dict) -> int:
    """A tenant (re)connected to its host: queue a re-read of every mission already seen, to catch up on changes made
    while we were not listening, and start the install backfill when its set-up is complete already (else the
    set-up's end starts it: `finish`). The number of re-reads queued."""
    from handlers.sync import backfill

    queued = 0
    for key in conn.scan_iter(match=keys.missions_pattern(tenant_id), count=500):
        mission_id = key.decode().rsplit(":", 1)[1]
        queued += enqueue_sync(conn, tenant_id, mission_id, trigger=trigger) == "queued"
    if tenants.require(tenant_id).setup_complete:
        backfill.start_quietly(conn, tenant_id, "install")  # issue #17: the missions that exist already
    return queued


def country_of_zone(zone: str) -> str | None:
    """The country a time zone belongs to (the first one listed in the IANA zone table), or None."""
    return next((country for country, zones in _zone_table().items() if zone in zones), None)


def zones_of(country: str) -> list[str]:
    """The IANA zones of a country (Europe/Paris for FR; several for CA)."""
    return sorted(_zone_table().get(country.upper(), ()))


def zone_matches_country(zone: str, country: str) -> bool:
    """Whether the zone is one of the country's; True when the zone table is not installed (nothing to say)."""
    table = _zone_table()
    return not table or zone in table.get(country.upper(), ()) or zone in ("UTC", "Etc/UTC")


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, frozenset[str]]:
    """country code → its zones, from the system's `zone.tab` (the IANA database the zoneinfo module reads)."""
    import zoneinfo

    for base in zoneinfo.TZPATH:
        path = Path(base) / "zone.tab"
        if path.exists():
            table: dict[str, set[str]] = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                if line and not line.startswith("#"):
                    parts = line.split("\t")
                    table.setdefault(parts[0], set()).add(parts[2])
            return {country: frozenset(zones) for country, zones in table.items()}
    return {}
