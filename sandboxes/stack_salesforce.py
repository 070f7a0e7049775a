"""The Salesforce side of the local stack: the org sandbox, the web app, a tenant connected through OAuth."""
from __future__ import annotations

import base64
import secrets
from datetime import date

import requests

from sandboxes.stack import Stack
from connectors.salesforce.settings import SalesforceConfig, salesforce_env, salesforce_settings
from handlers.hosts import registry  # noqa: F401  (the hosts a tenant may name)

FIELDS = ["Id", "End_Date__c", "Status__c", "LastModifiedDate"]


class SalesforceStack(Stack):
    """Org sandbox + web app in threads; one tenant connected with PKCE; Outbound Messages, Flow callouts or
    Change Data Capture (`mode="cdc"`: the sandbox's Pub/Sub API on a loopback port, read by `intermission subscribe`)."""

    def __init__(self, tenant_id: str = "demo-sf", *, mode: str = "soap", external_id_field: str | None = None,
                 signed_flow: bool = False, language: str = "fr"):
        super().__init__(tenant_id, language=language)
        self.mode, self.external_id_field, self.signed_flow = mode, external_id_field, signed_flow

    def start(self) -> "SalesforceStack":
        """Start both servers, reset the org, create and connect the tenant, point the trigger at us."""
        from sandboxes.salesforce import pubsub
        from sandboxes.salesforce.app import create_app as sandbox_app
        from sandboxes.serving import ThreadedServer
        from webhooks.app import create_app as web_app

        app = sandbox_app()
        self.sandbox = ThreadedServer(app).start()
        self.web = ThreadedServer(web_app()).start()
        self.servers = [self.sandbox, self.web]
        self.pubsub, self.pubsub_port = pubsub.serve(app.extensions["salesforce_sandbox"])
        self._point_pubsub()
        self.http = requests.Session()
        return self.start_tenant()

    def start_tenant(self) -> "SalesforceStack":
        """An empty org and a fresh tenant, connected, the trigger pointed at us (what `start` does; a story may
        start over)."""
        self.control("POST", "/_control/reset")
        self.tenant = self._create_tenant()
        self._point_public_base()
        self.connect()
        self.point_trigger(self.mode)
        return self

    def _create_tenant(self):
        from config import tenants

        creds = self.control("GET", "/_control/credentials")
        tenants.remove(self.tenant_id)
        flow_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode() if self.signed_flow else None
        tenant = tenants.Tenant(id=self.tenant_id, host="salesforce", name="Demo ESN", language=self.language,
                                host_settings=SalesforceConfig(
                                    login_url=creds["login_url"], client_id=creds["client_id"],
                                    client_secret=creds["client_secret"], external_id_field=self.external_id_field,
                                    flow_secret=flow_secret,
                                    trigger={"soap": "outbound_message", "flow": "flow", "cdc": "cdc"}[self.mode]))
        tenants.save(tenant)
        return tenant

    def connect(self) -> requests.Response:
        """Connect as a signed-in admin would: the admin page's button, consent in the org, back to the callback."""
        from config import tenants

        answer = admin_connect(self.http, self.web.url, self.tenant_id)
        self.tenant = tenants.get(self.tenant_id)
        return answer

    def _point_public_base(self) -> None:
        """Salesforce sends the admin back to INTERMISSION_PUBLIC_BASE_URL only: this web app's while the stack runs.

        (Every web app of the process shares one Redis, so any of them finishes a flow another one started.)"""
        from config.settings import get_settings

        settings = get_settings()
        self._public_base = settings.public_base_url
        object.__setattr__(settings, "public_base_url", self.web.url)  # not an operator's setting: fields_set kept

    def _point_pubsub(self) -> None:
        """The subscriber (in this process, or a child given `pubsub_endpoint`) reads the sandbox's Pub/Sub API."""
        settings = salesforce_env()
        self._pubsub_endpoint = settings.sf_pubsub_endpoint
        object.__setattr__(settings, "sf_pubsub_endpoint", self.pubsub_endpoint)

    @property
    def pubsub_endpoint(self) -> str:
        return f"127.0.0.1:{self.pubsub_port}"

    def stop(self) -> None:
        """Stop the servers and give PUBLIC_BASE_URL and the Pub/Sub endpoint back."""
        from config.settings import get_settings

        if getattr(self, "_public_base", None) is not None:
            object.__setattr__(get_settings(), "public_base_url", self._public_base)
            self._public_base = None
        if getattr(self, "_pubsub_endpoint", None) is not None:
            object.__setattr__(salesforce_env(), "sf_pubsub_endpoint", self._pubsub_endpoint)
            self._pubsub_endpoint = None
        if getattr(self, "pubsub", None) is not None:
            self.pubsub.stop(0)
            self.pubsub = None
        super().stop()

    def point_trigger(self, mode: str, *, header_secret: bool = False) -> None:
        """Make the org notify our webhook URL by Outbound Message (soap) or Flow callout (flow); cdc: nothing to do.
        `header_secret`: the Flow calls the path-free URL, its Named Credential adding `Authorization: Bearer`."""
        if mode == "cdc":
            return
        body = {"url": self.webhook_url, "object": "Mission__c", "fields": FIELDS, "mode": mode}
        if header_secret:
            body.update(url=self.tenant.webhook_endpoint(self.web.url),
                        headers={"Authorization": f"Bearer {self.tenant.webhook_secret}"})
        if mode == "flow" and salesforce_settings(self.tenant).flow_secret:
            body["flow_secret"] = salesforce_settings(self.tenant).flow_secret
        self.control("POST", "/_control/outbound", json=body)

    # --- the story's moves -------------------------------------------------------------------
    def new_consultant(self, last_name: str = "") -> str:
        """Add a consultant Contact and return its id."""
        return self.control("POST", "/_control/contacts", json={"LastName": last_name})["Id"]

    def new_mission(self, start: date, end: date | None, *, title: str = "Refonte du SI logistique") -> str:
        """Create a mission and return its id."""
        return self.create_mission(start, end, Name=title)["record"]["Id"]

    def create_mission(self, start: date, end: date | None, *, deliver: bool = True, **fields) -> dict:
        body = {"Name": "Refonte du SI logistique", "Start_Date__c": start.isoformat(),
                "End_Date__c": end.isoformat() if end else None, "deliver": deliver, **fields}
        return self.control("POST", "/_control/missions", json=body)

    def update_mission(self, mission_id: str, *, deliver: bool = True, **fields) -> dict:
        return self.control("POST", f"/_control/missions/{mission_id}/update", json={**fields, "deliver": deliver})

    def move_end(self, mission_id: str, end: date, *, deliver: bool = True) -> dict:
        return self.update_mission(mission_id, End_Date__c=end.isoformat(), deliver=deliver)

    def end_early(self, mission_id: str, end: date, by: str, *, deliver: bool = True) -> dict:
        return self.update_mission(mission_id, End_Date__c=end.isoformat(), Status__c="Ended",
                                   End_Reason__c=by.capitalize(), deliver=deliver)

    def tasks(self) -> list[dict]:
        """Every live Task in the org (deleted ones sit in the recycle bin, IsDeleted true)."""
        return [t for t in self.control("GET", "/_control/tasks")["records"] if not t.get("IsDeleted")]


def admin_connect(http: requests.Session, web_url: str, tenant_id: str, *, follow: bool = True) -> requests.Response:
    """Press the admin page's "Connect Salesforce" button in this browser (a fresh admin token and its CSRF token);
    with `follow`, consent in the org and come back to the callback."""
    from webhooks.admin.auth import admin_token, csrf_token

    token = admin_token(tenant_id, "cli")
    return http.post(f"{web_url.rstrip('/')}/salesforce/connect", data={"a": token, "csrf": csrf_token(token)},
                     timeout=30, allow_redirects=follow)
