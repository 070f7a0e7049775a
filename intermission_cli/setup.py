"""`intermission tenant add` (its end) and `tenant setup ID`: a tenant set up from the terminal, as the admin flow does.

`tenant add` applies what the host proposes (a state mapping read from the host's labels), warns when the country and
the time zone disagree or a default owner is missing, and saves the tenant as "set-up incomplete" (its changes held,
never lost) until nothing is missing. `tenant setup` asks the same questions one by one, each with its default
(Enter keeps it; `--yes` takes every default), then finishes the set-up: the held changes and the install backfill
start.
"""
from __future__ import annotations

import json
import sys

ROLE_WORDS = {"manager": "manager", "business_engineer": "business engineer", "hr": "HR person"}


def setup_parser(tsub) -> None:
    """Register `tenant setup ID`."""
    p = tsub.add_parser("setup", help="finish a tenant's set-up: questions with defaults (--yes takes them all)")
    p.add_argument("id")
    p.add_argument("--yes", action="store_true", help="take every proposal and default without asking")
    p.add_argument("--timezone", default=None, help="an IANA time zone (Europe/Paris, America/Montreal…)")
    p.add_argument("--country", default=None, help="public holidays: a country code of the holidays package")
    p.add_argument("--subdivision", default=None, help="a region with its own holidays (FR: 57 Moselle)")
    p.add_argument("--default-owner", action="append", default=[], metavar="ROLE=ID")
    p.add_argument("--json", action="store_true", help="what was set and what is missing, as JSON")
    p.set_defaults(func=_setup)


def host_cli(host: str):
    """The host's `Cli` (its registry line's `cli`), or None when it has no terminal part."""
    from handlers.hosts.registry import host_of, load

    ref = host_of(host).cli
    return load(ref) if ref else None


def save_new(tenant, as_json: bool, printer) -> int:
    """Save a tenant `tenant add` built: the host's proposals applied, set-up complete only when nothing is missing."""
    from config import tenants
    from config.infra.redis_conn import get_redis
    from handlers.sync import setup

    tenant, unread = setup.with_proposals(tenant, get_redis())
    found = setup.check(tenant)
    tenant = tenant.model_copy(update={"setup_complete": not found.missing})
    tenants.save(tenant)
    warnings = found.warnings + ([unread] if unread else [])
    if as_json:
        return printer(tenant, True, created=True, extra={**found.as_dict(), "warnings": warnings})
    printer(tenant, False, created=True)
    _say_missing(tenant.id, found.missing, warnings)
    return 0


def _say_missing(tenant_id: str, missing: list[str], warnings: list[str]) -> None:
    from handlers.sync.setup import ITEMS

    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if missing:
        print(f"Set-up incomplete: its changes are held until you set {', '.join(ITEMS[m] for m in missing)} "
              f"(intermission tenant setup {tenant_id}, or the admin pages' set-up).", file=sys.stderr)


def _setup(args) -> int:
    from config import tenants
    from config.infra.redis_conn import get_redis
    from handlers.sync import setup

    conn = get_redis()
    tenant = tenants.require(args.id)
    ask = _Asker(args.yes)
    tenant, unread = setup.with_proposals(tenant, conn)
    if unread:
        print(f"warning: {unread}", file=sys.stderr)
    tenant = _questions(tenant, ask)
    tenant = _place(tenant, setup.proposed_place(tenant, conn), args, ask)
    tenant = _owners(tenant, conn, args, ask)
    found = setup.check(tenant)
    tenants.save(tenant)
    done = setup.finish(conn, tenant) if not found.missing else None
    if args.json:
        print(json.dumps({"tenant": tenant.id, "complete": done is not None, **found.as_dict(),
                          "timezone": tenant.timezone, "country": tenant.country, "subdivision": tenant.subdivision,
                          "default_owners": tenant.planning.default_owners,
                          "resumed": len(done["resumed"]) if done else 0}))
    elif done is not None:
        print(f"Set-up of {tenant.id} complete: {len(done['resumed'])} held change(s) resumed"
              + ("; the missions that exist already are being planned." if done["backfill"] else "."))
    _say_missing(tenant.id, found.missing, found.warnings)
    return 0 if done is not None else 1


