"""The one list of hosts: everything generic code asks of a host, declared once per host in a `Host`.

A host is one folder, `handlers/hosts/<host>/`, whose `host.py` declares `HOST = Host(...)` (found and registered at
the bottom: no list of names here), or a test host registered from tests/ with `register(Host(...))`. Generic code
asks `host_of(tenant)` or `adapter_for(tenant, conn)` and never compares `tenant.host` with a name
(tests/unit/test_host_registry.py checks it). What lives in a layer above `handlers` (the webhook and connect
blueprints, the admin pages' host part, the sandbox) is named as "module:attribute" and imported by that layer
(`load`), so `handlers` never imports `webhooks` nor the sandboxes. See docs/ARCHITECTURE.md, "Adding a host".

A registry line imports nothing heavy: listing the hosts (the CLI's `--help`, `tenant list`) must not load their
clients. So this module imports the standard library only, and a host's line names its heavy parts (its adapter, its
settings model, its set-up, budget and metrics functions) as "module:attribute" strings, imported on first use (`Ref`);
a test host may still hand the objects themselves (tests/unit/test_host_registry.py checks both).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Any

from config import host_models

if TYPE_CHECKING:
    import redis
    from pydantic import BaseModel

    from config.tenants import Tenant


class Ref:
    """A field whose value may be given as "module:attribute": imported on its first read, then kept (a registry
    line imports nothing heavy). Any other value is the value itself."""

    def __init__(self, default: Any = None, *, required: bool = False):
        self.default, self.required = default, required

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            if self.required:
                raise AttributeError(self.name)  # the dataclass field has no default
            return self.default
        value = obj.__dict__[self.name]
        if isinstance(value, str):
            value = load(value)
            obj.__dict__[self.name] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = value


def named(obj: Any, name: str) -> Any:
    """A `Ref` field as the line gave it: the "module:attribute" string when not imported yet (nothing is imported)."""
    return obj.__dict__[name]


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

    left: Callable[[Tenant, redis.Redis], bool] = Ref(_always)  # False: hold the tenant's work before any call

    def recheck(self, tenant: Tenant, conn: redis.Redis) -> bool:
        """`left`, after reading the budget from the host when the stored reading says spent."""
        if self.left(tenant, conn):
            return True
        self.read(tenant, conn)
        return self.left(tenant, conn)

    pause_seconds: Callable[[], float] = Ref(_an_hour)  # how long work held for a spent budget waits before it resumes
    read: Callable[[Tenant, redis.Redis], object] = Ref(_nothing)  # read the budget from the host now (before holding again)


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

    missing: Callable[[Tenant], list[str]] = Ref(_nothing_missing)  # host items not set yet: "connection", "states"
    proposals: Callable[[Tenant, redis.Redis], Tenant] = Ref(_as_is)  # the tenant with what the host proposes (reads it)
    people: Callable[[Tenant, redis.Redis, str], list[tuple[str, str]]] = Ref(_nobody)  # (id, name) matching a search
    place: Callable[[Tenant, redis.Redis], dict] = Ref(_no_place)  # proposed {"timezone", "country"} (reads the host)

    @classmethod
    def of(cls, module: Any) -> "Setup":
        """A host's set-up module's `missing`, `proposals`, `people` and `place` (a module, or its dotted name: then
        imported on first use)."""
        if isinstance(module, str):
            return cls(**{name: f"{module}:{name}" for name in ("missing", "proposals", "people", "place")})
        return cls(missing=module.missing, proposals=module.proposals, people=module.people, place=module.place)


@dataclass(frozen=True)
class Web:
    """The host's HTTP side, as "module:attribute" names the web process imports (`load`)."""

    webhooks: tuple[str, ...] = ()  # blueprints or plain routes (webhooks/plain.py) receiving its webhooks
    connect: tuple[str, ...] = ()  # blueprints of the connect flow (install, OAuth, the iframe's entry)
    pages: str = "webhooks.admin.host_pages:PAGES"  # the admin pages' host part (status, test, mapping, links)
    iframe_origins: tuple[str, ...] = ()  # origins whose pages may frame the admin pages (CSP frame-ancestors)
    words: str | None = None  # "module:WORDS", its admin words {key: (French, English)} (webhooks/admin/i18n.py adds them)
    people_paths: tuple[str, ...] = ()  # URL prefixes of its pages a person opens (errors as a page, not JSON)


