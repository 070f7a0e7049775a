"""Two tenants on each host, told over real HTTP: the world the isolation and secrets tests attack and inspect.

Boond A (`acme-a`, credentials given by an operator) and Boond B (installed and configured from the sandbox's
marketplace, through the iframe and the admin page); Salesforce C (Outbound Messages) and D (signed Flow callouts),
each connected with OAuth. Every tenant gets missions; A's consultant answers a survey; one of B's jobs becomes a
dead letter; A's admin browses every page. `secrets()` lists every credential the story handed out.
"""
from __future__ import annotations

import os
import re
from contextlib import ExitStack
from datetime import date
from urllib.parse import parse_qs, urlparse

import requests

from config.infra import clock
from tests.e2e.helpers import settle
from connectors.salesforce.settings import salesforce_settings
from connectors.boond.settings import boond_settings

T0, END = date(2026, 3, 2), date(2026, 4, 16)
A_TITLE, B_TITLE = "Refonte logistique chez Alpha", "Projet confidentiel Bravo"
FORM_FIELD = re.compile(r'name="(a|csrf|user_token|form_token)" value="([^"]+)"')


def fields(html: str) -> dict[str, str]:
    """The hidden fields of an admin or survey page (admin token, CSRF token, …)."""
    return dict(FORM_FIELD.findall(html))


