"""The set-up flow's screens (issue #27), after Home Assistant's config flow: one step after another, resumable.

Each screen shows what the host proposes, pre-selected, and saves what the admin confirms to the tenant at once;
the screens confirmed so far are kept in Redis (`keys.setup_flow`), so reopening the flow goes back to the first
screen not confirmed. The last screen ends the set-up (`handlers.sync.setup.finish`): the held changes and the install
backfill start. Routes: webhooks/admin/views_setup.py.
"""
from __future__ import annotations

from typing import NamedTuple

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from config import keys, tenants
from config.infra.redis_conn import get_redis
from connectors.errors import HostError
from config.infra import clock
from handlers.sync import pipeline
from handlers.sync import backfill, setup
from handlers.hosts.registry import adapter_for
from handlers.state.store import SnapshotStore

STEPS = ("connection", "states", "owners", "place", "preview", "activate")
NEXT_ENDS = 5


def confirmed(tenant_id: str) -> set[str]:
    """The screens confirmed so far."""
    return {k.decode() for k in get_redis().hkeys(keys.setup_flow(tenant_id))}


def confirm(tenant_id: str, step: str) -> None:
    """Mark one screen confirmed."""
    get_redis().hset(keys.setup_flow(tenant_id), step, "1")


def steps_for(pages, tenant) -> tuple[str, ...]:
    """The screens this tenant's host needs (no state screen for a host without states of its own)."""
    return tuple(s for s in STEPS if s != "states" or pages.setup_states(tenant) is not None)


def current_step(pages, tenant) -> str:
    """The first screen not confirmed yet (the flow resumes there)."""
    done = confirmed(tenant.id)
    return next((s for s in steps_for(pages, tenant) if s not in done), "activate")


# --- owners -----------------------------------------------------------------------------------------

@dataclass
class People:
    """One role's picker: the search typed, the people found, the one chosen (id never shown)."""

    role: str
    query: str
    found: list[tuple[str, str]]
    chosen: str
    chosen_name: str
    error: str = ""


def people_pickers(tenant, queries: dict[str, str]) -> list[People]:
    """A picker per role, filled from the host's people matching that role's search."""
    conn, out = get_redis(), []
    cfg = tenant.planning
    for role in setup.ROLES:
        query = queries.get(role, "")
        try:
            found, error = setup.people(tenant, conn, query), ""
        except HostError as exc:
            found, error = [], str(exc)[:200]
        chosen, name = cfg.default_owners.get(role, ""), cfg.default_owner_names.get(role, "")
        if chosen and chosen not in {i for i, _ in found}:
            found = [(chosen, name or chosen)] + found
        out.append(People(role, query, found, chosen, name, error))
    return out


class OwnersSaved(NamedTuple):
    """The tenant with the form's default owners, and the roles still without one."""

    tenant: tenants.Tenant
    missing: list[str]


def save_owners(tenant, form) -> OwnersSaved:
    """The tenant with the chosen owners (only people the host listed for that role's search); roles not chosen."""
    conn = get_redis()
    owners, names, missing = {}, {}, []
    for role in setup.ROLES:
        chosen = (form.get(f"owner_{role}") or "").strip()
        listed = dict(setup.people(tenant, conn, form.get(f"q_{role}", "")))
        if chosen == tenant.planning.default_owners.get(role) and chosen not in listed:
            listed[chosen] = tenant.planning.default_owner_names.get(role, "")
        if chosen and chosen in listed:
            owners[role], names[role] = chosen, listed[chosen]
        else:
            missing.append(role)
    planning = tenant.planning.model_copy(update={"default_owners": owners, "default_owner_names": names})
    return OwnersSaved(tenant.model_copy(update={"planning": planning}), missing)


# --- place ------------------------------------------------------------------------------------------

def place_choices(tenant) -> dict:
    """Countries with holidays, the country's regions and every IANA zone, with what the host proposes."""
    import zoneinfo

    import holidays

    from webhooks.admin.render import lang_for

    supported = holidays.list_supported_countries()  # ISO 3166 alpha-2 codes, and their alpha-3 aliases
    lang = lang_for(tenant)  # the page's language (?lang=), else the tenant's
    proposed = setup.proposed_place(tenant, get_redis()) if "place" not in confirmed(tenant.id) else {}
    country = proposed.get("country") if proposed.get("country") in supported else tenant.country
    return {"countries": country_choices(lang), "regions": region_choices(country, lang),
            "zones": sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc/")),
            "country": country, "region": tenant.subdivision or "",
            "zone": proposed.get("timezone") or tenant.timezone, "proposed": bool(proposed)}


