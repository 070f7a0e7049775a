"""A third host that lives only in tests: missions and tasks kept in memory, declared with one registry line.

It proves that the generic code (the webhook admission, the job, the batch, the pipeline, the reconciler, the holds,
the preview, the sweep, the admin pages) speaks to a host only through `handlers.hosts.registry`: nothing outside
this file knows the names "memo" and "memo-batch". `MEMO` writes record by record; `MEMO_BATCH` is the same host
declared with `batches_writes=True`, so its changes go through `handlers.sync.batch`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Blueprint, jsonify, request

from config.infra.redis_conn import get_redis
from connectors.errors import HostBudgetExhausted, HostConsentRequired
from handlers.hosts.protocol import Contact, MissionRead, MissionsRead
from handlers.hosts.registry import Budget, Host, Web
from handlers.intake.ingest import enqueue_sync
from handlers.domain.model import DesiredAction, MissionSnapshot, OtherMission, Person
from handlers.hosts.marks import MARKER, marker
from handlers.hosts.protocol import HostState
from handlers.sync.reconcile import CallByCall
from handlers.domain.timeline import placed
from webhooks.admin.host_pages import HostPages
from webhooks.common import authenticate, ignored, not_found

NAME = "memo"
ORIGIN = "https://memo.example"  # the memo host's pages frame our admin pages


@dataclass
class MemoOrg:
    """One tenant's records in the memo host: missions, tasks, a change log for the sweep, and its API's moods."""

    missions: dict[str, dict] = field(default_factory=dict)
    tasks: dict[str, dict] = field(default_factory=dict)
    changed: dict[str, datetime] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    emails: dict[str, str] = field(default_factory=dict)  # person id → address
    budget_spent: bool = False  # the budget check says no (before any call)
    limit_hit: bool = False  # the host answers that the budget is spent (HostBudgetExhausted)
    consent: bool = True  # False: the host answers that an admin must connect again
    batches: int = 0  # write_all calls (MEMO_BATCH)

    def put_mission(self, mission_id: str, **fields) -> None:
        """Create or change a mission, as a user of the host would."""
        self.missions[mission_id] = {**self.missions.get(mission_id, {}), **fields}
        self.changed[mission_id] = datetime.now().astimezone()

    def open_tasks(self, mission_id: str) -> list[dict]:
        """The tasks of a mission that are not deleted, sorted by key."""
        return sorted((t for t in self.tasks.values() if t["mission"] == mission_id), key=lambda t: t["key"])


ORGS: dict[str, MemoOrg] = {}


def org_of(tenant) -> MemoOrg:
    """The tenant's memo org (made empty on first use)."""
    return ORGS.setdefault(tenant.id, MemoOrg())


class MemoAdapter:
    """Reads and per-record writes against the tenant's MemoOrg (the reconciler wraps them with CallByCall)."""

    def __init__(self, tenant, conn):
        self.tenant, self.org = tenant, org_of(tenant)

    def read_mission(self, mission_id: str) -> MissionRead:
        """The mission as stored (None: deleted) and the consultant's other missions."""
        self._answer()
        row = self.org.missions.get(mission_id)
        if row is None:
            return MissionRead(None, [])
        snap = MissionSnapshot(
            tenant=self.tenant.id,
            host=self.tenant.host,
            mission_id=mission_id,
            title=row.get("title", ""),
            start_date=row.get("start"),
            end_date=row.get("end"),
            consultant=Person(id=row["consultant"], name=row.get("consultant_name", "")),
            manager=Person(id=row["manager"]) if row.get("manager") else None,
            client_name=row.get("client", ""),
        )
        timeline = self._timeline(row["consultant"], mission_id)
        return MissionRead(self.placed(snap, timeline), timeline)

    def _timeline(self, consultant: str, mission_id: str) -> list[OtherMission]:
        return [
            OtherMission(id=other_id, start=other.get("start"), end=other.get("end"))
            for other_id, other in self.org.missions.items()
            if other.get("consultant") == consultant and other_id != mission_id
        ]

    def _answer(self) -> None:
        """What the host answers before anything: connect again, or the budget is spent."""
        if not self.org.consent:
            raise HostConsentRequired("the memo admin revoked the app", host=NAME, status=401)
        if self.org.limit_hit:
            raise HostBudgetExhausted("daily budget spent", host=NAME, status=403, retry_after=600)

    def placed(self, snap: MissionSnapshot, timeline: list[OtherMission]) -> MissionSnapshot:
        """The snapshot with the consultant's other missions after its end."""
        return placed(snap, timeline)

    def changed_since(self, since: datetime) -> list[str]:
        """Missions changed since `since`."""
        return sorted(m for m, at in self.org.changed.items() if at >= since)

    def missions_ending(self, start_day: date, end_day: date) -> list[str]:
        """Missions ending between two days."""
        return sorted(m for m, row in self.org.missions.items() if row.get("end") and start_day <= row["end"] <= end_day)

    def contact(self, person_type: str, person_id: str, name: str = "") -> Contact:
        """A person's address, in English."""
        return Contact(self.org.emails.get(person_id, ""), "en")

    def create(self, mission_id: str, action: DesiredAction) -> str:
        """A new task carrying our marker."""
        host_id = f"memo-{next(self.org.ids)}"
        self.org.tasks[host_id] = self._task(mission_id, action)
        return host_id

    def update(self, host_id: str, mission_id: str, action: DesiredAction) -> None:
        """Rewrite one task."""
        self.org.tasks[host_id] = {**self.org.tasks[host_id], **self._task(mission_id, action)}

    def delete(self, host_id: str) -> None:
        """Remove one task."""
        self.org.tasks.pop(host_id, None)

    def close(self, host_id: str, note: str, state: HostState) -> None:
        """Close a task someone edited, with a note."""
        self.org.tasks[host_id].update(done=True, note=note)

    def find_marked(self, mission_id: str, target_type: str, target_id: str) -> dict[str, list[str]]:
        """Our tasks on a mission, by marker key."""
        found: dict[str, list[str]] = {}
        for host_id, task in self.org.tasks.items():
            match = MARKER.search(task["text"])
            if match and match.group(1) == mission_id:
                found.setdefault(match.group(2), []).append(host_id)
        return found

    @staticmethod
    def _task(mission_id: str, action: DesiredAction) -> dict:
        text = f"{action.text}\n\n{marker(mission_id, action.key)}"
        owner = action.assignee
        return {
            "mission": mission_id,
            "key": action.key,
            "title": action.title,
            "due": action.due,
            "text": text,
            "owner": (owner.type, owner.id) if owner else None,
        }


