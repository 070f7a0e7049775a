"""`intermission tenant …`: add (on any registered host), setup, list, show, remove, connect-url, disconnect, resume.

What a host adds (its `tenant add <host>` flags, its links, its next steps) comes from its registry line's `cli`
(handlers/hosts/registry.py, `Cli`): this module names no host.
"""
from __future__ import annotations

import json

from intermission_cli.setup import host_cli, save_new


def tenant_parser(sub) -> None:
    """Register `tenant` and its subcommands."""
    from handlers.hosts.registry import HOSTS

    t = sub.add_parser("tenant", help="add, list, show, remove, connect or resume tenants")
    tsub = t.add_subparsers(dest="tenant_command", required=True)
    add = tsub.add_parser("add", help="add a tenant on one host").add_subparsers(dest="host", required=True)
    for name in sorted(HOSTS):
        cli = host_cli(name)
        if cli is not None:
            p = add.add_parser(name, help=cli.help)
            _common(p)
            cli.flags(p)
            p.set_defaults(func=_add)
    for name, func, helptext in (("list", _list, "every tenant"), ("show", _show, "one tenant, secrets masked"),
                                 ("remove", _remove, "delete a tenant's configuration and data"),
                                 ("connect-url", _connect_url, "a fresh signed link to connect the tenant's host"),
                                 ("disconnect", _disconnect, "revoke and forget a tenant's host tokens"),
                                 ("resume", _resume, "requeue the missions held for a tenant"),
                                 ("admin-url", _admin_url, "a signed link to the tenant's admin pages (12 h)"),
                                 ("admin-password", _admin_password,
                                  "set the standalone admin password (read from standard input)")):
        cmd = tsub.add_parser(name, help=helptext)
        if name != "list":
            cmd.add_argument("id")
        if name == "remove":
            cmd.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
        if name == "show":
            cmd.add_argument("--reveal", action="store_true", help="print credentials and secret URLs in clear")
        cmd.add_argument("--json", action="store_true", help="JSON, for scripts")
        cmd.set_defaults(func=func)
    from intermission_cli.setup import setup_parser

    setup_parser(tsub)


def _common(p) -> None:
    p.add_argument("--id", required=True)
    p.add_argument("--name", default="")
    p.add_argument("--language", choices=["fr", "en"], default="fr")
    p.add_argument("--timezone", default="Europe/Paris", help="an IANA time zone: due dates are its dates")
    p.add_argument("--country", default="FR", help="public holidays: a country code of the holidays package")
    p.add_argument("--subdivision", default=None, help="a region with its own holidays (FR: 57 Moselle, 6AE Alsace)")
    p.add_argument("--default-owner", action="append", default=[], metavar="ROLE=ID",
                   help="who gets a manager, business_engineer or hr step when neither the mission nor the "
                        "consultant's record names one (a host user id)")
    p.add_argument("--json", action="store_true")


def _add(args) -> int:
    """`tenant add <host>`: the host's settings from its flags, then the tenant saved with what the host proposes."""
    from config import tenants

    _refuse_existing(args.id)
    settings = host_cli(args.host).settings(args)
    tenant = tenants.Tenant(id=args.id, host=args.host, name=args.name, language=args.language,
                            timezone=args.timezone, host_settings=settings, **_place(args))
    return save_new(tenant, args.json, _print)


def _place(args) -> dict:
    """Country, region and default owners from the command line, checked before anything is saved."""
    from config import tenants

    country, subdivision = args.country.strip().upper(), (args.subdivision or "").strip() or None
    tenants.check_region(country, subdivision)
    owners = {}
    for pair in args.default_owner:
        role, sep, ident = pair.partition("=")
        if not sep or role not in ("manager", "business_engineer", "hr") or not ident.strip():
            raise tenants.TenantError(f"--default-owner {pair!r}: write ROLE=ID with ROLE manager, "
                                      "business_engineer or hr")
        owners[role] = ident.strip()
    return {"country": country, "subdivision": subdivision,
            "planning": tenants.PlanningSettings(default_owners=owners)}


def _refuse_existing(tenant_id: str) -> None:
    from config import tenants

    if not tenants.TENANT_ID.match(tenant_id):
        raise tenants.TenantError(f"--id {tenant_id!r}: a tenant id is 2 to 63 lower-case letters, digits or dashes, "
                                  "starting with a letter or a digit (e.g. acme-esn)")
    if tenants.get(tenant_id):
        raise tenants.TenantError(f"tenant '{tenant_id}' already exists: remove it first or pick another id")


def _links(tenant) -> dict:
    from config.infra.urls import public_base_url

    base = public_base_url()
    cli = host_cli(tenant.host)
    return {"webhook_url": tenant.webhook_url(base), **(cli.links(tenant, base) if cli else {})}


def _masked_links(links: dict) -> dict:
    """The links with the part that is a credential masked (webhook secret, signed connect token)."""
    out = dict(links)
    base, _, _secret = out["webhook_url"].rpartition("/")
    out["webhook_url"] = f"{base}/…"
    if "webhook_header" in out:
        out["webhook_header"] = "Authorization: Bearer …"
    if "connect_url" in out:
        out["connect_url"] = out["connect_url"].partition("?t=")[0] + "?t=…"
    return out


