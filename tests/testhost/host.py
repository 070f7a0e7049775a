"""The test host's settings model, CLI part, metric, words, admin pages and registry line."""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from pydantic import BaseModel, ConfigDict, Field

from config.infra import metrics
from config.tenants import secret
from handlers.hosts.registry import Cli, Host, Metrics, Web
from tests.memo_host import MemoAdapter
from webhooks.admin.host_pages import HostPages
from webhooks.admin.i18n import word

NAME = "testhost"


class TesthostSettings(BaseModel):
    """What a tenant on the test host sets: an API key (a secret) and a region code."""

    model_config = ConfigDict(extra="forbid")
    api_key: str = secret(min_length=8)
    region: str = Field(default="eu", pattern=r"^[a-z]{2}$")
    queue: str = ""  # picked on the mapping page among the host's queues


def _flags(p) -> None:
    p.add_argument("--api-key", default=None, help="the test host's API key")
    p.add_argument("--region", default="eu", help="a two-letter region")


def _settings(args) -> TesthostSettings:
    if not args.api_key:
        raise ValueError("missing --api-key (the test host needs it on every call)")
    return TesthostSettings(api_key=args.api_key, region=args.region)


def _steps(tenant, links: dict, created: bool) -> None:
    if created:
        print("In the test host: paste that URL in its webhook settings.")


CLI = Cli(help="a test host", flags=_flags, settings=_settings, steps=_steps)

WORDS = {
    "testhost_connect": ("Connecter l'hôte de test", "Connect the test host"),
    "testhost_queue": ("File de l'hôte de test", "Test host queue"),
}


def _regions(conn) -> list:
    family = GaugeMetricFamily("intermission_testhost_regions", "Test host regions known.", labels=["region"])
    family.add_metric(["eu"], 1)
    return [family]


INSTALLED: list[bool] = []
METRICS = Metrics(
    counters={"intermission_testhost_pings": ("Test host pings, by region.", ("region",))},
    gauges=_regions,
    install=lambda: INSTALLED.append(True),
)


def ping(region: str) -> None:
    """What the host's connector would count."""
    metrics.incr("intermission_testhost_pings", {"region": region})


class TesthostPages(HostPages):
    """A connect button and one mapping field whose picker lists the host's queues."""

    def connect_form(self, tenant) -> dict | None:
        return {"action": "/testhost/connect", "id": "connect-testhost", "label": "testhost_connect"}

    def mapping_fields(self, tenant) -> list[dict]:
        value = tenant.settings_as(TesthostSettings).queue
        return [{"name": "queue", "label": word("testhost_queue", tenant.language), "value": value, "help": ""}]

    def mapping_choices(self, tenant, fields: list[dict]) -> dict[str, list[tuple]]:
        return {"queue": [("q-night", "Night queue"), ("q-day", "Day queue")]}


PAGES = TesthostPages()

HOST = Host(
    name=NAME,
    label="Testhost",
    adapter=MemoAdapter,
    settings_model=TesthostSettings,
    web=Web(pages="tests.testhost.host:PAGES", words="tests.testhost.host:WORDS", people_paths=("/testhost/",)),
    cli="tests.testhost.host:CLI",
    metrics=METRICS,
)
