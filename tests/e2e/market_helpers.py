"""A stack with no tenant: the Boond sandbox plays the marketplace and the install creates the tenant."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import requests

from config import tenants
from config.infra import crypto
from sandboxes.stack import Stack
from connectors.boond.marketplace import decode_signed_request
from handlers.hosts.boond import marketplace

APP_KEY = "sbx-app-key-0123456789"  # the sandbox's marketplace_app_key, also INTERMISSION_BOOND_APP_KEY here
CLIENT_TOKEN = "sbx-client"


class MarketStack(Stack):
    """Sandbox + web app over real HTTP; Intermission is installed from the sandbox's marketplace."""

    def __init__(self, dialect: str = "documented"):
        super().__init__(tenant_id="unused", dialect=dialect)
        self.tenant = None

    def start(self) -> "MarketStack":
        """Start both servers and reset the sandbox; no tenant exists yet."""
        from sandboxes.boond.app import SandboxConfig, create_app as sandbox_app
        from sandboxes.serving import ThreadedServer
        from webhooks.app import create_app as web_app

        self.sandbox = ThreadedServer(sandbox_app(SandboxConfig(dialect=self.dialect))).start()
        self.web = ThreadedServer(web_app()).start()
        self.servers = [self.sandbox, self.web]
        self.http = requests.Session()
        self.control("POST", "/_control/reset")
        return self

    @property
    def app_url(self) -> str:
        """The app URL declared in Boond."""
        return self.web.url + "/boond"

    def market(self, call: str, **body) -> dict:
        """Play one marketplace call (install, uninstall, validate, iframe, …) towards the app."""
        return self.control("POST", f"/_control/marketplace/{call}", json={"app_url": self.app_url, **body})

    def installed(self) -> tenants.Tenant | None:
        """The tenant of the sandbox's customer, as stored now."""
        self.tenant = marketplace.tenant_for_client_token(CLIENT_TOKEN)
        return self.tenant

    def configure(self, user_token: str = "sbx-user-admin", *, finish_setup: bool = True) -> dict:
        """What the admin page does: read the iframe's signedRequest, then configure with its user; then, unless
        `finish_setup` is False, end the set-up as its last screen does (the mapping and owners as configure left
        them: tests/browser/test_setup_flow.py drives the screens themselves)."""
        url = self.market("iframe", user_token=user_token)["url"]
        payload = decode_signed_request(parse_qs(urlparse(url).query)["signedRequest"][0], APP_KEY)
        from config.infra.redis_conn import get_redis
        from handlers.hosts.boond.marketplace import CONFIGURED, configure_boond_tenant
        from handlers.sync import setup

        tenant = marketplace.tenant_for_client_token(payload["clientToken"])
        result = configure_boond_tenant(tenant.id, payload["userToken"], base_url=self.web.url)
        if result["configured"]:
            result["resynced"] = setup.connected(get_redis(), tenant.id, CONFIGURED)
        if finish_setup and result.get("configured"):
            setup.finish(get_redis(), tenants.require(tenant.id))
        self.installed()
        return result

    def api_webhooks(self) -> list[dict]:
        """GET /api/webhooks as the sandbox's own admin sees it (seeded app credentials)."""
        return self.control("GET", "/_control/webhooks")["webhooks"]

    def calls(self) -> dict:
        """The sandbox's /api call counts."""
        return self.control("GET", "/_control/calls")

    def post_to(self, path: str, signed: str | None, *, as_json: bool = False) -> requests.Response:
        """POST a lifecycle call to the app the way Boond does (form field), or as JSON."""
        body = {} if signed is None else {"signedRequest": signed}
        if as_json:
            return self.http.post(f"{self.app_url}/{path}", json=body, timeout=30)
        return self.http.post(f"{self.app_url}/{path}", data=body, timeout=30)


def redis_dump(conn) -> dict:
    """Every key with its serialized value (operational counters aside), for 'nothing changed' checks."""
    return {key: conn.dump(key) for key in sorted(conn.keys("*")) if key != b"im:metrics"}


def stored_text(conn) -> str:
    """Every key and value in Redis as text, Fernet blobs decrypted: what a secret scan must search."""
    readers = {"string": lambda k: [conn.get(k)], "set": conn.smembers, "list": lambda k: conn.lrange(k, 0, -1),
               "hash": lambda k: [x for kv in conn.hgetall(k).items() for x in kv],
               "zset": lambda k: conn.zrange(k, 0, -1)}
    chunks = []
    for key in conn.keys("*"):
        read = readers.get(conn.type(key).decode(), lambda k: [conn.dump(k)])
        chunks += [key.decode(errors="replace"), *(_readable(item) for item in read(key))]
    return "\n".join(chunks)


def _readable(raw: bytes) -> str:
    try:
        return crypto.decrypt(raw).decode(errors="replace")
    except Exception:  # noqa: BLE001 - not an encrypted blob
        return raw.decode(errors="replace")
