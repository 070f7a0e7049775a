"""Salesforce's part of `intermission tenant`: the `tenant add salesforce` flags, the connect link, the org's set-up
steps, the connection's state and `tenant disconnect`."""

from __future__ import annotations

import base64
import os
import secrets

from handlers.hosts.registry import Cli


def _flags(p) -> None:
    p.add_argument("--login", choices=["production", "sandbox", "mydomain"], default="production")
    p.add_argument("--my-domain", default=None, help="with --login mydomain: acme, acme--uat or the full host")
    p.add_argument("--login-url", default=None, help="a loopback login URL (the sandbox) instead of --login")
    p.add_argument("--client-id", default=os.environ.get("SF_CLIENT_ID"), help="or SF_CLIENT_ID")
    p.add_argument("--client-secret", default=os.environ.get("SF_CLIENT_SECRET"), help="or SF_CLIENT_SECRET")
    p.add_argument("--org-id", default=None, help="bind the tenant to this org (00D…, 15 or 18 characters; else learnt at connect time)")
    p.add_argument("--preset", choices=["custom", "certinia", "certinia_schedule"], default="custom", help="mission object mapping")
    p.add_argument("--external-id-field", default=None, help="a unique external-ID field on Task, e.g. Intermission_Key__c")
    p.add_argument(
        "--flow-signing",
        nargs="?",
        const="standard-webhooks",
        choices=["header", "standard-webhooks"],
        default=None,
        help="authenticate Flow callouts: 'header' (a secret the External Credential sends "
        "as a custom header, no code) or 'standard-webhooks' (HMAC signed by the Apex "
        "class of docs/SALESFORCE.md; the default when no value is given)",
    )
    p.add_argument(
        "--trigger",
        choices=["outbound_message", "flow", "cdc"],
        default=None,
        help="how the org tells us of a change: an Outbound Message, a Flow HTTP callout, or Change Data "
        "Capture read by `intermission subscribe` (nothing to build in the org); default: "
        "flow with --flow-signing, else outbound_message",
    )


def _settings(args):
    from connectors.salesforce.ids import BadId, org_id
    from connectors.salesforce.mapping import preset
    from connectors.salesforce.oauth import login_host
    from connectors.salesforce.settings import SalesforceConfig

    missing = [n for n, v in (("--client-id", args.client_id), ("--client-secret", args.client_secret)) if not v]
    if missing:
        raise ValueError("missing " + ", ".join(missing) + " (from your External Client App's OAuth settings)")
    from config.infra.urls import checked_host_url

    login_url = checked_host_url(
        login_host(args.login, args.my_domain, login_url=args.login_url),
        "--login-url" if args.login_url else "--my-domain" if args.my_domain else "--login",
    )
    try:
        org = org_id(args.org_id) if args.org_id else None
    except BadId as exc:
        raise ValueError(f"--org-id: {exc}") from None
    return SalesforceConfig(
        login_url=login_url,
        client_id=args.client_id,
        client_secret=args.client_secret,
        org_id=org,
        external_id_field=args.external_id_field,
        flow_secret=_flow_secret(args.flow_signing),
        mapping=preset(args.preset),
        trigger=args.trigger or ("flow" if args.flow_signing else "outbound_message"),
    )


def _flow_secret(mode: str | None) -> str | None:
    """A fresh Flow callout secret: `imsec_…` sent as a custom header, `whsec_…` a Standard Webhooks key."""
    if mode == "header":
        return "imsec_" + secrets.token_urlsafe(32)
    if mode == "standard-webhooks":
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return None


def _links(tenant, base_url: str) -> dict:
    from webhooks.hosts.salesforce.links import connect_link

    # a Flow's Named Credential can add a header: the secret leaves the path (#30)
    return {
        "webhook_endpoint": tenant.webhook_endpoint(base_url),
        "webhook_header": f"Authorization: Bearer {tenant.webhook_secret}",
        "connect_url": connect_link(tenant.id, base_url),
    }


