"""Tenants wired to sandboxes served by gunicorn, and the moves a benchmark makes in each host."""
from __future__ import annotations

import base64
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import requests

from sandboxes.stack import RESOURCE_STATES, STATE_MAPPINGS, SUBSCRIBED  # the test tenants' mapping
from connectors.salesforce.settings import SalesforceConfig
from connectors.boond.settings import BoondConfig

BENCH_DIALECT = os.environ.get("INTERMISSION_BENCH_BOOND_DIALECT", "documented")  # as tests/bench/hosts.py serves


def bench_dialect() -> str:
    """The Boond sandbox's dialect for this benchmark (read when a tenant is made: api_calls sets it)."""
    return os.environ.get("INTERMISSION_BENCH_BOOND_DIALECT", BENCH_DIALECT)


def _start_state() -> int:
    """A running delivery's state in the bench dialect."""
    from sandboxes.boond.dialect import story_state

    return story_state(bench_dialect(), "start")


SF_FIELDS = ["Id", "End_Date__c", "Status__c", "LastModifiedDate"]


class Sandbox:
    """A sandbox over HTTP: its control API and the bench recorder (`/_bench`)."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def control(self, method: str, path: str, **kwargs) -> dict:
        """Call `/_control<path>` and return the JSON answer."""
        for attempt in range(3):
            try:
                response = self.http.request(method, f"{self.url}/_control{path}", timeout=120, **kwargs)
                break
            except requests.ConnectionError:  # a kept-alive connection gunicorn closed as we reused it
                if attempt == 2:
                    raise
        response.raise_for_status()
        return response.json() if response.content else {}

    def bench(self, method: str, path: str):
        """Call `/_bench<path>`."""
        response = self.http.request(method, f"{self.url}/_bench{path}", timeout=120)
        response.raise_for_status()
        return response.json()

    def recorded(self) -> list[dict]:
        """Every host API call recorded since the last reset (bodies decoded)."""
        calls = self.bench("GET", "/calls")
        for call in calls:
            call["body"] = base64.b64decode(call["body"])
            call["host"] = self.url
        return calls

    def calls_total(self) -> dict:
        """The sandbox's own call counters (`GET /_control/calls`)."""
        return self.control("GET", "/calls")


def boond_tenant(sandbox: Sandbox, tenant_id: str, *, web_url: str | None = None):
    """A Boond tenant on the sandbox (app JWT); registers its webhook when `web_url` is given."""
    from config import tenants

    creds = sandbox.control("GET", "/credentials")
    tenant = tenants.Tenant(id=tenant_id, host="boond", name="Bench ESN", language="fr",
                            host_settings=BoondConfig(base_url=sandbox.url + "/api", auth_mode="app",
                                                      app_token=creds["appToken"], app_key=creds["appKey"],
                                                      client_token=creds["clientToken"],
                                                      user_token=creds["userToken"],
                                                      delivery_states=STATE_MAPPINGS[bench_dialect()],
                                                      resource_states=RESOURCE_STATES, states_confirmed=True))
    tenants.save(tenant)
    if web_url:
        sandbox.control("POST", "/webhooks", json={"url": tenant.webhook_url(web_url), "events": SUBSCRIBED})
    return tenant


def salesforce_tenant(sandbox: Sandbox, tenant_id: str, web_url: str):
    """A Salesforce tenant connected through the web process (OAuth + PKCE), its Outbound Message pointed at us."""
    from config import tenants
    from sandboxes.stack_salesforce import admin_connect

    creds = sandbox.control("GET", "/credentials")
    tenant = tenants.Tenant(id=tenant_id, host="salesforce", name="Bench ESN", language="fr",
                            host_settings=SalesforceConfig(login_url=creds["login_url"],
                                                                client_id=creds["client_id"],
                                                                client_secret=creds["client_secret"]))
    tenants.save(tenant)
    answer = admin_connect(requests.Session(), web_url, tenant_id)
    if answer.status_code != 200:
        raise RuntimeError(f"Salesforce connect failed: {answer.status_code} {answer.text[:300]}")
    sandbox.control("POST", "/outbound", json={"url": tenant.webhook_url(web_url), "object": "Mission__c",
                                               "fields": SF_FIELDS, "mode": "soap"})
    return tenants.get(tenant_id)