def _print(tenant, as_json: bool, created: bool = False, reveal: bool = True, extra: dict | None = None) -> int:
    links = _links(tenant) if reveal else _masked_links(_links(tenant))
    cli = host_cli(tenant.host)
    if as_json:
        extra = {**(extra or {}), **(cli.fields(tenant, created) if cli else {})}
        data = tenant.model_dump(mode="json") if reveal and not created else tenant.redacted()
        print(json.dumps({**data, **links, **extra, "needs_attention": _attention(tenant)}, indent=2))
        return 0
    print(f"{'Created' if created else 'Tenant'} {tenant.id} ({tenant.host}, {tenant.language}, "
          f"{_state(tenant)})")
    print(f"Webhook URL: {links['webhook_url']}")
    for reason in _attention(tenant):
        print(f"{'À voir' if tenant.language == 'fr' else 'Needs attention'}: {reason}")
    if cli is not None:
        cli.steps(tenant, links, created)
    return 0


def _attention(tenant) -> list[str]:
    """Why the tenant needs its admin (handlers.state.attention), in the tenant's language."""
    from config.infra.redis_conn import get_redis
    from handlers.state import attention

    return attention.texts(get_redis(), tenant.id, tenant.language)


def _state(tenant) -> str:
    """enabled, paused or set-up incomplete (its changes held until `tenant setup` or the admin's set-up ends)."""
    if not tenant.setup_complete:
        return "set-up incomplete"
    return "enabled" if tenant.enabled else "paused"


def _list(args) -> int:
    from config import tenants

    rows = [t for t in (tenants.get(i) for i in tenants.list_ids()) if t]
    if args.json:
        print(json.dumps([{"id": t.id, "host": t.host, "enabled": t.enabled, "name": t.name,
                           "setup_complete": t.setup_complete} for t in rows], indent=2))
        return 0
    for t in rows:
        print(f"{t.id}\t{t.host}\t{_state(t)}\t{t.name}")
    counts = {s: sum(1 for t in rows if _state(t) == s) for s in ("paused", "set-up incomplete")}
    if any(counts.values()):
        print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0


def _show(args) -> int:
    from config import tenants

    return _print(tenants.require(args.id), args.json, reveal=args.reveal)


def _done(as_json: bool, text: str, **fields) -> int:
    """Print the outcome of a command: a sentence, or one JSON object with `--json`."""
    print(json.dumps(fields) if as_json else text)
    return 0


def _confirmed(tenant_id: str) -> bool:
    """Ask on the terminal whether to remove; never without one (a script passes --yes)."""
    import sys

    if not sys.stdin.isatty():
        raise ValueError(f"removing '{tenant_id}' deletes its configuration and data: confirm with --yes")
    answer = input(f"Remove tenant '{tenant_id}' and all its data (what is in the host stays)? Type its id: ")
    return answer.strip() == tenant_id


def _remove(args) -> int:
    from config import tenants

    tenants.require(args.id)
    if not args.yes and not _confirmed(args.id):
        print("Nothing removed.")
        return 1
    if not tenants.remove(args.id):
        raise tenants.TenantError(f"unknown tenant '{args.id}'")
    return _done(args.json, f"Removed {args.id} (what was written in the host is left as it is)",
                 removed=args.id)


def _connect_url(args) -> int:
    from config import tenants
    from handlers.hosts.registry import host_of

    tenant = tenants.require(args.id)
    url = _links(tenant).get("connect_url")
    if url is None:
        raise tenants.TenantError(f"tenant '{args.id}' is on {host_of(tenant).label}, which has no connect link")
    return _done(args.json, url, tenant=args.id, connect_url=url)


def _disconnect(args) -> int:
    from config import tenants
    from handlers.hosts.registry import host_of

    tenant = tenants.require(args.id)
    cli = host_cli(tenant.host)
    if cli is None or cli.disconnect is None:
        raise tenants.TenantError(f"tenant '{args.id}' is on {host_of(tenant).label}, which has no tokens to revoke")
    cli.disconnect(tenant)
    return _done(args.json, f"Disconnected {args.id}: tokens revoked and forgotten", disconnected=args.id)


def _resume(args) -> int:
    from config import tenants
    from handlers.sync.holds import resume

    tenants.require(args.id)
    missions = resume(args.id)
    return _done(args.json, f"requeued {len(missions)} held mission(s) of {args.id}", tenant=args.id,
                 requeued=sorted(missions))


def _admin_url(args) -> int:
    from config import tenants
    from config.infra.urls import public_base_url
    from webhooks.admin.auth import admin_token

    tenants.require(args.id)

    url = f"{public_base_url()}/admin/?a={admin_token(args.id, 'cli')}"
    return _done(args.json, url, tenant=args.id, admin_url=url)


def _admin_password(args) -> int:
    import sys

    from werkzeug.security import generate_password_hash

    from config import tenants

    tenant = tenants.require(args.id)
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise ValueError("the admin password needs at least 12 characters")
    tenants.save(tenant.model_copy(update={"admin_password_hash": generate_password_hash(password)}))
    return _done(args.json, f"admin password set for {args.id}; sign in at /admin/login", tenant=args.id,
                 admin_password="set")
