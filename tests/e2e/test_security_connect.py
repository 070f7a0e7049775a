"""Connect flows bound to a signed-in admin (issue #30, point 1), over real HTTP against the Salesforce sandbox.

The attack: a tenant sends a victim admin his own connect link (valid 7 days); a victim whose org is connected
nowhere yet bound it to the attacker's workspace by following it. Now a link only shows the workspace's name and asks
for that workspace's admin password in this browser; the admin page's button needs an admin token; the OAuth state
is checked for the browser before it is spent; an org bound by mistake is released after a fresh consent."""
from __future__ import annotations

import re
from html import unescape
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
    assert page.status_code == 403 and "pas encore de mot de passe d'administration" in unescape(page.text)
    assert 'name="password"' not in page.text
    forged = requests.post(f"{sf_stack.web.url}/salesforce/connect", data={"a": "forged", "csrf": "x"}, timeout=30)
    assert forged.status_code == 401 and not _connected(bare.id)
    assert admin_connect(requests.Session(), sf_stack.web.url, bare.id).status_code == 200 and _connected(bare.id)


def test_a_callback_opened_in_another_browser_leaves_the_flow_to_the_admin(sf_stack):
    admin = requests.Session()
    authorize = admin_connect(admin, sf_stack.web.url, sf_stack.tenant_id, follow=False).headers["Location"]
    consented = admin.get(authorize, timeout=30, allow_redirects=False).headers["Location"]  # the org's consent
    other = requests.get(consented, timeout=30)  # the callback URL, opened elsewhere first
    assert other.status_code == 400 and "pas été commencée dans ce navigateur" in unescape(other.text)
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


def _said(page: requests.Response) -> str:
    """A page's visible text in one line."""
    body = page.text.split("<body>", 1)[-1]
    return " ".join(unescape(re.sub(r"<details>.*?</details>|<[^>]+>", " ", body, flags=re.S)).split())


def test_every_connect_page_speaks_one_language_and_ends_with_the_next_step(sf_stack):
    """Issue #27, point 9: the error pages too, in the tenant's language (the browser's when no workspace is known),
    each with the next step in words, never a command to run."""
    _free_org(sf_stack)
    english = _workspace(sf_stack, "en-sf", "English ESN", password=None)
    tenants.save(english.model_copy(update={"language": "en"}))
    pages = {
        "bad_link_fr": requests.get(f"{sf_stack.web.url}/salesforce/connect?t=forged", timeout=30,
                                    headers={"Accept-Language": "fr-FR,fr;q=0.9"}),
        "bad_link_en": requests.get(f"{sf_stack.web.url}/salesforce/connect?t=forged", timeout=30,
                                    headers={"Accept-Language": "en-GB,en;q=0.9"}),
        "no_password_en": requests.get(connect_link(english.id, sf_stack.web.url), timeout=30),
        "expired_fr": requests.get(f"{sf_stack.web.url}/salesforce/callback?state=gone&code=x", timeout=30),
        "disconnect_fr": requests.post(f"{sf_stack.web.url}/salesforce/disconnect", data={"d": "forged"}, timeout=30),
    }
    admin = requests.Session()  # the admin declines in Salesforce: the callback comes back with an error
    authorize = admin_connect(admin, sf_stack.web.url, sf_stack.tenant_id, follow=False).headers["Location"]
    state = re.search(r"state=([^&]+)", authorize).group(1)
    pages["declined_fr"] = admin.get(f"{sf_stack.web.url}/salesforce/callback", timeout=30,
                                     params={"state": requests.utils.unquote(state), "error": "access_denied",
                                             "error_description": "end-user denied authorization"})
    expected = {"bad_link_fr": (404, "Lien non valable", "Étape suivante : ouvrez la page d'administration"),
                "bad_link_en": (404, "Link not valid", "Next step: open the Intermission admin page"),
                "no_password_en": (403, "Cannot connect yet", "Next step: ask your Intermission operator"),
                "expired_fr": (400, "Connexion expirée", "Étape suivante : recommencez depuis la page"),
                "disconnect_fr": (404, "Lien non valable", "Étape suivante : déconnectez depuis la page"),
                "declined_fr": (400, "Salesforce a refusé la connexion", "Étape suivante : recommencez la connexion")}
    for name, (status, title, next_step) in expected.items():
        page, text = pages[name], _said(pages[name])
        assert page.status_code == status and f'<html lang="{name[-2:]}">' in page.text, name
        assert text.startswith(title) and next_step in text, (name, text)
        assert not re.search(r"intermission (tenant|backfill|setup)|`", text), (name, text)  # no command
        other = ("Next step", "Link not valid") if name.endswith("_fr") else ("Étape suivante", "Lien non valable")
        assert not any(word in text for word in other), (name, text)  # one language a page
    assert 'id="admin-link"' in pages["declined_fr"].text  # the admin goes on from their admin page
    assert "end-user denied authorization" in pages["declined_fr"].text.split("<details>")[1]  # Salesforce's words, aside
