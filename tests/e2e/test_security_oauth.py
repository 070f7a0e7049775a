"""Connecting Salesforce safely (issue #13, item 1): the flow is bound to the browser that started it, an org belongs
to one tenant, the redirect_uri comes from INTERMISSION_PUBLIC_BASE_URL, forwarding headers only from named proxies."""
from __future__ import annotations

from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from config import tenants
from config.infra.redis_conn import get_redis
from config.settings import get_settings
from handlers.hosts.salesforce.adapter import tokens_for
from sandboxes.stack_salesforce import admin_connect
from webhooks.admin.auth import admin_token, csrf_token
from webhooks.hosts.salesforce.connect import disconnect_tenant
from connectors.salesforce.settings import SalesforceConfig, salesforce_settings


def _other_tenant(sf_stack, tenant_id: str = "evil-sf") -> tenants.Tenant:
    """A second workspace on the same connected app (another customer of Intermission)."""
    creds = sf_stack.control("GET", "/_control/credentials")
    tenant = tenants.Tenant(id=tenant_id, host="salesforce", host_settings=SalesforceConfig(
        login_url=creds["login_url"], client_id=creds["client_id"], client_secret=creds["client_secret"]))
    tenants.save(tenant)
    return tenant


def _connected(tenant_id: str) -> bool:
    return tokens_for(tenants.get(tenant_id), get_redis()).load() is not None


def test_a_flow_started_in_another_browser_is_refused_and_binds_nothing(sf_stack):
    evil = _other_tenant(sf_stack)
    attacker = requests.Session()
    authorize = admin_connect(attacker, sf_stack.web.url, evil.id, follow=False)
    assert authorize.status_code == 302  # the attacker keeps this authorize URL and sends it to the victim admin
    victim = requests.Session()  # signed in to Salesforce, never opened Intermission's connect link
    answer = victim.get(authorize.headers["Location"], timeout=30)
    assert answer.status_code == 400 and "pas été commencée dans ce navigateur" in unescape(answer.text)
    assert not _connected(evil.id) and salesforce_settings(tenants.get(evil.id)).org_id is None


def test_the_browser_cookie_is_host_only_http_only_and_lax(sf_stack):
    answer = admin_connect(requests.Session(), sf_stack.web.url, sf_stack.tenant_id, follow=False)
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("intermission-sf=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


def test_over_https_the_cookie_is_a_secure_host_prefixed_one(sf_stack, monkeypatch):
    from webhooks.app import create_app

    monkeypatch.setattr(get_settings(), "public_base_url", "https://intermission.example.com")
    token = admin_token(sf_stack.tenant_id, "test")
    answer = create_app().test_client().post("/salesforce/connect", data={"a": token, "csrf": csrf_token(token)})
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("__Host-intermission-sf=") and "Secure" in cookie and "Domain" not in cookie


def test_a_second_tenant_cannot_connect_an_org_bound_to_another_until_it_is_disconnected(sf_stack):
    evil = _other_tenant(sf_stack)
    own_browser = requests.Session()
    refused = admin_connect(own_browser, sf_stack.web.url, evil.id)
    assert refused.status_code == 409 and "un autre espace Intermission" in unescape(refused.text)
    assert not _connected(evil.id) and _connected(sf_stack.tenant_id)
    disconnect_tenant(tenants.get(sf_stack.tenant_id))  # the org's owner lets it go
    assert admin_connect(requests.Session(), sf_stack.web.url, evil.id).status_code == 200
    assert _connected(evil.id)
    back = admin_connect(sf_stack.http, sf_stack.web.url, sf_stack.tenant_id)
    assert back.status_code == 409  # now bound to the other workspace


def test_the_redirect_uri_comes_from_public_base_url_never_from_the_host_header(sf_stack):
    token = admin_token(sf_stack.tenant_id, "test")
    answer = requests.post(f"{sf_stack.web.url}/salesforce/connect", data={"a": token, "csrf": csrf_token(token)},
                           headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
                           timeout=10, allow_redirects=False)
    redirect_uri = parse_qs(urlparse(answer.headers["Location"]).query)["redirect_uri"][0]
    assert redirect_uri == get_settings().public_base_url.rstrip("/") + "/salesforce/callback"
    assert "evil" not in redirect_uri


def _echo(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ.get('REMOTE_ADDR')} {environ.get('wsgi.url_scheme')}".encode()]


@pytest.mark.parametrize("peer, expected", [("127.0.0.1", b"203.0.113.9 https"), ("198.51.100.7", b"198.51.100.7 http")])
def test_forwarding_headers_are_believed_only_from_a_configured_proxy(peer, expected):
    from werkzeug.test import Client

    from webhooks.proxies import TrustedProxies

    client = Client(TrustedProxies(_echo, "127.0.0.1, 10.0.0.0/8"))
    answer = client.get("/", environ_base={"REMOTE_ADDR": peer},
                        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert answer.get_data() == expected


def test_a_bad_trusted_proxy_setting_names_the_entry():
    from webhooks.proxies import parse_networks

    with pytest.raises(ValueError, match="'nginx'"):
        parse_networks("127.0.0.1, nginx")
