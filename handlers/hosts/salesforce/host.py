"""Salesforce's registry line: everything generic code asks of Salesforce (handlers/hosts/registry.py finds it here)."""

from __future__ import annotations

from connectors.salesforce.settings import SalesforceConfig
from handlers.hosts.registry import Budget, Host, Sandbox, Setup, Stream, Web
from handlers.hosts.salesforce import adapter, setup
from handlers.hosts.salesforce.match import SalesforceMatching
from handlers.hosts.salesforce.metrics import METRICS

HOST = Host(
    name="salesforce",
    label="Salesforce",
    adapter=adapter.SalesforceAdapter,
    settings_model=SalesforceConfig,
    budget=Budget(left=adapter.budget_left, pause_seconds=adapter.budget_pause, read=adapter.read_budget),
    batches_writes=True,
    owner_type="User",
    survey_tool=adapter.has_survey_tool,
    setup=Setup.of(setup),
    web=Web(
        webhooks=("webhooks.hosts.salesforce.webhook:bp",),
        connect=("webhooks.hosts.salesforce.connect:bp",),
        pages="webhooks.hosts.salesforce.admin_pages:PAGES",
        iframe_origins=("https://*.lightning.force.com", "https://*.my.salesforce.com", "https://*.visualforce.com"),
        words="webhooks.hosts.salesforce.words:WORDS",
        people_paths=("/salesforce/connect", "/salesforce/callback"),
    ),
    sandbox=Sandbox(app="sandboxes.salesforce:create_app", config="sandboxes.salesforce:SandboxConfig", port=8200),
    matching=SalesforceMatching,
    api_docs="https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/",
    cli="webhooks.hosts.salesforce.cli:CLI",
    metrics=METRICS,
    stream=Stream(subscriber="webhooks.hosts.salesforce.cdc:Subscriber", check="webhooks.hosts.salesforce.cdc:check_topic"),
)