@dataclass(frozen=True)
class Sandbox:
    """How `intermission sandbox <host>` starts the host's sandbox (a source checkout only, not the image)."""

    app: str  # "module:create_app", called with one config
    config: str  # "module:SandboxConfig", built from the CLI options below
    port: int
    options: tuple[str, ...] = ()  # `intermission sandbox` options handed to the config (Boond: "dialect")
    flags: Callable[[Any], None] | None = None  # adds those options to the `intermission sandbox` argparse parser


@dataclass(frozen=True)
class Stream:
    """Changes a host also streams, read by `intermission subscribe` (one process per deployment), as "module:attribute"
    names the CLI imports (the stream's client is only loaded by the process that reads it)."""

    subscriber: str  # a class built with no argument: `.run()` until its `.stop` (a threading.Event) is set
    check: str  # a function of a tenant: {"enabled", "message_en", "message_fr"}, whether its org streams (and how to)


def _no_gauges(conn: redis.Redis) -> list:
    return []


def _nothing_to_install() -> None:
    return None


@dataclass(frozen=True)
class Metrics:
    """A host's own metrics (handlers/ops/metrics.py adds them to the generic ones; its series name the host)."""

    counters: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # name → (help, label names)
    gauges: Callable[[redis.Redis], list] = Ref(_no_gauges)  # Prometheus families read at scrape time
    install: Callable[[], None] = Ref(_nothing_to_install)  # wires its counters into its connector (once per process)


def _no_links(tenant: Tenant, base_url: str) -> dict:
    return {}


def _no_fields(tenant: Tenant, created: bool) -> dict:
    return {}


def _no_steps(tenant: Tenant, links: dict, created: bool) -> None:
    return None


def _no_questions(tenant: Tenant, ask: Callable[[str, str], str]) -> Tenant:
    return tenant


@dataclass(frozen=True)
class Cli:
    """The host's part of `intermission tenant` (intermission_cli/tenant.py asks it; it names no host)."""

    help: str  # `tenant add <host>`'s line in the help ("a Salesforce org")
    flags: Callable[[Any], None]  # adds the host's flags to the `tenant add <host>` argparse parser
    settings: Callable[[Any], BaseModel]  # the host's settings from the parsed flags (ValueError naming a missing flag)
    links: Callable[[Tenant, str], dict] = _no_links  # links `tenant show` adds to the webhook URL ("connect_url")
    fields: Callable[[Tenant, bool], dict] = _no_fields  # what `tenant show --json` adds (created: a secret shown once)
    steps: Callable[[Tenant, dict, bool], None] = _no_steps  # prints what an admin does next in the host
    questions: Callable[[Tenant, Callable[[str, str], str]], Tenant] = _no_questions  # `tenant setup`'s host questions
    disconnect: Callable[[Tenant], None] | None = None  # `tenant disconnect`: revoke and forget its tokens