class PlaceSaved(NamedTuple):
    """The tenant with the form's country, region and zone, or as it was and the word of what is wrong."""

    tenant: tenants.Tenant
    error: str | None


def save_place(tenant, form) -> PlaceSaved:
    """The tenant with the chosen country, region and zone; the error in the admin's words' key otherwise."""
    country = (form.get("country") or "").strip().upper()
    region = (form.get("subdivision") or "").strip() or None
    zone = (form.get("timezone") or "").strip()
    try:
        tenants.check_timezone(zone)
    except tenants.TenantError:
        return PlaceSaved(tenant, "bad_zone")
    try:
        tenants.check_region(country, region)
    except tenants.TenantError:
        return PlaceSaved(tenant, "bad_region")
    return PlaceSaved(tenant.model_copy(update={"country": country, "subdivision": region, "timezone": zone}), None)


def country_choices(lang: str) -> list[tuple[str, str]]:
    """(code, name) of every country `holidays` knows, by name in the page's language."""
    import holidays

    names = country_names(lang)
    return sorted(((c, names.get(c, c)) for c in holidays.list_supported_countries() if len(c) == 2),
                  key=lambda x: x[1])


@lru_cache(maxsize=64)
def region_choices(country: str, lang: str) -> list[tuple[str, str]]:
    """(code, name) of the regions `holidays` knows for a country (its subdivisions, whose holidays differ), named
    from pycountry's ISO 3166-2 tables in the page's language, else from `holidays`' own aliases, else the code."""
    import gettext

    import holidays
    import pycountry

    codes = holidays.list_supported_countries().get(country, ())
    if not codes:
        return []
    words = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
    aliases: dict[str, str] = {}
    for alias, code in (getattr(holidays.country_holidays(country), "subdivisions_aliases", None) or {}).items():
        if len(alias) > 3 and len(alias) > len(aliases.get(code, "")):
            aliases[code] = alias
    out = []
    for code in codes:
        found = pycountry.subdivisions.get(code=f"{country}-{code}")
        name = words.gettext(found.name) if found else aliases.get(code, "")
        out.append((code, f"{name} ({code})" if name and name != code else code))
    return sorted(out, key=lambda r: r[1])


@lru_cache(maxsize=4)
def country_names(language: str) -> dict[str, str]:
    """ISO 3166 alpha-2 code → the country's name in the page's language (pycountry's ISO tables and their
    translations; English where a name has none)."""
    import gettext

    import pycountry

    words = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    return {c.alpha_2: words.gettext(getattr(c, "common_name", None) or c.name) for c in pycountry.countries}


# --- the next mission ends ----------------------------------------------------------------------------

def install_forecast(tenant) -> dict:
    """What activating will write through the install backfill: actions, late ones, the busiest person's day, as
    the run will write them (`handlers.sync.backfill.forecast`)."""
    return backfill.forecast(get_redis(), tenant)


def next_ends(tenant, count: int = NEXT_ENDS, *, read_at_most: int = 25) -> list[dict]:
    """The next `count` mission ends as the host would get them now: case, end, and each action's owner and date."""
    conn = get_redis()
    adapter = adapter_for(tenant, conn)
    today = clock.today(tenant.timezone)
    ids = adapter.missions_ending(today, today + timedelta(days=tenant.backfill_days))[:read_at_most]
    store, read = SnapshotStore(conn, tenant.id), []
    for mission_id in ids:
        current, _ = adapter.read_mission(mission_id)
        if current is not None and current.end_date is not None:
            read.append((mission_id, current))
    out = []
    for mission_id, current in sorted(read, key=lambda r: r[1].end_date)[:count]:
        plan = pipeline.prepare(conn, tenant, store.get(mission_id), current=current, trigger={"kind": "preview"}, today=today,
                                write=False)
        if plan is None:
            continue
        rows = [r for r in pipeline.dry_run(conn, plan) if r["op"] != "cancel"]
        out.append({"mission": mission_id, "title": current.title, "end": current.end_date,
                    "consultant": current.consultant.name if current.consultant else "",
                    "client": current.client_name, "case": plan.found.case, "actions": rows})
    return out