def _connection(tenant) -> dict:
    """Whether the tenant's org is connected: {"state": "connected"|"needs re-consent"|"not connected", …}."""
    from config.infra.redis_conn import get_redis
    from handlers.hosts.salesforce.adapter import tokens_for

    store = tokens_for(tenant, get_redis())
    reason = store.needs_reconsent()
    if reason:
        return {"state": "needs re-consent", "reason": reason}
    return {"state": "connected" if (store.load() or {}).get("refresh_token") else "not connected"}


def _fields(tenant, created: bool) -> dict:
    from connectors.salesforce.settings import salesforce_settings

    cfg = salesforce_settings(tenant)
    return {**({"flow_secret": cfg.flow_secret} if created and cfg else {}), "connection": _connection(tenant)}


def _steps(tenant, links: dict, created: bool) -> None:
    from connectors.salesforce.settings import salesforce_settings

    cfg, connection = salesforce_settings(tenant), _connection(tenant)
    if connection["state"] == "needs re-consent":
        print(
            f"Connection: needs re-consent ({connection['reason']}): its work is held; an admin must open the "
            "connect URL below (`intermission tenant connect-url` makes a fresh one)"
        )
    else:
        print(f"Connection: {connection['state']}")
    print(f"Connect URL (open it as a Salesforce admin): {links['connect_url']}")
    if not tenant.admin_password_hash:  # the link asks for the workspace's admin password (issue #30)
        print(
            f"  it asks for the workspace's admin password: set one first (`intermission tenant admin-password "
            f"{tenant.id}`), or send `intermission tenant admin-url {tenant.id}` and connect from the admin page"
        )
    print(f"Org: {cfg.org_id or 'learnt when you connect'}; mission object: {cfg.mapping.object}")
    if cfg.trigger == "cdc":
        print(
            f"Trigger: Change Data Capture. In Salesforce, Setup > Integrations > Change Data Capture: move "
            f"{cfg.mapping.object} to Selected Entities and save. Nothing else to build; `intermission subscribe` "
            f"must run (one per deployment). Check it after connecting: intermission subscribe --check {tenant.id}"
        )
        return
    print("Trigger, either:")
    print(
        f"  - Outbound Message on {cfg.mapping.object} (Setup > Outbound Messages > New): endpoint = the "
        f"webhook URL, fields Id, {cfg.mapping.end_date}, LastModifiedDate; fire it from a record-triggered "
        f"Flow when {cfg.mapping.end_date}, {cfg.mapping.status or 'the status'} or the record changes;"
    )
    print(
        f"  - or a Flow HTTP Callout (POST, JSON) through a Named Credential whose URL is {links['webhook_endpoint']} "
        "(no secret in it) and whose External Credential adds the custom header "
        f'"{links["webhook_header"]}", with '
        '{"organizationId": $Organization.Id, "object": "' + cfg.mapping.object + '", '
        '"recordId": $Record.Id, "eventId": <a unique id>}. (The webhook URL above works too, secret in its path.)'
    )
    if created and cfg.flow_secret and cfg.flow_secret.startswith("imsec_"):
        print(
            "Flow callout secret (shown once): put it in the External Credential's authentication parameter "
            f"Secret; its custom header X-Intermission-Secret = {{!$Credential.Intermission.Secret}}: {cfg.flow_secret}"
        )
    elif created and cfg.flow_secret:
        print(f"Standard Webhooks secret for the Apex callout (shown once; docs/SALESFORCE.md): {cfg.flow_secret}")


def _disconnect(tenant) -> None:
    from webhooks.hosts.salesforce.connect import disconnect_tenant

    disconnect_tenant(tenant)


CLI = Cli(help="a Salesforce org", flags=_flags, settings=_settings, links=_links, fields=_fields, steps=_steps, disconnect=_disconnect)
