"""The webhook secret out of the path (issue #30): `POST /webhooks/<host>/<tenant>` with `Authorization: Bearer
<secret>`, for the senders that can set a header (a Salesforce Flow's Named Credential). The same check (constant work
for unknown tenants), the same admit (dedupe, replays) and the same answers as the path form, which stays for the
hosts that can only take a URL (Boond's webhook settings, Outbound Messages)."""
from __future__ import annotations

import logging
from datetime import date

import requests

from sandboxes.stack_salesforce import SalesforceStack
from config.infra import clock
from connectors.salesforce.settings import salesforce_settings
from tests.e2e.helpers import settle
from tests.e2e.sf_helpers import by_step, duplicates
from tests.reliability.webhook_load import boond_event

ORG = "00D000000000001EAA"


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_a_boond_event_with_the_secret_in_the_header_is_admitted_once_like_the_path_form(stack, redis_conn):
    tenant = stack.tenant
    endpoint = tenant.webhook_endpoint(stack.web.url)
    assert tenant.webhook_secret not in endpoint and endpoint + "/" + tenant.webhook_secret == stack.webhook_url
    mission = stack.create_delivery(date(2025, 11, 3), date(2026, 4, 16), deliver=False)["data"]["id"]

    first = requests.post(endpoint, json=boond_event("evt-h1", mission), headers=_bearer(tenant.webhook_secret),
                          timeout=10)
    assert (first.status_code, first.json()) == (202, {"status": "queued"})
    # one dedupe for both forms: the same event by the path form, or by the header again, is a duplicate
    for again in (stack.post_webhook(boond_event("evt-h1", mission)),
                  requests.post(endpoint, json=boond_event("evt-h1", mission), headers=_bearer(tenant.webhook_secret),
                                timeout=10)):
        assert (again.status_code, again.headers["X-Intermission-Ignored"]) == (204, "duplicate event")

    refused = stack.http.post(stack.webhook_url.rsplit("/", 1)[0] + "/wrong", json={}, timeout=10)
    for headers in ({}, _bearer("wrong"), {"Authorization": f"Basic {tenant.webhook_secret}"},
                    {"Authorization": tenant.webhook_secret}, {"X-Intermission-Secret": tenant.webhook_secret}):
        answer = requests.post(endpoint, json=boond_event("evt-h2", mission), headers=headers, timeout=10)
        assert (answer.status_code, answer.content) == (404, refused.content), headers
    unknown = requests.post(endpoint.replace(tenant.id, "no-such-tenant"), json=boond_event("evt-h3", mission),
                            headers=_bearer(tenant.webhook_secret), timeout=10)
    assert (unknown.status_code, unknown.content) == (404, refused.content)


def test_an_unknown_tenant_costs_the_same_decrypt_by_header_as_by_path(stack, monkeypatch):
    from webhooks import common

    spent = []
    real = common._as_costly_as_a_tenant
    monkeypatch.setattr(common, "_as_costly_as_a_tenant", lambda host: spent.append(1) or real(host))
    base = stack.web.url + "/webhooks/boond/no-such-tenant"
    assert requests.post(base + "/some-secret", json={}, timeout=10).status_code == 404
    assert requests.post(base, json={}, headers=_bearer("some-secret"), timeout=10).status_code == 404
    assert spent == [1, 1]


def test_the_header_form_logs_the_route_template_and_no_secret(stack, caplog):
    tenant = stack.tenant
    with caplog.at_level(logging.DEBUG):
        answer = requests.post(tenant.webhook_endpoint(stack.web.url), json=boond_event("evt-log", "1"),
                               headers=_bearer(tenant.webhook_secret), timeout=10)
    assert answer.status_code == 202
    lines = [r.getMessage() for r in caplog.records]
    assert "POST /webhooks/boond/<tenant_id> 202" in lines
    assert not [line for line in lines if tenant.webhook_secret in line]
    from config.infra.logs import redact  # should a line ever quote the header, it is masked

    assert redact(f"{{'Authorization': 'Bearer {tenant.webhook_secret}'}}") == "{'Authorization': 'Bearer [token]'}"


