"""The event model: a mission snapshot as the worker read it, and the actions a plan asks for."""
from __future__ import annotations

import hashlib
from datetime import date
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

NEXT_UNKNOWN = "next mission unknown"  # how a `degraded` line starts when the consultant's other missions were unreadable
Status = Literal["active", "client", "consultant", "cancelled", "deleted"]
CaseName = Literal["natural", "client", "consultant", "extension", "cancellation", "restaffed", "continued",
                   "staffed_elsewhere"]


class Person(BaseModel):
    """Someone a step is assigned to or attached to, by host id."""

    model_config = ConfigDict(frozen=True)
    id: str
    type: str = "resource"  # host entity type: resource, contact, User, Contact…
    name: str = ""


class OtherMission(BaseModel):
    """Another mission of the same consultant, as the timeline shows it (the bench and part-time rules read it)."""

    model_config = ConfigDict(frozen=True)
    id: str
    title: str = ""
    start: date | None = None
    end: date | None = None
    occupation: int | None = None  # percent of the consultant's time (Boond occupationRate); None: unknown
    project: str | None = None  # its project's host id, when the host says (the mission chain)
    client: str | None = None  # its client's host id (company, account), when known (the mission chain)
    consultant: Person | None = None  # who runs it, when it is another consultant's (the project's crew)


class Inactivity(BaseModel):
    """A host inactivity of the consultant after the mission's end (Boond internal or training time): the bench
    dashboard's effective use counts its days under the activity the tenant maps its type to."""

    model_config = ConfigDict(frozen=True)
    type: str  # the host's inactivity type (Boond: its `typeOf` when the item has one, else `inactivityType`)
    start: date
    end: date | None = None


class MissionSnapshot(BaseModel):
    """What Intermission knows of one mission after re-reading it from the host."""

    tenant: str
    host: str
    mission_id: str
    title: str = ""
    start_date: date | None = None
    end_date: date | None = None
    status: Status = "active"
    raw_state: str | None = None
    consultant: Person | None = None
    consultant_user: Person | None = None  # when the consultant record is not itself a user (Salesforce Contact)
    manager: Person | None = None
    business_engineer: Person | None = None
    hr: Person | None = None
    client_contact: Person | None = None
    client_name: str = ""
    project_id: str | None = None  # the project's host id (Boond project, Certinia project), when the host has one
    client_id: str | None = None  # the client's host id (Boond company, Salesforce account), when known
    next_start: date | None = None  # the consultant's next mission, if one starts after this one ends
    others: list[OtherMission] = []  # the consultant's other active missions still running after this one's end
    crew: list[OtherMission] = []  # other consultants' missions on the same project, when read (who replaces whom)
    occupation: int | None = None  # this mission's share of the consultant's time (percent), when the host says
    consultant_manager: Person | None = None  # the consultant's own manager (Boond resource mainManager, SF field)
    consultant_left: bool = False  # the consultant left the firm (resource state mapped to "left")
    contract_end: date | None = None  # the consultant's HR contract end, when the host has one
    consultant_external: bool = False  # a subcontractor or freelance (Boond resource type, mapped Salesforce field)
    consultant_staffed: bool = False  # the host says the consultant is on a mission (resource state mapped "staffed")
    notice_date: date | None = None  # first day an early end was seen (kept across re-reads)
    daily_cost: float | None = None  # the consultant's daily cost on this mission (Boond averageDailyCost), if known
    first_seen: date | None = None  # the day Intermission first read this mission (kept; None: before this field)
    end_seen: date | None = None  # the day the current end date was first read (kept until the end moves)
    previous_end: date | None = None  # the end date before the last move (kept until the end moves again)
    state_note: str | None = None  # why the host state decided nothing, e.g. "state 2 (Completed) not mapped"
    inactivities: list[Inactivity] = []  # the consultant's host inactivities ending after this mission's end
    degraded: list[str] = []  # what the read could not learn, e.g. "next mission unknown: … answered 404"

    def people(self) -> dict[str, Person | None]:
        """Assignee role → person."""
        return {"manager": self.manager, "consultant": self.consultant_user or self.consultant,
                "business_engineer": self.business_engineer, "hr": self.hr,
                "client_contact": self.client_contact}


class Classification(BaseModel):
    """Which case a change is, which step list applies, and how sure we are."""

    case: CaseName
    end_case: Literal["natural", "client", "consultant"] | None
    reason: str
    unsure: bool = False
    bench: bool = False
    stale: bool = False  # first seen long after its end: no end-of-mission steps
    leaver: bool = False  # the consultant leaves the firm: never on the bench
    bench_until: date | None = None  # the next mission starts later than the day after the end: bench until then
    busy: list[str] = []  # the other missions that keep the consultant staffed ("title (60 %)")
    next_known: bool = False  # a next mission starts right after the end: no step looks for one
    replaced_by: list[OtherMission] = []  # an early end another consultant's mission takes over (white paper case 3)


class Content(NamedTuple):
    """What makes two versions of an action different in the host (its digest is the ledger's `content`)."""

    title: str
    text: str
    assignee_id: str | None
    target_id: str
    target_type: str
    kind: str


class DesiredAction(BaseModel):
    """One action a plan wants in the host, keyed by (tenant, mission, key)."""

    model_config = ConfigDict(frozen=True)
    key: str
    step_id: str
    kind: str
    assignee_role: str
    assignee: Person | None
    target: Person  # the host record the action hangs on (consultant resource, client contact…)
    nominal_due: date
    due: date
    late: bool = False
    priority: str = "normal"
    title: str
    text: str
    case: str = "natural"

    def content(self) -> Content:
        """What makes two versions of the action different in the host."""
        return Content(self.title, self.text, self.assignee.id if self.assignee else None, self.target.id,
                       self.target.type, self.kind)

    def digest(self) -> str:
        """A short fingerprint of `content()` (what the ledger keeps: the repr of its plain tuple, as stored)."""
        return hashlib.blake2b(repr(tuple(self.content())).encode(), digest_size=8).hexdigest()
