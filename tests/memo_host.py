"""A third host that lives only in tests: missions and tasks kept in memory, declared with one registry line.

It proves that the generic code (the job, the pipeline, the reconciler, the preview, the sweep) speaks to a host
only through `handlers.hosts.registry`: nothing outside this file knows the name "memo".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

from handlers.hosts.registry import Host
from handlers.model import DesiredAction, MissionSnapshot, OtherMission, Person
from handlers.people_work import HostState
from handlers.reconcile import MARKER, marker
from handlers.timeline import placed

NAME = "memo"


@dataclass
class MemoOrg:
    """One tenant's records in the memo host: missions by id, tasks by id, a change log for the sweep."""

    missions: dict[str, dict] = field(default_factory=dict)
    tasks: dict[str, dict] = field(default_factory=dict)
    changed: dict[str, datetime] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def put_mission(self, mission_id: str, **fields) -> None:
        """Create or change a mission, as a user of the host would."""
        self.missions[mission_id] = {**self.missions.get(mission_id, {}), **fields}
        self.changed[mission_id] = datetime.now().astimezone()

    def open_tasks(self, mission_id: str) -> list[dict]:
        """The tasks of a mission that are not deleted, sorted by key."""
        return sorted((t for t in self.tasks.values() if t["mission"] == mission_id), key=lambda t: t["key"])


ORGS: dict[str, MemoOrg] = {}


class MemoAdapter:
    """Reads and per-record writes against the tenant's MemoOrg (the reconciler wraps them with CallByCall)."""

    def __init__(self, tenant, conn):
        self.tenant, self.org = tenant, ORGS.setdefault(tenant.id, MemoOrg())

    def read_mission(self, mission_id: str) -> tuple[MissionSnapshot | None, list[OtherMission]]:
        """The mission as stored (None: deleted) and the consultant's other missions."""
        row = self.org.missions.get(mission_id)
        if row is None:
            return None, []
        snap = MissionSnapshot(
            tenant=self.tenant.id,
            host=NAME,
            mission_id=mission_id,
            title=row.get("title", ""),
            start_date=row.get("start"),
            end_date=row.get("end"),
            consultant=Person(id=row["consultant"], name=row.get("consultant_name", "")),
            manager=Person(id=row["manager"]) if row.get("manager") else None,
            client_name=row.get("client", ""),
        )
        timeline = [
            OtherMission(id=other_id, start=other.get("start"), end=other.get("end"))
            for other_id, other in self.org.missions.items()
            if other.get("consultant") == row["consultant"] and other_id != mission_id
        ]
        return self.placed(snap, timeline), timeline

    def placed(self, snap: MissionSnapshot, timeline: list[OtherMission]) -> MissionSnapshot:
        """The snapshot with the consultant's other missions after its end."""
        return placed(snap, timeline)

    def changed_since(self, since: datetime) -> list[str]:
        """Missions changed since `since`."""
        return sorted(m for m, at in self.org.changed.items() if at >= since)

    def missions_ending(self, start_day: date, end_day: date) -> list[str]:
        """Missions ending between two days."""
        return sorted(m for m, row in self.org.missions.items() if row.get("end") and start_day <= row["end"] <= end_day)

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
        return {"mission": mission_id, "key": action.key, "title": action.title, "due": action.due, "text": text}


MEMO = Host(name=NAME, label="Memo (tests)", adapter=MemoAdapter)