class World:
    """The four tenants, their sandboxes and web apps; `handed_out` keeps every secret seen on the way."""

    def __init__(self):
        self.exits = ExitStack()
        self.handed_out: dict[str, str] = {}
        self.missions: dict[str, list[str]] = {}

    def __enter__(self) -> "World":
        from tests.e2e.market_helpers import APP_KEY

        self.exits.enter_context(_env(INTERMISSION_BOOND_APP_KEY=APP_KEY))
        self.exits.enter_context(self._record_jwts())
        clock.pin(T0)
        try:
            self._boond_a()
            self._boond_b()
            self._salesforce()
            self._admin_tour()
        except BaseException:
            self.exits.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.exits.close()

    def _record_jwts(self):
        """Keep every Boond JWT the connector builds (a spy: the real function still makes them)."""
        from unittest import mock

        from connectors.boond import auth

        made = auth.encode_jwt

        def spy(claims: dict, key: str) -> str:
            token = made(claims, key)
            self.keep(f"boond jwt {len(self.handed_out)}", token)
            return token
        return mock.patch.object(auth, "encode_jwt", spy)

    def keep(self, name: str, value) -> None:
        """Remember a secret the story handed out (to look for it later)."""
        if isinstance(value, str) and value:
            self.handed_out[name] = value

    # --- the tenants ------------------------------------------------------------------------------
    def _boond_a(self) -> None:
        from sandboxes.stack import Stack

        self.a = self.exits.enter_context(Stack("acme-a"))
        creds = self.a.control("GET", "/_control/credentials")
        for name in ("appKey", "appToken", "clientKey", "userToken"):  # clientToken names the customer: not secret
            self.keep(f"boond sandbox {name}", creds[name])
        self.missions["acme-a"] = [self.a.new_mission(date(2025, 11, 3), END, title=A_TITLE)]
        settle()
        self._answer_survey()

    def _answer_survey(self) -> None:
        from config.infra.redis_conn import get_redis
        from handlers.surveys import records as surveys

        state = surveys.states(get_redis(), "acme-a", self.missions["acme-a"][0])["consultant"]
        self.keep("survey token A", state.token)
        url = f"{self.a.web.url}/survey/{state.token}"
        token = fields(requests.get(url, timeout=10).text)["form_token"]
        self.keep("survey form token A", token)
        answer = requests.post(url, data={"satisfaction": 2, "nps": 3, "comment": "Alpha only", "form_token": token},
                               timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        settle()

    def _boond_b(self) -> None:
        from tests.e2e.market_helpers import MarketStack

        self.b = self.exits.enter_context(MarketStack())
        self.exits.enter_context(_env(INTERMISSION_BOOND_BASE_URL=self.b.sandbox.url + "/api"))
        installed = self.b.market("install")
        assert installed["installed"], installed
        for call in installed["calls"]:
            self.keep(f"install signedRequest {len(self.handed_out)}", call["signedRequest"])
        self.keep("boond B app token", installed.get("appToken"))
        self.keep("boond B refresh token", installed.get("refreshToken"))
        self._configure_b()
        self.b_tenant = self.b.installed()
        self.missions[self.b_tenant.id] = [self.b.new_mission(date(2025, 11, 3), END, title=B_TITLE)]
        settle()
        self._dead_letter_b()

    def _configure_b(self) -> None:
        """The admin opens the app in Boond's iframe and uses their own account as the technical user."""
        url = self.b.market("iframe")["url"]
        self.keep("iframe signedRequest", parse_qs(urlparse(url).query)["signedRequest"][0])
        page = requests.get(url, timeout=10)
        form = fields(page.text)
        self.keep("admin token B", form["a"])
        self.keep("csrf token B", form["csrf"])
        done = requests.post(f"{self.b.web.url}/admin/configure", data={**form, "lang": "en"}, timeout=30)
        assert done.status_code == 200 and "webhook registered" in done.text, done.text[:500]
        from config.infra.redis_conn import get_redis
        from handlers.sync import setup

        setup.finish(get_redis(), self.b.installed())  # the set-up flow's last screen (issue #27)

    def _dead_letter_b(self) -> None:
        fault = {"kind": "500", "times": 50, "method": "GET", "path": "/api/deliveries"}
        self.b.control("POST", "/_control/faults", json=fault)
        self.missions[self.b_tenant.id].append(self.b.new_mission(date(2025, 12, 1), END, title=B_TITLE + " 2"))
        settle()
        self.b.control("DELETE", "/_control/faults")

    def _salesforce(self) -> None:
        from sandboxes.stack_salesforce import SalesforceStack

        self.c = self.exits.enter_context(SalesforceStack("acme-sf-c"))
        self.d = self.exits.enter_context(SalesforceStack("bravo-sf-d", mode="flow", signed_flow=True))
        for org in (self.c, self.d):
            self._reconnect(org)
            self.missions[org.tenant_id] = [org.new_mission(date(2025, 11, 3), END, title=f"Mission {org.tenant_id}")]
        settle()

    def _reconnect(self, org) -> None:
        """Connect once more, keeping the connect link, the OAuth state and code seen on the way."""
        from webhooks.hosts.salesforce.connect import connect_link

        from sandboxes.stack_salesforce import admin_connect

        link = connect_link(org.tenant_id, org.web.url)
        self.keep(f"connect link {org.tenant_id}", parse_qs(urlparse(link).query)["t"][0])
        assert org.http.get(link, timeout=30).status_code == 403  # the link's page: this workspace has no password
        answer = admin_connect(org.http, org.web.url, org.tenant_id)
        assert answer.status_code == 200, answer.text[:300]
        for hop in answer.history:
            query = parse_qs(urlparse(hop.headers.get("Location", "")).query)
            for name in ("state", "code"):
                self.keep(f"oauth {name} {org.tenant_id} {len(self.handed_out)}", (query.get(name) or [""])[0])
        self.keep(f"admin token {org.tenant_id}", parse_qs(urlparse(
            re.search(r'id="admin-link" href="([^"]+)"', answer.text).group(1).replace("&amp;", "&")).query)["a"][0])

    def _admin_tour(self) -> None:
        """A's admin opens every page and flips the kill switch twice (logs and error pages see real tokens)."""
        from webhooks.admin.auth import admin_token, csrf_token

        token = admin_token("acme-a", "cli")
        self.keep("admin token A", token)
        self.keep("csrf token A", csrf_token(token))
        web = self.a.web.url
        for path in ("/admin/", "/admin/playbook", "/admin/mapping", "/admin/preview", "/admin/activity",
                     "/admin/surveys"):
            assert requests.get(web + path, params={"a": token}, timeout=10).status_code == 200, path
        for _ in range(2):
            done = requests.post(web + "/admin/toggle", data={"a": token, "csrf": csrf_token(token)}, timeout=10)
            assert done.status_code == 200
        assert requests.post(web + "/admin/test", data={"a": token, "csrf": csrf_token(token)}, timeout=10).ok

    # --- what the tests look for ------------------------------------------------------------------
    def secrets(self) -> dict[str, str]:
        """Every credential: the ones handed out on the way and the ones stored for each tenant."""
        from config import tenants
        from config.infra.redis_conn import get_redis
        from connectors.boond.tokens import AppTokens
        from handlers.hosts.salesforce.adapter import tokens_for

        found = dict(self.handed_out)
        for tenant_id, tokens in survey_tokens().items():
            found.update({f"survey token {tenant_id} {i}": token for i, token in enumerate(tokens)})
        for tenant in (tenants.get(t) for t in tenants.list_ids()):
            found[f"webhook secret {tenant.id}"] = tenant.webhook_secret
            for name, value in _host_secrets(tenant).items():
                self.keep_in(found, f"{name} {tenant.id}", value)
            stored = (tokens_for(tenant, get_redis()).load() if tenant.host == "salesforce"
                      else AppTokens(get_redis(), tenant.id).load()) or {}
            for name in ("access_token", "refresh_token", "app_token"):
                self.keep_in(found, f"{name} {tenant.id}", stored.get(name))
        return found

    @staticmethod
    def keep_in(found: dict, name: str, value) -> None:
        if isinstance(value, str) and value:
            found[name] = value


def survey_tokens() -> dict[str, list[str]]:
    """Every survey link token Redis holds, by tenant."""
    from config.infra.redis_conn import get_redis
    from handlers.surveys import records as surveys

    conn, found = get_redis(), {}
    for key in sorted(conn.scan_iter(match="im:t:*:surveys:*", count=1000)):
        _, _, tenant, _, mission = key.decode().split(":", 4)
        found.setdefault(tenant, []).extend(s.token for s in surveys.states(conn, tenant, mission).values())
    return found


def _host_secrets(tenant) -> dict:
    if boond_settings(tenant):
        cfg = boond_settings(tenant)
        return {"boond app key": cfg.app_key, "boond app token": cfg.app_token, "boond user token": cfg.user_token,
                "boond client key": cfg.client_key}
    cfg = salesforce_settings(tenant)
    return {"salesforce client secret": cfg.client_secret, "flow secret": cfg.flow_secret}


class _env:
    """Set environment variables for the settings (and the cached settings) until the block ends."""

    def __init__(self, **values: str):
        self.values, self.before = values, {k: os.environ.get(k) for k in values}

    def __enter__(self) -> None:
        os.environ.update(self.values)
        _reload()

    def __exit__(self, *exc) -> None:
        for name, value in self.before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reload()


def _reload() -> None:
    from config.settings import get_settings

    get_settings.cache_clear()
