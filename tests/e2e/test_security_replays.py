"""Replays and revocation (issue #13, item 3): a signedRequest is used once, uninstall revokes every admin token and
connect link, an uninstalled tenant never runs a job, and disconnecting needs its own token and the CSRF check."""
from __future__ import annotations

import pytest
import requests

from config import tenants
from config.infra.redis_conn import get_redis
from connectors.boond.marketplace import encode_signed_request
from handlers.hosts.salesforce.adapter import tokens_for
from tests.e2e.market_helpers import APP_KEY, CLIENT_TOKEN
from webhooks.admin.auth import admin_token, csrf_token
from connectors.boond.settings import BoondConfig

INSTALL = {"appToken": "app-1", "clientToken": CLIENT_TOKEN, "clientName": "ESN Sandbox"}


def test_a_captured_signed_request_is_refused_the_second_time(market):
    signed = encode_signed_request(INSTALL, APP_KEY)
    assert market.post_to("install", signed).status_code == 200
    again = market.post_to("install", signed)
    assert again.status_code == 401 and "already used" in again.json()["error"]


def test_an_install_without_issued_at_works_and_its_replay_is_refused_for_a_day(market, redis_conn):
    bare = encode_signed_request(INSTALL, APP_KEY, stamp=False)  # Boond may not date its calls (reference §2.2)
    assert market.post_to("install", bare).status_code == 200
    assert market.installed() is not None and market.installed().status != "uninstalled"
    again = market.post_to("install", bare)
    assert again.status_code == 401 and "already used" in again.json()["error"]
    seen = list(redis_conn.scan_iter(match="im:boond:seen:*"))
    assert len(seen) == 1 and 23 * 3600 < redis_conn.ttl(seen[0]) <= 24 * 3600  # a hash of it, kept a day


def test_an_install_replayed_after_uninstall_does_not_reinstall_the_tenant(market):
    install = encode_signed_request(INSTALL, APP_KEY)
    assert market.post_to("install", install).status_code == 200
    uninstall = encode_signed_request({"clientToken": CLIENT_TOKEN}, APP_KEY)
    assert market.post_to("uninstall", uninstall).status_code == 200
    assert market.post_to("install", install).status_code == 401
    assert market.installed().status == "uninstalled"


def test_uninstall_revokes_admin_tokens_which_cannot_re_enable_the_tenant(market):
    assert market.post_to("install", encode_signed_request(INSTALL, APP_KEY)).status_code == 200
    tenant_id = market.installed().id
    token = admin_token(tenant_id, "boond-iframe")
    assert requests.get(f"{market.web.url}/admin/", params={"a": token}, timeout=10).status_code == 200
    assert market.post_to("uninstall", encode_signed_request({"clientToken": CLIENT_TOKEN}, APP_KEY)).ok
    assert requests.get(f"{market.web.url}/admin/", params={"a": token}, timeout=10).status_code == 401
    flip = requests.post(f"{market.web.url}/admin/toggle", data={"a": token, "csrf": csrf_token(token)}, timeout=10)
    fresh = admin_token(tenant_id, "cli")  # even a token made after the uninstall opens nothing
    assert flip.status_code == 401
    assert requests.get(f"{market.web.url}/admin/", params={"a": fresh}, timeout=10).status_code == 401
    after = tenants.get(tenant_id)
    assert (after.status, after.enabled, after.auth_epoch) == ("uninstalled", False, 1)


def test_an_uninstalled_tenant_never_runs_a_job_whatever_enabled_says():
    base = tenants.Tenant(id="gone-acme", host="boond", host_settings=BoondConfig())
    assert tenants.may_run_jobs(base)
    assert not tenants.may_run_jobs(base.model_copy(update={"status": "uninstalled", "enabled": True}))
    assert not tenants.may_run_jobs(base.model_copy(update={"enabled": False}))
    assert not tenants.may_run_jobs(None)


def test_a_connect_link_made_before_an_epoch_change_is_dead(sf_stack):
    from webhooks.hosts.salesforce.connect import connect_link

    link = connect_link(sf_stack.tenant_id, sf_stack.web.url)
    tenant = tenants.get(sf_stack.tenant_id)
    tenants.save(tenant.model_copy(update={"auth_epoch": tenant.auth_epoch + 1}))
    assert requests.get(link, timeout=10, allow_redirects=False).status_code == 404


def test_the_connect_link_cannot_disconnect_and_the_disconnect_token_needs_its_csrf(sf_stack):
    from webhooks.hosts.salesforce.connect import connect_link, disconnect_token

    url = f"{sf_stack.web.url}/salesforce/disconnect"
    link_token = connect_link(sf_stack.tenant_id, sf_stack.web.url).split("?t=", 1)[1]
    for refused in (requests.post(url, params={"t": link_token}, timeout=10),  # the 7-day link, from any site
                    requests.post(url, data={"t": link_token}, timeout=10)):
        assert refused.status_code == 404
    token = disconnect_token(tenants.get(sf_stack.tenant_id))
    assert requests.post(url, data={"d": token}, timeout=10).status_code == 403  # a cross-site form: no CSRF token
    assert tokens_for(tenants.get(sf_stack.tenant_id), get_redis()).load() is not None
    done = requests.post(url, data={"d": token, "csrf": csrf_token(token)}, timeout=30)
    assert done.status_code == 200 and tokens_for(tenants.get(sf_stack.tenant_id), get_redis()).load() is None


def test_the_admin_page_offers_the_disconnect_button_with_its_own_tokens(sf_stack):
    token = admin_token(sf_stack.tenant_id, "test")
    page = requests.get(f"{sf_stack.web.url}/admin/", params={"a": token, "lang": "en"}, timeout=10).text
    assert 'id="disconnect"' in page and 'name="d"' in page


@pytest.mark.parametrize("path", ["configure", "configuration"])
@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_the_iframe_opens_at_configure_and_configuration_by_get_or_post(market, path, verb):
    assert market.post_to("install", encode_signed_request(INSTALL, APP_KEY)).status_code == 200
    signed = encode_signed_request({"clientToken": CLIENT_TOKEN, "userToken": "sbx-user-admin"}, APP_KEY, stamp=False)
    field = {"params" if verb == "GET" else "data": {"signedRequest": signed}}
    opened = requests.request(verb, f"{market.app_url}/{path}", timeout=10, allow_redirects=False, **field)
    assert opened.status_code == 302 and "/admin/" in opened.headers["Location"]
    page = requests.get(market.web.url + opened.headers["Location"] if opened.headers["Location"].startswith("/")
                        else opened.headers["Location"], timeout=10)
    assert page.status_code == 200 and "Intermission" in page.text
    again = requests.request(verb, f"{market.app_url}/{path}", timeout=10, allow_redirects=False, **field)
    assert again.status_code == 401  # an undated signedRequest opens the pages once
