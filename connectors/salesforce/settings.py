"""A Salesforce tenant's settings (the `Tenant.host_settings` of a Salesforce tenant) and the API version we speak."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from config.settings import HostSettings, host_settings
from config.tenants import BaseUrl, Tenant, secret
from connectors.salesforce.mapping import SalesforceMapping

SALESFORCE_API_VERSION = "v67.0"  # /services/data/<version>/ (Spring '26); a tenant may pin another it has tested


class SalesforceEnv(HostSettings):
    """The operator's Salesforce settings (`INTERMISSION_SF_…`)."""

    sf_pubsub_endpoint: str = "api.pubsub.salesforce.com:7443"  # Salesforce's Pub/Sub API (change data capture), TLS

    def operator_urls(self) -> list[tuple[str, str]]:
        if "sf_pubsub_endpoint" not in self.model_fields_set:
            return []
        return [(f"https://{self.sf_pubsub_endpoint}", "INTERMISSION_SF_PUBSUB_ENDPOINT")]


def salesforce_env() -> SalesforceEnv:
    """The operator's Salesforce settings of this process."""
    return host_settings(SalesforceEnv)


class SalesforceConfig(BaseModel):
    """How to reach one Salesforce org: the connected app, the org, the mapping; tokens live apart."""

    model_config = ConfigDict(extra="forbid")
    login_url: BaseUrl = "https://login.salesforce.com"
    client_id: str
    client_secret: str = secret(...)
    org_id: str | None = None  # 18-char; learnt from the token's identity URL at connect time if unset
    instance_url: str | None = None
    api_version: str = SALESFORCE_API_VERSION
    external_id_field: str | None = None  # e.g. Intermission_Key__c on Task, when the org has one
    has_surveys: bool = False
    survey_id: str | None = None
    flow_secret: str | None = secret()  # whsec_… to verify Standard Webhooks signatures on Flow callouts
    budget_fraction: float = Field(default=0.9, gt=0, le=1)  # stop writing past this share of the daily limit
    mapping: SalesforceMapping = Field(default_factory=SalesforceMapping)
    # how the org tells us of a change: an Outbound Message, a Flow HTTP callout (both POST to the webhook URL), or
    # Change Data Capture read by `intermission subscribe` through the Pub/Sub API (nothing to build in the org)
    trigger: Literal["outbound_message", "flow", "cdc"] = "outbound_message"

def salesforce_settings(tenant: Tenant) -> SalesforceConfig | None:
    """A Salesforce tenant's settings (None: not a Salesforce tenant)."""
    return tenant.settings_as(SalesforceConfig)
