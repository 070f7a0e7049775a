"""The one list of hosts: everything generic code asks of a host, declared once per host in a `Host`.

A host is one `register(Host(...))` line (the built-in ones at the bottom, a test host from tests/). Generic code
asks `host_of(tenant)` or `adapter_for(tenant, conn)` and never compares `tenant.host` with a name
(tests/unit/test_host_registry.py checks it). What lives in a layer above `handlers` (the webhook and connect
blueprints, the admin pages' host part, the sandbox) is named as "module:attribute" and imported by that layer
(`load`), so `handlers` never imports `webhooks` nor the sandboxes. See docs/ARCHITECTURE.md, "Adding a host".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from pydantic import BaseModel

from config import tenants
from config.tenants import Tenant
from handlers.hosts.protocol import HostReader, missing

HostAdapter = HostReader  # the name the first registry used


def _always(tenant: Tenant, conn: redis.Redis) -> bool:
    return True


def _nothing(tenant: Tenant, conn: redis.Redis) -> None:
    return None


def _an_hour() -> float:
    return 3600.0


def _never(tenant: Tenant) -> bool:
    return False


def _no_inactivities(tenant: Tenant) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Budget:
    """A host's API budget and its hold policy: asked before a job's first call; spent, the work is held, not lost."""

    left: Callable[[Tenant, redis.Redis], bool] = _always  # False: hold the tenant's work before any call

    def recheck(self, tenant: Tenant, conn: redis.Redis) -> bool:
        """`left`, after reading the budget from the host when the stored reading says spent."""
        if self.left(tenant, conn):
            return True
        self.read(tenant, conn)
        return self.left(tenant, conn)

    pause_seconds: Callable[[], float] = _an_hour  # how long work held for a spent budget waits before it resumes
    read: Callable[[Tenant, redis.Redis], object] = _nothing  # read the budget from the host now (before holding again)


def _nothing_missing(tenant: Tenant) -> list[str]:
    return []


def _as_is(tenant: Tenant, conn: redis.Redis) -> Tenant:
    return tenant


def _nobody(tenant: Tenant, conn: redis.Redis, query: str) -> list[tuple[str, str]]:
    return []


def _no_place(tenant: Tenant, conn: redis.Redis) -> dict:
    return {}


@dataclass(frozen=True)
class Setup:
    """What a tenant's set-up asks its host (handlers/setup.py): the defaults suit a host with nothing to set up."""

    missing: Callable[[Tenant], list[str]] = _nothing_missing  # host items not set yet: "connection", "states"
    proposals: Callable[[Tenant, redis.Redis], Tenant] = _as_is  # the tenant with what the host proposes (reads it)
    people: Callable[[Tenant, redis.Redis, str], list[tuple[str, str]]] = _nobody  # (id, name) matching a search
    place: Callable[[Tenant, redis.Redis], dict] = _no_place  # proposed {"timezone", "country"} (reads the host)


@dataclass(frozen=True)
class Web:
    """The host's HTTP side, as "module:attribute" names the web process imports (`load`)."""

    webhooks: tuple[str, ...] = ()  # blueprints or plain routes (webhooks/plain.py) receiving its webhooks
    connect: tuple[str, ...] = ()  # blueprints of the connect flow (install, OAuth, the iframe's entry)
    pages: str = "webhooks.admin.host_pages:PAGES"  # the admin pages' host part (status, test, mapping, links)
    iframe_origins: tuple[str, ...] = ()  # origins whose pages may frame the admin pages (CSP frame-ancestors)


@dataclass(frozen=True)
class Sandbox:
    """How `intermission sandbox <host>` starts the host's sandbox (a source checkout only, not the image)."""

    app: str  # "module:create_app", called with one config
    config: str  # "module:SandboxConfig", built from the CLI options below
    port: int
    options: tuple[str, ...] = ()  # `intermission sandbox` options handed to the config (Boond: "dialect")


@dataclass(frozen=True)
class Host:
    """One host, declared once."""

    name: str  # the tenant's `host`, the webhook path segment and the metrics label
    label: str  # shown to admins ("{host} refuses the credentials…")
    adapter: Callable[[Tenant, redis.Redis], Any]  # the reader and writer (handlers/hosts/protocol.py)
    settings: str | None = None  # the `Tenant` field holding the host's settings (None: the host needs none)
    settings_model: type[BaseModel] | None = None  # that field's model; its secrets are marked `tenants.secret()`
    budget: Budget = field(default_factory=Budget)
    batches_writes: bool = False  # True: changes mark the tenant dirty and one batch job reads and writes them
    owner_type: str = "resource"  # the host's type of person a default owner is (Boond resource, Salesforce User)
    survey_tool: Callable[[Tenant], bool] = _never  # True: the host sends the tenant's surveys (no e-mail from us)
    setup: Setup = field(default_factory=Setup)
    web: Web = field(default_factory=Web)
    sandbox: Sandbox | None = None
    matching: Callable[[Any], Any] | None = None  # opportunity matching's reads and writers from an adapter (issue #29)
    # host inactivity type → bench activity in use (the dashboard's effective use, issue #29); {}: none mapped
    inactivity_activities: Callable[[Tenant], dict[str, str]] = _no_inactivities
    api_docs: str = ""  # where the host's API is documented (docs/ cites the sources and their confidence)

    def settings_of(self, tenant: Tenant) -> BaseModel | None:
        """The tenant's settings for this host (None when it has none yet)."""
        return getattr(tenant, self.settings) if self.settings else None

    @property
    def secret_fields(self) -> tuple[str, ...]:
        """The settings fields that are secrets (masked by `tenant show`; the whole record is encrypted at rest)."""
        return tenants.secret_fields(self.settings_model) if self.settings_model else ()


