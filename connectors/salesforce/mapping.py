"""Per-tenant mapping of the Salesforce mission object and its fields, with presets."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79})?$")
OBJECT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
Case = Literal["client", "consultant", "cancelled"]


class SalesforceMapping(BaseModel):
    """Where the mission's facts live in the org (a field may be one relationship hop: `X__r.Field`)."""

    model_config = ConfigDict(extra="forbid")
    object: str = "Mission__c"
    name: str | None = "Name"
    start_date: str = "Start_Date__c"
    end_date: str = "End_Date__c"
    consultant_contact: str = "Consultant__c"
    consultant_user: str | None = "Consultant_User__c"
    manager_user: str = "Manager__c"
    business_engineer_user: str | None = "Business_Engineer__c"
    hr_user: str | None = "HR_Manager__c"
    account: str | None = "Account__c"
    project: str | None = None  # the mission's project lookup (the mission chain); None: missions chain by account
    client_contact: str | None = "Client_Contact__c"
    status: str | None = "Status__c"
    end_reason: str | None = "End_Reason__c"
    # the consultant's own record (one hop from the mission, e.g. Consultant__r.Manager__c); None: not read
    consultant_manager_user: str | None = None  # the consultant's own manager (a User lookup)
    consultant_left: str | None = None  # a checkbox, or a text/picklist whose value is one of left_values
    left_values: list[str] = Field(default_factory=lambda: ["Left", "Sortie", "Inactive"])
    contract_end: str | None = None  # the consultant's HR contract end date
    consultant_external: str | None = None  # a checkbox, or a text/picklist whose value is one of external_values
    external_values: list[str] = Field(default_factory=lambda: ["Subcontractor", "Freelance", "Sous-traitant",
                                                                "Indépendant"])
    occupation: str | None = None  # the mission's share of the consultant's time, in percent (a number field)
    status_values: dict[str, Case] = Field(default_factory=lambda: {"Cancelled": "cancelled"})
    reason_values: dict[str, Case] = Field(default_factory=lambda: {"Client": "client", "Consultant": "consultant"})
    daily_cost: str | None = None  # optional: a currency field holding the consultant's daily cost (bench dashboard)
    # opportunity matching (issue #29): an open Opportunity's skills, start and place, a consultant's (Contact's)
    # skills and places; texts split on , ; / or new lines (a multi-select picklist's "a;b" too). None: not read
    opportunity_skills: str | None = None  # e.g. Required_Skills__c
    opportunity_start: str | None = None  # a date field, e.g. Start_Date__c (none: "immediate")
    opportunity_place: str | None = None
    consultant_skills: str | None = None  # on the Contact, e.g. Skills__c
    consultant_places: str | None = None  # on the Contact

    @field_validator("object")
    @classmethod
    def _object_name(cls, value: str) -> str:
        if not OBJECT.match(value):
            raise ValueError(f"{value!r} is not a Salesforce object API name (e.g. Mission__c)")
        return value

    @field_validator("name", "start_date", "end_date", "consultant_contact", "consultant_user", "manager_user",
                     "business_engineer_user", "hr_user", "account", "project", "client_contact", "status",
                     "end_reason", "daily_cost", "opportunity_skills", "opportunity_start", "opportunity_place",
                     "consultant_skills", "consultant_places",
                     "consultant_manager_user", "consultant_left", "contract_end", "occupation", "consultant_external")
    @classmethod
    def _field_name(cls, value: str | None) -> str | None:
        if value is not None and not FIELD.match(value):
            raise ValueError(f"{value!r} is not a field API name (Field__c, or one hop like Project__r.OwnerId)")
        return value

    def fields(self) -> list[str]:
        """Every field the connector selects, names included."""
        base = [self.name, self.start_date, self.end_date, self.consultant_contact, self.consultant_user, self.manager_user,
                self.business_engineer_user, self.hr_user, self.account, self.project, self.client_contact, self.status,
                self.end_reason, self.daily_cost,
self.end_reason, self.consultant_manager_user, self.consultant_left, self.contract_end,
                self.occupation, self.consultant_external]
        people = (self.consultant_contact, self.consultant_user, self.manager_user, self.business_engineer_user,
                  self.hr_user, self.consultant_manager_user, self.account, self.client_contact)
        # every person's name, read through relationship paths too: each step's owner is named (issues #27, #28)
        names = [name_path(f) for f in people]
        return ["Id"] + sorted({f for f in base + names if f})


def name_path(field: str | None) -> str | None:
    """The path to the Name of the record a lookup points to, through any relationship hops before it.

    `Consultant__c` → `Consultant__r.Name`, `OwnerId` → `Owner.Name`, `pse__Project__r.pse__Account__c` →
    `pse__Project__r.pse__Account__r.Name`, `pse__Project__r.OwnerId` → `pse__Project__r.Owner.Name` (SOQL follows
    up to five levels of parent relationships). None for a field that is not a lookup.
    """
    if not field:
        return None
    hops, _, last = field.rpartition(".")
    if last.endswith("__c"):
        relationship = last[:-3] + "__r"
    elif last.endswith("Id") and len(last) > 2:
        relationship = last[:-2]
    else:
        return None
    return f"{hops}.{relationship}.Name" if hops else f"{relationship}.Name"


PRESETS: dict[str, SalesforceMapping] = {
    "custom": SalesforceMapping(),
    "certinia": SalesforceMapping(
        object="pse__Assignment__c", start_date="pse__Start_Date__c", end_date="pse__End_Date__c",
        consultant_contact="pse__Resource__c", consultant_user="pse__Resource__r.pse__Salesforce_User__c",
        manager_user="pse__Project__r.OwnerId", business_engineer_user=None, hr_user=None,
        account="pse__Project__r.pse__Account__c", project="pse__Project__c", client_contact=None,
        status="pse__Status__c",
        end_reason="pse__Closed_Reason__c", status_values={"Cancelled": "cancelled"},
        reason_values={"Client": "client", "Consultant": "consultant"}),
}
# Certinia orgs where an assignment's dates live on its schedule (pse__Schedule__c, edited there; the assignment's own
# date fields may be formulas over it): the same preset, dates read through the assignment's schedule lookup
PRESETS["certinia_schedule"] = PRESETS["certinia"].model_copy(update={
    "start_date": "pse__Schedule__r.pse__Start_Date__c", "end_date": "pse__Schedule__r.pse__End_Date__c"})


def preset(name: str) -> SalesforceMapping:
    """A copy of a named preset, or a ValueError listing the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown mapping preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    return PRESETS[name].model_copy(deep=True)
