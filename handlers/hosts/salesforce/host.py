"""Salesforce's registry line: everything generic code asks of Salesforce (handlers/hosts/registry.py finds it here).

It imports nothing heavy: its parts are named "module:attribute", imported on first use (registry.Ref).
"""

from __future__ import annotations

from handlers.hosts.registry import Budget, Host, Sandbox, Setup, Stream, Web

ADAPTER = "handlers.hosts.salesforce.adapter"

HOST = Host(
    name="salesforce",
    label="Salesforce",
    adapter=f"{ADAPTER}:SalesforceAdapter",
    settings_model="connectors.salesforce.settings:SalesforceConfig",
    budget=Budget(left=f"{ADAPTER}:budget_left", pause_seconds=f"{ADAPTER}:budget_pause", read=f"{ADAPTER}:read_budget"),
    batches_writes=True,
    owner_type="User",
    survey_tool=f"{ADAPTER}:has_survey_tool",
    setup=Setup.of("handlers.hosts.salesforce.setup"),
    web=Web(
        webhooks=("webhooks.hosts.salesforce.webhook:bp",),
        connect=("webhooks.hosts.salesforce.connect:bp",),
        pages="webhooks.hosts.salesforce.admin_pages:PAGES",
        iframe_origins=("https://*.lightning.force.com", "https://*.my.salesforce.com", "https://*.visualforce.com"),
        words="webhooks.hosts.salesforce.words:WORDS",
        people_paths=("/salesforce/connect", "/salesforce/callback"),
    ),
    sandbox=Sandbox(app="sandboxes.salesforce:create_app", config="sandboxes.salesforce:SandboxConfig", port=8200),
    matching="handlers.hosts.salesforce.match:SalesforceMatching",
    api_docs="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
    cli="webhooks.hosts.salesforce.cli:CLI",
    metrics="handlers.hosts.salesforce.metrics:METRICS",
    stream=Stream(subscriber="webhooks.hosts.salesforce.cdc:Subscriber", check="webhooks.hosts.salesforce.cdc:check_topic"),
)