def many(fn, items, workers: int = 4) -> list:
    """`fn` over `items` from a few threads (setup moves), results in order."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


class BoondMoves:
    """Consultants and deliveries in the Boond sandbox; each move returns the webhook event(s) it recorded."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def consultants(self, count: int) -> list[str]:
        """`count` new consultants (resource ids)."""
        return many(lambda n: self.sandbox.control("POST", "/resources", json={"lastName": f"C{n:05d}"})["id"],
                    range(count))

    def projects(self, count: int) -> list[str]:
        """`count` new projects of the same client (project ids)."""
        return many(lambda n: self.sandbox.control("POST", "/projects", json={})["id"], range(count))

    def create(self, resource: str, end: date, *, deliver: bool = False, project: str = "45") -> tuple[str, list[dict]]:
        """A new delivery for `resource` on `project` ending on `end`: (its id, its events)."""
        body = {"resource": resource, "project": project, "startDate": (end - timedelta(days=150)).isoformat(),
                "endDate": end.isoformat(), "state": _start_state(), "title": "Refonte du SI", "deliver": deliver}
        answer = self.sandbox.control("POST", "/deliveries", json=body)
        return answer["data"]["id"], answer.get("events") or []

    def move(self, delivery: str, end: date, *, deliver: bool = False) -> list[dict]:
        """Move a delivery's end date: its events."""
        body = {"endDate": end.isoformat(), "deliver": deliver}
        return self.sandbox.control("POST", f"/deliveries/{delivery}/move", json=body).get("events") or []


class SalesforceMoves:
    """Consultant contacts and missions in the Salesforce sandbox; notifications held until `deliver_held`."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    def consultants(self, count: int) -> list[str]:
        """`count` new consultant contacts."""
        return many(lambda n: self.sandbox.control("POST", "/contacts", json={"LastName": f"C{n:05d}"})["Id"],
                    range(count))

    def create(self, contact: str, end: date, *, deliver: bool = False) -> str:
        """A new mission for `contact` ending on `end`: its id."""
        body = {"Name": "Refonte du SI", "Start_Date__c": (end - timedelta(days=150)).isoformat(),
                "End_Date__c": end.isoformat(), "Consultant__c": contact, "Consultant_User__c": None,
                "deliver": deliver}
        return self.sandbox.control("POST", "/missions", json=body)["record"]["Id"]

    def move(self, mission: str, end: date, *, deliver: bool = False) -> None:
        """Move a mission's end date."""
        self.sandbox.control("POST", f"/missions/{mission}/update", json={"End_Date__c": end.isoformat(),
                                                                          "deliver": deliver})

    def deliver_held(self) -> dict:
        """Send every held notification as Outbound Messages of up to 100 notifications."""
        return self.sandbox.control("POST", "/outbound/batch")


def post_events(url: str, events: list[dict], senders: int = 4) -> list[int]:
    """POST Boond webhook events to our web process from a few threads; their HTTP statuses."""
    sessions: dict = {}

    def one(event: dict) -> int:
        import threading

        session = sessions.setdefault(threading.get_ident(), requests.Session())
        return session.post(url, json=event, timeout=60).status_code

    with ThreadPoolExecutor(senders) as pool:
        return list(pool.map(one, events))


class Hosts:
    """Both sandboxes under gunicorn (one process, threads), the web process, and one tenant on each host."""

    def __init__(self, procs, *, threads: int = 8):
        app = "tests.bench.hosts:"
        self.boond = Sandbox(procs.gunicorn("boond", app + "boond", workers=1, threads=threads,
                                            ready_path="/_control/credentials"))
        self.sf = Sandbox(procs.gunicorn("salesforce", app + "salesforce", workers=1, threads=threads,
                                         ready_path="/_control/credentials"))
        self.web = procs.web()
        self.boond_tenant = boond_tenant(self.boond, "bench-boond", web_url=self.web)
        self.sf_tenant = salesforce_tenant(self.sf, "bench-sf", self.web)
        self.boond_moves, self.sf_moves = BoondMoves(self.boond), SalesforceMoves(self.sf)

    @property
    def sandboxes(self) -> tuple[Sandbox, Sandbox]:
        return self.boond, self.sf

    @property
    def boond_webhook(self) -> str:
        return self.boond_tenant.webhook_url(self.web)

    def sweeps_aside(self, conn) -> None:
        """The two tenants counted as swept now: the tick's catch-up sweep (every 15 minutes, whatever the load)
        re-reads every mission changed in its window, so one landing inside a measured phase read each mission twice
        (6,027 calls instead of 5,016 in one pipeline run). It has a cost of its own (docs/PERFORMANCE.md, "What to
        change next"), measured apart from the phases."""
        from handlers.sync.sweep import last_sweep_key

        for tenant in (self.boond_tenant, self.sf_tenant):
            conn.set(last_sweep_key(tenant.id), int(time.time()))

    def bench_all(self, method: str, path: str) -> None:
        """The same `/_bench` call on both sandboxes."""
        for sandbox in self.sandboxes:
            sandbox.bench(method, path)

    def recorded(self) -> list[dict]:
        """Both sandboxes' recorded calls, merged in arrival order."""
        return sorted(self.boond.recorded() + self.sf.recorded(), key=lambda c: c["t0"])


UNTHROTTLED = {"INTERMISSION_BOOND_RATE_PER_SECOND": 1_000_000, "INTERMISSION_BOOND_BURST": 1_000_000}