def test_a_salesforce_flow_through_its_named_credential_header_lands_as_tasks_once(redis_conn):
    with SalesforceStack("acme-sf", mode="flow", signed_flow=True) as org:
        org.control("DELETE", "/_control/outbound")
        org.point_trigger("flow", header_secret=True)  # the Flow now calls the path-free URL with the header
        targets = org.control("GET", "/_control/outbound")["targets"]
        assert [t["url"] for t in targets] == [org.tenant.webhook_endpoint(org.web.url)]
        clock.pin(date(2026, 3, 2))
        mission = org.create_mission(date(2025, 11, 3), date(2026, 4, 16))["record"]["Id"]
        settle()
        assert len(by_step(org.tasks(), mission)) == 8 and duplicates(org.tasks()) == []
        attempts = org.control("GET", "/_control/outbound/log")["attempts"]
        assert attempts and {(a["url"], a["status"]) for a in attempts} == {(targets[-1]["url"], 202)}, attempts


def test_an_outbound_message_still_needs_its_secret_in_the_path(sf_stack):
    endpoint = sf_stack.tenant.webhook_endpoint(sf_stack.web.url)
    from pathlib import Path

    soap = (Path(__file__).parent.parent / "fixtures" / "salesforce" / "outbound_message__mission.xml").read_bytes()
    xml = {"Content-Type": "text/xml; charset=utf-8"}
    assert requests.post(endpoint, data=soap, headers=xml, timeout=10).status_code == 404
    assert requests.post(endpoint, data=soap, headers={**xml, **_bearer(sf_stack.tenant.webhook_secret)},
                         timeout=10).status_code == 200
    assert requests.post(sf_stack.webhook_url, data=soap, headers=xml, timeout=10).status_code == 200


def test_tenant_show_gives_a_salesforce_flow_the_header_form_and_masks_its_secret(sf_stack, child_env):
    import json
    import subprocess
    import sys

    def cli(*args) -> str:
        done = subprocess.run([sys.executable, "-m", "intermission_cli.main", "tenant", "show", sf_stack.tenant_id,
                               *args], env=child_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    secret = sf_stack.tenant.webhook_secret
    endpoint = sf_stack.tenant.webhook_endpoint(child_env.get("INTERMISSION_PUBLIC_BASE_URL", "http://127.0.0.1:8000"))
    masked = cli()
    assert secret not in masked
    assert f"Named Credential whose URL is {endpoint} " in masked
    assert '"Authorization: Bearer …"' in masked
    revealed = json.loads(cli("--json", "--reveal"))
    assert (revealed["webhook_endpoint"], revealed["webhook_header"]) == (endpoint, f"Authorization: Bearer {secret}")
    assert secret not in json.dumps({k: v for k, v in json.loads(cli("--json")).items()})


def test_the_admin_overview_gives_a_flow_the_header_form_and_an_outbound_message_its_url(redis_conn):
    import html as html_lib

    from config import tenants
    from webhooks.admin.auth import admin_token

    def overview(org, lang: str) -> str:
        token = admin_token(org.tenant_id, "test")
        page = requests.get(f"{org.web.url}/admin/", params={"a": token, "lang": lang}, timeout=10)
        assert page.status_code == 200
        text = html_lib.unescape(page.text)
        return text[text.index('id="delivery-address"'):][:1500]

    with SalesforceStack("acme-sf", mode="flow", signed_flow=True) as org:
        tenant = org.tenant
        card = overview(org, "en")
        assert f"<code>{tenant.webhook_endpoint(org.web.url)}</code>" in card
        assert f"<code>Authorization: Bearer {tenant.webhook_secret}</code>" in card
        assert tenant.webhook_url(org.web.url) not in card and "External Credential" in card
        assert "l'en-tête personnalisé" in overview(org, "fr")
        tenants.save(tenant.model_copy(update={"host_settings": salesforce_settings(tenant).model_copy(
            update={"trigger": "outbound_message"})}))
        card = overview(org, "en")
        assert f"<code>{tenant.webhook_url(org.web.url)}</code>" in card and "takes a URL only" in card
