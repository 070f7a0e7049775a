"""`intermission tenant …`: add (Boond or Salesforce), setup, list, show, remove, connect-url, disconnect, resume."""
from __future__ import annotations

import base64
import json
import os
import secrets

from intermission_cli.setup import save_new

ACTION_KINDS = {"task", "reminder", "survey", "bench", "default"}


def tenant_parser(sub) -> None:
    """Register `tenant` and its subcommands."""
    t = sub.add_parser("tenant", help="add, list, show, remove, connect or resume tenants")
    tsub = t.add_subparsers(dest="tenant_command", required=True)
    add = tsub.add_parser("add", help="add a tenant on one host").add_subparsers(dest="host", required=True)
    _boond_parser(add.add_parser("boond", help="a BoondManager instance"))
    _salesforce_parser(add.add_parser("salesforce", help="a Salesforce org"))
    for name, func, helptext in (("list", _list, "every tenant"), ("show", _show, "one tenant, secrets masked"),
                                 ("remove", _remove, "delete a tenant's configuration and data"),
                                 ("connect-url", _connect_url, "a fresh signed link to connect Salesforce"),
                                 ("disconnect", _disconnect, "revoke and forget a tenant's Salesforce tokens"),
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


def _boond_parser(p) -> None:
    _common(p)
    p.add_argument("--base-url", default=None)
    p.add_argument("--auth-mode", choices=["app", "client"], default="app")
    p.add_argument("--app-token", default=os.environ.get("BOOND_APP_TOKEN"))
    p.add_argument("--app-key", default=os.environ.get("BOOND_APP_KEY"), help="or BOOND_APP_KEY")
    p.add_argument("--client-token", default=os.environ.get("BOOND_CLIENT_TOKEN"))
    p.add_argument("--client-key", default=os.environ.get("BOOND_CLIENT_KEY"), help="or BOOND_CLIENT_KEY")
    p.add_argument("--user-token", default=os.environ.get("BOOND_USER_TOKEN"),
                   help="the technical user's token (or BOOND_USER_TOKEN)")
    p.add_argument("--action-type", action="append", default=[], metavar="KIND=ID",
                   help="Boond action typeOf per kind (task, reminder, survey, bench or default); "
                        "without it the tenant's 'Rappel / To do' type is read from its dictionary")
    p.set_defaults(func=_add_boond)


def _salesforce_parser(p) -> None:
    _common(p)
    p.add_argument("--login", choices=["production", "sandbox", "mydomain"], default="production")
    p.add_argument("--my-domain", default=None, help="with --login mydomain: acme, acme--uat or the full host")
    p.add_argument("--login-url", default=None, help="a loopback login URL (the sandbox) instead of --login")
    p.add_argument("--client-id", default=os.environ.get("SF_CLIENT_ID"), help="or SF_CLIENT_ID")
    p.add_argument("--client-secret", default=os.environ.get("SF_CLIENT_SECRET"), help="or SF_CLIENT_SECRET")
    p.add_argument("--org-id", default=None, help="bind the tenant to this org (00D…, 15 or 18 characters; else "
                                                  "learnt at connect time)")
    p.add_argument("--preset", choices=["custom", "certinia", "certinia_schedule"], default="custom", help="mission object mapping")
    p.add_argument("--external-id-field", default=None, help="a unique external-ID field on Task, e.g. Intermission_Key__c")
    p.add_argument("--flow-signing", nargs="?", const="standard-webhooks", choices=["header", "standard-webhooks"],
                   default=None, help="authenticate Flow callouts: 'header' (a secret the External Credential sends "
                                      "as a custom header, no code) or 'standard-webhooks' (HMAC signed by the Apex "
                                      "class of docs/SALESFORCE.md; the default when no value is given)")
    p.add_argument("--trigger", choices=["outbound_message", "flow", "cdc"], default=None,
                   help="how the org tells us of a change: an Outbound Message, a Flow HTTP callout, or Change Data "
                        "Capture read by `intermission subscribe` (nothing to build in the org); default: "
                        "flow with --flow-signing, else outbound_message")
    p.set_defaults(func=_add_salesforce)


def _add_boond(args) -> int:
    from config import tenants
    from config.settings import get_settings

    _refuse_existing(args.id)
    from config.infra.urls import checked_host_url

    base_url = checked_host_url(args.base_url or get_settings().boond_base_url, "--base-url")
    boond = tenants.BoondConfig(base_url=base_url, auth_mode=args.auth_mode,
                                app_token=args.app_token, app_key=args.app_key, client_token=args.client_token,
                                client_key=args.client_key, user_token=args.user_token or "",
                                action_types=_action_types(args.action_type))
    pair = (boond.app_token, boond.app_key) if boond.auth_mode == "app" else (boond.client_token, boond.client_key)
    missing = [n for n, v in zip((f"--{boond.auth_mode}-token", f"--{boond.auth_mode}-key"), pair) if not v]
    missing += [] if boond.user_token else ["--user-token"]
    if missing:
        raise ValueError("missing " + ", ".join(missing) + " (Boond needs them to sign every call)")
    tenant = tenants.Tenant(id=args.id, host="boond", name=args.name, language=args.language,
                            timezone=args.timezone, boond=boond, **_place(args))
    return save_new(tenant, args.json, _print)


def _add_salesforce(args) -> int:
    from config import tenants
    from config.sf_mapping import preset
    from connectors.salesforce.ids import BadId, org_id
    from connectors.salesforce.oauth import login_host

    _refuse_existing(args.id)
    missing = [n for n, v in (("--client-id", args.client_id), ("--client-secret", args.client_secret)) if not v]
    if missing:
        raise ValueError("missing " + ", ".join(missing) + " (from your External Client App's OAuth settings)")
    from config.infra.urls import checked_host_url

    login_url = checked_host_url(login_host(args.login, args.my_domain, login_url=args.login_url),
                                 "--login-url" if args.login_url else "--my-domain" if args.my_domain else "--login")
    try:
        org = org_id(args.org_id) if args.org_id else None
    except BadId as exc:
        raise ValueError(f"--org-id: {exc}") from None
    cfg = tenants.SalesforceConfig(login_url=login_url, client_id=args.client_id, client_secret=args.client_secret,
                                   org_id=org,
                                   external_id_field=args.external_id_field, flow_secret=_flow_secret(args.flow_signing),
                                   mapping=preset(args.preset),
                                   trigger=args.trigger or ("flow" if args.flow_signing else "outbound_message"))
    tenant = tenants.Tenant(id=args.id, host="salesforce", name=args.name, language=args.language,
                            timezone=args.timezone, salesforce=cfg, **_place(args))
    return save_new(tenant, args.json, _print)


def _flow_secret(mode: str | None) -> str | None:
    """A fresh Flow callout secret: `imsec_…` sent as a custom header, `whsec_…` a Standard Webhooks key."""
    if mode == "header":
        return "imsec_" + secrets.token_urlsafe(32)
    if mode == "standard-webhooks":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return None
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
                                  "starting with a letter or a digit (e.g. acme-boond)")
    if tenants.get(tenant_id):
        raise tenants.TenantError(f"tenant '{tenant_id}' already exists: remove it first or pick another id")


