"""A whole local stack on loopback: the Boond sandbox, the web app, a tenant wired to both.

Used by `intermission demo` and by the end-to-end tests; everything talks over real HTTP.
"""
from __future__ import annotations

from datetime import date

import requests
from connectors.boond.settings import BoondConfig
from handlers.hosts import registry  # noqa: F401  (the hosts a tenant may name)


SUBSCRIBED = ["delivery", "project", "positioning", "inactivity", "resource", "opportunity"]  # never "action": our own writes
# each dialect's tenant has its own state numbers (reference §10): the test tenants map them explicitly, as an admin
# confirming the mapping page would
STATE_MAPPINGS = {
    "documented": {"0": "active", "1": "active", "2": "client", "3": "consultant", "4": "cancelled"},
    "observed": {"1": "active", "2": "natural", "5": "client", "6": "consultant", "9": "cancelled"},
}
RESOURCE_STATES = {"1": "active", "2": "bench", "0": "left"}


class Stack:
    """Sandbox + web app in threads, and one Boond tenant whose webhook points at the web app."""

    def __init__(self, tenant_id: str = "demo-boond", *, language: str = "fr", dialect: str = "documented"):
        self.tenant_id = tenant_id
        self.language = language
        self.dialect = dialect
        self.servers = []

    def start(self) -> "Stack":
        """Start both servers, reset the sandbox and (re)create the tenant."""
        from sandboxes.boond.app import SandboxConfig, create_app as sandbox_app
        from sandboxes.serving import ThreadedServer
        from webhooks.app import create_app as web_app

        self.sandbox = ThreadedServer(sandbox_app(SandboxConfig(dialect=self.dialect))).start()
        self.web = ThreadedServer(web_app()).start()
        self.servers = [self.sandbox, self.web]
        self.http = requests.Session()
        return self.start_tenant()

    def start_tenant(self) -> "Stack":
        """An empty sandbox and a fresh tenant subscribed to its webhooks (what `start` does; a story may start over)."""
        self.control("POST", "/_control/reset")
        self.tenant = self._create_tenant()
        self.control("POST", "/_control/webhooks", json={"url": self.webhook_url, "events": SUBSCRIBED})
        return self

    def stop(self) -> None:
        """Stop the servers."""
        for server in self.servers:
            server.stop()

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def webhook_url(self) -> str:
        return self.tenant.webhook_url(self.web.url)

    def _create_tenant(self):
        from config import tenants

        creds = self.control("GET", "/_control/credentials")
        tenants.remove(self.tenant_id)
        tenant = tenants.Tenant(id=self.tenant_id, host="boond", name="Demo ESN", language=self.language,
                                host_settings=BoondConfig(base_url=self.sandbox.url + "/api", auth_mode="app",
                                                          app_token=creds["appToken"], app_key=creds["appKey"],
                                                          client_token=creds["clientToken"],
                                                          user_token=creds["userToken"],
                                                          delivery_states=STATE_MAPPINGS[self.dialect],
                                                          resource_states=RESOURCE_STATES, states_confirmed=True))
        tenants.save(tenant)
        return tenant

    def control(self, method: str, path: str, **kwargs) -> dict:
        """Call the sandbox's control API."""
        response = self.http.request(method, self.sandbox.url + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else {}

    # --- the story's moves -------------------------------------------------------------------
    def create_delivery(self, start: date, end: date | None, *, resource: str = "7", project: str = "45",
                        title: str = "Refonte du SI logistique", deliver: bool = True,
                        daily_cost: float | None = None) -> dict:
        body = {"resource": resource, "project": project, "startDate": start.isoformat(),  # state: the dialect's start
                "endDate": end.isoformat() if end else None, "title": title, "deliver": deliver}
        if daily_cost is not None:
            body["averageDailyCost"] = daily_cost
        return self.control("POST", "/_control/deliveries", json=body)

    def new_consultant(self, last_name: str = "") -> str:
        """Add a consultant (managed by Claire, HR Inès) and return its resource id."""
        return self.control("POST", "/_control/resources", json={"lastName": last_name})["id"]

    def new_mission(self, start: date, end: date | None, *, title: str = "Refonte du SI logistique") -> str:
        """Create a delivery and return its id."""
        return self.create_delivery(start, end, title=title)["data"]["id"]

    def move_end(self, delivery_id: str, end: date, *, deliver: bool = True) -> dict:
        return self.control("POST", f"/_control/deliveries/{delivery_id}/move",
                            json={"endDate": end.isoformat(), "deliver": deliver})

    def end_early(self, delivery_id: str, end: date, by: str, *, deliver: bool = True) -> dict:
        return self.control("POST", f"/_control/deliveries/{delivery_id}/end",
                            json={"endDate": end.isoformat(), "by": by, "deliver": deliver})

    def actions(self) -> list[dict]:
        """Every action in the sandbox, as the host holds them."""
        return self.control("GET", "/_control/actions").get("data") or []

    def events(self) -> list[dict]:
        return self.control("GET", "/_control/events").get("events") or []

    def post_webhook(self, event: dict) -> requests.Response:
        """Deliver one event the way Boond would."""
        return self.http.post(self.webhook_url, json=event, timeout=30)