class MemoBatchAdapter(MemoAdapter):
    """The same host read and written in batches: `read_missions` and `write_all`."""

    def read_missions(self, mission_ids: list[str]) -> MissionsRead:
        """Every mission found, and each consultant's timeline (all their missions: `placed` skips the mission itself)."""
        self._answer()
        snaps = {m: snap for m in mission_ids if (snap := self.read_mission(m).snapshot) is not None}
        timelines = {s.consultant.id: self._timeline(s.consultant.id, "") for s in snaps.values() if s.consultant}
        return MissionsRead(snaps, timelines)

    def write_all(self, creates, updates, deletes, *, closes=(), before_create=None):
        """The whole round in one call of the memo host's batch API."""
        self.org.batches += 1
        yield from CallByCall(self).write_all(creates, updates, deletes, closes=closes, before_create=before_create)


class MemoPages(HostPages):
    """The memo host's part of the admin pages: its org's size, a link per task."""

    def status(self, tenant) -> dict:
        """Connected while consent holds; the org's mission count."""
        org = org_of(tenant)
        return {
            "connected": org.consent,
            "label": "connected" if org.consent else "needs_connecting",
            "detail": f"memo org, {len(org.missions)} mission(s)",
        }

    def record_url(self, tenant, host_id: str) -> str | None:
        """The task's page in the memo host."""
        return f"{ORIGIN}/tasks/{host_id}"


PAGES = MemoPages()


def _webhooks(name: str) -> Blueprint:
    """POST /webhooks/<name>/<tenant>/<secret> {"mission", "event"}: verified, admitted, queued."""
    bp = Blueprint(f"{name}_webhooks", __name__)

    @bp.post(f"/webhooks/{name}/<tenant_id>/<secret>")
    def receive(tenant_id: str, secret: str):
        tenant = authenticate(tenant_id, secret, name)
        if tenant is None:
            return not_found()
        event = request.get_json()
        trigger = {"kind": "webhook", "host": name, "event": event["event"]}
        outcome = enqueue_sync(get_redis(), tenant.id, event["mission"], trigger=trigger, event_id=event["event"])
        return ignored("duplicate event") if outcome == "duplicate" else (jsonify(status=outcome), 202)

    return bp


bp = _webhooks(NAME)
batch_bp = _webhooks(f"{NAME}-batch")


def _budget_left(tenant, conn) -> bool:
    return not org_of(tenant).budget_spent


def _pause() -> float:
    return 900.0


def declared(name: str, adapter: type, webhooks: str, *, batches_writes: bool = False) -> Host:
    """The memo host's registry line (under one name or the other)."""
    return Host(
        name=name,
        label="Memo",
        adapter=adapter,
        budget=Budget(left=_budget_left, pause_seconds=_pause),
        batches_writes=batches_writes,
        owner_type="memo-user",
        web=Web(webhooks=(webhooks,), pages="tests.memo_host:PAGES", iframe_origins=(ORIGIN,)),
    )


MEMO = declared(NAME, MemoAdapter, "tests.memo_host:bp")
MEMO_BATCH = declared(f"{NAME}-batch", MemoBatchAdapter, "tests.memo_host:batch_bp", batches_writes=True)