def _action_types(pairs: list[str]) -> dict[str, int]:
    out = {}
    for pair in pairs:
        kind, _, value = pair.partition("=")
        if kind not in ACTION_KINDS or not value.isdigit():
            raise ValueError(f"--action-type {pair!r}: expected KIND=ID with KIND in {sorted(ACTION_KINDS)} "
                             "and a numeric id")
        out[kind] = int(value)
    return out


def _links(tenant) -> dict:
    from config.infra.urls import public_base_url

    base = public_base_url()
    links = {"webhook_url": tenant.webhook_url(base)}
    if tenant.host == "salesforce":  # a Flow's Named Credential can add a header: the secret leaves the path (#30)
        links["webhook_endpoint"] = tenant.webhook_endpoint(base)
        links["webhook_header"] = f"Authorization: Bearer {tenant.webhook_secret}"
        from webhooks.hosts.salesforce.connect import connect_link

        links["connect_url"] = connect_link(tenant.id, base)
    return links


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


def _connection(tenant) -> dict:
    """Whether the tenant's Salesforce org is connected: {"state": "connected"|"needs re-consent"|"not connected", …}."""
    from config.infra.redis_conn import get_redis
    from handlers.hosts.salesforce.adapter import tokens_for

    store = tokens_for(tenant, get_redis())
    reason = store.needs_reconsent()
    if reason:
        return {"state": "needs re-consent", "reason": reason}
    return {"state": "connected" if (store.load() or {}).get("refresh_token") else "not connected"}


