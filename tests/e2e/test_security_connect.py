"""Connect flows bound to a signed-in admin (issue #30, point 1), over real HTTP against the Salesforce sandbox.

The attack: a tenant sends a victim admin his own connect link (valid 7 days); a victim whose org is connected
nowhere yet bound it to the attacker's workspace by following it. Now a link only shows the workspace's name and asks
for that workspace's admin password in this browser; the admin page's button needs an admin token; the OAuth state
is checked for the browser before it is spent; an org bound by mistake is released after a fresh consent."""
from __future__ import annotations

import re
from urllib.parse import urljoin

import requests
from werkzeug.security import generate_password_hash

from config import tenants
from config.infra.redis_conn import get_redis
from handlers.hosts.salesforce.adapter import tokens_for
from sandboxes.stack_salesforce import admin_connect
from webhooks.hosts.salesforce.connect import connect_link, disconnect_tenant
from connectors.salesforce.settings import SalesforceConfig, salesforce_settings

PASSWORD = "attacker's own password"


def _workspace(sf_stack, tenant_id: str, name: str, password: str | None = PASSWORD) -> tenants.Tenant:
    creds = sf_stack.control("GET", "/_control/credentials")
    tenant = tenants.Tenant(id=tenant_id, host="salesforce", name=name, host_settings=SalesforceConfig(
        login_url=creds["login_url"], client_id=creds["client_id"], client_secret=creds["client_secret"]),
        admin_password_hash=generate_password_hash(password) if password else None)
    tenants.save(tenant)
    return tenant


def _connected(tenant_id: str) -> bool:
    return tokens_for(tenants.get(tenant_id), get_redis()).load() is not None


def _form(page: str) -> dict:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    return {k: v.replace("&amp;", "&") for k, v in fields.items()}


def _free_org(sf_stack) -> None:
    """The sandbox's org connected nowhere (a victim's org nobody has connected yet)."""
    disconnect_tenant(tenants.get(sf_stack.tenant_id))


def test_a_forwarded_connect_link_shows_the_workspace_and_cannot_bind_a_strangers_org(sf_stack):
    _free_org(sf_stack)
    evil = _workspace(sf_stack, "evil-sf", "Evil Corp")
    victim = requests.Session()  # signed in to Salesforce, opens the link the attacker sent
    page = victim.get(connect_link(evil.id, sf_stack.web.url), timeout=30)
    assert page.status_code == 200 and not page.history  # no redirect: nobody is sent to Salesforce by a link
    assert "Evil Corp" in page.text and 'name="password"' in page.text
    refused = victim.post(urljoin(page.url, "/salesforce/connect"), data={**_form(page.text), "password": ""},
                          timeout=30)
    assert refused.status_code == 401 and not refused.history
    assert not _connected(evil.id) and salesforce_settings(tenants.get(evil.id)).org_id is None


def test_the_connect_link_connects_once_its_workspace_password_is_given_in_the_same_browser(sf_stack):
    _free_org(sf_stack)
    own = _workspace(sf_stack, "own-sf", "Own ESN", "the right password here")
    admin = requests.Session()
    page = admin.get(connect_link(own.id, sf_stack.web.url), timeout=30)
    stranger = requests.Session()  # the form's token is bound to the admin's browser
    assert stranger.post(f"{sf_stack.web.url}/salesforce/connect", data={**_form(page.text),
                         "password": "the right password here"}, timeout=30).status_code == 403
    done = admin.post(f"{sf_stack.web.url}/salesforce/connect", data={**_form(page.text),
                      "password": "the right password here"}, timeout=30)
    assert done.status_code == 200 and 'id="admin-link"' in done.text and _connected(own.id)


def test_a_workspace_without_a_password_connects_only_from_its_admin_page(sf_stack):
    _free_org(sf_stack)
    bare = _workspace(sf_stack, "bare-sf", "Bare ESN", password=None)
    page = requests.get(connect_link(bare.id, sf_stack.web.url), timeout=30)
    assert page.status_code == 403 and "no admin password" in page.text and 'name="password"' not in page.text
    forged = requests.post(f"{sf_stack.web.url}/salesforce/connect", data={"a": "forged", "csrf": "x"}, timeout=30)
    assert forged.status_code == 401 and not _connected(bare.id)
    assert admin_connect(requests.Session(), sf_stack.web.url, bare.id).status_code == 200 and _connected(bare.id)


def test_a_callback_opened_in_another_browser_leaves_the_flow_to_the_admin(sf_stack):
    admin = requests.Session()
    authorize = admin_connect(admin, sf_stack.web.url, sf_stack.tenant_id, follow=False).headers["Location"]
    consented = admin.get(authorize, timeout=30, allow_redirects=False).headers["Location"]  # the org's consent
    other = requests.get(consented, timeout=30)  # the callback URL, opened elsewhere first
    assert other.status_code == 400 and "not started in this browser" in other.text
    mine = admin.get(consented, timeout=30)
    assert mine.status_code == 200 and 'id="admin-link"' in mine.text and _connected(sf_stack.tenant_id)


def test_an_org_bound_by_mistake_is_released_by_its_admin_after_a_fresh_consent(sf_stack):
    _free_org(sf_stack)
    evil = _workspace(sf_stack, "evil-sf", "Evil Corp")
    assert admin_connect(requests.Session(), sf_stack.web.url, evil.id).status_code == 200  # the org, bound to evil
    owner = requests.Session()  # the org's real admin, connecting it to their own workspace
    offer = admin_connect(owner, sf_stack.web.url, sf_stack.tenant_id)
    assert offer.status_code == 409 and 'id="confirm"' in offer.text
    form = _form(offer.text)
    assert requests.post(f"{sf_stack.web.url}/salesforce/release", data=form, timeout=30).status_code == 403
    assert _connected(evil.id)  # another browser cannot use the offer
    done = owner.post(f"{sf_stack.web.url}/salesforce/release", data=form, timeout=30)
    assert done.status_code == 200 and _connected(sf_stack.tenant_id)
    assert not _connected(evil.id) and salesforce_settings(tenants.get(evil.id)).org_id is None
    again = owner.post(f"{sf_stack.web.url}/salesforce/release", data=form, timeout=30)
    assert again.status_code == 400  # the offer is spent


def test_a_password_change_ends_a_flow_under_way(sf_stack):
    admin = requests.Session()
    authorize = admin_connect(admin, sf_stack.web.url, sf_stack.tenant_id, follow=False).headers["Location"]
    tenant = tenants.get(sf_stack.tenant_id)
    tenants.save(tenant.model_copy(update={"admin_password_hash": generate_password_hash("changed meanwhile")}))
    answer = admin.get(authorize, timeout=30)
    assert answer.status_code == 401 and "Session" in answer.text
