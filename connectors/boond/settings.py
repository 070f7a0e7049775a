"""A Boond tenant's settings (the `Tenant.host_settings` of a Boond tenant) and where Boond's API lives."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from config.settings import HostSettings, host_settings
from config.tenants import BaseUrl, Tenant, secret

BOOND_API_URL = "https://ui.boondmanager.com/api"  # https://doc.boondmanager.com/api-externe/ (base of every path)


class BoondEnv(HostSettings):
    """The operator's Boond settings (`INTERMISSION_BOOND_…`): the marketplace app and the default rate."""

    boond_base_url: str = BOOND_API_URL
    boond_rate_per_second: float = 10.0
    boond_burst: int = 20
    boond_app_key: str | None = None  # our marketplace app's Key (Boond app page); None: /boond/* answer 503
    boond_installation_code: str | None = None  # when set, the first /boond/install call must carry this code
    boond_signed_request_max_age: int | None = 3600  # seconds after its (required) `issued_at`; used once within
    boond_app_token_ttl_margin: int = 120  # refresh a temporary app token this many seconds before it expires

    def operator_urls(self) -> list[tuple[str, str]]:
        return [(self.boond_base_url, "INTERMISSION_BOOND_BASE_URL")] if "boond_base_url" in self.model_fields_set else []


def boond_env() -> BoondEnv:
    """The operator's Boond settings of this process."""
    return host_settings(BoondEnv)


class BoondConfig(BaseModel):
    """How to reach one Boond instance and how to read its dictionary."""

    model_config = ConfigDict(extra="forbid")
    base_url: BaseUrl = BOOND_API_URL
    auth_mode: Literal["app", "client"] = "app"
    app_token: str | None = secret()
    app_key: str | None = secret()
    client_token: str | None = secret()
    client_key: str | None = secret()
    user_token: str | None = secret(description="the technical user whose rights background writes use; None until "
                                                "a marketplace install is configured")
    webhook_id: str | None = None  # the webhook Intermission registered through POST /api/webhooks
    # action typeOf per kind and entity; empty = detected from /application/dictionary
    action_types: dict[str, int] = Field(default_factory=dict)
    contact_action_types: dict[str, int] = Field(default_factory=dict)
    # the tenant's own states (reference §10: no built-in meaning for a state number). In use: what an admin
    # confirmed (mapping page) or set (CLI); a state not in them is natural, "state N (label) not mapped".
    delivery_states: dict[str, Literal["active", "natural", "client", "consultant", "cancelled"]] = Field(
        default_factory=dict)
    # "staffed": busy elsewhere, never on the bench; "leaving": left as of the date the resource carries
    # (handlers.hosts.boond.adapter.EXIT_DATE_FIELDS), else left now
    resource_states: dict[str, Literal["active", "bench", "staffed", "leaving", "left"]] = Field(default_factory=dict)
    # resource types (typeOf) that are external people: subcontractors, freelances; never on the bench
    external_resource_types: list[str] = Field(default_factory=list)
    # read from the dictionary on configure: {"delivery"|"resource": {state id: label}} and the proposal made from
    # those labels, shown on the mapping page until an admin confirms it (never used before)
    state_labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    proposed_states: dict[str, dict[str, str]] = Field(default_factory=dict)
    states_confirmed: bool = False
    # the tenant's inactivity types (timeline `typeOf`, else `inactivityType`) → the bench activity their days count
    # as on the bench dashboard (effective use); an admin's entry overrides the one proposed from the labels
    # (proposed_states["inactivity"]); "" counts none (e.g. an absence)
    inactivity_activities: dict[str, Literal["training", "internal_project", "mission_search", "mecenat", ""]] = Field(
        default_factory=dict)
    rate_per_second: float | None = None
    # action types that mean "done" in this tenant (Boond actions have no done flag): an action a person moved to
    # one of them is kept as it is; the first one closes an edited action its plan no longer wants
    done_action_types: list[int] = Field(default_factory=list)

def boond_settings(tenant: Tenant) -> BoondConfig | None:
    """A Boond tenant's settings (None: not set yet, or not a Boond tenant)."""
    return tenant.settings_as(BoondConfig)