def _print(tenant, as_json: bool, created: bool = False, reveal: bool = True, extra: dict | None = None) -> int:
    links = _links(tenant) if reveal else _masked_links(_links(tenant))
    if as_json:
        extra = {**(extra or {}), **({"flow_secret": tenant.salesforce.flow_secret} if created and tenant.salesforce
                                      else {})}
        if tenant.host == "salesforce":
            extra["connection"] = _connection(tenant)
        data = tenant.model_dump(mode="json") if reveal and not created else tenant.redacted()
        print(json.dumps({**data, **links, **extra, "needs_attention": _attention(tenant)}, indent=2))
        return 0
    print(f"{'Created' if created else 'Tenant'} {tenant.id} ({tenant.host}, {tenant.language}, "
          f"{_state(tenant)})")
    print(f"Webhook URL: {links['webhook_url']}")
    for reason in _attention(tenant):
        print(f"{'À voir' if tenant.language == 'fr' else 'Needs attention'}: {reason}")
    if tenant.host == "boond" and created:
        print("In Boond: Administration > Webhooks > +, paste that URL and tick create/update/delete on "
              "delivery and resource (never on action: our own writes would come back).")
    if tenant.host == "salesforce":
        _print_salesforce_setup(tenant, links, created)
    return 0


def _attention(tenant) -> list[str]:
    """Why the tenant needs its admin (handlers.state.attention), in the tenant's language."""
    from config.infra.redis_conn import get_redis
    from handlers.state import attention

    return attention.texts(get_redis(), tenant.id, tenant.language)


def _print_salesforce_setup(tenant, links: dict, created: bool) -> None:
    cfg, connection = tenant.salesforce, _connection(tenant)
    if connection["state"] == "needs re-consent":
        print(f"Connection: needs re-consent ({connection['reason']}): its work is held; an admin must open the "
              "connect URL below (`intermission tenant connect-url` makes a fresh one)")
    else:
        print(f"Connection: {connection['state']}")
    print(f"Connect URL (open it as a Salesforce admin): {links['connect_url']}")
    if not tenant.admin_password_hash:  # the link asks for the workspace's admin password (issue #30)
        print(f"  it asks for the workspace's admin password: set one first (`intermission tenant admin-password "
              f"{tenant.id}`), or send `intermission tenant admin-url {tenant.id}` and connect from the admin page")
    print(f"Org: {cfg.org_id or 'learnt when you connect'}; mission object: {cfg.mapping.object}")
    if cfg.trigger == "cdc":
        print(f"Trigger: Change Data Capture. In Salesforce, Setup > Integrations > Change Data Capture: move "
              f"{cfg.mapping.object} to Selected Entities and save. Nothing else to build; `intermission subscribe` "
              f"must run (one per deployment). Check it after connecting: intermission subscribe --check {tenant.id}")
        return
    print("Trigger, either:")
    print(f"  - Outbound Message on {cfg.mapping.object} (Setup > Outbound Messages > New): endpoint = the "
          f"webhook URL, fields Id, {cfg.mapping.end_date}, LastModifiedDate; fire it from a record-triggered "
          f"Flow when {cfg.mapping.end_date}, {cfg.mapping.status or 'the status'} or the record changes;")
    print(f"  - or a Flow HTTP Callout (POST, JSON) through a Named Credential whose URL is {links['webhook_endpoint']} "
          "(no secret in it) and whose External Credential adds the custom header "
          f"\"{links['webhook_header']}\", with "
          '{"organizationId": $Organization.Id, "object": "' + cfg.mapping.object + '", '
          '"recordId": $Record.Id, "eventId": <a unique id>}. (The webhook URL above works too, secret in its path.)')
    if created and cfg.flow_secret and cfg.flow_secret.startswith("imsec_"):
        print("Flow callout secret (shown once): put it in the External Credential's authentication parameter "
              f"Secret; its custom header X-Intermission-Secret = {{!$Credential.Intermission.Secret}}: {cfg.flow_secret}")
    elif created and cfg.flow_secret:
        print(f"Standard Webhooks secret for the Apex callout (shown once; docs/SALESFORCE.md): {cfg.flow_secret}")


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


def _salesforce_tenant(tenant_id: str):
    from config import tenants

    tenant = tenants.require(tenant_id)
    if tenant.host != "salesforce":
        raise tenants.TenantError(f"tenant '{tenant_id}' is on {tenant.host}, not Salesforce")
    return tenant


def _connect_url(args) -> int:
    url = _links(_salesforce_tenant(args.id))["connect_url"]
    return _done(args.json, url, tenant=args.id, connect_url=url)


def _disconnect(args) -> int:
    from webhooks.hosts.salesforce.connect import disconnect_tenant

    disconnect_tenant(_salesforce_tenant(args.id))
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
