"""Boond's registry line: everything generic code asks of Boond (handlers/hosts/registry.py finds it here)."""

from __future__ import annotations

from connectors.boond.settings import BoondConfig
from handlers.hosts.boond import setup
from handlers.hosts.boond.adapter import BoondAdapter
from handlers.hosts.boond.match import BoondMatching
from handlers.hosts.registry import Host, Sandbox, Setup, Web


def _sandbox_flags(p) -> None:
    p.add_argument(
        "--dialect",
        choices=["documented", "observed"],
        default="documented",
        help="Boond: the RAML's shapes, or the variants a real instance answered (docs/SANDBOXES.md)",
    )


HOST = Host(
    name="boond",
    label="Boond",
    adapter=BoondAdapter,
    settings_model=BoondConfig,
    owner_type="resource",
    setup=Setup.of(setup),
    web=Web(
        webhooks=("webhooks.hosts.boond.webhook:route", "webhooks.hosts.boond.webhook:header_route"),
        connect=("webhooks.hosts.boond.marketplace:bp", "webhooks.hosts.boond.admin_pages:entry"),
        pages="webhooks.hosts.boond.admin_pages:PAGES",
        iframe_origins=("https://ui.boondmanager.com", "https://*.boondmanager.com"),
        words="webhooks.hosts.boond.words:WORDS",
        people_paths=("/boond/configure",),
    ),
    sandbox=Sandbox(
        app="sandboxes.boond:create_app", config="sandboxes.boond:SandboxConfig", port=8100, options=("dialect",), flags=_sandbox_flags
    ),
    matching=BoondMatching,
    inactivity_activities=setup.inactivity_activities,
    api_docs="https://doc.boondmanager.com/api-externe/raml-build/api-externe.raml",
    cli="webhooks.hosts.boond.cli:CLI",
)