HOSTS: dict[str, Host] = {}


def register(host: Host) -> Host:
    """List a host (the built-in ones below; a test host from tests/); its name becomes a valid tenant host."""
    if isinstance(host.adapter, type) and (lacking := missing(host.adapter, host.batches_writes)):
        raise TypeError(f"host {host.name!r}: its adapter lacks {', '.join(lacking)} (handlers/hosts/protocol.py)")
    HOSTS[host.name] = host
    tenants.HOST_NAMES.add(host.name)
    return host


def unregister(name: str) -> None:
    """Forget a host registered by a test."""
    HOSTS.pop(name, None)
    tenants.HOST_NAMES.discard(name)


def host_of(tenant: Tenant | str) -> Host:
    """The host of a tenant (or of a host name); a TenantError naming the known hosts when it is not listed."""
    name = tenant if isinstance(tenant, str) else tenant.host
    try:
        return HOSTS[name]
    except KeyError:
        raise tenants.TenantError(f"unknown host {name!r} (known: {', '.join(sorted(HOSTS))})") from None


def adapter_for(tenant: Tenant, conn: redis.Redis) -> Any:
    """The tenant's adapter with its credentials (typed `Any`: each host's adapter also has host-only helpers)."""
    return host_of(tenant).adapter(tenant, conn)


def load(ref: str) -> Any:
    """The object a "module:attribute" name points at (the layer that owns it imports it)."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _builtin() -> None:
    from handlers.hosts.boond import adapter as boond
    from handlers.hosts.boond.match import BoondMatching
    from handlers.hosts.salesforce import adapter as salesforce
    from handlers.hosts.boond import setup as boond_setup
    from handlers.hosts.salesforce import setup as salesforce_setup
    from handlers.hosts.salesforce.match import SalesforceMatching

    register(
        Host(
            name="boond",
            label="Boond",
            adapter=boond.BoondAdapter,
            settings="boond",
            settings_model=tenants.BoondConfig,
            owner_type="resource",
            setup=Setup(missing=boond_setup.missing, proposals=boond_setup.proposals, people=boond_setup.people, place=boond_setup.place),
            web=Web(
                webhooks=("webhooks.hosts.boond.webhook:route", "webhooks.hosts.boond.webhook:header_route"),
                connect=("webhooks.hosts.boond.marketplace:bp", "webhooks.hosts.boond.admin_pages:entry"),
                pages="webhooks.hosts.boond.admin_pages:PAGES",
                iframe_origins=("https://ui.boondmanager.com", "https://*.boondmanager.com"),
            ),
            sandbox=Sandbox(
                app="sandboxes.boond:create_app",
                config="sandboxes.boond:SandboxConfig",
                port=8100,
                options=("dialect",),
            ),
            matching=BoondMatching,
            inactivity_activities=boond_setup.inactivity_activities,
            api_docs="https://doc.boondmanager.com/api-externe/raml-build/api-externe.raml",
        )
    )
    register(
        Host(
            name="salesforce",
            label="Salesforce",
            adapter=salesforce.SalesforceAdapter,
            settings="salesforce",
            settings_model=tenants.SalesforceConfig,
            budget=Budget(left=salesforce.budget_left, pause_seconds=salesforce.budget_pause, read=salesforce.read_budget),
            batches_writes=True,
            owner_type="User",
            survey_tool=salesforce.has_survey_tool,
            setup=Setup(
                missing=salesforce_setup.missing,
                proposals=salesforce_setup.proposals,
                people=salesforce_setup.people,
                place=salesforce_setup.place,
            ),
            web=Web(
                webhooks=("webhooks.hosts.salesforce.webhook:bp",),
                connect=("webhooks.hosts.salesforce.connect:bp",),
                pages="webhooks.hosts.salesforce.admin_pages:PAGES",
                iframe_origins=("https://*.lightning.force.com", "https://*.my.salesforce.com", "https://*.visualforce.com"),
            ),
            sandbox=Sandbox(
                app="sandboxes.salesforce:create_app",
                config="sandboxes.salesforce:SandboxConfig",
                port=8200,
            ),
            matching=SalesforceMatching,
            api_docs="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
        )
    )


_builtin()