class _Asker:
    """Questions on standard input, each with a default (Enter or end of input keeps it; `--yes` never asks)."""

    def __init__(self, take_defaults: bool):
        self.take_defaults = take_defaults

    def __call__(self, question: str, default: str = "") -> str:
        if self.take_defaults:
            return default
        print(f"{question} [{default}]: " if default else f"{question}: ", end="", flush=True)
        line = sys.stdin.readline()
        return line.strip() or default


def _questions(tenant, ask: _Asker):
    """The host's own set-up questions (its registry line's `cli.questions`: Boond's state mapping)."""
    cli = host_cli(tenant.host)
    return cli.questions(tenant, ask) if cli is not None else tenant


def _place(tenant, proposed: dict, args, ask: _Asker):
    """Time zone, then country (proposed from the zone, or the host's), then region; a wrong answer is asked again."""
    from config import tenants
    from handlers.sync.setup import country_of_zone

    while True:
        zone = args.timezone or ask("Time zone", proposed.get("timezone") or tenant.timezone)
        default_country = proposed.get("country") or country_of_zone(zone) or tenant.country
        country = (args.country or ask("Public holidays of country", default_country)).strip().upper()
        region = args.subdivision if args.subdivision is not None else ask(
            "Region with its own holidays (Enter: none)", tenant.subdivision or "")
        try:
            tenants.check_timezone(zone)
            tenants.check_region(country, region.strip() or None)
            return tenant.model_copy(update={"timezone": zone, "country": country,
                                             "subdivision": region.strip() or None})
        except tenants.TenantError as exc:
            if ask.take_defaults or args.timezone or args.country:
                raise
            print(f"  {exc}")


def _owners(tenant, conn, args, ask: _Asker):
    """Default owners: --default-owner, else a search among the host's people (Enter keeps the current one)."""
    from config import tenants
    from handlers.sync import setup

    owners, names = dict(tenant.planning.default_owners), dict(tenant.planning.default_owner_names)
    for pair in args.default_owner:
        role, sep, ident = pair.partition("=")
        if not sep or role not in setup.ROLES or not ident.strip():
            raise tenants.TenantError(f"--default-owner {pair!r}: write ROLE=ID with ROLE manager, "
                                      "business_engineer or hr")
        owners[role] = ident.strip()
        names.pop(role, None)
    for role in setup.ROLES:
        if role in owners and (ask.take_defaults or args.default_owner):
            continue
        picked = _pick_person(tenant, conn, role, names.get(role) or owners.get(role), ask)
        if picked:
            owners[role], names[role] = picked
    planning = tenant.planning.model_copy(update={"default_owners": owners, "default_owner_names": names})
    return tenant.model_copy(update={"planning": planning})


def _pick_person(tenant, conn, role: str, current: str | None, ask: _Asker) -> tuple[str, str] | None:
    """Ask for a name, list the host's people matching it, pick one by number: (id, name); None keeps what is set."""
    from connectors.errors import HostError
    from handlers.sync import setup

    while not ask.take_defaults:
        query = ask(f"Default {ROLE_WORDS[role]}: a name to search (Enter: {'keep ' + current if current else 'skip'})")
        if not query:
            return None
        try:
            found = setup.people(tenant, conn, query)
        except HostError as exc:
            print(f"  the host could not be searched: {exc}")
            return None
        for number, (_ident, name) in enumerate(found, 1):
            print(f"  {number}. {name}")
        if not found:
            print("  nobody by that name; try another")
            continue
        choice = ask("Number", "1")
        if choice.isdigit() and 1 <= int(choice) <= len(found):
            return found[int(choice) - 1]
    return None