@dataclass(frozen=True)
class Host:
    """One host, declared once."""

    name: str  # the tenant's `host`, the webhook path segment and the metrics label
    label: str  # shown to admins ("{host} refuses the credentials…")
    adapter: Callable[[Tenant, redis.Redis], Any] = Ref(required=True)  # the reader and writer (handlers/hosts/protocol.py)
    # the model of the tenant's `host_settings` (None: the host needs none); its secrets are marked `tenants.secret()`
    settings_model: type[BaseModel] | None = Ref()
    budget: Budget = Ref(Budget())
    batches_writes: bool = False  # True: changes mark the tenant dirty and one batch job reads and writes them
    owner_type: str = "resource"  # the host's type of person a default owner is (Boond resource, Salesforce User)
    survey_tool: Callable[[Tenant], bool] = Ref(_never)  # True: the host sends the tenant's surveys (no e-mail from us)
    setup: Setup = field(default_factory=Setup)
    web: Web = field(default_factory=Web)
    sandbox: Sandbox | None = None
    matching: Callable[[Any], Any] | None = Ref()  # opportunity matching's reads and writers from an adapter (issue #29)
    # host inactivity type → bench activity in use (the dashboard's effective use, issue #29); {}: none mapped
    inactivity_activities: Callable[[Tenant], dict[str, str]] = Ref(_no_inactivities)
    api_docs: str = ""  # where the host's API is documented (docs/ cites the sources and their confidence)
    metrics: Metrics = Ref(Metrics())
    stream: Stream | None = None  # a change stream (`intermission subscribe`), besides its webhooks
    cli: str | None = None  # "module:attribute" of its `Cli` (`intermission tenant add <host>`…), loaded by the CLI

    def settings_of(self, tenant: Tenant) -> BaseModel | None:
        """The tenant's settings for this host (None when it has none yet)."""
        return tenant.settings_as(self.settings_model) if self.settings_model else None

    @property
    def secret_fields(self) -> tuple[str, ...]:
        """The settings fields that are secrets (masked by `tenant show`; the whole record is encrypted at rest)."""
        from config.tenants import secret_fields

        return secret_fields(self.settings_model) if self.settings_model else ()


HOSTS: dict[str, Host] = {}


def register(host: Host) -> Host:
    """List a host (each host folder's line, found below; a test host from tests/): its name becomes a valid tenant
    host, whose `host_settings` its settings model reads. An adapter class handed as is is checked against the
    protocol now; one named "module:attribute" is not imported here (tests/unit/test_host_registry.py checks it)."""
    given = named(host, "adapter")
    if isinstance(given, type) and (lacking := adapter_lacks(given, host.batches_writes)):
        raise TypeError(f"host {host.name!r}: its adapter lacks {', '.join(lacking)} (handlers/hosts/protocol.py)")
    HOSTS[host.name] = host
    host_models.register(host.name, named(host, "settings_model"))
    return host


def adapter_lacks(adapter: type, batches_writes: bool) -> list[str]:
    """The protocol's methods an adapter class lacks (handlers/hosts/protocol.py)."""
    from handlers.hosts.protocol import missing

    return missing(adapter, batches_writes)


def unregister(name: str) -> None:
    """Forget a host registered by a test."""
    HOSTS.pop(name, None)
    host_models.unregister(name)


def host_of(tenant: Tenant | str) -> Host:
    """The host of a tenant (or of a host name); a TenantError naming the known hosts when it is not listed."""
    name = tenant if isinstance(tenant, str) else tenant.host
    try:
        return HOSTS[name]
    except KeyError:
        from config.tenants import TenantError

        raise TenantError(f"unknown host {name!r} (known: {', '.join(sorted(HOSTS))})") from None


def adapter_for(tenant: Tenant, conn: redis.Redis) -> Any:
    """The tenant's adapter with its credentials (typed `Any`: each host's adapter also has host-only helpers)."""
    return host_of(tenant).adapter(tenant, conn)


def warm() -> None:
    """Import every listed host's parts a job uses (its adapter, settings, budget, matching…) now: a worker does it
    at start, so that each --fork work horse inherits them instead of importing them for its one job."""
    for host in HOSTS.values():
        _warm(host)


def _warm(obj: Any) -> None:
    for f in fields(obj):
        if isinstance(vars(type(obj)).get(f.name), Ref):
            value = getattr(obj, f.name)  # imported now, and kept
            if is_dataclass(value) and not isinstance(value, type):
                _warm(value)


def load(ref: str) -> Any:
    """The object a "module:attribute" name points at (the layer that owns it imports it)."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _builtin() -> None:
    """Register each host folder's declaration: every package under handlers/hosts/ is one host, whose `host.py`
    declares `HOST`."""
    from handlers import hosts

    for found in sorted(pkgutil.iter_modules(hosts.__path__), key=lambda m: m.name):
        if found.ispkg:
            register(importlib.import_module(f"{hosts.__name__}.{found.name}.host").HOST)


_builtin()
